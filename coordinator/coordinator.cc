#include "coordinator/coordinator.h"

#include <algorithm>
#include <csignal>
#include <unordered_map>

#include "common/log.h"
#include "common/transport.h"
#include "common/warehouse.h"
#include "coordinator/planner.h"
#include "coordinator/scheduler.h"

namespace loadstar::coordinator {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

void Publish(const StatusSnapshot& snapshot, const CoordinatorHooks& hooks) {
  if (hooks.board != nullptr) hooks.board->Publish(snapshot);
  if (hooks.on_progress) hooks.on_progress(snapshot);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

wire::Envelope TaskEnvelope(const PackedTask& packed, const Plan& plan, uint64_t task_id, uint32_t attempt,
                            int64_t run_id, const CoordinatorOptions& options) {
  wire::Envelope env;
  wire::Task* task = env.mutable_task();
  task->set_task_id(task_id);
  task->set_attempt(attempt);
  task->set_run_id(run_id);
  task->set_schema(options.schema);
  task->set_max_record_bytes(options.max_record_bytes);
  for (uint64_t index : packed.files) {
    const PlannedFile& f = plan.files[index];
    wire::FileRef* ref = task->add_files();
    ref->set_uri(std::string(plan.uri(f)));
    ref->set_size(f.size);
    ref->set_etag(std::string(plan.etag(f)));
    ref->set_kind(f.kind == TaskKind::kSong ? wire::FILE_KIND_SONG : wire::FILE_KIND_EVENT);
  }
  return env;
}

// Serves the plan's tasks until all are acknowledged (OK) or the run fails.
class Server {
 public:
  Server(const CoordinatorOptions& options, const CoordinatorHooks& hooks, const Plan& plan, int64_t run_id,
         StatusSnapshot* progress, Clock::time_point start)
      : options_(options), hooks_(hooks), plan_(plan), run_id_(run_id), progress_(progress), start_(start),
        scheduler_(SchedulerOptions{options.heartbeat_interval, options.liveness, options.max_attempts, 10}) {}

  // Records rejected by files this run staged before it was resumed.
  void set_initial_rejected(uint64_t n) { initial_rejected_ = n; }

  Status Serve(transport::Router* router) {
    for (uint64_t id = 0; id < plan_.tasks.size(); ++id) LOADSTAR_RETURN_IF_ERROR(scheduler_.AddTask(id));
    Report();  // staging, with every task pending
    auto last_progress = Clock::now();
    auto last_wait_note = Clock::now();
    while (!scheduler_.Done()) {
      if (g_stop) return Status::Cancelled("stopped by a signal; run again to resume where this run stopped");
      if (hooks_.check) LOADSTAR_RETURN_IF_ERROR(hooks_.check());
      if (scheduler_.Failed()) break;
      LOADSTAR_RETURN_IF_ERROR(CheckMaxErrors());

      std::string bad_peer;
      auto wait = router->Receive(std::chrono::milliseconds(100), &bad_peer);
      auto now = Clock::now();
      if (!wait.ok()) {
        if (!bad_peer.empty()) {
          wire::Envelope refuse;
          refuse.mutable_refuse()->set_reason(wait.status().message());
          (void)router->Send(bad_peer, refuse);
          log::Warn("refused a peer: " + wait.status().message());
          continue;
        }
        return wait.status();
      }
      if (wait->message) Handle(router, *wait->message, now);
      const size_t leased_before_expiry = scheduler_.Counts().leased;
      for (const std::string& dead : scheduler_.Expire(now)) {
        ++progress_->workers_lost;
        log::Warn("worker " + Name(dead) + " went silent; its tasks go to other workers");
      }
      // Leases lost with dead workers go back to the queue: retries too.
      progress_->tasks_retried += leased_before_expiry - scheduler_.Counts().leased;
      for (const Lease& lease : scheduler_.Dispatch(now)) {
        leased_at_[lease.task_id] = now;
        LOADSTAR_RETURN_IF_ERROR(router->Send(
            lease.worker, TaskEnvelope(plan_.tasks[lease.task_id], plan_, lease.task_id, lease.attempt, run_id_, options_)));
      }
      for (const std::string& w : scheduler_.WorkersDueHeartbeat(now)) {
        wire::Envelope hb;
        hb.mutable_heartbeat();
        (void)router->Send(w, hb);
        scheduler_.Sent(w, now);
      }
      if (scheduler_.worker_count() == 0 && now - last_wait_note > std::chrono::seconds(10)) {
        log::Info("waiting for workers to connect to " + router->endpoint());
        last_wait_note = now;
      }
      if (now - last_progress >= std::chrono::milliseconds(200)) {
        last_progress = now;
        Report();
      }
    }
    if (!scheduler_.Failed()) LOADSTAR_RETURN_IF_ERROR(CheckMaxErrors());
    if (scheduler_.Failed()) {
      const RunFailure& f = *scheduler_.failure();
      std::string files;
      for (size_t i = 0; i < plan_.tasks[f.task_id].files.size() && i < 3; ++i) {
        files += (i ? ", " : "") + std::string(plan_.uri(plan_.files[plan_.tasks[f.task_id].files[i]]));
      }
      if (plan_.tasks[f.task_id].files.size() > 3) files += ", ...";
      return Status::FailedPrecondition("task " + std::to_string(f.task_id) + " (" + files + ") failed on attempt " +
                                        std::to_string(f.attempt) + ": " + f.error);
    }
    return Status::Ok();
  }

  // FailedPrecondition once the run (with what it staged before a resume) has rejected more
  // records than --max-errors allows.
  Status CheckMaxErrors() const {
    uint64_t rejected = progress_->rejected + initial_rejected_;
    if (options_.max_errors < 0 || rejected <= static_cast<uint64_t>(options_.max_errors)) return Status::Ok();
    return Status::FailedPrecondition(
        std::to_string(rejected) + " records rejected, more than --max-errors " + std::to_string(options_.max_errors) +
        "; the star tables are unchanged. Look at the rejects table (run " + std::to_string(run_id_) +
        "), fix the input or raise --max-errors, and run again: files already staged are not staged twice");
  }

  // Tells every worker the run is over.
  void ShutdownWorkers(transport::Router* router, const std::string& reason) {
    for (const WorkerInfo& w : scheduler_.Workers()) {
      wire::Envelope env;
      env.mutable_shutdown()->set_reason(reason);
      (void)router->Send(w.name, env);
    }
  }

  // Refreshes the snapshot from the scheduler and hands it to the hooks.
  void Report() {
    progress_->elapsed_s = Seconds(start_);
    TaskCounts counts = scheduler_.Counts();
    progress_->tasks_pending = counts.pending;
    progress_->tasks_leased = counts.leased;
    progress_->tasks_done = counts.done;
    progress_->tasks_failed = counts.failed;
    auto now = Clock::now();
    progress_->workers.clear();
    for (const WorkerInfo& w : scheduler_.Workers()) {
      progress_->workers.push_back(WorkerStatus{Name(w.name), w.credit, w.in_flight, w.tasks_done, w.tasks_failed,
                                                std::chrono::duration<double>(now - w.last_seen).count()});
    }
    // Workers() sorts by routing id; people look for names.
    std::sort(progress_->workers.begin(), progress_->workers.end(),
              [](const WorkerStatus& a, const WorkerStatus& b) { return a.name < b.name; });
    Publish(*progress_, hooks_);
  }

 private:
  std::string Name(const std::string& id) const {
    auto it = names_.find(id);
    return it == names_.end() ? id : it->second;
  }

  void Handle(transport::Router* router, const transport::Incoming& in, Clock::time_point now) {
    const wire::Envelope& env = in.envelope;
    if (env.has_ready()) {
      names_[in.peer] = env.ready().worker_name();
      progress_->tasks_retried += scheduler_.WorkerReady(in.peer, env.ready().credit(), now);  // leases it lost
      log::Info("worker " + env.ready().worker_name() + " ready (credit " + std::to_string(env.ready().credit()) + ")");
      return;
    }
    if (!scheduler_.WorkerSeen(in.peer, now)) {
      // A worker we do not know (we restarted, or declared it dead): whatever it sends refers to
      // leases that no longer exist. Ask it to start over.
      wire::Envelope again;
      again.mutable_reannounce();
      (void)router->Send(in.peer, again);
      return;
    }
    if (env.has_result()) {
      const wire::TaskResult& r = env.result();
      Outcome outcome = r.ok() ? Outcome::kOk : (r.retryable() ? Outcome::kRetryable : Outcome::kFinal);
      Disposition d = scheduler_.Complete(in.peer, r.task_id(), r.attempt(), outcome, r.error(), now);
      if (d == Disposition::kDone) {
        auto leased = leased_at_.find(r.task_id());
        if (leased != leased_at_.end()) {
          double latency = std::chrono::duration<double>(now - leased->second).count();
          size_t bucket = 0;
          while (bucket < kTaskLatencyBuckets.size() && latency > kTaskLatencyBuckets[bucket]) ++bucket;
          ++progress_->latency_counts[bucket];
          progress_->latency_sum_s += latency;
          leased_at_.erase(leased);
        }
        for (const auto& f : r.files()) {
          ++progress_->files_done;
          progress_->bytes_done += f.bytes();
          progress_->records += f.records();
          progress_->staged += f.staged();
          progress_->rejected += f.rejected();
          if (f.rejected() > 0) {
            log::Warn(std::to_string(f.rejected()) + " of " + std::to_string(f.records()) + " records rejected in " +
                      f.uri() + " (see the rejects table)");
          }
        }
      } else if (d == Disposition::kRequeued) {
        ++progress_->tasks_retried;
        log::Warn("task " + std::to_string(r.task_id()) + " failed on " + Name(in.peer) + " (attempt " +
                  std::to_string(r.attempt()) + "), will retry: " + r.error());
      } else if (d == Disposition::kStale) {
        log::Debug("ignored a stale result for task " + std::to_string(r.task_id()));
      }
    }
  }

  const CoordinatorOptions& options_;
  const CoordinatorHooks& hooks_;
  const Plan& plan_;
  const int64_t run_id_;
  StatusSnapshot* const progress_;
  const Clock::time_point start_;
  Scheduler scheduler_;
  std::unordered_map<std::string, std::string> names_;  // routing id -> worker name
  uint64_t initial_rejected_ = 0;
  std::unordered_map<uint64_t, Clock::time_point> leased_at_;  // task -> when it was last leased
};

}  // namespace

Result<RunSummary> RunCoordinator(const CoordinatorOptions& options, const CoordinatorHooks& hooks) {
  const auto start = Clock::now();
  g_stop = false;
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  if (options.songs.empty() && options.events.empty()) {
    return Status::InvalidArgument("nothing to load: give --songs and/or --events");
  }

  WarehouseOptions wo;
  wo.conninfo = options.warehouse;
  wo.schema = options.schema;
  wo.application_name = "loadstar-coordinator";
  LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<Warehouse> wh, Warehouse::Connect(wo, /*create_schema=*/true));
  RunStore store(wh.get());
  LOADSTAR_RETURN_IF_ERROR(store.Prepare());

  std::vector<SourceSpec> sources;
  std::string sources_text;
  if (!options.songs.empty()) {
    sources.push_back({options.songs, TaskKind::kSong});
    sources_text += "songs=" + options.songs;
  }
  if (!options.events.empty()) {
    sources.push_back({options.events, TaskKind::kEvent});
    sources_text += std::string(sources_text.empty() ? "" : " ") + "events=" + options.events;
  }
  if (!options.since.empty()) LOADSTAR_RETURN_IF_ERROR(ValidateDate(options.since).WithContext("--since"));
  if (!options.until.empty()) LOADSTAR_RETURN_IF_ERROR(ValidateDate(options.until).WithContext("--until"));
  if (!options.since.empty() && !options.until.empty() && options.since > options.until) {
    return Status::InvalidArgument("--since " + options.since + " is after --until " + options.until);
  }
  if (!options.since.empty()) sources_text += " since=" + options.since;
  if (!options.until.empty()) sources_text += " until=" + options.until;

  RunSummary summary;
  LOADSTAR_ASSIGN_OR_RETURN(summary.run_id, store.StartRun(sources_text, &summary.resumed));
  const int64_t run_id = summary.run_id;
  log::Info(std::string(summary.resumed ? "resuming" : "starting") + " run " + std::to_string(run_id) +
            " into schema '" + options.schema + "'");

  StatusSnapshot progress;
  progress.schema = options.schema;
  progress.run_id = run_id;
  progress.phase = "planning";
  Publish(progress, hooks);
  auto fail = [&](const Status& s) -> Status {
    (void)store.SetState(run_id, "failed", s.message());
    progress.phase = "failed";
    progress.error = s.message();
    progress.elapsed_s = Seconds(start);
    Publish(progress, hooks);
    return s;
  };

  PlanOptions plan_options;
  plan_options.full_refresh = options.full_refresh;
  plan_options.since = options.since;
  plan_options.until = options.until;
  plan_options.pack.byte_budget = options.task_bytes;
  plan_options.pack.max_files = options.task_files;
  auto planned = BuildPlan(sources, wh.get(), run_id, plan_options);
  if (!planned.ok()) return fail(planned.status());
  const Plan& plan = planned.value();
  summary.files_listed = plan.listed_files;
  summary.skipped_loaded = plan.skipped_loaded;
  summary.skipped_staged = plan.skipped_staged;
  summary.ignored_not_json = plan.ignored_not_json;
  summary.outside_dates = plan.outside_dates;
  LOADSTAR_RETURN_IF_ERROR(store.RecordListing(run_id, plan.listed_files, plan.skipped_loaded, plan.listed_bytes));
  for (const auto& f : plan.files) progress.bytes_total += f.size;
  progress.files_total = plan.files.size();
  progress.tasks_total = plan.tasks.size();
  log::Info("listed " + std::to_string(plan.listed_files) + " files (" + std::to_string(plan.listed_bytes) +
            " bytes): " + std::to_string(plan.files.size()) + " to stage in " + std::to_string(plan.tasks.size()) +
            " tasks, " + std::to_string(plan.skipped_loaded) + " already loaded, " +
            std::to_string(plan.skipped_staged) + " already staged by this run");

  LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<transport::Router> router, transport::Router::Bind(options.listen));
  log::Info("listening for workers on " + router->endpoint());
  if (hooks.on_listening) hooks.on_listening(router->endpoint(), plan.tasks.size());

  progress.phase = "staging";
  Server server(options, hooks, plan, run_id, &progress, start);
  {
    // A resumed run counts the rejects of the files it staged before.
    LOADSTAR_ASSIGN_OR_RETURN(std::vector<SourceAccount> before, store.Account(run_id));
    uint64_t rejected = 0;
    for (const auto& a : before) rejected += a.rejected;
    server.set_initial_rejected(rejected);
  }
  Status served = server.Serve(router.get());
  server.ShutdownWorkers(router.get(), served.ok() ? "every task is staged" : "the run failed");
  if (!served.ok()) return fail(served);

  progress.phase = "transforming";
  server.Report();
  log::Info("every task is staged; transforming run " + std::to_string(run_id));
  LOADSTAR_RETURN_IF_ERROR(store.SetState(run_id, "transforming"));
  Status transformed = store.Transform(run_id);
  if (!transformed.ok()) return fail(transformed);

  LOADSTAR_ASSIGN_OR_RETURN(summary.accounts, store.Account(run_id));
  LOADSTAR_ASSIGN_OR_RETURN(summary.tables, store.StarCounts());
  summary.elapsed_s = Seconds(start);
  progress.phase = "done";
  server.Report();
  return summary;
}

}  // namespace loadstar::coordinator
