#include "worker/stager.h"

#include <unordered_map>

#include "common/core/text.h"
#include "common/warehouse/ledger.h"
#include "common/warehouse/transaction.h"
#include "worker/file_rows.h"

namespace loadstar::worker {
namespace {

// COPYs each staging table's rows of `rows` that are not empty.
Status CopyRows(Warehouse* wh, const StagedRows& rows) {
  const std::pair<const char*, const std::string*> tables[] = {{"copy_staging_plays", &rows.plays},
                                                                {"copy_staging_users", &rows.users},
                                                                {"copy_staging_time", &rows.times},
                                                                {"copy_staging_songs", &rows.songs}};
  for (const auto& [statement, text] : tables) {
    if (!text->empty()) LOADSTAR_RETURN_IF_ERROR(wh->CopyIn(statement, *text).status());
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Stager>> MakeStager(Warehouse* wh, RecordParser* parser, StagerOptions options) {
  switch (wh->dialect()) {
    case Dialect::kPostgres: return std::unique_ptr<Stager>(std::make_unique<PostgresStager>(wh, parser, options));
    case Dialect::kRedshift: break;
  }
  return Status::FailedPrecondition("staging into " + std::string(DialectName(wh->dialect())) +
                                    " is not supported yet");
}

Result<std::vector<FileOutcome>> PostgresStager::StageTask(int64_t run_id, std::vector<FetchedFile>& files) {
  LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh_));
  LOADSTAR_ASSIGN_OR_RETURN(std::vector<FileOutcome> outcomes, StageInTransaction(run_id, files));
  LOADSTAR_RETURN_IF_ERROR(tx.Commit());
  return outcomes;
}

Result<std::vector<FileOutcome>> PostgresStager::StageInTransaction(int64_t run_id, std::vector<FetchedFile>& files) {
  const std::string run = std::to_string(run_id);
  LOADSTAR_RETURN_IF_ERROR(wh_->ExecFile("task_files_create"));

  std::string task_rows;
  for (const auto& f : files) {
    AppendCopyText(f.uri, &task_rows);
    task_rows += '\t';
    task_rows += FileKindText(f.kind);
    task_rows += '\t';
    AppendCopyText(f.etag, &task_rows);
    task_rows += '\t';
    task_rows += std::to_string(f.size);
    task_rows += '\n';
  }
  LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("copy_task_files", task_rows).status());
  LOADSTAR_RETURN_IF_ERROR(wh_->ExecFile("task_files_analyze"));
  LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("task_files_lock", {run}).status());
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult ledger, wh_->QueryFile("task_files_select"));
  LOADSTAR_RETURN_IF_ERROR(ledger.RequireColumns({"file_id", "records", "staged", "rejected"})
                               .WithContext(SqlFilePath("task_files_select", wh_->dialect())));
  auto entries = LedgerEntriesFrom(ledger);
  if (!entries.ok()) return entries.status().WithContext(SqlFilePath("task_files_select", wh_->dialect()));
  std::unordered_map<std::string, LedgerEntry> by_uri;
  for (LedgerEntry& e : *entries) {
    std::string uri = e.uri;
    by_uri.emplace(std::move(uri), std::move(e));
  }

  std::vector<FileOutcome> outcomes;
  outcomes.reserve(files.size());
  StagedRows rows;
  std::string rejects, accounts;
  for (auto& f : files) {
    auto it = by_uri.find(f.uri);
    if (it == by_uri.end()) return Status::Internal("the ledger has no row for " + f.uri + " after creating it");
    const LedgerEntry& led = it->second;
    FileOutcome out;
    out.uri = f.uri;
    out.bytes = f.size;
    const StageDecision decision = DecideStage(led, f.etag, run_id);
    if (decision == StageDecision::kAlreadyStaged || decision == StageDecision::kLeaveAlone) {
      out.already_staged = true;
      out.records = led.records;
      out.staged = led.staged;
      out.rejected = led.rejected;
      outcomes.push_back(std::move(out));
      continue;
    }
    if (decision == StageDecision::kReplace) {
      // Staged before, by another attempt or an abandoned run, from other bytes: replace it.
      LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("staging_delete_file",
                                              {std::to_string(led.run_id), std::to_string(led.file_id)})
                                   .status());
    }
    const std::string file_id = std::to_string(led.file_id);
    const std::string prefix = run + '\t' + file_id + '\t';

    if (f.store != nullptr) {
      LOADSTAR_RETURN_IF_ERROR(StageStreamed(f, prefix, &out, &rejects));
    } else {
      ParseWholeFile(parser_, f, prefix, &rows, &rejects, &out);
    }
    accounts += file_id + '\t';
    AppendCopyText(f.etag, &accounts);
    accounts += '\t' + std::to_string(f.size) + '\t' + std::to_string(out.records) + '\t' +
                std::to_string(out.staged) + '\t' + std::to_string(out.rejected) + '\t' +
                std::to_string(out.staged_rows) + '\n';
    // Release the body as soon as it is parsed: a task's memory is its largest file, not its sum.
    std::string().swap(f.body);
    outcomes.push_back(std::move(out));
  }

  LOADSTAR_RETURN_IF_ERROR(CopyRows(wh_, rows));
  if (!rejects.empty()) LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("copy_rejects", rejects).status());
  if (!accounts.empty()) {
    LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("copy_task_accounts", accounts).status());
    LOADSTAR_RETURN_IF_ERROR(wh_->ExecFile("task_accounts_analyze"));
    LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("task_files_record", {run}).status());
  }
  return outcomes;
}

Status PostgresStager::StageStreamed(const FetchedFile& file, const std::string& prefix, FileOutcome* out,
                                     std::string* rejects) {
  // Plays go through one open COPY as they are made; the file's songs, users and times (a large
  // file's are few: reduced over the file, or one per song record) are copied after it.
  StagedRows rest;
  LOADSTAR_RETURN_IF_ERROR(wh_->CopyStart("copy_staging_plays"));
  Status status = ParseStreamedFile(parser_, options_, file, prefix,
                                    [&](const StagedRows& rows) {
                                      rest.songs += rows.songs;
                                      rest.users += rows.users;
                                      rest.times += rows.times;
                                      return rows.plays.empty() ? Status::Ok() : wh_->CopyPut(rows.plays);
                                    },
                                    out, rejects);
  auto copied = wh_->CopyEnd();  // always end the COPY so the connection stays usable
  LOADSTAR_RETURN_IF_ERROR(status);
  LOADSTAR_RETURN_IF_ERROR(copied.status());
  return CopyRows(wh_, rest);
}

}  // namespace loadstar::worker
