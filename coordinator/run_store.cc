#include "coordinator/run_store.h"

#include <chrono>
#include <cstdio>

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
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult found, wh_->QueryFile("run_find_resumable", {sources}));
  LOADSTAR_RETURN_IF_ERROR(found.RequireColumns({"run_id"}).WithContext(SqlFilePath("run_find_resumable", wh_->dialect())));
  if (!found.empty()) {
    *resumed = true;
    int64_t run_id = found.integer(0, "run_id");
    LOADSTAR_RETURN_IF_ERROR(SetState(run_id, RunState::kStaging));
    return run_id;
  }
  *resumed = false;
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult created, wh_->QueryFile("run_create", {sources}));
  LOADSTAR_RETURN_IF_ERROR(created.RequireColumns({"run_id"}).WithContext(SqlFilePath("run_create", wh_->dialect())));
  if (created.empty()) return Status::Internal(SqlFilePath("run_create", wh_->dialect()) + " returned no run id");
  return created.integer(0, "run_id");
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

Status RunStore::Transform(int64_t run_id, const std::function<void(const std::string& step)>& on_step) {
  LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh_));
  SqlVars vars;
  vars.run_id = run_id;
  Status s = wh_->ExecFileSteps("transform", vars, [](const std::string& label, double seconds) {
    char took[32];
    std::snprintf(took, sizeof took, "%.2f s", seconds);
    log::Info(std::string("transform: ") + took + "  " + label);
  }, on_step);
  if (s.ok()) {
    // The checks see the new tables before anyone else does; a failed check rolls them back.
    auto started = std::chrono::steady_clock::now();
    if (on_step) on_step("data-quality checks");
    auto checks = RunQualityChecks(wh_, run_id);
    s = checks.ok() ? ChecksToStatus(*checks) : checks.status();
    char took[96];
    std::snprintf(took, sizeof took, "transform: %.2f s  data-quality checks (%zu)",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                  checks.ok() ? checks->size() : size_t{0});
    log::Info(took);
  }
  if (s.ok()) s = wh_->ExecFile("transform_finish", vars);
  if (s.ok()) s = tx.Commit();
  if (!s.ok()) {
    (void)tx.Rollback();  // before the caller hears of it; the original error is the one reported
    return s.WithContext("transforming run " + std::to_string(run_id) + " (rolled back; the star tables are unchanged)");
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
