#include "coordinator/run_store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <optional>

#include "common/core/log.h"
#include "common/warehouse/transaction.h"
#include "coordinator/report/quality_checks.h"

namespace loadstar::coordinator {

std::string_view RunStateText(RunState state) {
  switch (state) {
    case RunState::kStaging: return "staging";
    case RunState::kTransforming: return "transforming";
    case RunState::kDone: return "done";
    case RunState::kFailed: return "failed";
  }
  return "failed";
}

Result<RunState> ParseRunState(std::string_view text) {
  for (RunState state : {RunState::kStaging, RunState::kTransforming, RunState::kDone, RunState::kFailed}) {
    if (text == RunStateText(state)) return state;
  }
  return Status::InvalidArgument("'" + std::string(text) + "' is not a run state (staging, transforming, done or failed)");
}

Status RunStore::Prepare() {
  if (wh_->dialect() == Dialect::kRedshift) {
    // No advisory locks there: every transaction that changes the runs table LOCKs it instead,
    // so two coordinators may stage at once but only one commits a run (see StartRun and
    // LoadFromS3AndTransform).
    LOADSTAR_ASSIGN_OR_RETURN(QueryResult outdated, wh_->QueryFile("schema_outdated"));
    LOADSTAR_RETURN_IF_ERROR(outdated.RequireColumns({"table_name"}).WithContext(SqlFilePath("schema_outdated", wh_->dialect())));
    if (!outdated.empty()) {
      std::string tables;
      for (size_t i = 0; i < outdated.size(); ++i) tables += (i ? ", " : "") + outdated.text(i, "table_name");
      return Status::FailedPrecondition("schema '" + wh_->schema() + "' was made by an older loadstar (" + tables +
                                        "), whose staging tables and song-match keys this version cannot read on "
                                        "Redshift; load into a new --schema (its first run loads everything)");
    }
    LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh_));
    LOADSTAR_RETURN_IF_ERROR(wh_->ExecFile("schema"));
    return tx.Commit();
  }
  LOADSTAR_RETURN_IF_ERROR(wh_->ExecFile("schema"));
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult lock, wh_->QueryFile("run_lock"));
  LOADSTAR_RETURN_IF_ERROR(lock.RequireColumns({"locked"}).WithContext(SqlFilePath("run_lock", wh_->dialect())));
  if (lock.empty() || lock.text(0, "locked") != "t") {
    return Status::FailedPrecondition("another loadstar coordinator is running in schema '" + wh_->schema() +
                                      "'; wait for it to finish, or load into another --schema");
  }
  return Status::Ok();
}

Result<int64_t> RunStore::StartRun(const std::string& sources, bool* resumed) {
  std::optional<Transaction> tx;
  if (wh_->dialect() == Dialect::kRedshift) {
    // The run id is the next one after the highest, under the lock (Redshift has no sequences).
    LOADSTAR_ASSIGN_OR_RETURN(Transaction begun, Transaction::Begin(wh_));
    tx.emplace(std::move(begun));
    LOADSTAR_RETURN_IF_ERROR(wh_->ExecFile("run_lock"));
  }
  std::string my_pid;
  if (tx) {
    // One coordinator per schema: a run served by a session that is still connected means
    // another coordinator is at work (Redshift has no advisory locks to say so).
    LOADSTAR_ASSIGN_OR_RETURN(QueryResult me, wh_->QueryFile("backend_pid"));
    LOADSTAR_RETURN_IF_ERROR(me.RequireColumns({"pid"}).WithContext(SqlFilePath("backend_pid", wh_->dialect())));
    my_pid = me.empty() ? "" : me.text(0, "pid");
    LOADSTAR_ASSIGN_OR_RETURN(QueryResult owners, wh_->QueryFile("run_owners"));
    LOADSTAR_RETURN_IF_ERROR(
        owners.RequireColumns({"run_id", "owner_pid"}).WithContext(SqlFilePath("run_owners", wh_->dialect())));
    for (size_t r = 0; r < owners.size(); ++r) {
      const std::string pid = owners.text(r, "owner_pid");
      if (pid == my_pid) continue;
      LOADSTAR_ASSIGN_OR_RETURN(QueryResult alive, wh_->QueryFile("session_alive", {pid}));
      LOADSTAR_RETURN_IF_ERROR(alive.RequireColumns({"alive"}).WithContext(SqlFilePath("session_alive", wh_->dialect())));
      if (!alive.empty() && alive.integer(0, "alive") > 0) {
        return Status::FailedPrecondition("another loadstar coordinator is running in schema '" + wh_->schema() +
                                          "' (run " + owners.text(r, "run_id") + ", warehouse session " + pid +
                                          "); wait for it to finish, or load into another --schema");
      }
    }
  }
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult found, wh_->QueryFile("run_find_resumable", {sources}));
  LOADSTAR_RETURN_IF_ERROR(found.RequireColumns({"run_id"}).WithContext(SqlFilePath("run_find_resumable", wh_->dialect())));
  int64_t run_id = 0;
  if (!found.empty()) {
    *resumed = true;
    run_id = found.integer(0, "run_id");
    LOADSTAR_RETURN_IF_ERROR(SetState(run_id, RunState::kStaging));
  } else if (tx) {
    *resumed = false;
    LOADSTAR_ASSIGN_OR_RETURN(QueryResult next, wh_->QueryFile("run_next_id"));
    LOADSTAR_RETURN_IF_ERROR(next.RequireColumns({"run_id"}).WithContext(SqlFilePath("run_next_id", wh_->dialect())));
    if (next.empty()) return Status::Internal(SqlFilePath("run_next_id", wh_->dialect()) + " returned no run id");
    run_id = next.integer(0, "run_id");
    LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("run_create", {std::to_string(run_id), sources}).status());
  } else {
    *resumed = false;
    LOADSTAR_ASSIGN_OR_RETURN(QueryResult created, wh_->QueryFile("run_create", {sources}));
    LOADSTAR_RETURN_IF_ERROR(created.RequireColumns({"run_id"}).WithContext(SqlFilePath("run_create", wh_->dialect())));
    if (created.empty()) return Status::Internal(SqlFilePath("run_create", wh_->dialect()) + " returned no run id");
    run_id = created.integer(0, "run_id");
  }
  if (tx) {
    LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("run_claim", {std::to_string(run_id), my_pid}).status());
    LOADSTAR_RETURN_IF_ERROR(tx->Commit());
  }
  return run_id;
}

Status RunStore::SetState(int64_t run_id, RunState state, const std::string& error) {
  SqlParam err = error.empty() ? SqlParam() : SqlParam(error);
  return wh_->QueryFile("run_set_state", {std::to_string(run_id), std::string(RunStateText(state)), err})
      .status();
}

Status RunStore::RecordListing(int64_t run_id, uint64_t files, uint64_t skipped, uint64_t bytes) {
  return wh_
      ->QueryFile("run_set_listing",
                  {std::to_string(run_id), std::to_string(files), std::to_string(skipped), std::to_string(bytes)})
      .status();
}

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Checks run on a connection of their own, and how long they took.
struct ChecksAlongside {
  Result<std::vector<CheckResult>> results = std::vector<CheckResult>{};
  double seconds = 0;
};

}  // namespace

Status RunStore::TransformSteps(int64_t run_id, bool staging_committed,
                                const std::function<void(const std::string& step)>& on_step,
                                const std::function<bool()>& stop_requested) {
  SqlVars vars;
  vars.run_id = run_id;
  auto stopping = [&] { return stop_requested && stop_requested(); };
  // Where the workers committed the staging rows before the transform began, the checks that read
  // only those and the ledger run meanwhile on a second connection, on a core the single-backend
  // transform leaves idle; their result decides the commit like the others'. They read a snapshot
  // taken as the transform begins: every task is confirmed by then, and nothing but this
  // transaction changes the run's staging rows or ledger rows until it commits. Without a second
  // connection, or where it fails, they run after the transform with the rest.
  std::unique_ptr<Warehouse> side;
  if (staging_committed) {
    auto conn = Warehouse::Connect(wh_->options());
    Status ready = conn.ok() ? (*conn)->ExecFile("checks_alongside_session") : conn.status();
    if (ready.ok()) {
      side = std::move(conn).value();
    } else {
      log::Warn("data-quality checks: no second connection (" + ready.message() +
                "); every check runs after the transform");
    }
  }
  std::future<ChecksAlongside> alongside;  // declared after `side`: finished before it closes
  if (side) {
    alongside = std::async(std::launch::async, [wh = side.get(), run_id] {
      ChecksAlongside out;
      const auto started = std::chrono::steady_clock::now();
      out.results = RunQualityChecks(wh, run_id, CheckSelection::kStagingAndLedger);
      out.seconds = SecondsSince(started);
      return out;
    });
  }
  // However this returns, the checks alongside are asked to stop first, so that nothing waits on
  // them (the future's destructor waits for them to finish).
  struct CancelAlongside {
    Warehouse* side;
    std::future<ChecksAlongside>* alongside;
    ~CancelAlongside() {
      if (side != nullptr && alongside->valid()) (void)side->RequestCancel();
    }
  } cancel_alongside{side.get(), &alongside};

  LOADSTAR_RETURN_IF_ERROR(wh_->ExecFileSteps("transform", vars, [](const std::string& label, double seconds) {
    char took[32];
    std::snprintf(took, sizeof took, "%.2f s", seconds);
    log::Info(std::string("transform: ") + took + "  " + label);
  }, on_step));
  // The checks see the new tables before anyone else does; a failed check rolls them back. The
  // time reported is from here until every check, those alongside included, has answered.
  const auto started = std::chrono::steady_clock::now();
  if (on_step) on_step("data-quality checks");
  auto checks = RunQualityChecks(wh_, run_id, side ? CheckSelection::kStar : CheckSelection::kAll);
  double side_seconds = 0;
  size_t side_count = 0;  // checks that ran alongside the transform
  if (alongside.valid()) {
    bool cancelled = false;
    while (alongside.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      if (!cancelled && stopping()) {
        (void)side->RequestCancel();
        cancelled = true;
      }
    }
    ChecksAlongside done = alongside.get();
    bool ran_alongside = done.results.ok();
    if (!done.results.ok() && !stopping()) {
      log::Warn("data-quality checks on a second connection: " + done.results.status().message() +
                "; running them on the transform's connection");
      done.results = RunQualityChecks(wh_, run_id, CheckSelection::kStagingAndLedger);
    }
    if (!done.results.ok()) {
      if (checks.ok()) checks = done.results.status();
    } else if (checks.ok()) {
      if (ran_alongside) {
        side_count = done.results->size();
        side_seconds = done.seconds;
      }
      for (CheckResult& r : *done.results) checks->push_back(std::move(r));
      std::sort(checks->begin(), checks->end(),
                [](const CheckResult& a, const CheckResult& b) { return a.name < b.name; });
    }
  }
  Status s = checks.ok() ? ChecksToStatus(*checks) : checks.status();
  char took[160];
  if (side_count > 0) {
    std::snprintf(took, sizeof took, "transform: %.2f s  data-quality checks (%zu; %zu of them alongside the "
                  "transform, %.2f s)", SecondsSince(started), checks.ok() ? checks->size() : size_t{0}, side_count,
                  side_seconds);
  } else {
    std::snprintf(took, sizeof took, "transform: %.2f s  data-quality checks (%zu)", SecondsSince(started),
                  checks.ok() ? checks->size() : size_t{0});
  }
  log::Info(took);
  LOADSTAR_RETURN_IF_ERROR(s);
  if (stopping()) return Status::Cancelled("stopped before the transform of run " + std::to_string(run_id) + " was committed");
  return wh_->ExecFile("transform_finish", vars);
}

Status RunStore::Transform(int64_t run_id, const std::function<void(const std::string& step)>& on_step,
                           const std::function<bool()>& stop_requested) {
  LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh_));
  Status s = TransformSteps(run_id, /*staging_committed=*/wh_->dialect() == Dialect::kPostgres, on_step,
                            stop_requested);
  if (s.ok() && stop_requested && stop_requested()) {
    s = Status::Cancelled("stopped before the transform of run " + std::to_string(run_id) + " was committed");
  }
  if (s.ok()) s = tx.Commit();
  if (!s.ok()) {
    (void)tx.Rollback();  // before the caller hears of it; the original error is the one reported
    return s.WithContext("transforming run " + std::to_string(run_id) + " (rolled back; the star tables are unchanged)");
  }
  return Status::Ok();
}

Result<std::string> RunStore::ExplainLoadErrors() {
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh_->QueryFile("load_errors"));
  LOADSTAR_RETURN_IF_ERROR(rows.RequireColumns({"file", "line_number", "column_name", "err_code", "reason", "value"})
                               .WithContext(SqlFilePath("load_errors", wh_->dialect())));
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    out += "\n  " + rows.text(r, "file") + " line " + rows.text(r, "line_number") + ", column " +
           rows.text(r, "column_name") + ": " + rows.text(r, "reason") + " (error " + rows.text(r, "err_code") +
           (rows.text(r, "value").empty() ? "" : ", value '" + rows.text(r, "value") + "'") + ")";
  }
  return out;
}

Status RunStore::LoadFromS3AndTransform(int64_t run_id, const std::vector<TableManifest>& manifests,
                                        const CopyAuthorization& auth,
                                        const std::function<void(const std::string& step)>& on_step) {
  const std::string run = std::to_string(run_id);
  auto rolled_back = [&](const Status& s) {
    return s.WithContext("loading run " + run + " (rolled back; the star tables are unchanged)");
  };
  LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh_));
  LOADSTAR_RETURN_IF_ERROR(wh_->ExecFile("run_lock"));
  // Under the lock: another coordinator may have committed this run meanwhile.
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult state, wh_->QueryFile("run_state", {run}));
  LOADSTAR_RETURN_IF_ERROR(state.RequireColumns({"state"}).WithContext(SqlFilePath("run_state", wh_->dialect())));
  if (!state.empty() && state.text(0, "state") == RunStateText(RunState::kDone)) {
    return Status::FailedPrecondition("run " + run + " was committed by another coordinator meanwhile; its tables are loaded, and this process has nothing left to do");
  }
  for (const TableManifest& m : manifests) {
    const std::string step = "COPY " + m.table + " from " + std::to_string(m.parts) + " parts";
    if (on_step) on_step(step);
    auto started = std::chrono::steady_clock::now();
    SqlVars vars;
    vars.literals = {{"manifest", m.uri}, {"iam_role", auth.iam_role}, {"region", auth.region}};
    Status copied = wh_->ExecFile("copy_manifest_" + m.table, vars);
    if (!copied.ok()) {
      (void)tx.Rollback();
      auto why = ExplainLoadErrors();
      std::string detail = why.ok() ? *why : "; reading stl_load_errors failed too: " + why.status().message();
      return rolled_back(Status(copied.code(), copied.message() + detail));
    }
    LOADSTAR_ASSIGN_OR_RETURN(QueryResult count, wh_->QueryFile("copy_count"));
    LOADSTAR_RETURN_IF_ERROR(count.RequireColumns({"rows"}).WithContext(SqlFilePath("copy_count", wh_->dialect())));
    const uint64_t loaded = count.empty() ? 0 : static_cast<uint64_t>(count.integer(0, "rows"));
    if (loaded != m.rows) {
      (void)tx.Rollback();
      return rolled_back(Status::DataLoss("COPY " + m.table + " loaded " + std::to_string(loaded) +
                                          " rows, but the accepted parts hold " + std::to_string(m.rows) + " (" +
                                          m.uri + ")"));
    }
    char took[64];
    std::snprintf(took, sizeof took, "%.2f s", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    log::Info(std::string("load: ") + took + "  " + step + ", " + std::to_string(loaded) + " rows");
  }
  Status s = TransformSteps(run_id, /*staging_committed=*/false, on_step, {});
  if (s.ok()) s = tx.Commit();
  if (!s.ok()) {
    (void)tx.Rollback();
    return rolled_back(s);
  }
  return Status::Ok();
}

Result<std::vector<SourceAccount>> RunStore::Account(int64_t run_id) {
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh_->QueryFile("run_account", {std::to_string(run_id)}));
  LOADSTAR_RETURN_IF_ERROR(rows.RequireColumns({"kind", "files", "bytes", "records", "staged", "rejected"})
                               .WithContext(SqlFilePath("run_account", wh_->dialect())));
  std::vector<SourceAccount> out;
  for (size_t r = 0; r < rows.size(); ++r) {
    auto count = [&](std::string_view column) { return static_cast<uint64_t>(rows.integer(r, column)); };
    out.push_back(SourceAccount{rows.text(r, "kind"), count("files"), count("bytes"), count("records"),
                                count("staged"), count("rejected")});
  }
  return out;
}

Result<std::vector<TableCount>> RunStore::StarCounts() {
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh_->QueryFile("star_counts"));
  LOADSTAR_RETURN_IF_ERROR(rows.RequireColumns({"table_name", "row_count"}).WithContext(SqlFilePath("star_counts", wh_->dialect())));
  std::vector<TableCount> out;
  for (size_t r = 0; r < rows.size(); ++r) {
    out.push_back(TableCount{rows.text(r, "table_name"), static_cast<uint64_t>(rows.integer(r, "row_count"))});
  }
  return out;
}

}  // namespace loadstar::coordinator
