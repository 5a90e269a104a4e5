// Stager: stages one task's fetched files into the warehouse in a single transaction, together
// with their ledger rows, so that either both commit or neither does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/warehouse.h"
#include "worker/record_parser.h"

namespace loadstar::worker {

struct FetchedFile {
  std::string uri;
  FileKind kind = FileKind::kEvent;
  std::string etag;
  uint64_t size = 0;
  std::string body;  // with kBodyPadding spare capacity; may be gzip
};

struct FileOutcome {
  std::string uri;
  uint64_t bytes = 0;
  uint64_t records = 0;
  uint64_t staged = 0;
  uint64_t rejected = 0;
  bool already_staged = false;  // an earlier attempt of this run staged it with the same ETag
};

class Stager {
 public:
  // Both must outlive the Stager. `wh` is this thread's own connection.
  Stager(Warehouse* wh, RecordParser* parser) : wh_(wh), parser_(parser) {}
  Stager(const Stager&) = delete;
  Stager& operator=(const Stager&) = delete;

  // Stages `files` for `run_id`. On success every file's rows, rejects and ledger row have
  // committed; a file an earlier attempt already staged with the same ETag is left as it is.
  // On failure nothing of this call is visible and the Status says whether a retry may help.
  Result<std::vector<FileOutcome>> StageTask(int64_t run_id, std::vector<FetchedFile>& files);

 private:
  Result<std::vector<FileOutcome>> StageInTransaction(int64_t run_id, std::vector<FetchedFile>& files);

  Warehouse* const wh_;
  RecordParser* const parser_;
};

// Appends `value` escaped for PostgreSQL's COPY text format.
void AppendCopyText(std::string_view value, std::string* out);

}  // namespace loadstar::worker
