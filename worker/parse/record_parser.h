// RecordParser: turns the bytes of one song or event file into rows for PostgreSQL's COPY text
// format, plus one reject per record that cannot be loaded. Every record found is accounted for:
// records == staged + rejects.size().
//
// Coercion follows Redshift's `COPY ... FORMAT JSON 'auto'`: a missing key or JSON null loads as
// NULL; a number where text is expected loads as the number's text exactly as written; a string
// holding a number loads into a numeric column; anything that cannot be loaded (a value out of
// range, text in a numeric column, a missing required field, a record that is not an object,
// invalid UTF-8, malformed JSON) rejects that record only, and the rest of the file loads.
//
// The rules in full, per value and column type:
//   - null, or the key absent                 -> NULL (\N); a required column rejects the record
//                                                (events: ts; songs: artist_id, song_id).
//   - string into text                        -> the unescaped string, escaped for COPY text
//                                                (\ \t \n \r); a string holding U+0000 rejects
//                                                the record (PostgreSQL text cannot hold it).
//   - number into text                        -> the number's text as written ("123.50").
//   - true/false into text                    -> "true" / "false".
//   - object/array into text                  -> its minified JSON text.
//   - number into integer/bigint              -> accepted if integral ("12.0", "1e3") and in
//                                                range; written as plain decimal digits.
//   - number into double precision            -> accepted if finite and not underflowing to
//                                                zero (what PostgreSQL accepts); written as is.
//   - string into a numeric column            -> accepted if the whole string, surrounding
//                                                white space aside, is a decimal number of the
//                                                right kind ("+5", " 1.5e3 ", ".5"; not "NaN").
//   - true/false/object/array into numeric    -> rejects the record.
// Keys the schema does not name are ignored (their values must still be well-formed JSON).
// When a key occurs twice in one object the last occurrence wins, as in most JSON readers.
//
// A record whose values all load is still rejected when the star schema could not hold it, so
// that the data-quality checks run after the transform can never fail on input; the first rule
// broken, in this order, is the reason:
//   - songs: song_id or artist_id is the empty string ("required field 'song_id' is empty"), or
//     longer than 1024 bytes (too long for a key);
//   - events: ts outside 0001-01-01 .. 9999-12-31 (as epoch milliseconds); a userId longer than
//     1024 bytes; and for a play (page "NextSong"): no userId, or an empty one ("a play without a
//     user"); no sessionId ("a play without a session"); no itemInSession ("a play without its
//     place in the session"); a sessionId outside [-2^39, 2^39) or an itemInSession outside
//     [0, 2^24), which would overflow or collide in songplay_id = sessionId * 2^24 + itemInSession.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/file_kind.h"

namespace loadstar::worker {

using ::loadstar::FileKind;

// The typed columns the parser fills, in COPY order, after the caller's prefix columns (run_id,
// file_id) and the `line` column. Song rows are staged as they are (plus their match key); event
// rows are shaped further into plays, users and times (worker/star_rows.h).
const std::vector<std::string>& StagingColumns(FileKind kind);

struct RejectedRecord {
  uint64_t line = 0;         // 1-based line where the record starts
  uint64_t byte_offset = 0;  // offset of the record's first byte in the (decompressed) file
  std::string reason;        // e.g. "field 'ts': \"abc\" is not an integer"; valid UTF-8, no NUL
  std::string excerpt;       // the record's first bytes (at most 256), as valid UTF-8 without NUL
};

struct FileParseResult {
  uint64_t records = 0;  // documents found, plus fragments that could not be parsed
  uint64_t staged = 0;   // rows appended
  std::vector<RejectedRecord> rejects;
};

struct ParserOptions {
  // A record longer than this is rejected without being parsed.
  uint64_t max_record_bytes = 16ull << 20;
  // A record with a text value longer than this many bytes is rejected (Redshift holds at most
  // 65535 in a VARCHAR); 0: no limit.
  uint64_t max_value_bytes = 0;
};

// Where `body` starts within its file, when a large file is parsed a piece at a time (each piece
// ending at a line end): line numbers and byte offsets are then the file's, not the piece's.
struct ParsePosition {
  uint64_t first_line = 1;  // the line `body` starts on
  uint64_t first_byte = 0;  // the file offset of body[0]; a byte order mark is skipped only at 0
};

// Not thread-safe: use one RecordParser per thread. It keeps its JSON parser and buffers between
// calls, so reusing one for many files is what makes parsing cheap.
class RecordParser {
 public:
  explicit RecordParser(ParserOptions options = {});
  ~RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // Parses `body`, the whole file (a UTF-8 BOM, CRLF line ends, several documents, pretty-printed
  // documents and trailing whitespace are all fine). For each good record appends to `*rows` one
  // COPY text line: `row_prefix` (the caller's tab-terminated prefix columns), the record's line
  // number, a tab, then the StagingColumns(kind) values; NULL is \N. `*rows` is appended to, never
  // cleared. An empty or whitespace-only body holds no records; that is not an error.
  //
  // How records are found: a record starts at the first byte that is not JSON white space. One
  // that starts with '{' or '[' ends at its matching bracket (so one line may hold several
  // compact documents, and one document may span many lines); anything else extends to the end
  // of its line and is rejected. When a document spanning several lines turns out malformed, its
  // lines are parsed one by one instead, so that in newline-delimited files a broken line rejects
  // only itself; but if no line of it is an object on its own and not every line starts with
  // '{' (the shape of one broken pretty-printed document), it is rejected as one record.
  // Parsing is linear in the size of `body`, whatever its shape.
  //
  // `body` must have kBodyPadding (64) readable bytes past its end; they are never modified and
  // their content does not matter.
  FileParseResult Parse(FileKind kind, std::string_view body, std::string_view row_prefix, std::string* rows,
                        ParsePosition position = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loadstar::worker
