// Scheduler: which worker holds which task, for how long, and what happens when it goes quiet.
//
// The coordinator's socket loop owns one Scheduler per run and tells it everything it hears
// (READY, results, any other message as a sign of life) and asks it what to send (task leases,
// heartbeats). The class does no I/O and never reads a clock: every call that needs the time
// takes `now`, so tests drive it with a fake clock, without sockets or sleeps.
//
// Model (the Paranoid Pirate pattern from the ZeroMQ guide, chapter 4, with credit):
//   - A task is pending, leased (to exactly one worker, under an attempt number), done or
//     failed. Attempt numbers start at 1 and grow by one on every lease of the same task, so a
//     result names the lease it answers; a result for any other attempt is ignored.
//   - A worker says READY with a credit: it may hold that many leases at once. Dispatch hands
//     pending tasks (FIFO) to workers with free credit, one task per worker in turn
//     (round-robin), so leases spread across workers rather than filling the first one.
//   - Any message from a worker is a heartbeat. A worker silent for `liveness` heartbeat
//     intervals is dead: Expire() drops it and requeues its leases. The coordinator heartbeats
//     workers it has sent nothing to for one interval (WorkersDueHeartbeat() / Sent()).
//   - A worker is identified by its routing id. Once dropped (dead, gone, or replaced by a new
//     READY) it is forgotten; if the same id says READY again it is a new worker that holds
//     nothing.
//
// Retry policy (decided here and nowhere else):
//   - A retryable failure reported by a worker requeues the task; the task's
//     `max_attempts`-th reported failure fails the run with that task's error.
//   - A failure reported as final is confirmed before it fails the run: while another worker
//     is registered, the task is leased again to a worker other than the one that reported it
//     (Disposition::kAwaitingConfirmation). A second final failure, from that other worker,
//     fails the run with it; success makes the task done. With no other worker registered (now,
//     or once the others are gone) the first final failure fails the run. One confused or
//     hostile worker therefore cannot fail a run on its own while another worker is there.
//   - A lease lost with its worker (silent, disconnected, or re-READY) is not the task's fault
//     and does not count towards `max_attempts`. It counts towards `max_lost_leases`, a separate
//     and generous bound: a poison task that kills every worker it touches fails the run
//     instead of being leased forever. A worker declared dead that comes back (says READY
//     again under the same routing id) was slow, not killed: the leases it lost that way are
//     taken off their tasks' counts again, so starved but living workers never trip the bound.
//   - Requeued tasks go to the back of the pending queue, which gives a transient fault
//     (throttling, a restarting database) some time to clear before the next attempt.
//   - Once the run has failed, Dispatch hands out nothing more; the other calls keep the
//     bookkeeping (credit, counts, worker figures) accurate so the coordinator can drain and
//     report.
//
// Cost: every call is O(1) amortised in the number of tasks (hash lookups, queue pushes and
// pops), except Expire, WorkersDueHeartbeat, NextDeadline and Workers, which look at every
// worker (there are few), and calls that drop a worker, which touch that worker's leases.
//
// Not thread-safe: one thread (the coordinator's loop) owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/core/status.h"

namespace loadstar::coordinator {

using SchedulerClock = std::chrono::steady_clock;
using SchedulerTime = SchedulerClock::time_point;

// Values below 1 (and a non-positive interval) are raised to 1 (1 ms) by the constructor.
struct SchedulerOptions {
  // How often each side expects to hear from the other when there is nothing else to say.
  std::chrono::milliseconds heartbeat_interval{1000};
  // A worker silent for liveness * heartbeat_interval is declared dead (3 as in the guide).
  uint32_t liveness = 3;
  // The run fails when one task has reported this many retryable failures.
  uint32_t max_attempts = 3;
  // The run fails when one task has lost this many leases with their workers.
  uint32_t max_lost_leases = 10;
};

// One task leased to one worker. The coordinator sends it as a wire Task with this attempt.
struct Lease {
  uint64_t task_id = 0;
  uint32_t attempt = 0;
  std::string worker;

  friend bool operator==(const Lease&, const Lease&) = default;
};

// What the worker reports in a TaskResult.
enum class Outcome {
  kOk,         // staged and committed
  kRetryable,  // rolled back on a transient fault; worth another attempt
  kFinal,      // rolled back on a fault another attempt will not fix
};

// What Complete() did with a result.
enum class Disposition {
  kDone,       // the task is done
  kRequeued,   // a retryable failure under the bound: the task waits for another lease
  kRunFailed,  // the result failed the run (final, or retries exhausted); see failure()
  kAwaitingConfirmation,  // a final failure, to be confirmed by another worker: requeued, and
                          // never leased again to the worker that reported it
  kStale,      // not the current lease (older attempt, other worker, unknown task or worker,
               // task already finished): ignored, nothing changed except the worker's last_seen
};

enum class TaskState { kPending, kLeased, kDone, kFailed };

// Why the run failed.
enum class FailureCause {
  kFinal,             // a worker reported a final failure
  kRetriesExhausted,  // max_attempts retryable failures
  kWorkersLost,       // max_lost_leases leases lost with their workers
};

// The first task failure of the run; later ones are counted but this one is kept.
struct RunFailure {
  uint64_t task_id = 0;
  uint32_t attempt = 0;  // the attempt that failed, or the last lease lost
  std::string worker;    // the worker that reported it (or lost it)
  FailureCause cause = FailureCause::kFinal;
  // The worker's error text as given to Complete(); for kWorkersLost a description written by
  // the scheduler.
  std::string error;
};

struct TaskCounts {
  size_t total = 0;
  size_t pending = 0;
  size_t leased = 0;
  size_t done = 0;
  size_t failed = 0;  // tasks in TaskState::kFailed: the one in failure() and any failing after it
};

struct TaskInfo {
  uint64_t task_id = 0;
  TaskState state = TaskState::kPending;
  uint32_t attempt = 0;      // leases so far (the current one when leased); 0 if never leased
  uint32_t failures = 0;     // retryable failures reported
  uint32_t lost_leases = 0;  // leases lost with their workers
  // A final failure waits for another worker's confirmation: the worker that reported it.
  std::string final_from;
};

// Per-worker figures for a status view.
struct WorkerInfo {
  std::string name;
  uint32_t credit = 0;
  uint32_t in_flight = 0;
  uint64_t tasks_done = 0;
  uint64_t tasks_failed = 0;  // failures reported by this worker (retryable or final)
  SchedulerTime ready_at;
  SchedulerTime last_seen;
  SchedulerTime last_sent;
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  const SchedulerOptions& options() const { return options_; }

  // ---- tasks ----

  // Queues a task (FIFO). InvalidArgument if `task_id` was added before (whatever its state).
  // Adding a task after Done() makes Done() false again.
  Status AddTask(uint64_t task_id);
  // Optional: pre-sizes the task table for `n` tasks in total.
  void ReserveTasks(size_t n);

  // ---- workers: what the coordinator hears ----

  // Registers `worker` with room for `credit` leases (0 is allowed: it is kept alive but gets
  // nothing). If `worker` is already registered, this READY starts a new incarnation: the old
  // one's leases are requeued as lost (a worker only says READY when it starts or reconnects,
  // and then it no longer holds anything). Returns the number of leases requeued. May fail the
  // run through max_lost_leases.
  size_t WorkerReady(std::string_view worker, uint32_t credit, SchedulerTime now);

  // Any message from `worker` is a heartbeat. Returns false, and changes nothing, if `worker`
  // is not registered (never said READY, or was dropped): the caller may tell it to reconnect.
  bool WorkerSeen(std::string_view worker, SchedulerTime now);

  // `worker` disconnected or shut down: it is dropped and its leases are requeued as lost.
  // Returns the number of leases requeued (0 for an unknown worker). May fail the run.
  size_t WorkerGone(std::string_view worker);

  // ---- what the coordinator sends ----

  // Leases pending tasks to workers with free credit, round-robin over those workers, oldest
  // pending task first, as many as credit allows. The caller must send every lease returned;
  // sending counts as traffic to the worker (as Sent()). Empty when nothing is pending, no
  // worker has free credit, or the run has failed. Call Expire(now) first, so that no lease
  // goes to a worker that is already past its deadline.
  [[nodiscard]] std::vector<Lease> Dispatch(SchedulerTime now);

  // Workers the coordinator has sent nothing to for at least one heartbeat interval, sorted by
  // name. The caller sends each a heartbeat and calls Sent().
  [[nodiscard]] std::vector<std::string> WorkersDueHeartbeat(SchedulerTime now) const;
  // Something (a heartbeat, a lease) was sent to `worker` at `now`. Unknown workers are ignored.
  void Sent(std::string_view worker, SchedulerTime now);

  // ---- results and time ----

  // A TaskResult from `worker` for (`task_id`, `attempt`). Counts as a heartbeat from a
  // registered worker. Unless it answers the task's current lease held by that worker, it is
  // kStale and changes nothing else: in particular it never frees a newer lease of the task.
  // That includes a result from a worker dropped since (its lease was requeued even if no one
  // holds the task yet; the next attempt finds that attempt's files in the ledger). `error` is
  // kept when the result fails the run. An `outcome` outside the enum is taken as kFinal.
  Disposition Complete(std::string_view worker, uint64_t task_id, uint32_t attempt, Outcome outcome,
                       std::string_view error, SchedulerTime now);

  // Declares dead every worker silent for liveness * heartbeat_interval or longer (at exactly
  // that age, not before), drops it and requeues its leases as lost. Returns their names,
  // sorted. May fail the run through max_lost_leases.
  std::vector<std::string> Expire(SchedulerTime now);

  // The earliest time at which Expire or WorkersDueHeartbeat will have something to do (for the
  // caller's poll timeout); nullopt with no workers.
  [[nodiscard]] std::optional<SchedulerTime> NextDeadline() const;

  // ---- queries ----

  // Every task added has completed ok and the run has not failed (true with no tasks at all).
  bool Done() const { return failure_ == std::nullopt && done_ == tasks_.size(); }
  bool Failed() const { return failure_.has_value(); }
  // The first failure of the run; nullopt unless Failed().
  const std::optional<RunFailure>& failure() const { return failure_; }

  TaskCounts Counts() const;
  // The current lease of `task_id`, or nullopt if it is not leased (or unknown).
  [[nodiscard]] std::optional<Lease> LeaseOf(uint64_t task_id) const;
  // What the scheduler knows about `task_id`, or nullopt if it was never added.
  [[nodiscard]] std::optional<TaskInfo> FindTask(uint64_t task_id) const;

  size_t worker_count() const { return workers_.size(); }
  // Every registered worker, sorted by name.
  [[nodiscard]] std::vector<WorkerInfo> Workers() const;

 private:
  struct Worker;

  struct Task {
    uint64_t id = 0;
    TaskState state = TaskState::kPending;
    uint32_t attempt = 0;
    uint32_t failures = 0;
    uint32_t lost_leases = 0;
    Worker* holder = nullptr;  // set while leased
    uint32_t slot = 0;         // index in holder->leases while leased
    // Set while a final failure awaits confirmation: who reported it, and what it said.
    std::string final_from;
    std::string final_error;
  };

  struct Worker {
    std::string name;
    uint32_t credit = 0;
    std::vector<Task*> leases;  // unordered; Task::slot is each one's index
    uint64_t tasks_done = 0;
    uint64_t tasks_failed = 0;
    SchedulerTime ready_at;
    SchedulerTime last_seen;
    SchedulerTime last_sent;
    bool in_ring = false;  // queued in ring_

    bool HasFreeCredit() const { return leases.size() < credit; }
  };

  // Heterogeneous lookup, so a std::string_view finds a std::string key without a copy.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Worker* FindWorker(std::string_view name);
  const Worker* FindWorker(std::string_view name) const;
  void Assign(Task* task, Worker* worker);
  // Takes `task` off its holder; the holder rejoins the ring if it has credit again.
  void Release(Task* task);
  void Requeue(Task* task);
  // Requeues every lease `worker` holds as lost; leaves the worker registered, with no leases,
  // out of the ring. Returns how many.
  size_t DropLeases(Worker* worker, std::string_view why);
  void RemoveFromRing(Worker* worker);
  void Drop(std::string_view name, std::string_view why);
  void FailTask(Task* task, std::string_view worker, FailureCause cause, std::string error);
  // Fails the run on every final failure awaiting confirmation that no registered worker other
  // than its reporter could confirm.
  void FailUnconfirmable();
  // The first pending task `worker` may take (not one whose final failure it reported), taken
  // off the queue; nullptr if there is none.
  Task* TakePendingFor(const Worker* worker);

  // Never changes after construction.
  const SchedulerOptions options_;
  const SchedulerClock::duration heartbeat_interval_;
  const SchedulerClock::duration expiry_;

  // Values are node-stable, so Task* and Worker* stay valid until the entry is erased (tasks
  // never are; workers when dropped, after their leases and ring entry are gone).
  std::unordered_map<uint64_t, Task> tasks_;
  std::unordered_map<std::string, Worker, NameHash, std::equal_to<>> workers_;
  std::deque<Task*> pending_;  // FIFO; every entry is in kPending, and every kPending task is here
  std::deque<Worker*> ring_;   // workers with free credit, each at most once, next to serve first
  size_t leased_ = 0;
  size_t done_ = 0;
  size_t failed_ = 0;
  std::optional<RunFailure> failure_;
  std::vector<Task*> awaiting_confirmation_;  // tasks with final_from set
  // Tasks whose leases a worker lost by going silent, by routing id, until that worker comes
  // back (its losses are then forgiven) or the map is full (kMaxRemembered entries).
  static constexpr size_t kMaxRemembered = 4096;
  std::unordered_map<std::string, std::vector<uint64_t>, NameHash, std::equal_to<>> lost_by_silence_;
};

}  // namespace loadstar::coordinator
