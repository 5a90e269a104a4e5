// A known coordinator status snapshot, shared by the tests of its encodings and of the server
// that serves it.
#pragma once

#include <string>

#include "coordinator/monitor/status_board.h"

namespace loadstar::testing {

// Staging run 42 of schema "sparkify", three workers; the third is named `third_worker`.
inline coordinator::StatusSnapshot KnownSnapshot(const std::string& third_worker) {
  coordinator::StatusSnapshot s;
  s.schema = "sparkify";
  s.run_id = 42;
  s.phase = "staging";
  s.elapsed_s = 12.5;
  s.files_total = 30;
  s.files_done = 12;
  s.bytes_total = 472'000'000;
  s.bytes_done = 193'520'000;
  s.records = 120'400;
  s.staged = 120'334;
  s.rejected = 3;
  s.tasks_total = 20;
  s.tasks_pending = 5;
  s.tasks_leased = 4;
  s.tasks_done = 11;
  s.tasks_failed = 0;
  s.tasks_retried = 2;
  s.workers_lost = 1;
  s.latency_counts = {0, 1, 2, 3, 0, 4, 0, 1, 0, 0, 1};
  s.latency_sum_s = 31.25;
  s.workers.push_back({"worker-1", 2, 1, 6, 0, 0.25});
  s.workers.push_back({"worker-2", 2, 2, 5, 1, 1.5});
  s.workers.push_back({third_worker, 4, 1, 0, 0, 0});
  return s;
}

}  // namespace loadstar::testing
