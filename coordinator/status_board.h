// StatusBoard: what a running coordinator publishes about itself, for progress views, the
// `status` command and the /metrics endpoint. The coordinator's loop is the only writer; any
// number of threads read consistent snapshots.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace loadstar::coordinator {

struct WorkerStatus {
  std::string name;               // as the worker announced itself
  uint32_t credit = 0;
  uint32_t in_flight = 0;
  uint64_t tasks_done = 0;
  uint64_t tasks_failed = 0;
  double last_heartbeat_age_s = 0;  // seconds since anything was heard from it
};

// Upper bounds (seconds) of the task latency histogram's buckets; the last is +Inf.
inline constexpr std::array<double, 10> kTaskLatencyBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct StatusSnapshot {
  std::string schema;
  int64_t run_id = 0;
  std::string phase = "starting";  // starting | planning | staging | transforming | done | failed
  std::string error;               // set when phase is failed
  std::string step;                // the transform step running now, while transforming
  double elapsed_s = 0;

  uint64_t files_total = 0, files_done = 0;
  uint64_t bytes_total = 0, bytes_done = 0;
  uint64_t records = 0, staged = 0, rejected = 0;
  uint64_t tasks_total = 0, tasks_pending = 0, tasks_leased = 0, tasks_done = 0, tasks_failed = 0;
  uint64_t tasks_retried = 0;      // retryable failures and leases lost with their workers
  uint64_t workers_lost = 0;       // workers declared dead

  // Task latency (lease to acknowledgement), as a cumulative-free histogram: counts[i] is the
  // number of tasks whose latency was <= kTaskLatencyBuckets[i] and > the previous bound;
  // counts[10] is everything above the last bound.
  std::array<uint64_t, kTaskLatencyBuckets.size() + 1> latency_counts{};
  double latency_sum_s = 0;

  std::vector<WorkerStatus> workers;

  // Derived figures for people.
  double bytes_per_s() const { return elapsed_s > 0 ? bytes_done / elapsed_s : 0; }
  // Seconds left at the current byte rate, or a negative value when unknown.
  double eta_s() const;
};

class StatusBoard {
 public:
  StatusBoard() = default;
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  void Publish(StatusSnapshot snapshot) {
    std::lock_guard lock(mu_);
    snapshot_ = std::move(snapshot);
  }
  StatusSnapshot Read() const {
    std::lock_guard lock(mu_);
    return snapshot_;
  }

 private:
  mutable std::mutex mu_;
  StatusSnapshot snapshot_;  // guarded by mu_
};

inline double StatusSnapshot::eta_s() const {
  double rate = bytes_per_s();
  if (rate <= 0 || bytes_total < bytes_done) return -1;
  return (bytes_total - bytes_done) / rate;
}

}  // namespace loadstar::coordinator
