// The `loadstar run` and `loadstar coordinator` commands: a coordinator, optionally with N
// local worker processes, and the end-of-run summary.
#pragma once

#include <cstdint>
#include <string>

#include "coordinator/coordinator.h"
#include "coordinator/monitor/progress_view.h"

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

// `loadstar run` starts at most this many local worker processes per core it may use: more only
// starve each other (and the coordinator) of CPU. Wider runs add hosts.
inline constexpr uint32_t kLocalWorkersPerCore = 4;

// The most local workers `loadstar run` starts on this machine.
uint32_t LocalWorkerLimit();

// Runs to the end and prints the summary on stdout. Returns the process exit code: 0 done, 1
// failed, 2 a usage error, 130 stopped by a signal (the run resumes when started again).
int RunCommand(const RunCommandOptions& options, StopToken stop = {});

}  // namespace loadstar::coordinator
