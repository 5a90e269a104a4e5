// Planning a run: list the sources, drop what the ledger says is already loaded (same ETag),
// and pack the rest into tasks.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/core/status.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/scheduler/task_packer.h"

namespace loadstar::coordinator {

struct SourceSpec {
  std::string uri;  // s3://bucket/prefix/ or file:///path/
  FileKind kind = FileKind::kSong;
};

// One file to stage. Its URI and ETag live in the Plan's text arena (a coordinator planning a
// million files holds a million of these: 40 bytes each plus the text, no allocation per file).
struct PlannedFile {
  uint64_t text_offset = 0;  // URI then ETag, back to back, in Plan::text_
  uint32_t uri_length = 0;
  uint32_t etag_length = 0;
  uint64_t size = 0;
  // Its ledger id where the ledger knows it (0 for a new file). Used where the coordinator gives
  // files their ids (S3 staging); staging into the warehouse makes ids there.
  int64_t file_id = 0;
  FileKind kind = FileKind::kSong;
};

struct PlanOptions {
  bool full_refresh = false;  // ignore the ledger: stage every listed file again
  // Event files whose key holds a date (YYYY-MM-DD) outside [since, until] are left out; an
  // event file with no date in its key is left out whenever either bound is set. Empty: no bound.
  std::string since;
  std::string until;
  PackOptions pack;
  // When more than 1: each kind's tasks are made a multiple of this many where the data allows
  // (Redshift's slices: one part per table per task, and every slice reads one part of each
  // COPY), by spreading that kind's bytes evenly over the rounded-up count.
  uint32_t task_multiple = 0;
  // Files this run has staged outside the warehouse (S3 staging), URI -> the ETag then: skipped
  // as staged while their ETag is unchanged, listed in Plan::changed_since_staged otherwise.
  const std::unordered_map<std::string, std::string>* staged_elsewhere = nullptr;
};

// What listing one source found.
struct SourceListing {
  std::string uri;
  FileKind kind = FileKind::kSong;
  uint64_t json_files = 0;     // JSON files under the prefix (before --since/--until and the ledger)
  uint64_t other_objects = 0;  // objects that are not JSON files (ignored)
};

class Plan {
 public:
  std::string_view uri(const PlannedFile& f) const { return std::string_view(text_).substr(f.text_offset, f.uri_length); }
  std::string_view etag(const PlannedFile& f) const {
    return std::string_view(text_).substr(f.text_offset + f.uri_length, f.etag_length);
  }
  void Add(std::string_view uri, std::string_view etag, uint64_t size, FileKind kind, int64_t file_id = 0) {
    files.push_back(PlannedFile{text_.size(), static_cast<uint32_t>(uri.size()), static_cast<uint32_t>(etag.size()),
                                size, file_id, kind});
    text_.append(uri);
    text_.append(etag);
  }

  std::vector<PlannedFile> files;   // to stage in this run
  std::vector<PackedTask> tasks;    // indexes into `files`
  uint64_t listed_files = 0;
  uint64_t listed_bytes = 0;
  uint64_t skipped_loaded = 0;      // loaded by an earlier run with the same ETag
  uint64_t skipped_staged = 0;      // already staged by this run (resumed)
  uint64_t ignored_not_json = 0;    // objects under the prefix that are not JSON files
  uint64_t outside_dates = 0;       // event files outside --since/--until
  std::vector<SourceListing> sources;  // one per source, in the order given
  int64_t max_file_id = 0;          // the highest file id in the ledger
  // Files of PlanOptions::staged_elsewhere whose ETag has changed since (planned again).
  std::vector<std::string> changed_since_staged;

 private:
  std::string text_;  // every file's URI and ETag
};

// The last YYYY-MM-DD in `key` (e.g. "log_data/2018/11/2018-11-05-events.json" -> "2018-11-05"),
// or "" if there is none.
std::string DateInKey(std::string_view key);

// InvalidArgument unless `date` is a valid calendar date written YYYY-MM-DD.
Status ValidateDate(std::string_view date);

// True for the object names loadstar reads: *.json, *.jsonl, *.ndjson, optionally .gz.
bool IsJsonKey(std::string_view key);

// Lists every source and builds the plan for `run_id`. `wh` is used only to read the ledger.
Result<Plan> BuildPlan(const std::vector<SourceSpec>& sources, Warehouse* wh, int64_t run_id,
                       const PlanOptions& options);

}  // namespace loadstar::coordinator
