#include "common/warehouse/ledger.h"

namespace loadstar {

std::string_view FileStateText(FileState state) {
  switch (state) {
    case FileState::kNew: return "new";
    case FileState::kStaged: return "staged";
    case FileState::kLoaded: return "loaded";
  }
  return "new";
}

Result<FileState> ParseFileState(std::string_view text) {
  for (FileState state : {FileState::kNew, FileState::kStaged, FileState::kLoaded}) {
    if (text == FileStateText(state)) return state;
  }
  return Status::InvalidArgument("'" + std::string(text) + "' is not a ledger state (new, staged or loaded)");
}

Result<std::vector<LedgerEntry>> LedgerEntriesFrom(const QueryResult& rows) {
  LOADSTAR_RETURN_IF_ERROR(rows.RequireColumns({"uri", "etag", "state", "run_id"}));
  const bool has_id = rows.column_index("file_id").has_value();
  const bool has_account = rows.RequireColumns({"records", "staged", "rejected"}).ok();
  std::vector<LedgerEntry> out;
  out.reserve(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    LedgerEntry e;
    e.uri = rows.text(r, "uri");
    e.etag = rows.text(r, "etag");
    e.run_id = rows.integer(r, "run_id");
    auto state = ParseFileState(rows.text(r, "state"));
    if (!state.ok()) {
      return Status::FailedPrecondition("the ledger (load_files) has " + e.uri + " in an unknown state: " +
                                        state.status().message());
    }
    e.state = *state;
    if (has_id) e.file_id = rows.integer(r, "file_id");
    if (has_account) {
      e.records = static_cast<uint64_t>(rows.integer(r, "records"));
      e.staged = static_cast<uint64_t>(rows.integer(r, "staged"));
      e.rejected = static_cast<uint64_t>(rows.integer(r, "rejected"));
    }
    out.push_back(std::move(e));
  }
  return out;
}

PlanDecision Decide(const std::optional<LedgerFacts>& ledger, int64_t run_id, bool full_refresh) {
  if (full_refresh || !ledger || !ledger->same_etag) return PlanDecision::kStage;
  if (ledger->state == FileState::kLoaded) return PlanDecision::kSkipLoaded;
  if (ledger->state == FileState::kStaged && ledger->run_id == run_id) return PlanDecision::kSkipStaged;
  return PlanDecision::kStage;
}

StageDecision DecideStage(const LedgerEntry& ledger, std::string_view etag, int64_t run_id) {
  // An attempt that outlived its lease (a worker cut off, then back) may commit after its run
  // was published, or while a later run stages the file: it must change nothing.
  if (ledger.state != FileState::kNew && ledger.run_id > run_id) return StageDecision::kLeaveAlone;
  if (ledger.state == FileState::kLoaded && ledger.run_id == run_id) return StageDecision::kLeaveAlone;
  if (ledger.state != FileState::kStaged) return StageDecision::kStage;
  if (ledger.run_id == run_id && ledger.etag == etag) return StageDecision::kAlreadyStaged;
  return StageDecision::kReplace;
}

Status ConfirmStaged(const LedgerEntry& ledger, std::string_view planned_etag, int64_t run_id,
                     const FileAccount& reported) {
  if (ledger.state != FileState::kStaged || ledger.run_id != run_id) {
    return Status::FailedPrecondition("the ledger has " + ledger.uri + " " + std::string(FileStateText(ledger.state)) +
                                      " by run " + std::to_string(ledger.run_id) + ", not staged by run " +
                                      std::to_string(run_id));
  }
  if (ledger.etag != planned_etag) return Status::FailedPrecondition("the ledger has another ETag for " + ledger.uri);
  if (ledger.records != reported.records || ledger.staged != reported.staged || ledger.rejected != reported.rejected ||
      reported.staged + reported.rejected != reported.records) {
    return Status::FailedPrecondition(
        "its account of " + ledger.uri + " (" + std::to_string(reported.records) + " records, " +
        std::to_string(reported.staged) + " staged, " + std::to_string(reported.rejected) +
        " rejected) is not the ledger's (" + std::to_string(ledger.records) + ", " + std::to_string(ledger.staged) +
        ", " + std::to_string(ledger.rejected) + ")");
  }
  return Status::Ok();
}

}  // namespace loadstar
