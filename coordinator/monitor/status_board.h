// StatusBoard: what a running coordinator publishes about itself, for progress views, the
// `status` command and the /metrics endpoint. The coordinator's loop is the only writer; any
// number of threads read consistent snapshots.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
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
  std::string step;                // the transform step running now, e.g. "songplays"; "" when none
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

  // Bytes done per second over the last seconds (see RateMeter), as measured by whoever saw
  // the snapshots come (the StatusBoard, the progress view); negative when not measured.
  double recent_bytes_per_s = -1;

  // Derived figures for people.
  // The average since the run started, idle time included.
  double bytes_per_s() const { return elapsed_s > 0 ? bytes_done / elapsed_s : 0; }
  // The rate now: the recent one when it was measured, else the average.
  double current_bytes_per_s() const { return recent_bytes_per_s >= 0 ? recent_bytes_per_s : bytes_per_s(); }
  // Seconds left at the current byte rate, or a negative value when unknown (no recent progress).
  double eta_s() const;
};

// How fast a growing count (bytes done) grows now: the growth over a sliding window of recent
// samples, so time spent idle long ago (waiting for workers, say) does not weigh on it.
class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateMeter(Clock::duration window = std::chrono::seconds(20),
                     Clock::duration min_span = std::chrono::seconds(1))
      : window_(window), min_span_(min_span) {}

  // `value` at time `t`. A value below the last one (a new count) starts the measure over.
  void Add(Clock::time_point t, uint64_t value) {
    if (!samples_.empty() && value < samples_.back().second) samples_.clear();
    if (!samples_.empty() && t < samples_.back().first) t = samples_.back().first;
    samples_.emplace_back(t, value);
    // Keep one sample at or before the window's start, to know the value there.
    while (samples_.size() >= 2 && (samples_[1].first <= t - window_ || samples_.size() > kMaxSamples)) {
      samples_.pop_front();
    }
  }

  // Growth per second over the window ending at `now` (from the first sample when that is
  // later), the value standing still since the last sample; negative while what is known spans
  // less than `min_span`. 0 when nothing grew in the window.
  double Rate(Clock::time_point now) const {
    if (samples_.empty()) return -1;
    const Clock::time_point start = std::max(now - window_, samples_.front().first);
    if (now - start < min_span_) return -1;
    const double span = std::chrono::duration<double>(now - start).count();
    return static_cast<double>(samples_.back().second - ValueAt(start)) / span;
  }

 private:
  static constexpr size_t kMaxSamples = 4096;

  // The value at `t`, interpolated between the samples around it.
  double ValueAt(Clock::time_point t) const {
    if (t <= samples_.front().first) return static_cast<double>(samples_.front().second);
    for (size_t i = 1; i < samples_.size(); ++i) {
      if (samples_[i].first < t) continue;
      const auto& [t0, v0] = samples_[i - 1];
      const auto& [t1, v1] = samples_[i];
      const double f = std::chrono::duration<double>(t - t0).count() / std::chrono::duration<double>(t1 - t0).count();
      return static_cast<double>(v0) + f * (static_cast<double>(v1) - static_cast<double>(v0));
    }
    return static_cast<double>(samples_.back().second);
  }

  Clock::duration window_;
  Clock::duration min_span_;
  std::deque<std::pair<Clock::time_point, uint64_t>> samples_;
};

class StatusBoard {
 public:
  using Clock = std::chrono::steady_clock;

  // `clock` null: std::chrono::steady_clock::now. Tests pass a fake one.
  explicit StatusBoard(std::function<Clock::time_point()> clock = nullptr) : clock_(std::move(clock)) {}
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  // Keeps `snapshot` for readers; fills in its recent_bytes_per_s, when the publisher left it
  // unmeasured, from the snapshots published before.
  void Publish(StatusSnapshot snapshot) {
    const Clock::time_point now = clock_ ? clock_() : Clock::now();
    std::lock_guard lock(mu_);
    rate_.Add(now, snapshot.bytes_done);
    if (snapshot.recent_bytes_per_s < 0) snapshot.recent_bytes_per_s = rate_.Rate(now);
    snapshot_ = std::move(snapshot);
  }
  StatusSnapshot Read() const {
    std::lock_guard lock(mu_);
    return snapshot_;
  }

 private:
  const std::function<Clock::time_point()> clock_;
  mutable std::mutex mu_;
  StatusSnapshot snapshot_;  // guarded by mu_
  RateMeter rate_;           // guarded by mu_
};

inline double StatusSnapshot::eta_s() const {
  double rate = current_bytes_per_s();
  if (rate <= 0 || bytes_total < bytes_done) return -1;
  return (bytes_total - bytes_done) / rate;
}

}  // namespace loadstar::coordinator
