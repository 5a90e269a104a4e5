// The coordinator: plans a run, leases its tasks to workers over ZeroMQ until every one is
// acknowledged, then runs the transforms. One run per call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/core/stop.h"
#include "common/transport/transport.h"
#include "common/warehouse/dialect.h"
#include "coordinator/run_store.h"
#include "coordinator/monitor/status_board.h"

namespace loadstar::coordinator {

struct CoordinatorOptions {
  std::string songs;      // URI of the song files
  std::string events;     // URI of the event logs
  std::string warehouse;  // libpq conninfo; empty means PG* variables
  // The engine --warehouse must be (--dialect); unset: whatever it says it is.
  std::optional<Dialect> dialect;
  // Redshift: where workers write the parts (s3://bucket/prefix/), the role its COPY reads them
  // with, and the bucket's region (default: the AWS settings'). Parts are removed after the run
  // committed unless keep_staging. Each table's parts are made a multiple of `slices` where the
  // data allows (0: ask the cluster).
  std::string staging;
  std::string iam_role;
  std::string region;
  uint32_t slices = 0;
  bool keep_staging = false;
  std::string schema = "sparkify";
  std::string listen = "tcp://*:5570";
  // Workers connect over CURVE: `curve` holds the coordinator's secret key and the public keys
  // of the workers it admits. With insecure_plaintext instead, anyone who can reach `listen`
  // may join unencrypted, which is allowed only on a loopback address.
  transport::CurveServer curve;
  bool insecure_plaintext = false;
  bool full_refresh = false;
  std::string since, until;  // backfill: only event files dated within [since, until]
  // The run fails once more than this many records have been rejected (Redshift's MAXERROR);
  // the star tables are then left as they were. Negative: no limit.
  int64_t max_errors = 0;
  // What one task holds at most; 0: the dialect's default (PostgreSQL: 8 MiB and 1,000 files, so
  // that many workers share the work; Redshift: 32 MiB and 20,000 files, so that each part is
  // at least about 1 MB compressed).
  uint64_t task_bytes = 0;
  uint64_t task_files = 0;
  uint64_t max_record_bytes = 16ull << 20;
  std::chrono::milliseconds heartbeat_interval{1000};
  uint32_t liveness = 3;
  uint32_t max_attempts = 3;
};

struct RunSummary {
  int64_t run_id = 0;
  bool resumed = false;
  uint64_t files_listed = 0, skipped_loaded = 0, skipped_staged = 0, ignored_not_json = 0, outside_dates = 0;
  std::vector<SourceAccount> accounts;
  std::vector<TableCount> tables;
  double elapsed_s = 0;
  std::string part_sizes;  // Redshift: the loaded parts' size distribution (PartSizes::ToString)
};

// Byte and file budgets of a task for `dialect` when none is given.
inline constexpr uint64_t kPostgresTaskBytes = 8ull << 20, kPostgresTaskFiles = 1000;
inline constexpr uint64_t kRedshiftTaskBytes = 32ull << 20, kRedshiftTaskFiles = 20000;

struct CoordinatorHooks {
  // Called once the socket is bound, with the real endpoint (the port resolved) and the number
  // of tasks to serve (0 when every file is already loaded: no worker is needed).
  // `s3_staging` says workers write parts to S3 and need no warehouse connection (Redshift).
  std::function<void(const std::string& endpoint, uint64_t tasks, bool s3_staging)> on_listening;
  // Called every loop turn; return a non-OK Status to abort the run (e.g. every local worker
  // process has exited).
  std::function<Status()> check;
  // Called a few times a second and at every phase change, with what the coordinator knows.
  std::function<void(const StatusSnapshot&)> on_progress;
  // If set, every snapshot is also published here (for /metrics and `loadstar status`).
  StatusBoard* board = nullptr;
  // A stop requested here ends the run: while staging at once, during the transform by
  // cancelling it (it rolls back). The run then returns Cancelled and resumes when run again.
  StopToken stop;
};

Result<RunSummary> RunCoordinator(const CoordinatorOptions& options, const CoordinatorHooks& hooks);

// InvalidArgument unless `arn` has the form of an IAM role ARN (arn:aws:iam::<12 digits>:role/NAME).
Status ValidateIamRole(std::string_view arn);
// The region of the Redshift staging bucket: --region, else AWS_REGION, else AWS_DEFAULT_REGION.
Result<std::string> StagingRegion(const CoordinatorOptions& options);

}  // namespace loadstar::coordinator
