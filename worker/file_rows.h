// A fetched file turned into what staging needs of it, whatever the warehouse: its rows shaped
// for the star (worker/star_rows.h; COPY text, each after the caller's prefix columns), its rejects (COPY text rows of the rejects
// table) and its account (records = staged + rejected). Shared by every Stager, so that each
// dialect stages exactly the same rows and rejects for the same bytes.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/core/status.h"
#include "worker/parse/record_parser.h"
#include "worker/stager.h"
#include "worker/star_rows.h"

namespace loadstar::worker {

// Appends one reject row: `prefix` (run_id and file_id, each followed by a tab), line, byte
// offset, reason and excerpt.
void AppendReject(const std::string& prefix, const RejectedRecord& rej, std::string* rejects);

// Parses a file held in memory (`f.body`, inflated first if gzip): its rows are appended to
// `*rows`, its rejects to `*rejects`, and its counts added to `*out`. A gzip file that cannot be
// inflated is one rejected record.
void ParseWholeFile(RecordParser* parser, const FetchedFile& f, const std::string& prefix, StagedRows* rows,
                    std::string* rejects, FileOutcome* out);

// Parses a file too large to hold (`file.store`/`file.key`), a range of options.stream_piece_bytes
// at a time, handing each piece's rows to `put_rows` as they are made (and the file's user and
// time rows last); a line longer than
// options.max_record_bytes is one rejected record. Rejects are appended to `*rejects`, counts
// added to `*out`. Stops at the first failure to read or of `put_rows`; a gzip file is refused
// (InvalidArgument).
Status ParseStreamedFile(RecordParser* parser, const StagerOptions& options, const FetchedFile& file,
                         const std::string& prefix, const std::function<Status(const StagedRows& rows)>& put_rows,
                         FileOutcome* out, std::string* rejects);

}  // namespace loadstar::worker
