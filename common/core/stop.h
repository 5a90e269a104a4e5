// Stopping long work on request. The program's top owns the signals: main() makes one
// StopSource, has SIGINT and SIGTERM request a stop on it (StopOnSignals), and hands its token
// down; long operations poll the token they were given and wind down cleanly.
#pragma once

#include <atomic>

namespace loadstar {

class StopSource;

// Whether a stop was requested. Cheap to copy and to poll; a default token never stops.
class StopToken {
 public:
  StopToken() = default;
  bool stop_requested() const { return flag_ != nullptr && flag_->load(std::memory_order_relaxed); }

 private:
  friend class StopSource;
  explicit StopToken(const std::atomic<bool>* flag) : flag_(flag) {}
  const std::atomic<bool>* flag_ = nullptr;
};

class StopSource {
 public:
  StopSource() = default;
  StopSource(const StopSource&) = delete;
  StopSource& operator=(const StopSource&) = delete;

  // Safe from a signal handler (a lock-free atomic store).
  void request_stop() { flag_.store(true, std::memory_order_relaxed); }
  StopToken token() const { return StopToken(&flag_); }

 private:
  std::atomic<bool> flag_{false};
  static_assert(std::atomic<bool>::is_always_lock_free);
};

// Makes SIGINT and SIGTERM request a stop on `source` (which must outlive the process's use of
// signals). Call once, from main.
void StopOnSignals(StopSource* source);

}  // namespace loadstar
