// Staging a task's fetched files into the warehouse, together with their ledger rows, so that
// either both commit or neither does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/storage/object_store.h"
#include "common/core/status.h"
#include "common/warehouse/warehouse.h"
#include "worker/parse/record_parser.h"

namespace loadstar::worker {

struct FetchedFile {
  std::string uri;
  FileKind kind = FileKind::kEvent;
  std::string etag;
  uint64_t size = 0;
  std::string body;  // with kBodyPadding spare capacity; may be gzip
  // Set instead of `body` for a file too large to hold in memory: it is read from `store` a
  // range at a time while it is staged, as newline-delimited records.
  ObjectStore* store = nullptr;
  std::string key;
  int64_t file_id = 0;  // the ledger id the coordinator gave it, when staging to S3
};

struct StagerOptions {
  uint64_t stream_piece_bytes = 16ull << 20;  // bytes read at a time from a streamed file
  uint64_t max_record_bytes = 16ull << 20;    // a longer line of a streamed file is rejected
};

struct FileOutcome {
  std::string uri;
  uint64_t bytes = 0;
  uint64_t records = 0;
  uint64_t staged = 0;
  uint64_t rejected = 0;
  uint64_t staged_rows = 0;  // rows staged across the staging tables (docs/STAGING_ROWS.md)
  bool already_staged = false;  // an earlier attempt of this run staged it with the same ETag
};

// Stages one task's files into the warehouse. How depends on the engine (one implementation per
// dialect, chosen by MakeStager); what every one does is the same: for each file the ledger's
// rules decide (common/warehouse/ledger.h), its rows and rejects are made by worker/file_rows.h,
// and its rows, rejects and ledger row become visible together or not at all.
class Stager {
 public:
  virtual ~Stager() = default;
  // Stages `files` for `run_id`. On success every file's rows, rejects and ledger row have
  // committed; a file an earlier attempt already staged with the same ETag is left as it is.
  // On failure nothing of this call is visible and the Status says whether a retry may help.
  // Bodies are released as they are parsed.
  virtual Result<std::vector<FileOutcome>> StageTask(int64_t run_id, std::vector<FetchedFile>& files) = 0;
};

// The stager for `wh`'s dialect; FailedPrecondition for a dialect that has none yet. `wh` (this
// thread's own connection) and `parser` must outlive it.
Result<std::unique_ptr<Stager>> MakeStager(Warehouse* wh, RecordParser* parser, StagerOptions options = {});

// PostgreSQL: one transaction per task, rows sent by COPY FROM STDIN next to the ledger rows.
class PostgresStager final : public Stager {
 public:
  PostgresStager(Warehouse* wh, RecordParser* parser, StagerOptions options = {})
      : wh_(wh), parser_(parser), options_(options) {}
  PostgresStager(const PostgresStager&) = delete;
  PostgresStager& operator=(const PostgresStager&) = delete;

  Result<std::vector<FileOutcome>> StageTask(int64_t run_id, std::vector<FetchedFile>& files) override;

 private:
  Result<std::vector<FileOutcome>> StageInTransaction(int64_t run_id, std::vector<FetchedFile>& files);
  // Streams one large file into its staging table through an open COPY. Rejects are appended to
  // `*rejects` (COPY text rows) for the caller to copy afterwards.
  Status StageStreamed(const FetchedFile& file, const std::string& prefix, FileOutcome* out, std::string* rejects);

  Warehouse* const wh_;
  RecordParser* const parser_;
  const StagerOptions options_;
};

}  // namespace loadstar::worker
