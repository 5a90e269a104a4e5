#include "coordinator/scheduler/scheduler.h"

#include <algorithm>
#include <utility>

namespace loadstar::coordinator {

namespace {

SchedulerOptions Sanitize(SchedulerOptions o) {
  if (o.heartbeat_interval <= std::chrono::milliseconds::zero()) o.heartbeat_interval = std::chrono::milliseconds(1);
  o.liveness = std::max<uint32_t>(o.liveness, 1);
  o.max_attempts = std::max<uint32_t>(o.max_attempts, 1);
  o.max_lost_leases = std::max<uint32_t>(o.max_lost_leases, 1);
  return o;
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : options_(Sanitize(options)),
      heartbeat_interval_(options_.heartbeat_interval),
      expiry_(options_.heartbeat_interval * options_.liveness) {}

Scheduler::~Scheduler() = default;

Status Scheduler::AddTask(uint64_t task_id) {
  auto [it, inserted] = tasks_.try_emplace(task_id);
  if (!inserted) return Status::InvalidArgument("task " + std::to_string(task_id) + " was added twice");
  it->second.id = task_id;
  pending_.push_back(&it->second);
  return Status::Ok();
}

void Scheduler::ReserveTasks(size_t n) { tasks_.reserve(n); }

Scheduler::Worker* Scheduler::FindWorker(std::string_view name) {
  auto it = workers_.find(name);
  return it == workers_.end() ? nullptr : &it->second;
}

const Scheduler::Worker* Scheduler::FindWorker(std::string_view name) const {
  auto it = workers_.find(name);
  return it == workers_.end() ? nullptr : &it->second;
}

size_t Scheduler::WorkerReady(std::string_view worker, uint32_t credit, SchedulerTime now) {
  size_t requeued = 0;
  Worker* w = FindWorker(worker);
  if (w != nullptr) {
    // A new incarnation under the same routing id: whatever the old one held is lost.
    requeued = DropLeases(w, "the worker said READY again");
    RemoveFromRing(w);
    std::string name = std::move(w->name);
    *w = Worker{};
    w->name = std::move(name);
  } else {
    auto it = workers_.try_emplace(std::string(worker)).first;
    w = &it->second;
    w->name = it->first;
  }
  // A worker declared dead that speaks again was slow, not killed by what it held.
  if (auto lost = lost_by_silence_.find(worker); lost != lost_by_silence_.end()) {
    for (uint64_t id : lost->second) {
      auto t = tasks_.find(id);
      if (t != tasks_.end() && t->second.lost_leases > 0) --t->second.lost_leases;
    }
    lost_by_silence_.erase(lost);
  }
  w->credit = credit;
  w->ready_at = now;
  w->last_seen = now;
  w->last_sent = now;
  if (w->HasFreeCredit()) {
    w->in_ring = true;
    ring_.push_back(w);
  }
  return requeued;
}

bool Scheduler::WorkerSeen(std::string_view worker, SchedulerTime now) {
  Worker* w = FindWorker(worker);
  if (w == nullptr) return false;
  w->last_seen = std::max(w->last_seen, now);
  return true;
}

size_t Scheduler::WorkerGone(std::string_view worker) {
  Worker* w = FindWorker(worker);
  if (w == nullptr) return 0;
  size_t requeued = w->leases.size();
  Drop(worker, "the worker disconnected");
  return requeued;
}

std::vector<Lease> Scheduler::Dispatch(SchedulerTime now) {
  std::vector<Lease> out;
  FailUnconfirmable();
  if (failure_) return out;
  std::vector<Worker*> nothing_for;  // in the ring, but every pending task is one they may not take
  while (!pending_.empty() && !ring_.empty()) {
    Worker* w = ring_.front();
    ring_.pop_front();
    Task* t = TakePendingFor(w);
    if (t == nullptr) {
      nothing_for.push_back(w);
      continue;
    }
    Assign(t, w);
    w->last_sent = std::max(w->last_sent, now);
    out.push_back(Lease{t->id, t->attempt, w->name});
    if (w->HasFreeCredit()) {
      ring_.push_back(w);  // stays in the ring: to the back, so the next task goes elsewhere
    } else {
      w->in_ring = false;
    }
  }
  for (Worker* w : nothing_for) ring_.push_back(w);
  return out;
}

Scheduler::Task* Scheduler::TakePendingFor(const Worker* worker) {
  // Only tasks awaiting confirmation are skipped, and there are few: this stays O(1) amortised.
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if ((*it)->final_from != worker->name) {
      Task* t = *it;
      pending_.erase(it);
      return t;
    }
  }
  return nullptr;
}

void Scheduler::FailUnconfirmable() {
  for (size_t i = 0; i < awaiting_confirmation_.size();) {
    Task* t = awaiting_confirmation_[i];
    if (t->state == TaskState::kDone || t->state == TaskState::kFailed) {
      awaiting_confirmation_.erase(awaiting_confirmation_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    bool someone_else = std::any_of(workers_.begin(), workers_.end(),
                                    [&](const auto& entry) { return entry.first != t->final_from; });
    if (someone_else || t->state != TaskState::kPending) {
      ++i;
      continue;
    }
    pending_.erase(std::find(pending_.begin(), pending_.end(), t));
    awaiting_confirmation_.erase(awaiting_confirmation_.begin() + static_cast<std::ptrdiff_t>(i));
    FailTask(t, t->final_from, FailureCause::kFinal, t->final_error);
  }
}

std::vector<std::string> Scheduler::WorkersDueHeartbeat(SchedulerTime now) const {
  std::vector<std::string> due;
  for (const auto& [name, w] : workers_) {
    if (now - w.last_sent >= heartbeat_interval_) due.push_back(name);
  }
  std::sort(due.begin(), due.end());
  return due;
}

void Scheduler::Sent(std::string_view worker, SchedulerTime now) {
  Worker* w = FindWorker(worker);
  if (w != nullptr) w->last_sent = std::max(w->last_sent, now);
}

Disposition Scheduler::Complete(std::string_view worker, uint64_t task_id, uint32_t attempt, Outcome outcome,
                                std::string_view error, SchedulerTime now) {
  Worker* w = FindWorker(worker);
  if (w == nullptr) return Disposition::kStale;
  w->last_seen = std::max(w->last_seen, now);

  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return Disposition::kStale;
  Task* t = &it->second;
  if (t->state != TaskState::kLeased || t->holder != w || t->attempt != attempt) return Disposition::kStale;

  Release(t);
  switch (outcome) {
    case Outcome::kOk:
      t->state = TaskState::kDone;
      ++done_;
      ++w->tasks_done;
      return Disposition::kDone;
    case Outcome::kRetryable:
      ++w->tasks_failed;
      if (++t->failures >= options_.max_attempts) {
        FailTask(t, worker, FailureCause::kRetriesExhausted, std::string(error));
        return Disposition::kRunFailed;
      }
      Requeue(t);
      return Disposition::kRequeued;
    case Outcome::kFinal:
      break;
  }
  ++w->tasks_failed;
  const bool confirmed = !t->final_from.empty();  // a second worker says so too
  const bool someone_else = std::any_of(workers_.begin(), workers_.end(),
                                        [&](const auto& entry) { return entry.first != worker; });
  if (!confirmed && someone_else) {
    t->final_from = std::string(worker);
    t->final_error = std::string(error);
    awaiting_confirmation_.push_back(t);
    Requeue(t);
    return Disposition::kAwaitingConfirmation;
  }
  FailTask(t, worker, FailureCause::kFinal, std::string(error));
  return Disposition::kRunFailed;
}

std::vector<std::string> Scheduler::Expire(SchedulerTime now) {
  std::vector<std::string> dead;
  for (const auto& [name, w] : workers_) {
    if (now - w.last_seen >= expiry_) dead.push_back(name);
  }
  std::sort(dead.begin(), dead.end());  // requeue order must not depend on hashing
  if (dead.empty()) return dead;
  const std::string why = "the worker was silent for " + std::to_string(options_.liveness) + " heartbeat intervals";
  for (const std::string& name : dead) {
    const Worker* w = FindWorker(name);
    if (w != nullptr && !w->leases.empty() && lost_by_silence_.size() < kMaxRemembered) {
      std::vector<uint64_t>& ids = lost_by_silence_[name];
      for (const Task* t : w->leases) ids.push_back(t->id);
    }
    Drop(name, why);
  }
  return dead;
}

std::optional<SchedulerTime> Scheduler::NextDeadline() const {
  std::optional<SchedulerTime> next;
  for (const auto& [name, w] : workers_) {
    SchedulerTime t = std::min(w.last_sent + heartbeat_interval_, w.last_seen + expiry_);
    if (!next || t < *next) next = t;
  }
  return next;
}

TaskCounts Scheduler::Counts() const {
  TaskCounts c;
  c.total = tasks_.size();
  c.pending = pending_.size();
  c.leased = leased_;
  c.done = done_;
  c.failed = failed_;
  return c;
}

std::optional<Lease> Scheduler::LeaseOf(uint64_t task_id) const {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || it->second.state != TaskState::kLeased) return std::nullopt;
  const Task& t = it->second;
  return Lease{t.id, t.attempt, t.holder->name};
}

std::optional<TaskInfo> Scheduler::FindTask(uint64_t task_id) const {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return std::nullopt;
  const Task& t = it->second;
  return TaskInfo{t.id, t.state, t.attempt, t.failures, t.lost_leases, t.final_from};
}

std::vector<WorkerInfo> Scheduler::Workers() const {
  std::vector<WorkerInfo> out;
  out.reserve(workers_.size());
  for (const auto& [name, w] : workers_) {
    out.push_back(WorkerInfo{name, w.credit, static_cast<uint32_t>(w.leases.size()), w.tasks_done, w.tasks_failed,
                             w.ready_at, w.last_seen, w.last_sent});
  }
  std::sort(out.begin(), out.end(), [](const WorkerInfo& a, const WorkerInfo& b) { return a.name < b.name; });
  return out;
}

void Scheduler::Assign(Task* task, Worker* worker) {
  task->state = TaskState::kLeased;
  ++task->attempt;
  task->holder = worker;
  task->slot = static_cast<uint32_t>(worker->leases.size());
  worker->leases.push_back(task);
  ++leased_;
}

void Scheduler::Release(Task* task) {
  Worker* w = task->holder;
  // Swap-and-pop: O(1) whatever the worker's credit.
  Task* last = w->leases.back();
  w->leases[task->slot] = last;
  last->slot = task->slot;
  w->leases.pop_back();
  task->holder = nullptr;
  --leased_;
  if (!w->in_ring && w->HasFreeCredit()) {
    w->in_ring = true;
    ring_.push_back(w);
  }
}

void Scheduler::Requeue(Task* task) {
  task->state = TaskState::kPending;
  pending_.push_back(task);
}

size_t Scheduler::DropLeases(Worker* worker, std::string_view why) {
  // Requeued in task id order, so the order does not depend on how leases were taken and returned.
  std::vector<Task*> lost;
  lost.swap(worker->leases);
  std::sort(lost.begin(), lost.end(), [](const Task* a, const Task* b) { return a->id < b->id; });
  for (Task* t : lost) {
    t->holder = nullptr;
    --leased_;
    if (++t->lost_leases >= options_.max_lost_leases) {
      FailTask(t, worker->name, FailureCause::kWorkersLost,
               "lost with its worker " + std::to_string(t->lost_leases) + " times (the last time: " +
                   std::string(why) + ")");
    } else {
      Requeue(t);
    }
  }
  return lost.size();
}

void Scheduler::RemoveFromRing(Worker* worker) {
  if (!worker->in_ring) return;
  ring_.erase(std::find(ring_.begin(), ring_.end(), worker));
  worker->in_ring = false;
}

void Scheduler::Drop(std::string_view name, std::string_view why) {
  auto it = workers_.find(name);
  if (it == workers_.end()) return;
  DropLeases(&it->second, why);
  RemoveFromRing(&it->second);
  workers_.erase(it);
}

void Scheduler::FailTask(Task* task, std::string_view worker, FailureCause cause, std::string error) {
  task->state = TaskState::kFailed;
  ++failed_;
  if (failure_) return;  // the first failure explains the run
  failure_ = RunFailure{task->id, task->attempt, std::string(worker), cause, std::move(error)};
}

}  // namespace loadstar::coordinator
