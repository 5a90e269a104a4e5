// RecordParser: turns the bytes of one song or event file into rows for PostgreSQL's COPY text
// format, plus one reject per record that cannot be loaded. Every record found is accounted for:
// records == staged + rejects.size().
//
// Coercion follows Redshift's `COPY ... FORMAT JSON 'auto'`: a missing key or JSON null loads as
// NULL; a number where text is expected loads as the number's text exactly as written; a string
// holding a number loads into a numeric column; anything that cannot be loaded (a value out of
// range, text in a numeric column, a missing required field, a record that is not an object,
// invalid UTF-8, malformed JSON) rejects that record only, and the rest of the file loads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loadstar::worker {

enum class FileKind { kSong, kEvent };

// The staging columns the parser fills, in COPY order, after the caller's prefix columns
// (run_id, file_id) and the `line` column. They match sql/postgres/schema.sql.
const std::vector<std::string>& StagingColumns(FileKind kind);

struct RejectedRecord {
  uint64_t line = 0;         // 1-based line where the record starts
  uint64_t byte_offset = 0;  // offset of the record's first byte in the (decompressed) file
  std::string reason;        // e.g. "field 'ts': \"abc\" is not an integer"
  std::string excerpt;       // the record's first bytes (at most 256), as valid UTF-8
};

struct FileParseResult {
  uint64_t records = 0;  // documents found, plus fragments that could not be parsed
  uint64_t staged = 0;   // rows appended
  std::vector<RejectedRecord> rejects;
};

struct ParserOptions {
  // A record longer than this is rejected without being parsed.
  uint64_t max_record_bytes = 16ull << 20;
};

class RecordParser {
 public:
  explicit RecordParser(ParserOptions options = {});
  ~RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // Parses `body`, the whole file (a UTF-8 BOM, CRLF line ends, several documents, pretty-printed
  // documents and trailing whitespace are all fine). For each good record appends to `*rows` one
  // COPY text line: `row_prefix` (the caller's tab-terminated prefix columns), the record's line
  // number, a tab, then the StagingColumns(kind) values; NULL is \N.
  // `body` must have kBodyPadding (64) readable bytes past its end.
  FileParseResult Parse(FileKind kind, std::string_view body, std::string_view row_prefix, std::string* rows);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loadstar::worker
