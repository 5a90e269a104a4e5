#include "worker/file_rows.h"

#include <algorithm>

#include "common/core/text.h"
#include "worker/parse/decompress.h"

namespace loadstar::worker {

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

void ParseWholeFile(RecordParser* parser, const FetchedFile& f, const std::string& prefix, StagedRows* rows,
                    std::string* rejects, FileOutcome* out) {
  std::string inflated;
  std::string_view body = f.body;
  if (IsGzip(body)) {
    auto unzipped = Gunzip(body);
    if (!unzipped.ok()) {
      // The whole file is one unreadable record: reject it, keep the run going.
      out->records += 1;
      out->rejected += 1;
      *rejects += prefix + "0\t0\t";
      AppendCopyText("cannot decompress gzip file: " + unzipped.status().message(), rejects);
      *rejects += "\t\n";
      return;
    }
    inflated = std::move(unzipped).value();
    body = inflated;
  }
  std::string typed;
  FileParseResult parsed = parser->Parse(f.kind, body, prefix, &typed);
  const uint64_t before = rows->rows;
  if (f.kind == FileKind::kSong) {
    ShapeSongRows(typed, rows);
  } else {
    EventShaper shaper(prefix);
    shaper.Add(typed, rows);
    shaper.Finish(rows);
  }
  out->staged_rows += rows->rows - before;
  out->records += parsed.records;
  out->staged += parsed.staged;
  out->rejected += parsed.rejects.size();
  for (const auto& rej : parsed.rejects) AppendReject(prefix, rej, rejects);
}

Status ParseStreamedFile(RecordParser* parser, const StagerOptions& options, const FetchedFile& file,
                         const std::string& prefix, const std::function<Status(const StagedRows& rows)>& put_rows,
                         FileOutcome* out, std::string* rejects) {
  std::string buffer;  // the carried-over tail of the previous piece, then the next piece
  std::string typed;
  StagedRows rows;
  EventShaper shaper(prefix);
  uint64_t offset = 0;        // next byte to read
  uint64_t buffer_start = 0;  // file offset of buffer[0]
  uint64_t line = 1;          // line buffer[0] is on
  bool skipping = false;      // inside an over-long line, dropping bytes up to its end
  Status status;
  auto reject_long = [&](uint64_t at_line, uint64_t at_byte, std::string_view head) {
    RejectedRecord rej;
    rej.line = at_line;
    rej.byte_offset = at_byte;
    rej.reason = "record longer than " + std::to_string(options.max_record_bytes) + " bytes (--max-record-bytes)";
    rej.excerpt = std::string(Utf8Prefix(head, 256));
    AppendReject(prefix, rej, rejects);
    ++out->records;
    ++out->rejected;
  };
  while (status.ok() && offset < file.size) {
    uint64_t length = std::min(options.stream_piece_bytes, file.size - offset);
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
      if (buffer.size() > options.max_record_bytes) {
        reject_long(line, buffer_start, buffer);
        buffer_start += buffer.size();
        buffer.clear();
        skipping = true;
      }
      continue;
    }
    size_t take = last ? cut : cut + 1;
    std::string_view body(buffer.data(), take);
    typed.clear();
    rows.clear();
    FileParseResult parsed = parser->Parse(file.kind, body, prefix, &typed, ParsePosition{line, buffer_start});
    if (file.kind == FileKind::kSong) {
      ShapeSongRows(typed, &rows);
    } else {
      shaper.Add(typed, &rows);
    }
    out->staged_rows += rows.rows;
    out->records += parsed.records;
    out->staged += parsed.staged;
    out->rejected += parsed.rejects.size();
    for (const auto& rej : parsed.rejects) AppendReject(prefix, rej, rejects);
    status = put_rows(rows);
    line += static_cast<uint64_t>(std::count(body.begin(), body.end(), '\n'));
    buffer_start += take;
    buffer.erase(0, take);
  }
  if (status.ok()) {
    rows.clear();
    shaper.Finish(&rows);
    out->staged_rows += rows.rows;
    if (!rows.empty()) status = put_rows(rows);
  }
  return status;
}

}  // namespace loadstar::worker
