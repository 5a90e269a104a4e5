// A running coordinator's /status document (its --metrics-listen port), read over HTTP and
// parsed here with simdjson rather than with loadstar's own decoder, for tests that need to see
// inside a run: which workers did tasks, how many leases were lost and retried.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loadstar::testing {

struct CoordinatorStatus {
  struct Worker {
    std::string name;
    uint64_t in_flight = 0;
    uint64_t tasks_done = 0;
    uint64_t tasks_failed = 0;
  };
  std::string phase;  // planning, staging, transforming, done, failed
  int64_t run_id = 0;
  uint64_t files_total = 0, files_done = 0;
  uint64_t tasks_total = 0, tasks_pending = 0, tasks_leased = 0, tasks_done = 0, tasks_failed = 0;
  uint64_t tasks_retried = 0, workers_lost = 0;
  std::vector<Worker> workers;  // connected workers, by name

  const Worker* FindWorker(const std::string& name) const;
  // "staging files 12/30 tasks 11/20 retried 2 lost 1 workers w1:6 w2:5", for failure messages.
  std::string ToString() const;
};

// GET http://`host_port`/status; nullopt when nothing answers there (e.g. the coordinator has
// exited) or the answer is not a status document.
std::optional<CoordinatorStatus> ReadCoordinatorStatus(const std::string& host_port);

}  // namespace loadstar::testing
