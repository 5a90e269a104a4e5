// The S3 staging area of a warehouse that loads from S3 (Redshift): where workers write a run's
// parts and markers, where the coordinator records which attempts it accepted, and where it
// writes the manifests that the COPYs read. Layout: proto/staging.proto.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/core/file_kind.h"
#include "common/core/status.h"
#include "common/storage/object_store.h"
#include "staging.pb.h"

namespace loadstar::coordinator {

// The staging tables, in the order they are loaded (docs/STAGING_ROWS.md for the rows of each).
inline const std::vector<std::string>& StagingTables() {
  static const std::vector<std::string> tables = {"staging_files", "staging_songs", "staging_plays",
                                                  "staging_users", "staging_time",  "rejects"};
  return tables;
}

// One file of a task, as the coordinator planned it.
struct ExpectedFile {
  std::string uri;
  std::string etag;
  int64_t file_id = 0;
  FileKind kind = FileKind::kSong;
};

// What a worker says it staged for one file.
struct ReportedAccount {
  std::string uri;
  uint64_t records = 0, staged = 0, rejected = 0;
};

// One table's manifest: where it is, and the rows and parts it lists.
struct TableManifest {
  std::string table;
  std::string uri;  // s3://bucket/key
  uint64_t rows = 0;
  uint64_t parts = 0;
};

// Sizes of the parts a run loads, compressed, for people tuning --task-bytes.
struct PartSizes {
  uint64_t parts = 0, bytes = 0, raw_bytes = 0;
  uint64_t min_bytes = 0, median_bytes = 0, max_bytes = 0;
  uint64_t under_1mb = 0;  // AWS advises 1 MB to 1 GB
  uint64_t over_1gb = 0;
  std::string ToString() const;
};

class StagingArea {
 public:
  // InvalidArgument unless `uri` is s3://bucket/prefix/ (a prefix ending in '/').
  static Status ValidateUri(const std::string& uri);
  // Writes, reads back and removes a small object under `uri`, so that a staging area this
  // process cannot use is found before any work starts. The error says what to fix.
  static Status Probe(const std::string& uri);
  // The staging area of run `run_id` under `uri`, for this coordinator process.
  static Result<std::unique_ptr<StagingArea>> Open(const std::string& uri, int64_t run_id);

  // Where this process's task attempts write (the Task's staging prefix): s3://.../run=R/c=P/.
  std::string process_prefix_uri() const;
  // The run's prefix, s3://.../run=R/.
  std::string run_prefix_uri() const;

  // The marker of attempt `attempt` of task `task_id` of this process, checked against the plan
  // and what the worker reported: "" when everything agrees (the parts are there, with the sizes
  // and row counts the marker says, and those counts add up to the files' accounts: one
  // staging_files row per file, a song file's staged rows in staging_songs, an event file's in
  // staging_plays, staging_users and staging_time together, its rejects in rejects), else what
  // does not. An error Status when S3 cannot be read.
  Result<std::string> Doubt(uint64_t task_id, uint32_t attempt, const std::vector<ExpectedFile>& files,
                            const std::vector<ReportedAccount>& reported, staging::StagedParts* marker);
  // Records, durably, that the attempt is the one this task's files load from.
  Status Accept(uint64_t task_id, uint32_t attempt);

  // The run's accepted attempts (of every process that served it), in key order; an attempt
  // holding a file that an earlier one holds is passed over (counted in `*passed_over`), and so is
  // a record that cannot be read (its files are then staged again).
  // `accepted_keys`, if given, gets each chosen attempt's record key.
  Result<std::vector<staging::StagedParts>> LoadAccepted(uint64_t* passed_over = nullptr,
                                                         std::vector<std::string>* accepted_keys = nullptr);
  // Withdraws an accepted attempt (its files are staged again), by its record key.
  Status Forget(const std::string& accepted_key);

  // Writes one manifest per staging table that has parts (every entry mandatory, with its
  // content_length), under this process's prefix.
  Result<std::vector<TableManifest>> WriteManifests(const std::vector<staging::StagedParts>& chosen);

  // Removes everything under the run's prefix (after the run committed). Returns the objects removed.
  Result<uint64_t> RemoveRun();

 private:
  StagingArea(std::unique_ptr<ObjectStore> store, std::string bucket, std::string run_key_prefix,
              std::string process);
  std::string AttemptKey(uint64_t task_id, uint32_t attempt) const;

  std::unique_ptr<ObjectStore> store_;
  const std::string bucket_;
  const std::string run_key_prefix_;  // prefix/run=R/
  const std::string process_;         // <start ms>-<random>
};

PartSizes MeasureParts(const std::vector<staging::StagedParts>& chosen);

}  // namespace loadstar::coordinator
