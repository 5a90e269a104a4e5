// StatusBoard: what a running coordinator publishes about itself, for progress views, the
// `status` command and the /metrics endpoint. The coordinator's loop is the only writer; any
// number of threads read consistent snapshots.
//
// The snapshot is the message loadstar.status.StatusSnapshot (proto/run_status.proto); this
// header adds the figures derived from it and the histogram's buckets.
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

#include "run_status.pb.h"

namespace loadstar::coordinator {

using StatusSnapshot = status::StatusSnapshot;
using WorkerStatus = status::WorkerStatus;
using RunPhase = status::StatusSnapshot::Phase;

// Every phase a run goes through, in order; `loadstar_phase` lists each of them.
inline constexpr std::array<RunPhase, 6> kRunPhases = {StatusSnapshot::STARTING, StatusSnapshot::PLANNING,
                                                       StatusSnapshot::STAGING,  StatusSnapshot::TRANSFORMING,
                                                       StatusSnapshot::DONE,     StatusSnapshot::FAILED};

// The phase as people and documents spell it: "starting", "planning", "staging", "transforming",
// "done", "failed" (a number for a phase this build does not know).
std::string PhaseName(RunPhase phase);

// Upper bounds (seconds) of the task latency histogram's buckets; the last is +Inf.
inline constexpr std::array<double, 10> kTaskLatencyBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// A snapshot of a run that has not begun: phase starting, the latency histogram's bounds laid
// out and every count 0.
StatusSnapshot NewStatusSnapshot();

// Counts one task of `latency_s` seconds into the snapshot's latency histogram.
void RecordTaskLatency(StatusSnapshot* snapshot, double latency_s);

// The histogram's count for bucket `i` (0 .. kTaskLatencyBuckets.size()), 0 when the snapshot
// has none.
inline uint64_t TaskLatencyCount(const StatusSnapshot& s, size_t i) {
  const auto& counts = s.task_latency().counts();
  return i < static_cast<size_t>(counts.size()) ? counts[static_cast<int>(i)] : 0;
}

// Derived figures for people.
// The average since the run started, idle time included.
inline double AverageBytesPerSecond(const StatusSnapshot& s) {
  return s.elapsed_s() > 0 ? static_cast<double>(s.bytes_done()) / s.elapsed_s() : 0;
}
// The rate now: the recent one when it was measured, else the average.
inline double CurrentBytesPerSecond(const StatusSnapshot& s) {
  return s.has_recent_bytes_per_s() ? s.recent_bytes_per_s() : AverageBytesPerSecond(s);
}
// Seconds left at the current byte rate, or a negative value when unknown (no recent progress).
inline double EtaSeconds(const StatusSnapshot& s) {
  const double rate = CurrentBytesPerSecond(s);
  if (rate <= 0 || s.bytes_total() < s.bytes_done()) return -1;
  return static_cast<double>(s.bytes_total() - s.bytes_done()) / rate;
}

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
    rate_.Add(now, snapshot.bytes_done());
    if (!snapshot.has_recent_bytes_per_s()) {
      if (const double rate = rate_.Rate(now); rate >= 0) snapshot.set_recent_bytes_per_s(rate);
    }
    snapshot_ = std::move(snapshot);
  }
  StatusSnapshot Read() const {
    std::lock_guard lock(mu_);
    return snapshot_;
  }

 private:
  const std::function<Clock::time_point()> clock_;
  mutable std::mutex mu_;
  StatusSnapshot snapshot_ = NewStatusSnapshot();  // guarded by mu_
  RateMeter rate_;           // guarded by mu_
};

}  // namespace loadstar::coordinator
