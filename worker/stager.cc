#include "worker/stager.h"

#include <unordered_map>

#include "worker/decompress.h"

namespace loadstar::worker {
namespace {

const char* KindName(FileKind kind) { return kind == FileKind::kSong ? "song" : "event"; }

struct LedgerRow {
  int64_t file_id = 0;
  std::string etag;
  int64_t run_id = 0;
  std::string state;
  int64_t records = 0, staged = 0, rejected = 0;
};

}  // namespace

void AppendCopyText(std::string_view value, std::string* out) {
  for (char c : value) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\t': out->append("\\t"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      default: out->push_back(c);
    }
  }
}

Result<std::vector<FileOutcome>> Stager::StageTask(int64_t run_id, std::vector<FetchedFile>& files) {
  LOADSTAR_RETURN_IF_ERROR(wh_->Begin());
  auto result = StageInTransaction(run_id, files);
  if (!result.ok()) {
    (void)wh_->Rollback();  // the original error is the one worth reporting
    return result.status();
  }
  LOADSTAR_RETURN_IF_ERROR(wh_->Commit());
  return result;
}

Result<std::vector<FileOutcome>> Stager::StageInTransaction(int64_t run_id, std::vector<FetchedFile>& files) {
  const std::string run = std::to_string(run_id);
  LOADSTAR_RETURN_IF_ERROR(wh_->ExecFile("postgres/task_files_create"));

  std::string task_rows;
  for (const auto& f : files) {
    AppendCopyText(f.uri, &task_rows);
    task_rows += '\t';
    task_rows += KindName(f.kind);
    task_rows += '\t';
    AppendCopyText(f.etag, &task_rows);
    task_rows += '\t';
    task_rows += std::to_string(f.size);
    task_rows += '\n';
  }
  LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("postgres/copy_task_files", task_rows).status());
  LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("postgres/task_files_lock", {run}).status());
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult ledger, wh_->QueryFile("postgres/task_files_select"));
  std::unordered_map<std::string, LedgerRow> by_uri;
  for (size_t r = 0; r < ledger.size(); ++r) {
    LedgerRow row{ledger.integer(r, 0), ledger.text(r, 2), ledger.integer(r, 4), ledger.text(r, 5),
                  ledger.integer(r, 6), ledger.integer(r, 7), ledger.integer(r, 8)};
    by_uri.emplace(ledger.text(r, 1), std::move(row));
  }

  std::vector<FileOutcome> outcomes;
  outcomes.reserve(files.size());
  std::string events, songs, rejects, accounts;
  for (auto& f : files) {
    auto it = by_uri.find(f.uri);
    if (it == by_uri.end()) return Status::Internal("the ledger has no row for " + f.uri + " after creating it");
    const LedgerRow& led = it->second;
    FileOutcome out;
    out.uri = f.uri;
    out.bytes = f.size;
    if (led.state == "staged" && led.run_id == run_id && led.etag == f.etag) {
      out.already_staged = true;
      out.records = led.records;
      out.staged = led.staged;
      out.rejected = led.rejected;
      outcomes.push_back(std::move(out));
      continue;
    }
    if (led.state == "staged") {
      // Staged before, by another attempt or an abandoned run, from other bytes: replace it.
      LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("postgres/staging_delete_file",
                                              {std::to_string(led.run_id), std::to_string(led.file_id)})
                                   .status());
    }
    const std::string file_id = std::to_string(led.file_id);
    const std::string prefix = run + '\t' + file_id + '\t';

    std::string inflated;
    std::string_view body = f.body;
    if (IsGzip(body)) {
      auto unzipped = Gunzip(body);
      if (!unzipped.ok()) {
        // The whole file is one unreadable record: reject it, keep the run going.
        out.records = 1;
        out.rejected = 1;
        rejects += prefix + "0\t0\t";
        AppendCopyText("cannot decompress gzip file: " + unzipped.status().message(), &rejects);
        rejects += "\t\n";
      } else {
        inflated = std::move(unzipped).value();
        body = inflated;
      }
    }
    if (out.records == 0) {
      FileParseResult parsed = parser_->Parse(f.kind, body, prefix, f.kind == FileKind::kSong ? &songs : &events);
      out.records = parsed.records;
      out.staged = parsed.staged;
      out.rejected = parsed.rejects.size();
      for (const auto& rej : parsed.rejects) {
        rejects += prefix;
        rejects += std::to_string(rej.line);
        rejects += '\t';
        rejects += std::to_string(rej.byte_offset);
        rejects += '\t';
        AppendCopyText(rej.reason, &rejects);
        rejects += '\t';
        AppendCopyText(rej.excerpt, &rejects);
        rejects += '\n';
      }
    }
    accounts += file_id + '\t';
    AppendCopyText(f.etag, &accounts);
    accounts += '\t' + std::to_string(f.size) + '\t' + std::to_string(out.records) + '\t' +
                std::to_string(out.staged) + '\t' + std::to_string(out.rejected) + '\n';
    // Release the body as soon as it is parsed: a task's memory is its largest file, not its sum.
    std::string().swap(f.body);
    outcomes.push_back(std::move(out));
  }

  if (!events.empty()) LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("postgres/copy_staging_events", events).status());
  if (!songs.empty()) LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("postgres/copy_staging_songs", songs).status());
  if (!rejects.empty()) LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("postgres/copy_rejects", rejects).status());
  if (!accounts.empty()) {
    LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("postgres/copy_task_accounts", accounts).status());
    LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("postgres/task_files_record", {run}).status());
  }
  return outcomes;
}

}  // namespace loadstar::worker
