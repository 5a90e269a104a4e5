#include "coordinator/coordinator.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <regex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/core/log.h"
#include "common/transport/curve.h"
#include "common/transport/transport.h"
#include "common/core/uri.h"
#include "common/warehouse/ledger.h"
#include "common/warehouse/transaction.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/planner.h"
#include "coordinator/s3_staging.h"
#include "coordinator/scheduler/scheduler.h"

namespace loadstar::coordinator {
namespace {

using Clock = std::chrono::steady_clock;


// What a worker may claim of itself. A longer name is refused (it only ever goes into logs and
// views); a larger credit is cut to this (no worker stages that many tasks at once).
constexpr size_t kMaxWorkerNameBytes = 256;
constexpr uint32_t kMaxWorkerCredit = 256;

// A text literal for a PostgreSQL text[] parameter.
std::string TextArray(const std::vector<std::string_view>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// PostgreSQL: whether the ledger's staged rows of `run_id` are all in staging (see
// sql/postgres/run_staging_intact.sql).
Result<bool> StagingIntact(Warehouse* wh, int64_t run_id) {
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh->QueryFile("run_staging_intact", {std::to_string(run_id)}));
  LOADSTAR_RETURN_IF_ERROR(rows.RequireColumns({"ledger_rows", "staged_rows"})
                               .WithContext(SqlFilePath("run_staging_intact", wh->dialect())));
  return rows.empty() || rows.integer(0, "ledger_rows") == rows.integer(0, "staged_rows");
}

void Publish(const StatusSnapshot& snapshot, const CoordinatorHooks& hooks) {
  if (hooks.board != nullptr) hooks.board->Publish(snapshot);
  if (hooks.on_progress) hooks.on_progress(snapshot);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

wire::Envelope TaskEnvelope(const PackedTask& packed, const Plan& plan, uint64_t task_id, uint32_t attempt,
                            int64_t run_id, const CoordinatorOptions& options, const StagingArea* staging) {
  wire::Envelope env;
  wire::Task* task = env.mutable_task();
  if (staging != nullptr) task->set_staging(staging->process_prefix_uri());
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
    ref->set_kind(transport::ToWire(f.kind));
    if (staging != nullptr) ref->set_file_id(f.file_id);
  }
  return env;
}

// Serves the plan's tasks until all are acknowledged (OK) or the run fails.
class Server {
 public:
  Server(const CoordinatorOptions& options, const CoordinatorHooks& hooks, const Plan& plan, int64_t run_id,
         Warehouse* wh, StagingArea* staging, StatusSnapshot* progress, Clock::time_point start)
      : options_(options), hooks_(hooks), plan_(plan), run_id_(run_id), wh_(wh), staging_(staging),
        progress_(progress), start_(start),
        stop_(hooks.stop),
        scheduler_(SchedulerOptions{options.heartbeat_interval, options.liveness, options.max_attempts, 10}) {}

  // Records rejected by files this run staged before it was resumed.
  void set_initial_rejected(uint64_t n) { initial_rejected_ = n; }

  Status Serve(transport::Router* router) {
    for (uint64_t id = 0; id < plan_.tasks.size(); ++id) LOADSTAR_RETURN_IF_ERROR(scheduler_.AddTask(id));
    Report();  // staging, with every task pending
    auto last_progress = Clock::now();
    auto last_wait_note = Clock::now();
    while (!scheduler_.Done()) {
      if (stop_.stop_requested()) return Status::Cancelled("stopped by a signal; run again to resume where this run stopped");
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
          log::WarnThrottled("refused-peer", "refused a peer: " + wait.status().message());
          continue;
        }
        return wait.status();
      }
      if (wait->message) LOADSTAR_RETURN_IF_ERROR(Handle(router, *wait->message, now));
      const size_t leased_before_expiry = scheduler_.Counts().leased;
      for (const std::string& dead : scheduler_.Expire(now)) {
        progress_->set_workers_lost(progress_->workers_lost() + 1);
        log::WarnThrottled("silent-worker", "worker " + Name(dead) + " went silent; its tasks go to other workers");
      }
      // Leases lost with dead workers go back to the queue: retries too.
      progress_->set_tasks_retried(progress_->tasks_retried() + leased_before_expiry - scheduler_.Counts().leased);
      for (const Lease& lease : scheduler_.Dispatch(now)) {
        leased_at_[lease.task_id] = now;
        LOADSTAR_RETURN_IF_ERROR(router->Send(
            lease.worker,
            TaskEnvelope(plan_.tasks[lease.task_id], plan_, lease.task_id, lease.attempt, run_id_, options_, staging_)));
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
    if (staging_ != nullptr) return Status::Ok();  // proven from the accepted attempts before the load
    return ProveEveryFileStaged();
  }

  // Before the run may be called staged: the ledger, not the workers' word, must hold every
  // planned file as staged by this run.
  Status ProveEveryFileStaged() {
    // Staging is unlogged: a server that crashed since the rows were staged has emptied it.
    LOADSTAR_ASSIGN_OR_RETURN(bool intact, StagingIntact(wh_, run_id_));
    if (!intact) {
      return Status::Unavailable("the staged rows of run " + std::to_string(run_id_) + " are gone (PostgreSQL "
                                 "restarted? staging is unlogged); run again: the files are staged again");
    }
    LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh_->QueryFile("run_staged_files", {std::to_string(run_id_)}));
    LOADSTAR_RETURN_IF_ERROR(rows.RequireColumns({"files"}).WithContext(SqlFilePath("run_staged_files", wh_->dialect())));
    const uint64_t staged = rows.empty() ? 0 : static_cast<uint64_t>(rows.integer(0, "files"));
    const uint64_t expected = plan_.files.size() + plan_.skipped_staged;
    if (staged < expected) {
      return Status::FailedPrecondition(
          "the ledger holds " + std::to_string(staged) + " files staged by run " + std::to_string(run_id_) + " of the " +
          std::to_string(expected) + " planned, though every task was acknowledged; run again to stage the rest");
    }
    return Status::Ok();
  }

  // FailedPrecondition once the run (with what it staged before a resume) has rejected more
  // records than --max-errors allows.
  Status CheckMaxErrors() const {
    uint64_t rejected = progress_->rejected() + initial_rejected_;
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
    progress_->set_elapsed_s(Seconds(start_));
    TaskCounts counts = scheduler_.Counts();
    progress_->set_tasks_pending(counts.pending);
    progress_->set_tasks_leased(counts.leased);
    progress_->set_tasks_done(counts.done);
    progress_->set_tasks_failed(counts.failed);
    auto now = Clock::now();
    progress_->clear_workers();
    for (const WorkerInfo& w : scheduler_.Workers()) {
      WorkerStatus* ws = progress_->add_workers();
      ws->set_name(Name(w.name));
      ws->set_credit(w.credit);
      ws->set_in_flight(w.in_flight);
      ws->set_tasks_done(w.tasks_done);
      ws->set_tasks_failed(w.tasks_failed);
      ws->set_last_heartbeat_age_s(std::chrono::duration<double>(now - w.last_seen).count());
    }
    // Workers() sorts by routing id; people look for names.
    std::sort(progress_->mutable_workers()->begin(), progress_->mutable_workers()->end(),
              [](const WorkerStatus& a, const WorkerStatus& b) { return a.name() < b.name(); });
    Publish(*progress_, hooks_);
  }

 private:
  std::string Name(const std::string& id) const {
    auto it = names_.find(id);
    return it == names_.end() ? id : it->second;
  }

  void Refuse(transport::Router* router, const std::string& peer, const std::string& reason) {
    wire::Envelope refuse;
    refuse.mutable_refuse()->set_reason(reason);
    (void)router->Send(peer, refuse);
    if (refused_.size() < kMaxRefused) refused_.insert(peer);
    progress_->set_tasks_retried(progress_->tasks_retried() + scheduler_.WorkerGone(peer));
  }

  // Empty when the ledger bears out `r` (every file of the task staged by this run, with the
  // ETag planned and the account reported); otherwise what does not check out.
  Result<std::string> Unconfirmed(const wire::TaskResult& r) {
    if (staging_ != nullptr) return UnconfirmedByMarker(r);
    const PackedTask& task = plan_.tasks[r.task_id()];
    if (static_cast<size_t>(r.files_size()) != task.files.size()) {
      return "it accounts for " + std::to_string(r.files_size()) + " files of the task's " +
             std::to_string(task.files.size());
    }
    std::unordered_map<std::string_view, const wire::FileAccount*> reported;
    for (const wire::FileAccount& f : r.files()) reported.emplace(f.uri(), &f);
    std::vector<std::string_view> uris;
    uris.reserve(task.files.size());
    for (uint64_t index : task.files) uris.push_back(plan_.uri(plan_.files[index]));
    LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh_->QueryFile("ledger_confirm", {TextArray(uris)}));
    LOADSTAR_RETURN_IF_ERROR(rows.RequireColumns({"records", "staged", "rejected"})
                                 .WithContext(SqlFilePath("ledger_confirm", wh_->dialect())));
    auto entries = LedgerEntriesFrom(rows);
    if (!entries.ok()) return entries.status().WithContext(SqlFilePath("ledger_confirm", wh_->dialect()));
    std::unordered_map<std::string_view, const LedgerEntry*> entry_of;
    for (const LedgerEntry& e : *entries) entry_of.emplace(e.uri, &e);
    for (uint64_t index : task.files) {
      const PlannedFile& f = plan_.files[index];
      const std::string uri(plan_.uri(f));
      auto acc = reported.find(uri);
      if (acc == reported.end()) return "it does not account for " + uri;
      auto entry = entry_of.find(uri);
      if (entry == entry_of.end()) return "the ledger has no row for " + uri;
      const wire::FileAccount& a = *acc->second;
      Status confirmed = ConfirmStaged(*entry->second, plan_.etag(f), run_id_,
                                       FileAccount{a.records(), a.staged(), a.rejected()});
      if (!confirmed.ok()) return confirmed.message();
    }
    return std::string();
  }

  // Empty when the attempt's marker and parts in S3 bear out `r`, and the attempt is then
  // recorded as accepted; otherwise what does not check out.
  Result<std::string> UnconfirmedByMarker(const wire::TaskResult& r) {
    const PackedTask& task = plan_.tasks[r.task_id()];
    std::vector<ExpectedFile> expected;
    expected.reserve(task.files.size());
    for (uint64_t index : task.files) {
      const PlannedFile& f = plan_.files[index];
      expected.push_back(ExpectedFile{std::string(plan_.uri(f)), std::string(plan_.etag(f)), f.file_id, f.kind});
    }
    std::vector<ReportedAccount> reported;
    for (const wire::FileAccount& a : r.files()) {
      reported.push_back(ReportedAccount{a.uri(), a.records(), a.staged(), a.rejected()});
    }
    staging::StagedParts marker;
    LOADSTAR_ASSIGN_OR_RETURN(std::string doubt,
                              staging_->Doubt(r.task_id(), r.attempt(), expected, reported, &marker));
    if (!doubt.empty()) return doubt;
    LOADSTAR_RETURN_IF_ERROR(staging_->Accept(r.task_id(), r.attempt()));
    return std::string();
  }

  Status Handle(transport::Router* router, const transport::Incoming& in, Clock::time_point now) {
    const wire::Envelope& env = in.envelope;
    if (refused_.count(in.peer) > 0) {
      wire::Envelope refuse;
      refuse.mutable_refuse()->set_reason("this worker was refused earlier in the run");
      (void)router->Send(in.peer, refuse);
      return Status::Ok();
    }
    if (env.has_unfit()) {
      std::string name = env.unfit().worker_name().substr(0, kMaxWorkerNameBytes);
      std::string reason = env.unfit().reason().substr(0, 2048);
      log::WarnThrottled("unfit-worker", "worker " + name + " cannot take part in this run and has left: " + reason);
      if (progress_->workers_unfit_size() < 32) progress_->add_workers_unfit(name + ": " + reason);
      Refuse(router, in.peer, "noted; the run goes on without this worker");
      return Status::Ok();
    }
    if (env.has_ready()) {
      const std::string& name = env.ready().worker_name();
      if (name.size() > kMaxWorkerNameBytes) {
        log::WarnThrottled("long-name", "refused a worker whose name is " + std::to_string(name.size()) + " bytes long (at most " +
                  std::to_string(kMaxWorkerNameBytes) + "), starting '" + name.substr(0, 64) + "'");
        Refuse(router, in.peer, "worker names are at most " + std::to_string(kMaxWorkerNameBytes) + " bytes");
        return Status::Ok();
      }
      const uint32_t credit = std::min(env.ready().credit(), kMaxWorkerCredit);
      names_[in.peer] = name;
      const uint64_t lost = scheduler_.WorkerReady(in.peer, credit, now);  // leases it lost
      progress_->set_tasks_retried(progress_->tasks_retried() + lost);
      log::Info("worker " + name + " ready (credit " + std::to_string(credit) + ")");
      return Status::Ok();
    }
    if (!scheduler_.WorkerSeen(in.peer, now)) {
      // A worker we do not know (we restarted, or declared it dead): whatever it sends refers to
      // leases that no longer exist. Ask it to start over.
      wire::Envelope again;
      again.mutable_reannounce();
      (void)router->Send(in.peer, again);
      return Status::Ok();
    }
    if (env.has_result()) {
      const wire::TaskResult& r = env.result();
      Outcome outcome = r.ok() ? Outcome::kOk : (r.retryable() ? Outcome::kRetryable : Outcome::kFinal);
      std::string error = r.error();
      std::optional<Lease> lease = scheduler_.LeaseOf(r.task_id());
      const bool current = lease && lease->worker == in.peer && lease->attempt == r.attempt();
      std::string doubt;
      if (current && outcome == Outcome::kOk) {
        // A worker's word is checked against the ledger before the task counts as staged.
        auto checked = Unconfirmed(r);
        if (!checked.ok() && staging_ != nullptr) {
          // S3 could not be read or written just now: not the worker's fault; lease it again.
          outcome = Outcome::kRetryable;
          error = "its result could not be checked: " + checked.status().message();
          checked = std::string();
        }
        LOADSTAR_ASSIGN_OR_RETURN(doubt, std::move(checked));
        if (!doubt.empty()) {
          outcome = Outcome::kRetryable;
          error = std::string("its result was not borne out by ") + (staging_ != nullptr ? "its marker in S3: " : "the ledger: ") + doubt;
        }
      }
      Disposition d = scheduler_.Complete(in.peer, r.task_id(), r.attempt(), outcome, error, now);
      if (!doubt.empty()) {
        progress_->set_tasks_retried(progress_->tasks_retried() + 1);
        log::WarnThrottled("unconfirmed-result", "worker " + Name(in.peer) + " reported task " + std::to_string(r.task_id()) +
                  " staged, but " + doubt + "; the task is leased again and the worker refused");
        Refuse(router, in.peer, "a result of this worker did not match the warehouse");
        return Status::Ok();
      }
      if (d == Disposition::kDone) {
        auto leased = leased_at_.find(r.task_id());
        if (leased != leased_at_.end()) {
          double latency = std::chrono::duration<double>(now - leased->second).count();
          RecordTaskLatency(progress_, latency);
          leased_at_.erase(leased);
        }
        for (const auto& f : r.files()) {
          progress_->set_files_done(progress_->files_done() + 1);
          progress_->set_bytes_done(progress_->bytes_done() + f.bytes());
          progress_->set_records(progress_->records() + f.records());
          progress_->set_staged(progress_->staged() + f.staged());
          progress_->set_rejected(progress_->rejected() + f.rejected());
          if (f.rejected() > 0) {
            log::Warn(std::to_string(f.rejected()) + " of " + std::to_string(f.records()) + " records rejected in " +
                      f.uri() + " (see the rejects table)");
          }
        }
      } else if (d == Disposition::kRequeued) {
        progress_->set_tasks_retried(progress_->tasks_retried() + 1);
        log::Warn("task " + std::to_string(r.task_id()) + " failed on " + Name(in.peer) + " (attempt " +
                  std::to_string(r.attempt()) + "), will retry: " + r.error());
      } else if (d == Disposition::kAwaitingConfirmation) {
        progress_->set_tasks_retried(progress_->tasks_retried() + 1);
        log::Warn("task " + std::to_string(r.task_id()) + " failed on " + Name(in.peer) + " (attempt " +
                  std::to_string(r.attempt()) + ") with an error that another attempt would not fix: " + r.error() +
                  "; another worker tries it before the run fails on it");
      } else if (d == Disposition::kStale) {
        log::Debug("ignored a stale result for task " + std::to_string(r.task_id()));
      }
    }
    return Status::Ok();
  }

  const CoordinatorOptions& options_;
  const CoordinatorHooks& hooks_;
  const Plan& plan_;
  const int64_t run_id_;
  Warehouse* const wh_;  // to check results against the ledger
  StagingArea* const staging_;  // S3 staging (Redshift): results are checked against the markers instead
  StatusSnapshot* const progress_;
  const Clock::time_point start_;
  const StopToken stop_;
  Scheduler scheduler_;
  std::unordered_map<std::string, std::string> names_;  // routing id -> worker name
  uint64_t initial_rejected_ = 0;
  std::unordered_map<uint64_t, Clock::time_point> leased_at_;  // task -> when it was last leased
  // Routing ids refused for the rest of the run (bounded: a flood of new ids is refused anew).
  static constexpr size_t kMaxRefused = 10000;
  std::unordered_set<std::string> refused_;
};

// A source with no JSON files under it is most likely a wrong prefix. Where the tables it feeds
// are still empty, the run could only end in a failed check: say what was looked for instead.
Status CheckSourcesFound(const Plan& plan, RunStore* store, const std::string& schema) {
  bool any_empty = false;
  for (const SourceListing& l : plan.sources) any_empty = any_empty || l.json_files == 0;
  if (!any_empty) return Status::Ok();
  LOADSTAR_ASSIGN_OR_RETURN(std::vector<TableCount> counts, store->StarCounts());
  auto rows = [&](const std::string& table) {
    for (const TableCount& c : counts) {
      if (c.table == table) return c.rows;
    }
    return uint64_t{0};
  };
  for (const SourceListing& l : plan.sources) {
    if (l.json_files > 0) continue;
    const bool song = l.kind == FileKind::kSong;
    const std::string table = song ? "songs" : "songplays";
    if (rows(table) > 0) continue;  // loaded before: nothing new there is no error
    return Status::FailedPrecondition(
        std::string("nothing to load from ") + (song ? "--songs " : "--events ") + l.uri + ": no JSON files under it (" +
        std::to_string(l.other_objects) + " other objects; loadstar reads keys ending in .json, .jsonl or .ndjson, "
        "optionally .gz), and the " + table + " table in schema '" + schema + "' is empty. Check the prefix (e.g. " +
        (song ? "s3://bucket/song_data/" : "s3://bucket/log_data/") + ")");
  }
  return Status::Ok();
}

// Runs the transforms while another thread watches for a stop signal (which cancels the running
// statement, so the transaction rolls back) and keeps the progress moving with the current step.
Status TransformCancellably(const std::function<Status(const std::function<void(const std::string&)>&)>& transform,
                            Warehouse* wh, int64_t run_id, StatusSnapshot* progress, const CoordinatorHooks& hooks,
                            Clock::time_point start, StopToken stop) {
  std::mutex mu;
  std::string step;  // guarded by mu
  std::atomic<bool> finished{false};
  std::atomic<bool> cancelled{false};
  std::thread watcher([&] {
    auto last_publish = Clock::now();
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (stop.stop_requested() && !cancelled.exchange(true)) {
        log::Warn("stopping: cancelling the transform (it rolls back; the star tables stay as they were)");
        if (Status c = wh->RequestCancel(); !c.ok()) log::Warn(c.message());
      }
      if (Clock::now() - last_publish >= std::chrono::milliseconds(250)) {
        last_publish = Clock::now();
        StatusSnapshot snapshot = *progress;  // the loop thread does not touch it meanwhile
        {
          std::lock_guard lock(mu);
          snapshot.set_step(step);
        }
        snapshot.set_elapsed_s(Seconds(start));
        Publish(snapshot, hooks);
      }
    }
  });
  Status s = transform([&](const std::string& label) {
    std::lock_guard lock(mu);
    step = label;
  });
  finished = true;
  watcher.join();
  if (s.ok()) {
    // Committed: a stop that came after the last statement began was too late to undo it.
    if (cancelled || stop.stop_requested()) {
      log::Warn("the stop came as the transform of run " + std::to_string(run_id) + " committed: the run is done");
    }
    return s;
  }
  if (cancelled || stop.stop_requested()) {
    return Status::Cancelled("stopped by a signal during the transform of run " + std::to_string(run_id) +
                             "; it was rolled back and the star tables are unchanged. Run the same command again "
                             "to resume");
  }
  return s;
}

// The workers' socket: CURVE with the authorized keys, or plaintext when asked for (loopback only).
Result<std::unique_ptr<transport::Router>> BindRouter(const CoordinatorOptions& options) {
  if (options.insecure_plaintext) {
    LOADSTAR_ASSIGN_OR_RETURN(auto router, transport::Router::Bind(options.listen));
    log::Warn("workers connect in plaintext on " + router->endpoint() + " (--insecure-plaintext): unencrypted, and "
              "anyone on this machine may join");
    return router;
  }
  if (options.curve.secret_key.empty()) {
    return Status::InvalidArgument("the coordinator has no CURVE key: give --key-file (make one with `loadstar keygen`)"
                                   ", or --insecure-plaintext on a loopback address");
  }
  LOADSTAR_ASSIGN_OR_RETURN(std::string public_key, transport::PublicKeyOf(options.curve.secret_key));
  LOADSTAR_ASSIGN_OR_RETURN(auto router, transport::Router::Bind(options.listen, options.curve));
  log::Info("workers connect over CURVE; coordinator public key " + public_key + ", " +
            std::to_string(options.curve.authorized_keys.size()) + " worker keys authorized");
  return router;
}

// The files the accepted attempts hold, URI -> the ETag they were staged with.
void HeldFiles(const std::vector<staging::StagedParts>& attempts, std::unordered_map<std::string, std::string>* held) {
  held->clear();
  for (const auto& m : attempts) {
    for (const auto& f : m.files()) held->emplace(f.uri(), f.etag());
  }
}

// What a Redshift load needs besides the warehouse, checked before any work starts.
Status CheckRedshiftOptions(const CoordinatorOptions& options) {
  if (options.staging.empty()) {
    return Status::InvalidArgument("loading into Redshift needs a staging area in S3 for the parts it COPYs: give "
                                   "--staging s3://bucket/prefix/ (or $LOADSTAR_STAGING)");
  }
  LOADSTAR_RETURN_IF_ERROR(StagingArea::ValidateUri(options.staging));
  if (options.iam_role.empty()) {
    return Status::InvalidArgument("loading into Redshift needs the IAM role its COPY reads the staging area with: "
                                   "give --iam-role arn:aws:iam::ACCOUNT:role/NAME (or $LOADSTAR_IAM_ROLE); the "
                                   "role must be associated with the cluster");
  }
  LOADSTAR_RETURN_IF_ERROR(ValidateIamRole(options.iam_role));
  return StagingRegion(options).status();
}

// Before the load: the accepted attempts must hold every file of the run exactly once, each with
// the ETag planned; then their manifests are written.
Result<std::vector<TableManifest>> PrepareS3Load(const Plan& plan, StagingArea* staging, RunSummary* summary) {
  uint64_t passed_over = 0;
  LOADSTAR_ASSIGN_OR_RETURN(std::vector<staging::StagedParts> chosen, staging->LoadAccepted(&passed_over));
  std::unordered_map<std::string_view, std::string_view> held;  // uri -> etag
  for (const auto& m : chosen) {
    for (const auto& f : m.files()) held.emplace(f.uri(), f.etag());
  }
  for (const PlannedFile& f : plan.files) {
    auto it = held.find(plan.uri(f));
    if (it == held.end() || it->second != plan.etag(f)) {
      return Status::FailedPrecondition("no accepted attempt in " + staging->run_prefix_uri() + " holds " +
                                        std::string(plan.uri(f)) + " as planned, though every task was "
                                        "acknowledged; run again to stage it");
    }
  }
  if (held.size() != plan.files.size() + plan.skipped_staged) {
    return Status::FailedPrecondition("the accepted attempts hold " + std::to_string(held.size()) + " files, the run " +
                                      std::to_string(plan.files.size() + plan.skipped_staged) + "; run again");
  }
  PartSizes sizes = MeasureParts(chosen);
  summary->part_sizes = sizes.ToString();
  log::Info("staged parts: " + sizes.ToString() + ", for " + std::to_string(held.size()) + " source files");
  return staging->WriteManifests(chosen);
}

}  // namespace

Status ValidateIamRole(std::string_view arn) {
  // arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME, as IAM writes them: an AWS partition, 12 digits,
  // path segments and a name of IAM's characters (letters, digits, + = , . @ _ -).
  static const std::regex kRole(R"(arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64})");
  if (!std::regex_match(arn.begin(), arn.end(), kRole)) {
    return Status::InvalidArgument("--iam-role '" + std::string(arn) + "' is not an IAM role ARN; it looks like "
                                   "arn:aws:iam::123456789012:role/NAME (the role attached to the cluster)");
  }
  return Status::Ok();
}

Result<std::string> StagingRegion(const CoordinatorOptions& options) {
  if (!options.region.empty()) return options.region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return std::string(v);
  }
  return Status::InvalidArgument("Redshift's COPY needs the staging bucket's region: give --region (or set "
                                 "AWS_REGION)");
}

namespace {

// Every worker holds a connection, and with it a file descriptor: the soft limit (often 1,024)
// would silently turn away workers past it. Raise it to the hard limit.
void RaiseDescriptorLimit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    struct rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 4096) {
    log::Warn("this process may open only " + std::to_string(rl.rlim_cur) + " files (ulimit -n); each worker takes "
              "one, so a run with more than about " + std::to_string(rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 0) +
              " workers would turn the rest away. Raise the hard limit (limits.conf, LimitNOFILE=) for more");
  }
}

}  // namespace

Result<RunSummary> RunCoordinator(const CoordinatorOptions& options, const CoordinatorHooks& hooks) {
  const auto start = Clock::now();
  RaiseDescriptorLimit();
  if (options.songs.empty() && options.events.empty()) {
    return Status::InvalidArgument("nothing to load: give --songs and/or --events");
  }
  // Usage errors are found before anything touches the warehouse, so they leave no run behind.
  if (!options.since.empty()) LOADSTAR_RETURN_IF_ERROR(ValidateDate(options.since).WithContext("--since"));
  if (!options.until.empty()) LOADSTAR_RETURN_IF_ERROR(ValidateDate(options.until).WithContext("--until"));
  if (!options.since.empty() && !options.until.empty() && options.since > options.until) {
    return Status::InvalidArgument("--since " + options.since + " is after --until " + options.until);
  }
  for (const std::string* source : {&options.songs, &options.events}) {
    if (!source->empty()) LOADSTAR_RETURN_IF_ERROR(ParseUri(*source).status());
  }

  WarehouseOptions wo;
  wo.conninfo = options.warehouse;
  wo.schema = options.schema;
  wo.application_name = "loadstar-coordinator";
  wo.expect_dialect = options.dialect;
  Dialect dialect = options.dialect.value_or(Dialect::kPostgres);
  if (!options.dialect) {
    // Which engine it is decides what else must be checked before the schema is created.
    LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<Warehouse> probe, Warehouse::Connect(wo));
    dialect = probe->dialect();
    wo.expect_dialect = dialect;
  }
  const bool s3_staging = dialect == Dialect::kRedshift;
  if (s3_staging) LOADSTAR_RETURN_IF_ERROR(CheckRedshiftOptions(options));
  LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<Warehouse> wh, Warehouse::Connect(wo, /*create_schema=*/true));
  CopyAuthorization copy_auth;
  uint32_t slices = options.slices;
  if (s3_staging) {
    // Everything a Redshift load needs is checked before the run is recorded.
    LOADSTAR_ASSIGN_OR_RETURN(copy_auth.region, StagingRegion(options));
    copy_auth.iam_role = options.iam_role;
    LOADSTAR_RETURN_IF_ERROR(StagingArea::Probe(options.staging));
    if (slices == 0) {
      LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh->QueryFile("slices"));
      LOADSTAR_RETURN_IF_ERROR(rows.RequireColumns({"slices"}).WithContext(SqlFilePath("slices", wh->dialect())));
      slices = static_cast<uint32_t>(std::max<int64_t>(rows.empty() ? 1 : rows.integer(0, "slices"), 1));
    }
    log::Info("loading into Amazon Redshift: parts staged under " + options.staging + " (region " + copy_auth.region +
              "), COPY as " + options.iam_role + ", " + std::to_string(slices) + " slices");
  }
  RunStore store(wh.get());
  LOADSTAR_RETURN_IF_ERROR(store.Prepare());
  // Bound before a run is recorded: a port in use leaves no run behind.
  LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<transport::Router> router, BindRouter(options));

  std::vector<SourceSpec> sources;
  std::string sources_text;
  if (!options.songs.empty()) {
    sources.push_back({options.songs, FileKind::kSong});
    sources_text += "songs=" + options.songs;
  }
  if (!options.events.empty()) {
    sources.push_back({options.events, FileKind::kEvent});
    sources_text += std::string(sources_text.empty() ? "" : " ") + "events=" + options.events;
  }
  if (!options.since.empty()) sources_text += " since=" + options.since;
  if (!options.until.empty()) sources_text += " until=" + options.until;

  RunSummary summary;
  LOADSTAR_ASSIGN_OR_RETURN(summary.run_id, store.StartRun(sources_text, &summary.resumed));
  const int64_t run_id = summary.run_id;
  log::Info(std::string(summary.resumed ? "resuming" : "starting") + " run " + std::to_string(run_id) +
            " into schema '" + options.schema + "'");
  if (summary.resumed && !s3_staging) {
    // Staged rows that a server crash took away (staging is unlogged) are staged again.
    LOADSTAR_ASSIGN_OR_RETURN(bool intact, StagingIntact(wh.get(), run_id));
    if (!intact) {
      log::Warn("the staged rows of run " + std::to_string(run_id) + " are gone (PostgreSQL restarted since they "
                "were staged; staging is unlogged): its files are staged again");
      SqlVars vars;
      vars.run_id = run_id;
      LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh.get()));
      LOADSTAR_RETURN_IF_ERROR(wh->ExecFile("run_restage", vars));
      LOADSTAR_RETURN_IF_ERROR(tx.Commit());
    }
  }

  StatusSnapshot progress = NewStatusSnapshot();
  progress.set_schema(options.schema);
  progress.set_run_id(run_id);
  progress.set_phase(StatusSnapshot::PLANNING);
  Publish(progress, hooks);
  auto fail = [&](const Status& s) -> Status {
    (void)store.SetState(run_id, RunState::kFailed, s.message());
    progress.set_phase(StatusSnapshot::FAILED);
    progress.set_error(s.message());
    progress.set_elapsed_s(Seconds(start));
    Publish(progress, hooks);
    return s;
  };

  PlanOptions plan_options;
  plan_options.full_refresh = options.full_refresh;
  plan_options.since = options.since;
  plan_options.until = options.until;
  plan_options.pack.byte_budget =
      options.task_bytes > 0 ? options.task_bytes : (s3_staging ? kRedshiftTaskBytes : kPostgresTaskBytes);
  plan_options.pack.max_files =
      options.task_files > 0 ? options.task_files : (s3_staging ? kRedshiftTaskFiles : kPostgresTaskFiles);

  // S3 staging: what this run staged before (a resumed run) is in its accepted attempts.
  std::unique_ptr<StagingArea> staging;
  std::vector<staging::StagedParts> inherited;
  std::unordered_map<std::string, std::string> staged_elsewhere;  // uri -> etag
  std::vector<std::string> accepted;  // the accepted records' keys, one per inherited attempt
  if (s3_staging) {
    plan_options.task_multiple = slices;
    auto opened = StagingArea::Open(options.staging, run_id);
    if (!opened.ok()) return fail(opened.status());
    staging = std::move(opened).value();
    auto loaded = staging->LoadAccepted(nullptr, &accepted);
    if (!loaded.ok()) return fail(loaded.status().WithContext("reading the accepted attempts of run " + std::to_string(run_id)));
    inherited = std::move(loaded).value();
    HeldFiles(inherited, &staged_elsewhere);
    plan_options.staged_elsewhere = &staged_elsewhere;
    if (!inherited.empty()) {
      log::Info("run " + std::to_string(run_id) + " has " + std::to_string(inherited.size()) +
                " accepted attempts in " + staging->run_prefix_uri() + " (" + std::to_string(staged_elsewhere.size()) +
                " files)");
    }
  }
  auto planned = BuildPlan(sources, wh.get(), run_id, plan_options);
  if (!planned.ok()) return fail(planned.status());
  if (s3_staging && !planned->changed_since_staged.empty()) {
    // A file changed since an accepted attempt staged it: that attempt is withdrawn, so that all
    // its files are staged again, from the bytes there are now; then the plan is made anew.
    std::unordered_set<std::string> changed(planned->changed_since_staged.begin(),
                                            planned->changed_since_staged.end());
    for (size_t i = 0; i < inherited.size(); ++i) {
      bool stale = false;
      for (const auto& f : inherited[i].files()) stale = stale || changed.count(f.uri()) > 0;
      if (!stale) continue;
      log::Warn("a file of the accepted attempt " + accepted[i] + " has changed since; its files are staged again");
      if (Status forgot = staging->Forget(accepted[i]); !forgot.ok()) return fail(forgot);
    }
    auto reloaded = staging->LoadAccepted();
    if (!reloaded.ok()) return fail(reloaded.status());
    inherited = std::move(reloaded).value();
    HeldFiles(inherited, &staged_elsewhere);
    planned = BuildPlan(sources, wh.get(), run_id, plan_options);
    if (!planned.ok()) return fail(planned.status());
  }
  Plan& plan = planned.value();
  if (s3_staging) {
    // New files get ids above every id the ledger or an accepted attempt has used.
    int64_t next_id = plan.max_file_id;
    for (const auto& m : inherited) {
      for (const auto& f : m.files()) next_id = std::max<int64_t>(next_id, f.file_id());
    }
    for (PlannedFile& f : plan.files) {
      if (f.file_id == 0) f.file_id = ++next_id;
    }
  }
  summary.files_listed = plan.listed_files;
  summary.skipped_loaded = plan.skipped_loaded;
  summary.skipped_staged = plan.skipped_staged;
  summary.ignored_not_json = plan.ignored_not_json;
  summary.outside_dates = plan.outside_dates;
  LOADSTAR_RETURN_IF_ERROR(store.RecordListing(run_id, plan.listed_files, plan.skipped_loaded, plan.listed_bytes));
  if (Status found = CheckSourcesFound(plan, &store, options.schema); !found.ok()) return fail(found);
  for (const auto& f : plan.files) progress.set_bytes_total(progress.bytes_total() + f.size);
  progress.set_files_total(plan.files.size());
  progress.set_tasks_total(plan.tasks.size());
  log::Info("listed " + std::to_string(plan.listed_files) + " files (" + std::to_string(plan.listed_bytes) +
            " bytes): " + std::to_string(plan.files.size()) + " to stage in " + std::to_string(plan.tasks.size()) +
            " tasks, " + std::to_string(plan.skipped_loaded) + " already loaded, " +
            std::to_string(plan.skipped_staged) + " already staged by this run");

  log::Info("listening for workers on " + router->endpoint());
  if (hooks.on_listening) hooks.on_listening(router->endpoint(), plan.tasks.size(), s3_staging);

  progress.set_phase(StatusSnapshot::STAGING);
  Server server(options, hooks, plan, run_id, wh.get(), staging.get(), &progress, start);
  {
    // A resumed run counts the rejects of the files it staged before.
    uint64_t rejected = 0;
    if (s3_staging) {
      for (const auto& m : inherited) {
        for (const auto& f : m.files()) rejected += f.rejected();
      }
    } else {
      LOADSTAR_ASSIGN_OR_RETURN(std::vector<SourceAccount> before, store.Account(run_id));
      for (const auto& a : before) rejected += a.rejected;
    }
    server.set_initial_rejected(rejected);
  }
  Status served = server.Serve(router.get());
  server.ShutdownWorkers(router.get(), served.ok() ? "every task is staged" : "the run failed");
  if (!served.ok()) return fail(served);

  std::vector<TableManifest> manifests;
  if (s3_staging) {
    auto prepared = PrepareS3Load(plan, staging.get(), &summary);
    if (!prepared.ok()) return fail(prepared.status());
    manifests = std::move(prepared).value();
  }

  progress.set_phase(StatusSnapshot::TRANSFORMING);
  server.Report();
  log::Info("every task is staged; transforming run " + std::to_string(run_id));
  LOADSTAR_RETURN_IF_ERROR(store.SetState(run_id, RunState::kTransforming));
  auto transform = [&](const std::function<void(const std::string&)>& on_step) {
    if (s3_staging) return store.LoadFromS3AndTransform(run_id, manifests, copy_auth, on_step);
    return store.Transform(run_id, on_step, [&] { return hooks.stop.stop_requested(); });
  };
  Status transformed = TransformCancellably(transform, wh.get(), run_id, &progress, hooks, start, hooks.stop);
  if (!transformed.ok()) return fail(transformed);
  progress.clear_step();
  if (s3_staging) {
    if (options.keep_staging) {
      log::Info("kept the staging parts under " + staging->run_prefix_uri() + " (--keep-staging)");
    } else if (auto removed = staging->RemoveRun(); removed.ok()) {
      log::Info("removed " + std::to_string(*removed) + " staging objects under " + staging->run_prefix_uri());
    } else {
      // The run is committed; what is left is only storage.
      log::Warn("the run is loaded, but its staging parts could not all be removed from " +
                staging->run_prefix_uri() + ": " + removed.status().message() + "; remove them by hand");
    }
  }

  LOADSTAR_ASSIGN_OR_RETURN(summary.accounts, store.Account(run_id));
  LOADSTAR_ASSIGN_OR_RETURN(summary.tables, store.StarCounts());
  summary.elapsed_s = Seconds(start);
  progress.set_phase(StatusSnapshot::DONE);
  server.Report();
  return summary;
}

}  // namespace loadstar::coordinator
