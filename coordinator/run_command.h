// The `loadstar run` and `loadstar coordinator` commands: a coordinator, optionally with N
// local worker processes, and the end-of-run summary.
#pragma once

#include <cstdint>
#include <string>

#include "coordinator/coordinator.h"
#include "coordinator/progress_view.h"

namespace loadstar::coordinator {

struct RunCommandOptions {
  CoordinatorOptions coordinator;
  uint32_t workers = 0;             // local worker processes to start (0: wait for remote ones)
  uint32_t worker_concurrency = 2;  // task slots per local worker
  std::string self_binary;          // path of this executable, to start workers with
  // Where to serve /metrics, /healthz and /status while the run lasts, HOST:PORT (port 0: any
  // free port, logged); empty: nowhere. See monitor_server.h.
  std::string metrics_listen;
  // How progress is shown; see ChooseProgressMode in progress_view.h.
  ProgressMode progress = ProgressMode::kPlain;
};

// Runs to the end and prints the summary on stdout. Returns the process exit code.
int RunCommand(const RunCommandOptions& options);

}  // namespace loadstar::coordinator
