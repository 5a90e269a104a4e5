#include "worker/stager.h"

#include <algorithm>
#include <unordered_map>

#include "common/warehouse/ledger.h"
#include "common/warehouse/transaction.h"
#include "worker/parse/decompress.h"

namespace loadstar::worker {
namespace {

void AppendReject(const std::string& prefix, const RejectedRecord& rej, std::string* rejects) {
  *rejects += prefix;
  *rejects += std::to_string(rej.line);
  *rejects += '\t';
  *rejects += std::to_string(rej.byte_offset);
  *rejects += '\t';
  AppendCopyText(rej.reason, rejects);
  *rejects += '\t';
  AppendCopyText(rej.excerpt, rejects);
  *rejects += '\n';
}

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
  LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh_));
  LOADSTAR_ASSIGN_OR_RETURN(std::vector<FileOutcome> outcomes, StageInTransaction(run_id, files));
  LOADSTAR_RETURN_IF_ERROR(tx.Commit());
  return outcomes;
}

Result<std::vector<FileOutcome>> Stager::StageInTransaction(int64_t run_id, std::vector<FetchedFile>& files) {
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
  std::string events, songs, rejects, accounts;
  for (auto& f : files) {
    auto it = by_uri.find(f.uri);
    if (it == by_uri.end()) return Status::Internal("the ledger has no row for " + f.uri + " after creating it");
    const LedgerEntry& led = it->second;
    FileOutcome out;
    out.uri = f.uri;
    out.bytes = f.size;
    const StageDecision decision = DecideStage(led, f.etag, run_id);
    if (decision == StageDecision::kAlreadyStaged) {
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

    std::string inflated;
    std::string_view body = f.body;
    if (f.store == nullptr && IsGzip(body)) {
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
    if (f.store != nullptr) {
      LOADSTAR_RETURN_IF_ERROR(StageStreamed(f, prefix, &out, &rejects));
    } else if (out.records == 0) {
      FileParseResult parsed = parser_->Parse(f.kind, body, prefix, f.kind == FileKind::kSong ? &songs : &events);
      out.records = parsed.records;
      out.staged = parsed.staged;
      out.rejected = parsed.rejects.size();
      for (const auto& rej : parsed.rejects) AppendReject(prefix, rej, &rejects);
    }
    accounts += file_id + '\t';
    AppendCopyText(f.etag, &accounts);
    accounts += '\t' + std::to_string(f.size) + '\t' + std::to_string(out.records) + '\t' +
                std::to_string(out.staged) + '\t' + std::to_string(out.rejected) + '\n';
    // Release the body as soon as it is parsed: a task's memory is its largest file, not its sum.
    std::string().swap(f.body);
    outcomes.push_back(std::move(out));
  }

  if (!events.empty()) LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("copy_staging_events", events).status());
  if (!songs.empty()) LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("copy_staging_songs", songs).status());
  if (!rejects.empty()) LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("copy_rejects", rejects).status());
  if (!accounts.empty()) {
    LOADSTAR_RETURN_IF_ERROR(wh_->CopyIn("copy_task_accounts", accounts).status());
    LOADSTAR_RETURN_IF_ERROR(wh_->QueryFile("task_files_record", {run}).status());
  }
  return outcomes;
}

Status Stager::StageStreamed(const FetchedFile& file, const std::string& prefix, FileOutcome* out,
                             std::string* rejects) {
  LOADSTAR_RETURN_IF_ERROR(wh_->CopyStart(file.kind == FileKind::kSong ? "copy_staging_songs"
                                                                        : "copy_staging_events"));
  std::string buffer;  // the carried-over tail of the previous piece, then the next piece
  std::string rows;
  uint64_t offset = 0;        // next byte to read
  uint64_t buffer_start = 0;  // file offset of buffer[0]
  uint64_t line = 1;          // line buffer[0] is on
  bool skipping = false;      // inside an over-long line, dropping bytes up to its end
  Status status;
  auto reject_long = [&](uint64_t at_line, uint64_t at_byte, std::string_view head) {
    RejectedRecord rej;
    rej.line = at_line;
    rej.byte_offset = at_byte;
    rej.reason = "record longer than " + std::to_string(options_.max_record_bytes) + " bytes (--max-record-bytes)";
    size_t cut = std::min<size_t>(head.size(), 256);
    while (cut > 0 && cut < head.size() && (static_cast<unsigned char>(head[cut]) & 0xC0) == 0x80) --cut;
    rej.excerpt = std::string(head.substr(0, cut));
    AppendReject(prefix, rej, rejects);
    ++out->records;
    ++out->rejected;
  };
  while (status.ok() && offset < file.size) {
    uint64_t length = std::min(options_.stream_piece_bytes, file.size - offset);
    auto piece = file.store->GetRange(file.key, offset, length, file.etag);
    if (!piece.ok()) {
      status = piece.status().WithContext("reading " + file.uri);
      break;
    }
    if (offset == 0 && IsGzip(*piece)) {
      status = Status::InvalidArgument(file.uri + " is gzip and larger than the streaming threshold; "
                                       "store it uncompressed or raise --stream-above");
      break;
    }
    offset += length;
    const bool last = offset >= file.size;
    std::string_view data = *piece;
    if (skipping) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        buffer_start += data.size();
        continue;
      }
      skipping = false;
      buffer_start += nl + 1;
      ++line;
      data.remove_prefix(nl + 1);
    }
    buffer.reserve(buffer.size() + data.size() + kBodyPadding);
    buffer.append(data);
    size_t cut = last ? buffer.size() : buffer.rfind('\n');
    if (cut == std::string::npos) {
      if (buffer.size() > options_.max_record_bytes) {
        reject_long(line, buffer_start, buffer);
        buffer_start += buffer.size();
        buffer.clear();
        skipping = true;
      }
      continue;
    }
    size_t take = last ? cut : cut + 1;
    std::string_view body(buffer.data(), take);
    rows.clear();
    FileParseResult parsed = parser_->Parse(file.kind, body, prefix, &rows, ParsePosition{line, buffer_start});
    out->records += parsed.records;
    out->staged += parsed.staged;
    out->rejected += parsed.rejects.size();
    for (const auto& rej : parsed.rejects) AppendReject(prefix, rej, rejects);
    status = wh_->CopyPut(rows);
    line += static_cast<uint64_t>(std::count(body.begin(), body.end(), '\n'));
    buffer_start += take;
    buffer.erase(0, take);
  }
  auto copied = wh_->CopyEnd();  // always end the COPY so the connection stays usable
  LOADSTAR_RETURN_IF_ERROR(status);
  return copied.status();
}

}  // namespace loadstar::worker
