// The worker process: connects to a coordinator, announces its credit, and stages the tasks it is
// leased, acknowledging each only after its staging transaction has committed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/core/status.h"
#include "common/core/stop.h"
#include "common/transport/transport.h"

namespace loadstar::worker {

struct WorkerOptions {
  std::string connect;            // tcp://HOST:PORT of the coordinator
  // The connection is CURVE: this worker's secret key and the coordinator's public key. With
  // insecure_plaintext instead it is unencrypted, which is allowed only to a loopback address.
  transport::CurveClient curve;
  bool insecure_plaintext = false;
  std::string warehouse;          // libpq conninfo; empty means PG* variables
  std::string schema;             // if set, tasks for another schema are refused
  // Only ever write parts to S3 staging (for a warehouse that loads from S3, like Redshift):
  // the worker then never connects to the warehouse, and refuses tasks that would.
  bool s3_staging_only = false;
  std::string name;               // shown in status views; default host/pid
  uint32_t concurrency = 2;       // tasks staged at once (threads, each with its own connection)
  uint32_t fetch_concurrency = 16;  // transfers in flight per task
  // Event files larger than this are streamed (read a range at a time while staged, as
  // newline-delimited records) instead of being held in memory whole.
  uint64_t stream_above_bytes = 64ull << 20;
  std::chrono::milliseconds heartbeat_interval{1000};
  uint32_t liveness = 3;          // intervals of silence before the coordinator is presumed gone
  // Give up when no coordinator has answered for this long (0: keep trying forever).
  std::chrono::milliseconds give_up_after{0};
};

// Runs until the coordinator says Shutdown (OK), refuses this worker, `stop` is requested
// (Cancelled), or no coordinator answers for `give_up_after`. Every thread it started has ended
// when it returns.
Status RunWorker(const WorkerOptions& options, StopToken stop = {});

}  // namespace loadstar::worker
