// A known coordinator status snapshot, shared by the tests of its encodings and of the server
// that serves it.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>

#include "coordinator/monitor/status_board.h"

namespace loadstar::testing {

// A worker's line of the snapshot.
inline coordinator::WorkerStatus Worker(const std::string& name, uint32_t credit, uint32_t in_flight,
                                        uint64_t tasks_done, uint64_t tasks_failed, double last_heartbeat_age_s) {
  coordinator::WorkerStatus w;
  w.set_name(name);
  w.set_credit(credit);
  w.set_in_flight(in_flight);
  w.set_tasks_done(tasks_done);
  w.set_tasks_failed(tasks_failed);
  w.set_last_heartbeat_age_s(last_heartbeat_age_s);
  return w;
}

// Staging run 42 of schema "sparkify", three workers; the third is named `third_worker`.
inline coordinator::StatusSnapshot KnownSnapshot(const std::string& third_worker) {
  coordinator::StatusSnapshot s = coordinator::NewStatusSnapshot();
  s.set_schema("sparkify");
  s.set_run_id(42);
  s.set_phase(coordinator::StatusSnapshot::STAGING);
  s.set_elapsed_s(12.5);
  s.set_files_total(30);
  s.set_files_done(12);
  s.set_bytes_total(472'000'000);
  s.set_bytes_done(193'520'000);
  s.set_records(120'400);
  s.set_staged(120'334);
  s.set_rejected(3);
  s.set_tasks_total(20);
  s.set_tasks_pending(5);
  s.set_tasks_leased(4);
  s.set_tasks_done(11);
  s.set_tasks_failed(0);
  s.set_tasks_retried(2);
  s.set_workers_lost(1);
  const uint64_t counts[] = {0, 1, 2, 3, 0, 4, 0, 1, 0, 0, 1};
  s.mutable_task_latency()->mutable_counts()->Assign(std::begin(counts), std::end(counts));
  s.mutable_task_latency()->set_sum_s(31.25);
  *s.add_workers() = Worker("worker-1", 2, 1, 6, 0, 0.25);
  *s.add_workers() = Worker("worker-2", 2, 2, 5, 1, 1.5);
  *s.add_workers() = Worker(third_worker, 4, 1, 0, 0, 0);
  return s;
}

}  // namespace loadstar::testing
