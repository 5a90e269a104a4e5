#include "common/core/text.h"

#include <array>

namespace loadstar {

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimWhitespace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

size_t Utf8SequenceLength(std::string_view s) {
  if (s.empty()) return 0;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;                              // no overlongs
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;                        // no surrogates
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;                   // no overlongs
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;             // <= U+10FFFF
  return 0;
}

size_t Utf8CharCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  // Back over the continuation bytes of the character that straddles the limit: at most three
  // (a longer run is not UTF-8, and is cut where it stands).
  for (int back = 0; back < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++back) --n;
  return s.substr(0, n);
}

namespace {

// Which bytes COPY's text format needs escaped in a value, and which (NUL) it cannot hold.
constexpr std::array<uint8_t, 256> MakeCopySpecialTable() {
  std::array<uint8_t, 256> table{};
  table[static_cast<unsigned char>('\\')] = 1;
  table[static_cast<unsigned char>('\t')] = 1;
  table[static_cast<unsigned char>('\n')] = 1;
  table[static_cast<unsigned char>('\r')] = 1;
  table[0] = 1;
  return table;
}
constexpr std::array<uint8_t, 256> kCopySpecial = MakeCopySpecialTable();

}  // namespace

bool AppendCopyText(std::string_view value, std::string* out) {
  const char* p = value.data();
  const char* const end = p + value.size();
  while (p < end) {
    const char* run = p;
    while (p < end && !kCopySpecial[static_cast<unsigned char>(*p)]) ++p;
    out->append(run, p);
    if (p == end) break;
    switch (*p) {
      case '\\': out->append("\\\\", 2); break;
      case '\t': out->append("\\t", 2); break;
      case '\n': out->append("\\n", 2); break;
      case '\r': out->append("\\r", 2); break;
      default: return false;  // NUL
    }
    ++p;
  }
  return true;
}

void AppendUnescapedCopyText(std::string_view v, std::string* out) {
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c != '\\' || i + 1 == v.size()) {
      out->push_back(c);
      continue;
    }
    char e = v[++i];
    switch (e) {
      case 't': out->push_back('\t'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'v': out->push_back('\v'); break;
      default: out->push_back(e); break;  // "\\" and any other escaped character stand for themselves
    }
  }
}

std::string WithThousands(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace loadstar
