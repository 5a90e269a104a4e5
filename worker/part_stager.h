// Staging for a warehouse that loads from S3 (Redshift): a task's rows, rejects and file accounts
// become gzip CSV parts under the task attempt's prefix in the staging bucket, and a marker
// written last says what the parts hold (proto/staging.proto). The coordinator loads the
// accepted attempts' parts with one COPY per table; the worker never connects to the warehouse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/storage/object_store.h"
#include "staging.pb.h"
#include "worker/parse/decompress.h"
#include "worker/parse/record_parser.h"
#include "worker/stager.h"

namespace loadstar::worker {

// The widest text Redshift holds (VARCHAR(65535), in bytes). A record with a longer field is
// rejected by the worker, so that COPY never fails on it.
inline constexpr size_t kMaxRedshiftFieldBytes = 65535;

// Appends one COPY text row (tab-separated, backslash escapes, \N for NULL; without its newline)
// to `*out` as a CSV record: every value in double quotes (inner quotes doubled), NULL as an
// empty unquoted field, a newline at the end. With Redshift's COPY ... CSV EMPTYASNULL that reads
// back as the same values: "" is the empty string, nothing is NULL. Returns false, appending
// nothing, if a value is longer than `max_field_bytes` once unescaped; `*field` (0-based) and
// `*bytes` then say which and how long.
bool AppendCsvRecord(std::string_view copy_row, size_t max_field_bytes, std::string* out, size_t* field,
                     size_t* bytes);

struct PartOptions {
  // A part is closed and uploaded once this much compressed data is in it (Redshift reads parts
  // best between 1 MB and 1 GB after compression); the last part of a table may be smaller.
  uint64_t max_part_bytes = 64ull << 20;
};

// Where one attempt writes: the staging bucket, the attempt's key prefix in it (ending in '/')
// and the names that go into its marker.
struct PartTarget {
  ObjectStore* store = nullptr;
  std::string bucket;      // for the parts' s3:// URIs
  std::string key_prefix;  // .../task=<task>/attempt=<attempt>/
  uint64_t task_id = 0;
  uint32_t attempt = 0;
  std::string worker;
};

class S3PartStager final : public Stager {
 public:
  S3PartStager(PartTarget target, RecordParser* parser, StagerOptions options = {}, PartOptions parts = {})
      : target_(std::move(target)), parser_(parser), options_(options), parts_(parts) {}

  // Parses `files` (each with its file_id set) and writes their parts and then the marker. On
  // success the marker is in S3; on failure there may be parts but no marker, and the Status says
  // whether a retry may help. No file is ever "already staged" here: the coordinator plans only
  // files that need staging.
  Result<std::vector<FileOutcome>> StageTask(int64_t run_id, std::vector<FetchedFile>& files) override;

  // The marker the last successful StageTask wrote.
  const staging::StagedParts& marker() const { return marker_; }

 private:
  class Table;
  // Converts COPY text rows of one file to CSV into `table`, rejecting rows with a field too
  // wide for Redshift (their reject rows go to `rejects`, and `out` is corrected).
  Status PutRows(std::string_view rows, Table* table, const std::string& prefix, FileOutcome* out,
                 std::string* rejects);

  const PartTarget target_;
  RecordParser* const parser_;
  const StagerOptions options_;
  const PartOptions parts_;
  staging::StagedParts marker_;
};

}  // namespace loadstar::worker
