#include "worker/parse/record_parser.h"

// simdjson is wrapped here and nowhere else.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <span>
#include <system_error>
#include <utility>

#include "common/core/text.h"
#include "common/storage/object_store.h"

namespace loadstar::worker {
namespace {

namespace od = simdjson::ondemand;

static_assert(kBodyPadding >= simdjson::SIMDJSON_PADDING,
              "fetched bodies must carry the padding simdjson reads past the end");

// ---------------------------------------------------------------------------------------------
// The schema: which JSON key loads into which staging column, as which type.

enum class ColumnType : uint8_t { kText, kInt32, kInt64, kDouble };

struct ColumnSpec {
  std::string_view key;     // the key in the source JSON
  std::string_view column;  // the staging column it loads into
  ColumnType type;
  bool required;            // missing or null rejects the record
};

// In COPY order; must match sql/postgres/schema.sql.
constexpr ColumnSpec kEventColumns[] = {
    {"artist", "artist", ColumnType::kText, false},
    {"auth", "auth", ColumnType::kText, false},
    {"firstName", "first_name", ColumnType::kText, false},
    {"gender", "gender", ColumnType::kText, false},
    {"itemInSession", "item_in_session", ColumnType::kInt32, false},
    {"lastName", "last_name", ColumnType::kText, false},
    {"length", "length", ColumnType::kDouble, false},
    {"level", "level", ColumnType::kText, false},
    {"location", "location", ColumnType::kText, false},
    {"method", "method", ColumnType::kText, false},
    {"page", "page", ColumnType::kText, false},
    {"registration", "registration", ColumnType::kDouble, false},
    {"sessionId", "session_id", ColumnType::kInt64, false},
    {"song", "song", ColumnType::kText, false},
    {"status", "status", ColumnType::kInt32, false},
    {"ts", "ts", ColumnType::kInt64, true},
    {"userAgent", "user_agent", ColumnType::kText, false},
    {"userId", "user_id", ColumnType::kText, false},
};

constexpr ColumnSpec kSongColumns[] = {
    {"num_songs", "num_songs", ColumnType::kInt32, false},
    {"artist_id", "artist_id", ColumnType::kText, true},
    {"artist_latitude", "artist_latitude", ColumnType::kDouble, false},
    {"artist_longitude", "artist_longitude", ColumnType::kDouble, false},
    {"artist_location", "artist_location", ColumnType::kText, false},
    {"artist_name", "artist_name", ColumnType::kText, false},
    {"song_id", "song_id", ColumnType::kText, true},
    {"title", "title", ColumnType::kText, false},
    {"duration", "duration", ColumnType::kDouble, false},
    {"year", "year", ColumnType::kInt32, false},
};

constexpr size_t kMaxColumns = std::max(std::size(kEventColumns), std::size(kSongColumns));

constexpr size_t ColumnIndex(std::span<const ColumnSpec> specs, std::string_view key) {
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].key == key) return i;
  }
  return specs.size();
}

// The columns the rules below (Impl::CheckRules) look at.
constexpr size_t kEventPage = ColumnIndex(kEventColumns, "page");
constexpr size_t kEventSessionId = ColumnIndex(kEventColumns, "sessionId");
constexpr size_t kEventItemInSession = ColumnIndex(kEventColumns, "itemInSession");
constexpr size_t kEventTs = ColumnIndex(kEventColumns, "ts");
constexpr size_t kEventUserId = ColumnIndex(kEventColumns, "userId");
constexpr size_t kSongSongId = ColumnIndex(kSongColumns, "song_id");
constexpr size_t kSongArtistId = ColumnIndex(kSongColumns, "artist_id");
static_assert(kEventPage < std::size(kEventColumns) && kEventSessionId < std::size(kEventColumns) &&
              kEventItemInSession < std::size(kEventColumns) && kEventTs < std::size(kEventColumns) &&
              kEventUserId < std::size(kEventColumns) && kSongSongId < std::size(kSongColumns) &&
              kSongArtistId < std::size(kSongColumns));

std::span<const ColumnSpec> ColumnsFor(FileKind kind) {
  if (kind == FileKind::kSong) return kSongColumns;
  return kEventColumns;
}

std::string_view TypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kText: return "text";
    case ColumnType::kInt32: return "integer";
    case ColumnType::kInt64: return "bigint";
    case ColumnType::kDouble: return "double precision";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Limits.

constexpr size_t kExcerptBytes = 256;         // RejectedRecord::excerpt
constexpr size_t kReasonValueBytes = 64;      // how much of an offending value a reason quotes
constexpr size_t kMaxReasonBytes = 1024;
constexpr int kMaxNesting = 1024;             // deeper JSON is rejected (bounds our recursion)
constexpr size_t kInitialParserCapacity = 64 << 10;

// What the star schema can hold (see RecordParser's header for the rules that use these).
// songplay_id = sessionId * 2^24 + itemInSession: unique per (sessionId, itemInSession) and within
// bigint when itemInSession is in [0, 2^24) and sessionId in [-2^39, 2^39).
constexpr int64_t kMaxItemInSession = (int64_t{1} << 24) - 1;
constexpr int64_t kMinSessionId = -(int64_t{1} << 39);
constexpr int64_t kMaxSessionId = (int64_t{1} << 39) - 1;
// ts (epoch milliseconds) from 0001-01-01 00:00:00.000 to 9999-12-31 23:59:59.999 UTC: the
// transform turns it into a timestamp, which must not overflow.
constexpr int64_t kMinTs = -62135596800000;
constexpr int64_t kMaxTs = 253402300799999;
// A key (song_id, artist_id, userId) must fit in a PostgreSQL index entry (at most 2704 bytes).
constexpr size_t kMaxKeyBytes = 1024;

// ---------------------------------------------------------------------------------------------
// Bytes and text.

bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// White space PostgreSQL and strtod skip around a number.
bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

const char* SkipJsonSpace(const char* p, const char* end) {
  while (p < end && IsJsonSpace(*p)) ++p;
  return p;
}

const char* TrimJsonSpaceRight(const char* begin, const char* end) {
  while (end > begin && IsJsonSpace(end[-1])) --end;
  return end;
}

std::string_view TrimJsonSpaceRight(std::string_view s) {
  return {s.data(), static_cast<size_t>(TrimJsonSpaceRight(s.data(), s.data() + s.size()) - s.data())};
}

std::string_view TrimAsciiSpace(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// At most `max_bytes` of `s` as valid UTF-8 that PostgreSQL text can hold: a byte that does not
// start a well-formed sequence, and NUL, become U+FFFD; a sequence is never split.
std::string SafeText(std::string_view s, size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  while (!s.empty()) {
    size_t n = Utf8SequenceLength(s);
    std::string_view piece = (n == 0 || s[0] == '\0') ? kReplacement : s.substr(0, n);
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    s.remove_prefix(n == 0 ? 1 : n);
  }
  return out;
}

// At most `max_bytes` of `s`, cut at a UTF-8 sequence boundary, with "..." if cut.
std::string Abbreviate(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  return std::string(Utf8Prefix(s, max_bytes)) + "...";
}

// Appends the JSON object or array starting at `p` (already validated) without insignificant
// white space, escaped for COPY's text format.
void AppendMinifiedJson(const char* p, std::string* out) {
  int64_t depth = 0;
  bool in_string = false;
  for (;; ++p) {
    const char c = *p;
    if (in_string) {
      if (c == '\\') {
        out->append("\\\\", 2);  // the JSON escape's backslash, escaped for COPY
        ++p;
        if (*p == '\\') {
          out->append("\\\\", 2);
        } else {
          out->push_back(*p);
        }
      } else {
        if (c == '"') in_string = false;
        out->push_back(c);  // a validated string holds no raw control characters
      }
      continue;
    }
    if (IsJsonSpace(c)) continue;
    out->push_back(c);
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers.

// The parts of a decimal number's text; the views point into that text.
struct DecimalParts {
  bool negative = false;
  std::string_view int_digits;
  std::string_view frac_digits;
  int64_t exponent = 0;  // saturates near +-kExponentLimit: far beyond any finite double
};

constexpr int64_t kExponentLimit = 100000;

// Splits `s` into DecimalParts. With `json`, `s` must follow JSON's number grammar (RFC 8259 §6):
//   -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// Without it, the grammar PostgreSQL and strtod accept for decimals (no inf, nan or hex):
//   [+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?
bool ScanDecimal(std::string_view s, bool json, DecimalParts* out) {
  *out = DecimalParts{};
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && (s[i] == '-' || (!json && s[i] == '+'))) {
    out->negative = s[i] == '-';
    ++i;
  }
  const size_t int_begin = i;
  while (i < n && IsDigit(s[i])) ++i;
  out->int_digits = s.substr(int_begin, i - int_begin);
  if (json && (out->int_digits.empty() || (out->int_digits.size() > 1 && out->int_digits[0] == '0'))) {
    return false;
  }
  if (i < n && s[i] == '.') {
    const size_t frac_begin = ++i;
    while (i < n && IsDigit(s[i])) ++i;
    out->frac_digits = s.substr(frac_begin, i - frac_begin);
    if (json && out->frac_digits.empty()) return false;
  }
  if (out->int_digits.empty() && out->frac_digits.empty()) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
      negative_exponent = s[i] == '-';
      ++i;
    }
    const size_t exp_begin = i;
    int64_t exponent = 0;
    for (; i < n && IsDigit(s[i]); ++i) {
      if (exponent < kExponentLimit) exponent = exponent * 10 + (s[i] - '0');
    }
    if (i == exp_begin) return false;
    out->exponent = negative_exponent ? -exponent : exponent;
  }
  return i == n;
}

enum class IntConversion { kOk, kNotIntegral, kOutOfRange };

// The exact integer `d` denotes ("12.0" and "1.2e1" are 12; "12.5" is not an integer).
IntConversion DecimalToInt64(const DecimalParts& d, int64_t* out) {
  // value = (int_digits frac_digits) * 10^scale; drop zeros that do not change it.
  std::string_view a = d.int_digits;
  std::string_view b = d.frac_digits;
  int64_t scale = d.exponent - static_cast<int64_t>(b.size());
  while (!b.empty() && b.back() == '0') {
    b.remove_suffix(1);
    ++scale;
  }
  if (b.empty()) {
    while (!a.empty() && a.back() == '0') {
      a.remove_suffix(1);
      ++scale;
    }
  }
  while (!a.empty() && a.front() == '0') a.remove_prefix(1);
  if (a.empty()) {
    while (!b.empty() && b.front() == '0') b.remove_prefix(1);
  }
  const int64_t significant = static_cast<int64_t>(a.size() + b.size());
  if (significant == 0) {
    *out = 0;
    return IntConversion::kOk;
  }
  if (scale < 0) return IntConversion::kNotIntegral;
  if (significant + scale > 19) return IntConversion::kOutOfRange;
  uint64_t magnitude = 0;  // below 10^19 < 2^64: cannot overflow
  for (char c : a) magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');
  for (char c : b) magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');
  for (int64_t i = 0; i < scale; ++i) magnitude *= 10;
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (d.negative) {
    if (magnitude > kMaxPositive + 1) return IntConversion::kOutOfRange;
    *out = magnitude == kMaxPositive + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > kMaxPositive) return IntConversion::kOutOfRange;
    *out = static_cast<int64_t>(magnitude);
  }
  return IntConversion::kOk;
}

// Parses decimal text (either grammar of ScanDecimal) into a double. Returns false where
// PostgreSQL's double precision input would fail: overflow, or a non-zero value rounding to 0.
bool ParseDouble(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendDouble(double v, std::string* out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
  out->append(buf, r.ptr);
}

// ---------------------------------------------------------------------------------------------
// Malformed-JSON reasons.

std::string MalformedReason(simdjson::error_code error) {
  switch (error) {
    case simdjson::UTF8_ERROR: return "invalid UTF-8";
    case simdjson::UNESCAPED_CHARS: return "malformed JSON: a control character inside a string is not escaped";
    case simdjson::UNCLOSED_STRING: return "malformed JSON: unterminated string";
    case simdjson::STRING_ERROR: return "malformed JSON: invalid escape or unpaired surrogate in a string";
    case simdjson::NUMBER_ERROR: return "malformed JSON: invalid number";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR: return "malformed JSON: invalid literal";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "malformed JSON: unterminated object or array";
    case simdjson::TAPE_ERROR: return "malformed JSON: missing or misplaced comma, colon, bracket or key";
    case simdjson::DEPTH_ERROR: return "malformed JSON: nested too deeply";
    case simdjson::CAPACITY: return "record is too large for the JSON parser";
    case simdjson::MEMALLOC: return "out of memory parsing the record";
    default: return std::string("malformed JSON: ") + simdjson::error_message(error);
  }
}

std::string_view JsonTypeName(od::json_type type) {
  switch (type) {
    case od::json_type::array: return "an array";
    case od::json_type::object: return "an object";
    case od::json_type::number: return "a number";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
  }
  return "a value";
}

// ---------------------------------------------------------------------------------------------
// Finding where a document ends.

struct BracketScan {
  const char* end;  // one past the matching bracket; else where the scan stopped
  bool closed;      // the brackets balanced
  bool in_string;   // stopped at a raw newline inside a string (which JSON forbids)
};

// From `p`, at '{' or '[', finds the matching closing bracket, skipping over strings. Stops at
// `limit`, or at a newline inside a string: JSON strings cannot hold raw newlines, so the
// document is malformed there, and stopping keeps one broken line from swallowing the next.
BracketScan FindMatchingBracket(const char* p, const char* limit) {
  int64_t depth = 0;
  while (p < limit) {
    switch (*p) {
      case '{':
      case '[': ++depth; break;
      case '}':
      case ']':
        if (--depth == 0) return {p + 1, true, false};
        break;
      case '"':
        for (++p;; ++p) {
          if (p == limit) return {limit, false, false};
          const char c = *p;
          if (c == '"') break;
          if (c == '\n') return {p, false, true};
          if (c == '\\') {
            if (p + 1 == limit || p[1] == '\n') continue;  // the next step stops there
            ++p;
          }
        }
        break;
      default: break;
    }
    ++p;
  }
  return {limit, false, false};
}

// Line numbers of positions in a body, counted incrementally: linear over a parse as long as
// positions mostly move forward.
class LineCounter {
 public:
  void Reset(const char* begin, uint64_t first_line) {
    pos_ = begin;
    line_ = first_line;
  }
  uint64_t LineOf(const char* p) {
    if (p >= pos_) {
      line_ += CountNewlines(pos_, p);
    } else {
      line_ -= CountNewlines(p, pos_);
    }
    pos_ = p;
    return line_;
  }
  // Moves to `p` without counting: the caller knows [current position, p) holds no newline.
  void SkipTo(const char* p) { pos_ = p; }

 private:
  // memchr is vectorised in every libc; lines are long compared with the cost of a call.
  static uint64_t CountNewlines(const char* begin, const char* end) {
    uint64_t n = 0;
    while (const void* nl = std::memchr(begin, '\n', static_cast<size_t>(end - begin))) {
      ++n;
      begin = static_cast<const char*>(nl) + 1;
    }
    return n;
  }

  const char* pos_ = nullptr;
  uint64_t line_ = 1;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

const std::vector<std::string>& StagingColumns(FileKind kind) {
  static const auto kNames = [] {
    const auto names = [](std::span<const ColumnSpec> specs) {
      std::vector<std::string> out;
      for (const ColumnSpec& s : specs) out.emplace_back(s.column);
      return out;
    };
    return std::array<std::vector<std::string>, 2>{names(kSongColumns), names(kEventColumns)};
  }();
  return kNames[kind == FileKind::kSong ? 0 : 1];
}

struct RecordParser::Impl {
  explicit Impl(ParserOptions options) : options_(options) {
    // Failure is not fatal here: ParseDocument() grows the parser as records need, and rejects
    // a record it cannot make room for.
    [[maybe_unused]] const simdjson::error_code error = parser_.allocate(kInitialParserCapacity);
  }

  FileParseResult Parse(FileKind kind, std::string_view body, std::string_view row_prefix, std::string* rows,
                        ParsePosition position);

 private:
  // What became of one document.
  enum class DocStatus {
    kStaged,     // a row was appended
    kRejected,   // well-formed JSON that cannot load: reason_ says why
    kMalformed,  // not well-formed JSON: reason_ says why
    kTrailing,   // a well-formed document followed by more content
  };

  enum class SlotState : uint8_t { kAbsent, kNull, kValue, kInvalid };

  // One column's value in the record being parsed: COPY text in scratch_, or why it is invalid.
  struct Slot {
    SlotState state = SlotState::kAbsent;
    size_t offset = 0;
    size_t size = 0;
  };

  void ScanRange(const char* p, const char* end, bool within_line);
  void ResyncByLines(const char* begin, const char* end, uint64_t line, const std::string& reason);
  void HandleRecord(const char* begin, const char* end, uint64_t line);
  void Account(DocStatus status, const char* begin, const char* end, uint64_t line);
  void AddReject(const char* begin, const char* end, uint64_t line, std::string_view reason);
  const char* LineEnd(const char* p);

  DocStatus ParseDocument(const char* begin, const char* end, uint64_t line);
  DocStatus ParseNonObject(od::document& doc, od::json_type type, const char* end);
  bool ConvertField(od::value& value, size_t col);
  bool StoreNumber(size_t col, std::string_view raw, std::string_view text, const DecimalParts& d, bool from_string);
  bool SkipValidated(od::value& value, int depth, std::string_view field);
  bool KeyOf(od::field& field, std::string_view* key);
  int FindColumn(std::string_view key);
  void AppendRow(uint64_t line);
  bool CheckRules();
  bool CheckKeyLength(size_t col);
  std::string_view SlotText(size_t col) const {
    return std::string_view(scratch_).substr(slots_[col].offset, slots_[col].size);
  }
  bool SlotEmpty(size_t col) const { return slots_[col].state != SlotState::kValue || slots_[col].size == 0; }
  int64_t SlotInt(size_t col) const;
  void RuleReason(size_t col, std::string_view what, bool quoted = false);

  void BeginSlot(size_t col) { slots_[col].offset = scratch_.size(); }
  void EndSlot(size_t col) {
    slots_[col].size = scratch_.size() - slots_[col].offset;
    slots_[col].state = SlotState::kValue;
  }
  void SetText(size_t col, std::string_view text) {
    BeginSlot(col);
    scratch_.append(text);
    EndSlot(col);
  }
  // Marks column `col` as holding a value that cannot load: "field 'k': <raw> <what>".
  void SetInvalid(size_t col, std::string_view raw, std::string_view what);
  // Set reason_ for malformed JSON; return false (or kMalformed) for the caller to pass on.
  bool Malformed(simdjson::error_code error, std::string_view field);
  DocStatus MalformedDocument(simdjson::error_code error) {
    Malformed(error, {});
    return DocStatus::kMalformed;
  }
  bool MalformedToken(std::string_view what, std::string_view raw, std::string_view field);

  const ParserOptions options_;
  od::parser parser_;

  // Reused from record to record so the hot path does not allocate.
  std::string scratch_;  // the current record's column values, as COPY text
  std::array<Slot, kMaxColumns> slots_{};
  std::array<std::string, kMaxColumns> slot_reasons_;
  std::string reason_;        // why the last document was not staged
  size_t next_column_ = 0;    // the column the next key most likely names (keys come in order)
  uint64_t objects_seen_ = 0; // well-formed top-level objects so far

  // The current Parse() call.
  FileParseResult* result_ = nullptr;
  std::string* rows_ = nullptr;
  std::string_view row_prefix_;
  FileKind kind_ = FileKind::kEvent;
  std::span<const ColumnSpec> columns_;
  const char* base_ = nullptr;
  uint64_t first_byte_ = 0;  // file offset of base_, when parsing a piece of a large file
  const char* end_ = nullptr;
  const char* padded_end_ = nullptr;
  const char* line_end_ = nullptr;            // cached end of the line holding the scan position
  const char* fast_path_barrier_ = nullptr;   // end of the last line where the fast path failed
  LineCounter lines_;
};

FileParseResult RecordParser::Impl::Parse(FileKind kind, std::string_view body, std::string_view row_prefix,
                                          std::string* rows, ParsePosition position) {
  FileParseResult result;
  result_ = &result;
  rows_ = rows;
  row_prefix_ = row_prefix;
  kind_ = kind;
  columns_ = ColumnsFor(kind);
  base_ = body.data();
  end_ = body.data() + body.size();
  padded_end_ = end_ + kBodyPadding;
  line_end_ = nullptr;
  fast_path_barrier_ = base_;  // every line ends after the body's first byte
  lines_.Reset(base_, position.first_line);
  first_byte_ = position.first_byte;

  const char* p = base_;
  // A UTF-8 byte order mark, at the start of the file only.
  if (position.first_byte == 0 && body.substr(0, 3) == "\xEF\xBB\xBF") p += 3;
  ScanRange(p, end_, /*within_line=*/false);

  result_ = nullptr;
  rows_ = nullptr;
  return result;
}

const char* RecordParser::Impl::LineEnd(const char* p) {
  // Scan positions only move forward outside ResyncByLines, which does not use this cache, so
  // a cached end at or past `p` is the end of p's line; each byte is searched once.
  if (line_end_ == nullptr || p > line_end_) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end_ - p));
    line_end_ = nl ? static_cast<const char*>(nl) : end_;
  }
  return line_end_;
}

// Finds and handles every record in [p, end). With `within_line`, [p, end) is (the rest of) one
// line and no record may extend past it.
void RecordParser::Impl::ScanRange(const char* p, const char* end, bool within_line) {
  const uint64_t max_bytes = options_.max_record_bytes;
  for (;;) {
    p = SkipJsonSpace(p, end);
    if (p == end) return;
    const uint64_t line = lines_.LineOf(p);
    const char* const line_end = within_line ? end : LineEnd(p);
    const char* const line_stop = TrimJsonSpaceRight(p, line_end);

    if (*p != '{' && *p != '[') {
      // Not an object: whatever it is, the rest of the line is one record to reject.
      HandleRecord(p, line_stop, line);
      p = line_end;
      continue;
    }

    // Fast path: the rest of the line is exactly one document (newline-delimited JSON, compact
    // single-object files). Tried once per line, so a long line of many documents stays linear.
    if (line_end > fast_path_barrier_ && static_cast<uint64_t>(line_stop - p) <= max_bytes) {
      const DocStatus status = ParseDocument(p, line_stop, line);
      if (status == DocStatus::kStaged || status == DocStatus::kRejected) {
        Account(status, p, line_stop, line);
        lines_.SkipTo(line_end);  // [p, line_end) is within one line
        p = line_end;
        continue;
      }
      fast_path_barrier_ = line_end;
    }

    const BracketScan scan = FindMatchingBracket(p, end);
    if (!scan.closed) {
      reason_ = scan.in_string ? "malformed JSON: unterminated string"
                               : "malformed JSON: unterminated object or array";
      if (scan.end <= line_end) {
        AddReject(p, TrimJsonSpaceRight(p, scan.end), line, reason_);
      } else {
        ResyncByLines(p, scan.end, line, reason_);
      }
      p = scan.end;
      continue;
    }
    const char* const record_end = scan.end;
    if (static_cast<uint64_t>(record_end - p) > max_bytes) {
      HandleRecord(p, record_end, line);  // rejects it as too long, unparsed
      p = record_end;
      continue;
    }
    const DocStatus status = ParseDocument(p, record_end, line);
    if (status == DocStatus::kStaged || status == DocStatus::kRejected || record_end <= line_end) {
      Account(status, p, record_end, line);
    } else {
      // A malformed document across several lines: perhaps a broken line of newline-delimited
      // JSON whose brackets happen to pair up with a later line's. Look at the lines one by one.
      ResyncByLines(p, record_end, line, reason_);
    }
    p = record_end;
  }
}

// Handles [begin, end), a malformed stretch spanning several lines, line by line: each line's
// records load or reject on their own, as in newline-delimited JSON. If instead the stretch
// looks like one broken pretty-printed document (no line of it is a well-formed object, and
// some line starts with something other than '{', as a member or a closing bracket does), its
// lines are replaced by a single reject, `reason`, at `line`.
void RecordParser::Impl::ResyncByLines(const char* begin, const char* end, uint64_t line, const std::string& reason) {
  const std::string span_reason = reason;  // reason_ is overwritten below
  const size_t rows_mark = rows_->size();
  const size_t rejects_mark = result_->rejects.size();
  const uint64_t records_mark = result_->records;
  const uint64_t staged_mark = result_->staged;
  const uint64_t objects_mark = objects_seen_;
  bool lines_start_objects = true;

  for (const char* p = begin; p < end;) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    const char* line_end = nl ? static_cast<const char*>(nl) : end;
    const char* first = SkipJsonSpace(p, line_end);
    if (first < line_end && *first != '{') lines_start_objects = false;
    ScanRange(p, line_end, /*within_line=*/true);
    p = nl ? line_end + 1 : end;
  }

  if (objects_seen_ == objects_mark && !lines_start_objects) {
    rows_->resize(rows_mark);
    result_->rejects.resize(rejects_mark);
    result_->records = records_mark;
    result_->staged = staged_mark;
    AddReject(begin, TrimJsonSpaceRight(begin, end), line, span_reason);
  }
}

// Parses [begin, end) as one record (unless it is too long) and accounts for it.
void RecordParser::Impl::HandleRecord(const char* begin, const char* end, uint64_t line) {
  const uint64_t size = static_cast<uint64_t>(end - begin);
  if (size > options_.max_record_bytes) {
    reason_ = "record is " + std::to_string(size) + " bytes, longer than the limit of " +
              std::to_string(options_.max_record_bytes);
    AddReject(begin, end, line, reason_);
    return;
  }
  Account(ParseDocument(begin, end, line), begin, end, line);
}

void RecordParser::Impl::Account(DocStatus status, const char* begin, const char* end, uint64_t line) {
  if (status == DocStatus::kStaged) {
    ++result_->records;
    ++result_->staged;
    return;
  }
  if (status == DocStatus::kTrailing) reason_ = "malformed JSON: unexpected content after the document";
  AddReject(begin, end, line, reason_);
}

void RecordParser::Impl::AddReject(const char* begin, const char* end, uint64_t line, std::string_view reason) {
  ++result_->records;
  RejectedRecord& r = result_->rejects.emplace_back();
  r.line = line;
  r.byte_offset = first_byte_ + static_cast<uint64_t>(begin - base_);
  r.reason = SafeText(reason, kMaxReasonBytes);
  r.excerpt = SafeText(std::string_view(begin, static_cast<size_t>(end - begin)), kExcerptBytes);
}

// ---------------------------------------------------------------------------------------------
// One document.

RecordParser::Impl::DocStatus RecordParser::Impl::ParseDocument(const char* begin, const char* end,
                                                                 uint64_t line) {
  const size_t size = static_cast<size_t>(end - begin);
  if (size > parser_.capacity()) {
    // Grow geometrically (bounded by the record limit) rather than to each new maximum.
    const size_t target = std::max(size, std::min<size_t>(2 * parser_.capacity(), options_.max_record_bytes));
    if (auto error = parser_.allocate(target)) return MalformedDocument(error);
  }
  od::document doc;
  const simdjson::padded_string_view input(begin, size, static_cast<size_t>(padded_end_ - begin));
  if (auto error = parser_.iterate(input).get(doc)) return MalformedDocument(error);
  od::json_type type;
  if (auto error = doc.type().get(type)) return MalformedDocument(error);
  if (type != od::json_type::object) return ParseNonObject(doc, type, end);

  od::object object;
  if (auto error = doc.get_object().get(object)) return MalformedDocument(error);
  const size_t ncols = columns_.size();
  for (size_t i = 0; i < ncols; ++i) slots_[i].state = SlotState::kAbsent;
  scratch_.clear();
  next_column_ = 0;

  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return MalformedDocument(error);
    std::string_view key;
    if (!KeyOf(field, &key)) return DocStatus::kMalformed;
    const int col = FindColumn(key);
    const bool ok = col < 0 ? SkipValidated(field.value(), 1, key) : ConvertField(field.value(), static_cast<size_t>(col));
    if (!ok) return DocStatus::kMalformed;
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) return DocStatus::kTrailing;
  ++objects_seen_;

  // The first problem in column order decides the reason: deterministic whatever the key order.
  for (size_t i = 0; i < ncols; ++i) {
    const SlotState state = slots_[i].state;
    if (state == SlotState::kInvalid) {
      reason_ = slot_reasons_[i];
      return DocStatus::kRejected;
    }
    if (columns_[i].required && state != SlotState::kValue) {
      reason_ = state == SlotState::kAbsent ? "missing required field '" : "required field '";
      reason_ += columns_[i].key;
      reason_ += state == SlotState::kAbsent ? "'" : "' is null";
      return DocStatus::kRejected;
    }
    if (columns_[i].required && columns_[i].type == ColumnType::kText && slots_[i].size == 0) {
      reason_ = "required field '";
      reason_ += columns_[i].key;
      reason_ += "' is empty";
      return DocStatus::kRejected;
    }
    if (options_.max_value_bytes > 0 && state == SlotState::kValue && columns_[i].type == ColumnType::kText &&
        slots_[i].size > options_.max_value_bytes) {
      // The slot holds COPY text: each escape is two bytes for one.
      const std::string_view text = SlotText(i);
      uint64_t bytes = 0;
      for (size_t k = 0; k < text.size(); ++k, ++bytes) {
        if (text[k] == '\\') ++k;
      }
      if (bytes > options_.max_value_bytes) {
        reason_ = "field '";
        reason_ += columns_[i].key;
        reason_ += "' is " + std::to_string(bytes) + " bytes long; the warehouse holds at most " +
                   std::to_string(options_.max_value_bytes) + " bytes in a value (Redshift's VARCHAR(65535))";
        return DocStatus::kRejected;
      }
    }
  }
  if (!CheckRules()) return DocStatus::kRejected;
  AppendRow(line);
  return DocStatus::kStaged;
}

// A top-level value that is not an object: reject it, but say "malformed" if it is not even
// well-formed JSON, and report trailing content so that the caller can split it off.
RecordParser::Impl::DocStatus RecordParser::Impl::ParseNonObject(od::document& doc, od::json_type type,
                                                                 const char* end) {
  if (type == od::json_type::array) {
    od::array array;
    if (auto error = doc.get_array().get(array)) return MalformedDocument(error);
    for (auto element_result : array) {
      od::value element;
      if (auto error = std::move(element_result).get(element)) return MalformedDocument(error);
      if (!SkipValidated(element, 1, {})) return DocStatus::kMalformed;
    }
    const char* trailing = nullptr;
    if (!doc.current_location().get(trailing)) return DocStatus::kTrailing;
  } else {
    std::string_view raw;
    if (auto error = doc.raw_json_token().get(raw)) return MalformedDocument(error);
    raw = TrimJsonSpaceRight(raw);
    if (raw.data() + raw.size() != end) return DocStatus::kTrailing;
    DecimalParts parts;
    std::string_view text;
    switch (type) {
      case od::json_type::number:
        if (!ScanDecimal(raw, /*json=*/true, &parts)) {
          MalformedToken("invalid number", raw, {});
          return DocStatus::kMalformed;
        }
        break;
      case od::json_type::string:
        if (auto error = doc.get_string().get(text)) return MalformedDocument(error);
        break;
      case od::json_type::boolean:
        if (raw != "true" && raw != "false") {
          MalformedToken("invalid literal", raw, {});
          return DocStatus::kMalformed;
        }
        break;
      case od::json_type::null:
        if (raw != "null") {
          MalformedToken("invalid literal", raw, {});
          return DocStatus::kMalformed;
        }
        break;
      default: break;
    }
  }
  reason_ = "the record is ";
  reason_ += JsonTypeName(type);
  reason_ += ", not a JSON object";
  return DocStatus::kRejected;
}

// The key of `field`, unescaped. Most keys hold no escape: their text is read in place.
bool RecordParser::Impl::KeyOf(od::field& field, std::string_view* key) {
  // Stage 1 validated the string, so its closing quote is there. Keys are short: a plain loop
  // beats library calls. An escape before the first quote means it must be unescaped properly.
  const char* const k = field.key().raw();
  const char* q = k;
  while (*q != '"' && *q != '\\') ++q;
  if (*q == '"') {
    *key = std::string_view(k, static_cast<size_t>(q - k));
    return true;
  }
  if (auto error = field.unescaped_key().get(*key)) return Malformed(error, {});
  return true;
}

int RecordParser::Impl::FindColumn(std::string_view key) {
  const size_t ncols = columns_.size();
  if (next_column_ < ncols && columns_[next_column_].key == key) return static_cast<int>(next_column_++);
  for (size_t i = 0; i < ncols; ++i) {
    if (columns_[i].key == key) {
      next_column_ = i + 1;
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Converts `value` into column `col`'s slot. Returns false only for malformed JSON (reason_ set);
// a well-formed value that cannot load marks the slot invalid, so that the rest of the record
// is still checked for well-formedness (which decides how the record's extent is found).
bool RecordParser::Impl::ConvertField(od::value& value, size_t col) {
  const ColumnSpec& spec = columns_[col];
  od::json_type type;
  if (auto error = value.type().get(type)) return Malformed(error, spec.key);
  // The value's text as written; scalars we read from here are skipped by the iterator later.
  const std::string_view raw = TrimJsonSpaceRight(value.raw_json_token());

  switch (type) {
    case od::json_type::null:
      if (raw != "null") return MalformedToken("invalid literal", raw, spec.key);
      slots_[col].state = SlotState::kNull;
      return true;

    case od::json_type::boolean:
      if (raw != "true" && raw != "false") return MalformedToken("invalid literal", raw, spec.key);
      if (spec.type == ColumnType::kText) {
        SetText(col, raw);
      } else {
        SetInvalid(col, raw, "is not a number");
      }
      return true;

    case od::json_type::number: {
      DecimalParts parts;
      if (!ScanDecimal(raw, /*json=*/true, &parts)) return MalformedToken("invalid number", raw, spec.key);
      return StoreNumber(col, raw, raw, parts, /*from_string=*/false);
    }

    case od::json_type::string: {
      // raw is the quoted string; without a backslash its content is the value itself (stage 1
      // has rejected raw control characters, so nothing in it needs escaping for COPY either).
      const std::string_view inner = raw.substr(1, raw.size() - 2);
      const bool escaped = std::memchr(inner.data(), '\\', inner.size()) != nullptr;
      std::string_view text = inner;
      if (escaped) {
        if (auto error = value.get_string().get(text)) return Malformed(error, spec.key);
      }
      if (spec.type == ColumnType::kText) {
        BeginSlot(col);
        if (!escaped) {
          scratch_.append(inner);
        } else if (!AppendCopyText(text, &scratch_)) {
          scratch_.resize(slots_[col].offset);
          SetInvalid(col, raw, "holds a NUL character (\\u0000), which PostgreSQL text cannot store");
          return true;
        }
        EndSlot(col);
        return true;
      }
      const std::string_view trimmed = TrimAsciiSpace(text);
      DecimalParts parts;
      if (!ScanDecimal(trimmed, /*json=*/false, &parts)) {
        SetInvalid(col, raw, spec.type == ColumnType::kDouble ? "is not a number" : "is not an integer");
        return true;
      }
      return StoreNumber(col, raw, trimmed, parts, /*from_string=*/true);
    }

    case od::json_type::object:
    case od::json_type::array: {
      const char* start = raw.data();
      if (!SkipValidated(value, 1, spec.key)) return false;
      if (spec.type != ColumnType::kText) {
        SetInvalid(col, JsonTypeName(type), "is not a number");
        return true;
      }
      BeginSlot(col);
      AppendMinifiedJson(start, &scratch_);
      EndSlot(col);
      return true;
    }
  }
  return MalformedToken("unexpected value", raw, spec.key);
}

// Stores a number into column `col`. `raw` is the JSON text (for reasons), `text` the number's
// own text (for a string, without quotes and surrounding space), `d` its parts.
bool RecordParser::Impl::StoreNumber(size_t col, std::string_view raw, std::string_view text, const DecimalParts& d,
                                     bool from_string) {
  const ColumnSpec& spec = columns_[col];
  switch (spec.type) {
    case ColumnType::kText:
      SetText(col, text);  // only JSON numbers get here: their text exactly as written
      return true;

    case ColumnType::kInt32:
    case ColumnType::kInt64: {
      // A plain JSON integer that surely fits is already in canonical form (JSON has no
      // leading zeros); only "-0" needs rewriting.
      const size_t fits_digits = spec.type == ColumnType::kInt32 ? 9 : 18;
      if (!from_string && d.frac_digits.empty() && d.exponent == 0 && d.int_digits.size() <= fits_digits &&
          text.size() == d.int_digits.size() + (d.negative ? 1 : 0) && text != "-0") {
        SetText(col, text);
        return true;
      }
      int64_t v = 0;
      const IntConversion conv = DecimalToInt64(d, &v);
      if (conv == IntConversion::kNotIntegral) {
        SetInvalid(col, raw, "is not an integer");
        return true;
      }
      const bool in_range = conv == IntConversion::kOk &&
                            (spec.type == ColumnType::kInt64 ||
                             (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()));
      if (!in_range) {
        SetInvalid(col, raw, std::string("is out of range for ").append(TypeName(spec.type)));
        return true;
      }
      BeginSlot(col);
      AppendInt(v, &scratch_);
      EndSlot(col);
      return true;
    }

    case ColumnType::kDouble: {
      // Without an exponent, up to 300 characters can neither overflow nor round a non-zero
      // value to zero (the magnitude stays within 1e-300 .. 1e300): nothing to check.
      if (!from_string && d.exponent == 0 && text.size() <= 300) {
        SetText(col, text);
        return true;
      }
      double v = 0;
      if (!ParseDouble(text, &v)) {
        SetInvalid(col, raw, "is out of range for double precision");
        return true;
      }
      BeginSlot(col);
      if (from_string) {
        AppendDouble(v, &scratch_);
      } else {
        scratch_.append(text);  // JSON's grammar is a subset of what PostgreSQL reads
      }
      EndSlot(col);
      return true;
    }
  }
  return true;
}

// Consumes `value`, checking that it is well-formed JSON all the way down (the iterator alone
// would skip an unused value without looking inside it).
bool RecordParser::Impl::SkipValidated(od::value& value, int depth, std::string_view field) {
  if (depth > kMaxNesting) {
    reason_ = "JSON nested more than " + std::to_string(kMaxNesting) + " levels deep";
    return false;
  }
  od::json_type type;
  if (auto error = value.type().get(type)) return Malformed(error, field);
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto error = value.get_object().get(object)) return Malformed(error, field);
      for (auto member_result : object) {
        od::field member;
        if (auto error = std::move(member_result).get(member)) return Malformed(error, field);
        std::string_view key;
        if (!KeyOf(member, &key)) return false;
        if (!SkipValidated(member.value(), depth + 1, field)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = value.get_array().get(array)) return Malformed(error, field);
      for (auto element_result : array) {
        od::value element;
        if (auto error = std::move(element_result).get(element)) return Malformed(error, field);
        if (!SkipValidated(element, depth + 1, field)) return false;
      }
      return true;
    }
    case od::json_type::number: {
      const std::string_view raw = TrimJsonSpaceRight(value.raw_json_token());
      DecimalParts parts;
      if (!ScanDecimal(raw, /*json=*/true, &parts)) return MalformedToken("invalid number", raw, field);
      return true;
    }
    case od::json_type::string: {
      const std::string_view raw = TrimJsonSpaceRight(value.raw_json_token());
      if (raw.find('\\') == std::string_view::npos) return true;
      std::string_view text;
      if (auto error = value.get_string().get(text)) return Malformed(error, field);
      return true;
    }
    case od::json_type::boolean: {
      const std::string_view raw = TrimJsonSpaceRight(value.raw_json_token());
      if (raw != "true" && raw != "false") return MalformedToken("invalid literal", raw, field);
      return true;
    }
    case od::json_type::null: {
      const std::string_view raw = TrimJsonSpaceRight(value.raw_json_token());
      if (raw != "null") return MalformedToken("invalid literal", raw, field);
      return true;
    }
  }
  return true;
}

// The rules a record must meet beyond its values' types, so that whatever the data-quality
// checks (sql/postgres/checks/) demand of the tables is decided here, record by record, and no
// input can fail a run at its last step. Checked in a fixed order: the first broken rule is the
// reason. Returns false with reason_ set when the record breaks one.
bool RecordParser::Impl::CheckRules() {
  if (kind_ == FileKind::kSong) return CheckKeyLength(kSongSongId) && CheckKeyLength(kSongArtistId);

  // ts is required (checked before): in range for a timestamp, or the transform would fail.
  const int64_t ts = SlotInt(kEventTs);
  if (ts < kMinTs || ts > kMaxTs) {
    RuleReason(kEventTs, "is out of range for a time (0001-01-01 to 9999-12-31)");
    return false;
  }
  if (!CheckKeyLength(kEventUserId)) return false;
  if (slots_[kEventPage].state != SlotState::kValue || SlotText(kEventPage) != "NextSong") return true;

  // A play: it becomes a songplay with a user, and a songplay_id made of its session and item.
  if (SlotEmpty(kEventUserId)) {
    reason_ = "a play without a user";
    return false;
  }
  if (slots_[kEventSessionId].state != SlotState::kValue) {
    reason_ = "a play without a session";
    return false;
  }
  if (slots_[kEventItemInSession].state != SlotState::kValue) {
    reason_ = "a play without its place in the session";
    return false;
  }
  const int64_t session = SlotInt(kEventSessionId);
  if (session < kMinSessionId || session > kMaxSessionId) {
    RuleReason(kEventSessionId, "is out of range for a play (-549755813888 to 549755813887)");
    return false;
  }
  const int64_t item = SlotInt(kEventItemInSession);
  if (item < 0 || item > kMaxItemInSession) {
    RuleReason(kEventItemInSession, "is out of range for a play (0 to 16777215)");
    return false;
  }
  return true;
}

// A key longer than kMaxKeyBytes (counted unescaped) rejects the record.
bool RecordParser::Impl::CheckKeyLength(size_t col) {
  if (slots_[col].state != SlotState::kValue || slots_[col].size <= kMaxKeyBytes) return true;
  const std::string_view text = SlotText(col);
  size_t bytes = 0;
  for (size_t i = 0; i < text.size(); ++i, ++bytes) {
    if (text[i] == '\\') ++i;  // a COPY escape: two bytes for one
  }
  if (bytes <= kMaxKeyBytes) return true;
  RuleReason(col, "is longer than " + std::to_string(kMaxKeyBytes) + " bytes, too long for a key", /*quoted=*/true);
  return false;
}

// The value of an integer column's slot, which holds plain decimal digits (AppendInt's or a JSON
// integer's as written).
int64_t RecordParser::Impl::SlotInt(size_t col) const {
  const std::string_view text = SlotText(col);
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// reason_ = "field 'k': <value> <what>", as for a value that cannot load; text `quoted` as in
// JSON (its COPY escapes shown as they are).
void RecordParser::Impl::RuleReason(size_t col, std::string_view what, bool quoted) {
  reason_ = "field '";
  reason_ += columns_[col].key;
  reason_ += "': ";
  reason_ += Abbreviate(quoted ? "\"" + std::string(SlotText(col)) + "\"" : std::string(SlotText(col)), kReasonValueBytes);
  reason_ += ' ';
  reason_ += what;
}

void RecordParser::Impl::AppendRow(uint64_t line) {
  const size_t ncols = columns_.size();
  char line_text[24];
  const size_t line_size = static_cast<size_t>(std::to_chars(line_text, line_text + sizeof line_text, line).ptr - line_text);

  size_t size = row_prefix_.size() + line_size + ncols + 1;  // ncols tabs, one newline
  for (size_t i = 0; i < ncols; ++i) size += slots_[i].state == SlotState::kValue ? slots_[i].size : 2;

  std::string& out = *rows_;
  const size_t old_size = out.size();
  out.resize(old_size + size);
  char* w = out.data() + old_size;
  const auto put = [&w](const char* data, size_t n) {
    std::memcpy(w, data, n);
    w += n;
  };
  put(row_prefix_.data(), row_prefix_.size());
  put(line_text, line_size);
  for (size_t i = 0; i < ncols; ++i) {
    *w++ = '\t';
    if (slots_[i].state == SlotState::kValue) {
      put(scratch_.data() + slots_[i].offset, slots_[i].size);
    } else {
      put("\\N", 2);
    }
  }
  *w++ = '\n';
}

void RecordParser::Impl::SetInvalid(size_t col, std::string_view raw, std::string_view what) {
  slots_[col].state = SlotState::kInvalid;
  std::string& reason = slot_reasons_[col];
  reason = "field '";
  reason += columns_[col].key;
  reason += "': ";
  reason += Abbreviate(raw, kReasonValueBytes);
  reason += ' ';
  reason += what;
}

bool RecordParser::Impl::Malformed(simdjson::error_code error, std::string_view field) {
  reason_ = MalformedReason(error);
  if (!field.empty()) {
    reason_ += " (in field '";
    reason_ += Abbreviate(field, kReasonValueBytes);
    reason_ += "')";
  }
  return false;
}

bool RecordParser::Impl::MalformedToken(std::string_view what, std::string_view raw, std::string_view field) {
  reason_ = "malformed JSON: ";
  reason_ += what;
  reason_ += ' ';
  reason_ += Abbreviate(raw, kReasonValueBytes);
  if (!field.empty()) {
    reason_ += " (in field '";
    reason_ += Abbreviate(field, kReasonValueBytes);
    reason_ += "')";
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

RecordParser::RecordParser(ParserOptions options) : impl_(std::make_unique<Impl>(options)) {}
RecordParser::~RecordParser() = default;

FileParseResult RecordParser::Parse(FileKind kind, std::string_view body, std::string_view row_prefix,
                                    std::string* rows, ParsePosition position) {
  return impl_->Parse(kind, body, row_prefix, rows, position);
}

}  // namespace loadstar::worker
