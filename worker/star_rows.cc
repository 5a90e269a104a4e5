#include "worker/star_rows.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <vector>

#include "common/core/text.h"
#include "worker/parse/record_parser.h"

namespace loadstar::worker {
namespace {

// Bob Jenkins' lookup3 mixing, as PostgreSQL's hash_bytes_extended uses it.
inline uint32_t Rot(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

inline void Mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c; a ^= Rot(c, 4);  c += b;
  b -= a; b ^= Rot(a, 6);  a += c;
  c -= b; c ^= Rot(b, 8);  b += a;
  a -= c; a ^= Rot(c, 16); c += b;
  b -= a; b ^= Rot(a, 19); a += c;
  c -= b; c ^= Rot(b, 4);  b += a;
}

inline void Final(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b; c -= Rot(b, 14);
  a ^= c; a -= Rot(c, 11);
  b ^= a; b -= Rot(a, 25);
  c ^= b; c -= Rot(b, 16);
  a ^= c; a -= Rot(c, 4);
  b ^= a; b -= Rot(a, 14);
  c ^= b; c -= Rot(b, 24);
}

// The fields of one COPY text row (without its newline).
void SplitFields(std::string_view row, std::vector<std::string_view>* fields) {
  fields->clear();
  while (true) {
    size_t tab = row.find('\t');
    fields->push_back(row.substr(0, tab));
    if (tab == std::string_view::npos) return;
    row.remove_prefix(tab + 1);
  }
}

bool IsNull(std::string_view field) { return field == "\\N"; }

std::optional<int64_t> IntField(std::string_view field) {
  int64_t v = 0;
  if (IsNull(field)) return std::nullopt;
  auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || p != field.data() + field.size()) return std::nullopt;
  return v;
}

std::optional<double> DoubleField(std::string_view field) {
  if (IsNull(field)) return std::nullopt;
  std::string_view f = field;
  if (!f.empty() && f.front() == '+') f.remove_prefix(1);  // from_chars takes no plus sign
  double v = 0;
  auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
  if (ec != std::errc() || p != f.data() + f.size()) return std::nullopt;
  return v;
}

// The match key of three COPY text fields (title or song, artist name, duration or length), as
// COPY text: NULL where any is NULL.
void AppendMatchKey(std::string_view title, std::string_view artist, std::string_view duration, std::string* out) {
  std::optional<double> d = DoubleField(duration);
  if (IsNull(title) || IsNull(artist) || !d) {
    out->append("\\N");
    return;
  }
  std::string t, a;
  AppendUnescapedCopyText(title, &t);
  AppendUnescapedCopyText(artist, &a);
  out->append(std::to_string(SongMatchKey(t, a, *d)));
}

// Where a column is in a parser row: after run_id, file_id and line.
size_t ColumnField(FileKind kind, std::string_view name) {
  const auto& cols = StagingColumns(kind);
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i] == name) return i + 3;
  }
  return SIZE_MAX;  // never: the names below are the parser's
}

struct EventFields {
  size_t first_name = ColumnField(FileKind::kEvent, "first_name");
  size_t gender = ColumnField(FileKind::kEvent, "gender");
  size_t item = ColumnField(FileKind::kEvent, "item_in_session");
  size_t last_name = ColumnField(FileKind::kEvent, "last_name");
  size_t length = ColumnField(FileKind::kEvent, "length");
  size_t level = ColumnField(FileKind::kEvent, "level");
  size_t location = ColumnField(FileKind::kEvent, "location");
  size_t page = ColumnField(FileKind::kEvent, "page");
  size_t session = ColumnField(FileKind::kEvent, "session_id");
  size_t song = ColumnField(FileKind::kEvent, "song");
  size_t artist = ColumnField(FileKind::kEvent, "artist");
  size_t ts = ColumnField(FileKind::kEvent, "ts");
  size_t user_agent = ColumnField(FileKind::kEvent, "user_agent");
  size_t user_id = ColumnField(FileKind::kEvent, "user_id");
  size_t count = StagingColumns(FileKind::kEvent).size() + 3;
};

const EventFields& Events() {
  static const EventFields f;
  return f;
}

// Text compared by its bytes, NULL (\N) after any value; unescaped only when it matters.
int CompareNullsLast(std::string_view a, std::string_view b) {
  const bool an = IsNull(a), bn = IsNull(b);
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  if (a == b) return 0;
  std::string ua, ub;
  AppendUnescapedCopyText(a, &ua);
  AppendUnescapedCopyText(b, &ub);
  return ua.compare(ub) < 0 ? -1 : (ua == ub ? 0 : 1);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yy + (*m <= 2));
}

int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "9.9990e+22" -> "9.999e+22", "1.0e+23" -> "1e+23".
std::string TrimMantissaZeros(std::string_view sci) {
  const size_t e = sci.find('e');
  std::string mantissa(sci.substr(0, e));
  if (mantissa.find('.') != std::string::npos) {
    while (mantissa.back() == '0') mantissa.pop_back();
    if (mantissa.back() == '.') mantissa.pop_back();
  }
  return mantissa + std::string(sci.substr(e));
}

// Whether the decimal `sci` (scientific, as std::to_chars or printf's %e writes it) is exactly
// halfway between v and a neighbouring double. A halfway point needs 54 bits, which long double
// holds exactly on the machines loadstar runs on, and glibc prints a long double's exact decimal
// expansion: the point is `sci` if that expansion, trailing zeros dropped, reads the same.
bool OnRoundingBound(double v, const std::string& sci) {
  // Below 2^51 no halfway point can be: it is m * 2^e with m odd and e <= -3, whose decimal
  // expansion has the digits of m * 5^-e: at least 19 for a normal double (m >= 2^53 - 1), hundreds
  // for a subnormal (e = -1075); a shortest form has at most 17. This keeps the exact test (two
  // long double expansions, most of a worker's time otherwise) off every ordinary value.
  if (std::fabs(v) < 0x1p51) return false;
  const std::string want = TrimMantissaZeros(sci);
  for (double neighbour : {std::nextafter(v, HUGE_VAL), std::nextafter(v, -HUGE_VAL)}) {
    if (!std::isfinite(neighbour)) continue;
    const long double halfway = (static_cast<long double>(v) + static_cast<long double>(neighbour)) / 2;
    char buf[128];
    std::snprintf(buf, sizeof(buf), "%.70Le", halfway);
    if (TrimMantissaZeros(buf) == want) return true;
  }
  return false;
}

}  // namespace

int64_t PostgresHashTextExtended(std::string_view bytes) {
  const auto* k = reinterpret_cast<const unsigned char*>(bytes.data());
  uint32_t len = static_cast<uint32_t>(bytes.size());
  uint32_t a, b, c;
  a = b = c = 0x9e3779b9 + len + 3923095;
  // Seed 0: no perturbation. Bytes are taken as little-endian words, as PostgreSQL does on the
  // machines it and loadstar run on (x86-64, arm64).
  while (len >= 12) {
    a += k[0] + (uint32_t{k[1]} << 8) + (uint32_t{k[2]} << 16) + (uint32_t{k[3]} << 24);
    b += k[4] + (uint32_t{k[5]} << 8) + (uint32_t{k[6]} << 16) + (uint32_t{k[7]} << 24);
    c += k[8] + (uint32_t{k[9]} << 8) + (uint32_t{k[10]} << 16) + (uint32_t{k[11]} << 24);
    Mix(a, b, c);
    k += 12;
    len -= 12;
  }
  switch (len) {  // the last 11 bytes; the lowest byte of c is reserved for the length
    case 11: c += uint32_t{k[10]} << 24; [[fallthrough]];
    case 10: c += uint32_t{k[9]} << 16; [[fallthrough]];
    case 9: c += uint32_t{k[8]} << 8; [[fallthrough]];
    case 8: b += uint32_t{k[7]} << 24; [[fallthrough]];
    case 7: b += uint32_t{k[6]} << 16; [[fallthrough]];
    case 6: b += uint32_t{k[5]} << 8; [[fallthrough]];
    case 5: b += k[4]; [[fallthrough]];
    case 4: a += uint32_t{k[3]} << 24; [[fallthrough]];
    case 3: a += uint32_t{k[2]} << 16; [[fallthrough]];
    case 2: a += uint32_t{k[1]} << 8; [[fallthrough]];
    case 1: a += k[0]; break;
    default: break;
  }
  Final(a, b, c);
  return static_cast<int64_t>((uint64_t{b} << 32) | c);
}

std::string Float8Text(double v) {
  if (v == 0) return "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string shortest(buf, static_cast<size_t>(res.ptr - buf));  // [-]d[.ddd]e(+|-)XX
  if (OnRoundingBound(v, shortest)) {
    // The shortest digits that read back as v lie exactly halfway to a neighbour; PostgreSQL's
    // output (Ryu without accepting bounds) takes the shortest strictly inside instead.
    for (int precision = 1; precision < 17; ++precision) {
      std::snprintf(buf, sizeof(buf), "%.*e", precision, v);
      if (std::strtod(buf, nullptr) == v && !OnRoundingBound(v, buf)) {
        shortest = TrimMantissaZeros(buf);
        break;
      }
    }
  }
  std::string_view sci(shortest);
  const size_t e = sci.find('e');
  const int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  if (exponent < -4 || exponent >= 15) return std::string(sci);
  std::string_view mantissa = sci.substr(0, e);
  std::string out;
  if (mantissa.front() == '-') {
    out.push_back('-');
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (char ch : mantissa) {
    if (ch != '.') digits.push_back(ch);
  }
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out += digits;
  } else {
    const size_t int_digits = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= int_digits) {
      out += digits;
      out.append(int_digits - digits.size(), '0');
    } else {
      out.append(digits, 0, int_digits);
      out.push_back('.');
      out.append(digits, int_digits, std::string::npos);
    }
  }
  return out;
}

int64_t SongMatchKey(std::string_view title, std::string_view artist_name, double duration) {
  std::string key;
  key.reserve(title.size() + artist_name.size() + 32);
  key.append(title);
  key.push_back('\x1f');
  key.append(artist_name);
  key.push_back('\x1f');
  key.append(Float8Text(duration + 0.0));
  return PostgresHashTextExtended(key);
}

TimeParts TimePartsOf(int64_t ts_ms) {
  constexpr int64_t kDayMs = 86400000;
  const int64_t days = FloorDiv(ts_ms, kDayMs);
  const int64_t ms = ts_ms - days * kDayMs;
  TimeParts t;
  t.hour = static_cast<int>(ms / 3600000);
  CivilFromDays(days, &t.year, &t.month, &t.day);
  const int64_t dow = ((days + 4) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
  t.weekday = static_cast<int>(dow);
  // ISO 8601 week: the week's Thursday decides its year.
  const int64_t iso_dow = dow == 0 ? 7 : dow;
  const int64_t thursday = days - iso_dow + 4;
  int ty, tm, td;
  CivilFromDays(thursday, &ty, &tm, &td);
  t.week = static_cast<int>((thursday - DaysFromCivil(ty, 1, 1)) / 7 + 1);
  return t;
}

void ShapeSongRows(std::string_view song_rows, StagedRows* out) {
  static const size_t title = ColumnField(FileKind::kSong, "title");
  static const size_t artist = ColumnField(FileKind::kSong, "artist_name");
  static const size_t duration = ColumnField(FileKind::kSong, "duration");
  std::vector<std::string_view> f;
  while (!song_rows.empty()) {
    size_t nl = song_rows.find('\n');
    std::string_view row = song_rows.substr(0, nl);
    song_rows.remove_prefix(nl == std::string_view::npos ? song_rows.size() : nl + 1);
    SplitFields(row, &f);
    out->songs.append(row);
    out->songs.push_back('\t');
    if (f.size() > std::max({title, artist, duration})) {
      AppendMatchKey(f[title], f[artist], f[duration], &out->songs);
    } else {
      out->songs.append("\\N");
    }
    out->songs.push_back('\n');
    ++out->rows;
  }
}

bool EventShaper::Later(const User& a, const User& b) {
  if (a.ts != b.ts) return a.ts > b.ts;
  if (a.session_id != b.session_id) return a.session_id > b.session_id;  // nullopt is lowest
  if (a.item_in_session != b.item_in_session) return a.item_in_session > b.item_in_session;
  for (auto [x, y] : {std::pair{&a.first_name, &b.first_name}, std::pair{&a.last_name, &b.last_name},
                      std::pair{&a.gender, &b.gender}, std::pair{&a.level, &b.level}}) {
    const int c = CompareNullsLast(*x, *y);
    if (c != 0) return c < 0;
  }
  return false;
}

void EventShaper::Add(std::string_view rows, StagedRows* out) {
  const EventFields& e = Events();
  std::vector<std::string_view>& f = fields_;
  while (!rows.empty()) {
    size_t nl = rows.find('\n');
    std::string_view row = rows.substr(0, nl);
    rows.remove_prefix(nl == std::string_view::npos ? rows.size() : nl + 1);
    SplitFields(row, &f);
    if (f.size() != e.count) continue;  // never: the parser writes every column
    const std::optional<int64_t> ts = IntField(f[e.ts]);
    if (!ts) continue;  // never: ts is required
    const std::string_view user_id = f[e.user_id];
    if (!IsNull(user_id) && !user_id.empty()) {
      User u;
      u.ts = *ts;
      u.session_id = IntField(f[e.session]);
      u.item_in_session = IntField(f[e.item]);
      auto it = users_.find(user_id);
      // The attributes are copied only for a first or later event (most events of a file are a
      // user's earlier ones); ties on the keys compare them too.
      const bool tie = it != users_.end() && u.ts == it->second.ts && u.session_id == it->second.session_id &&
                       u.item_in_session == it->second.item_in_session;
      const bool keys_later = it != users_.end() && !tie &&
                              std::tie(u.ts, u.session_id, u.item_in_session) >
                                  std::tie(it->second.ts, it->second.session_id, it->second.item_in_session);
      if (it == users_.end() || keys_later || tie) {
        u.line = f[2];
        u.first_name = f[e.first_name];
        u.last_name = f[e.last_name];
        u.gender = f[e.gender];
        u.level = f[e.level];
        if (it == users_.end()) {
          users_.emplace(std::string(user_id), std::move(u));
        } else if (keys_later || Later(u, it->second)) {
          it->second = std::move(u);
        }
      }
    }
    if (f[e.page] != "NextSong") continue;
    const std::optional<int64_t> session = IntField(f[e.session]);
    const std::optional<int64_t> item = IntField(f[e.item]);
    if (!session || !item) continue;  // never: the parser rejects such a play
    std::string& p = out->plays;
    p.append(prefix_);
    p.append(f[2]);
    p.push_back('\t');
    p.append(std::to_string(*session * 16777216 + *item));
    p.push_back('\t');
    p.append(f[e.ts]);
    for (size_t i : {e.user_id, e.level, e.session, e.location, e.user_agent}) {
      p.push_back('\t');
      p.append(f[i]);
    }
    p.push_back('\t');
    AppendMatchKey(f[e.song], f[e.artist], f[e.length], &p);
    p.push_back('\n');
    ++out->rows;
    times_.push_back(*ts);
  }
}

void EventShaper::Finish(StagedRows* out) {
  for (const auto& [user_id, u] : users_) {
    std::string& r = out->users;
    r.append(prefix_);
    r.append(u.line);
    r.push_back('\t');
    r.append(user_id);
    for (const std::string* v : {&u.first_name, &u.last_name, &u.gender, &u.level}) {
      r.push_back('\t');
      r.append(*v);
    }
    r.push_back('\t');
    r.append(std::to_string(u.ts));
    r.push_back('\t');
    r.append(u.session_id ? std::to_string(*u.session_id) : "\\N");
    r.push_back('\t');
    r.append(u.item_in_session ? std::to_string(*u.item_in_session) : "\\N");
    r.push_back('\n');
    ++out->rows;
  }
  std::sort(times_.begin(), times_.end());
  times_.erase(std::unique(times_.begin(), times_.end()), times_.end());
  for (int64_t ts : times_) {
    const TimeParts t = TimePartsOf(ts);
    std::string& r = out->times;
    r.append(prefix_);
    r.append(std::to_string(ts));
    for (int v : {t.hour, t.day, t.week, t.month, t.year, t.weekday}) {
      r.push_back('\t');
      r.append(std::to_string(v));
    }
    r.push_back('\n');
    ++out->rows;
  }
  users_.clear();
  times_.clear();
}

}  // namespace loadstar::worker
