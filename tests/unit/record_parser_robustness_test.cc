// Randomised robustness checks for RecordParser: damaged inputs of every shape must never crash,
// must account for every record, and must only ever produce well-formed COPY rows. In
// newline-delimited files, damage to one line must not cost any other line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/storage/object_store.h"
#include "worker/parse/record_parser.h"

namespace loadstar::worker {
namespace {

// LOADSTAR_ROBUSTNESS_SCALE=N runs N times the iterations (for a longer soak by hand).
int Iterations(int base) {
  const char* scale = std::getenv("LOADSTAR_ROBUSTNESS_SCALE");
  return base * std::max(1, scale ? std::atoi(scale) : 1);
}

std::string Body(std::string_view text) {
  std::string body(text);
  body.append(kBodyPadding, ' ');
  body.resize(text.size());
  return body;
}

std::string EventLine(int64_t ts, std::mt19937& rng) {
  static const char* kSongs[] = {"You Gotta Be", "Caf\\u00c3\\u0083\\u00c2\\u00a9", "tab\\there", "q\\\"uote", "{[}]"};
  std::string s = R"({"artist":"Des'ree","auth":"Logged In","firstName":"Kaylee","itemInSession":)";
  s += std::to_string(rng() % 100);
  s += R"(,"length":246.30812,"page":"NextSong","registration":1540344794796.0,"sessionId":139,"song":")";
  s += kSongs[rng() % 5];
  s += R"(","status":200,"ts":)" + std::to_string(ts);
  s += R"(,"userAgent":"\"Mozilla\/5.0\"","userId":"8","extra":{"a":[1,2,{"b":null}]}})";
  return s;
}

// One random edit of `line`: the kinds of damage real files show, and some they do not.
std::string Damage(std::string line, std::mt19937& rng) {
  static const std::string kInserts[] = {"{", "}", "[", "]", "\"", "\\", ",", ":", "\xff", "\xc3", std::string(1, '\0'),
                                         "\n", "\r\n", " ", "null", "1e999", "\xEF\xBB\xBF"};
  if (line.empty()) return kInserts[rng() % std::size(kInserts)];
  const size_t pos = rng() % line.size();
  switch (rng() % 5) {
    case 0: return line.substr(0, pos);  // truncated
    case 1: return line.erase(pos, 1 + rng() % 3);
    case 2: return line.insert(pos, kInserts[rng() % std::size(kInserts)]);
    case 3: line[pos] = static_cast<char>(rng()); return line;
    default: {
      const size_t a = rng() % line.size(), b = rng() % line.size();
      std::swap(line[a], line[b]);
      return line;
    }
  }
}

// Checks the invariants every parse must keep; returns the ts values staged.
std::set<std::string> CheckInvariants(std::string_view text, const FileParseResult& r, const std::string& rows,
                                      std::string_view prefix) {
  EXPECT_EQ(r.records, r.staged + r.rejects.size());
  const size_t columns = StagingColumns(FileKind::kEvent).size();
  const size_t ts_index = 15;  // StagingColumns(kEvent)[15] == "ts"
  std::set<std::string> staged_ts;
  size_t rows_seen = 0;
  for (size_t start = 0; start < rows.size();) {
    size_t nl = rows.find('\n', start);
    EXPECT_NE(nl, std::string::npos);
    if (nl == std::string::npos) break;
    std::string_view row(rows.data() + start, nl - start);
    start = nl + 1;
    ++rows_seen;
    EXPECT_EQ(row.find('\0'), std::string_view::npos);
    EXPECT_EQ(row.find('\r'), std::string_view::npos);
    EXPECT_TRUE(row.substr(0, prefix.size()) == prefix);
    row.remove_prefix(prefix.size());
    std::vector<std::string_view> fields;
    for (size_t s = 0;;) {
      const size_t tab = row.find('\t', s);
      fields.push_back(row.substr(s, tab == std::string_view::npos ? std::string_view::npos : tab - s));
      if (tab == std::string_view::npos) break;
      s = tab + 1;
    }
    EXPECT_EQ(fields.size(), 1 + columns);
    if (fields.size() == 1 + columns) staged_ts.insert(std::string(fields[1 + ts_index]));
    // A backslash always starts a complete COPY escape.
    for (std::string_view f : fields) {
      if (f == "\\N") continue;
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '\\') continue;
        EXPECT_LT(i + 1, f.size());
        if (i + 1 < f.size()) {
          EXPECT_NE(std::string_view("\\tnr").find(f[i + 1]), std::string_view::npos) << f;
        }
        ++i;
      }
    }
  }
  EXPECT_EQ(rows_seen, r.staged);
  const uint64_t lines = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const RejectedRecord& rej : r.rejects) {
    EXPECT_GE(rej.line, 1u);
    EXPECT_LE(rej.line, lines);
    EXPECT_LT(rej.byte_offset, std::max<size_t>(text.size(), 1));
    EXPECT_LE(rej.excerpt.size(), 256u);
    EXPECT_EQ(rej.excerpt.find('\0'), std::string::npos);
    EXPECT_EQ(rej.reason.find('\0'), std::string::npos);
    EXPECT_FALSE(rej.reason.empty());
  }
  return staged_ts;
}

TEST(RecordParserRobustnessTest, OneDamagedLineCostsNoOtherLine) {
  std::mt19937 rng(20181101);
  RecordParser parser;
  for (int iteration = 0, iterations = Iterations(3000); iteration < iterations; ++iteration) {
    const int n = 1 + static_cast<int>(rng() % 8);
    const int damaged = static_cast<int>(rng() % n);
    std::vector<std::string> lines;
    for (int i = 0; i < n; ++i) lines.push_back(EventLine(1000 + i, rng));
    lines[damaged] = Damage(lines[damaged], rng);
    const char* eol = rng() % 4 == 0 ? "\r\n" : "\n";
    std::string text;
    for (int i = 0; i < n; ++i) text += lines[i] + (i + 1 < n ? eol : "");

    const std::string body = Body(text);
    std::string rows;
    const FileParseResult r = parser.Parse(FileKind::kEvent, body, "1\t2\t", &rows);
    const std::set<std::string> staged = CheckInvariants(text, r, rows, "1\t2\t");
    for (int i = 0; i < n; ++i) {
      if (i == damaged) continue;
      EXPECT_TRUE(staged.count(std::to_string(1000 + i))) << "line " << i + 1 << " lost; damaged line "
                                                           << damaged + 1 << ":\n" << text;
    }
    if (HasFailure()) break;
  }
}

TEST(RecordParserRobustnessTest, DamagedMultiDocumentFilesKeepTheInvariants) {
  std::mt19937 rng(42);
  RecordParser parser;
  for (int iteration = 0, iterations = Iterations(2000); iteration < iterations; ++iteration) {
    // A mix of compact and pretty-printed documents, then several random edits anywhere.
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      std::string doc = EventLine(i, rng);
      if (rng() % 2) {
        std::string pretty;
        for (char c : doc) {
          pretty += c;
          if (c == ',' && rng() % 3 == 0) pretty += "\n    ";
        }
        doc = pretty;
      }
      text += doc;
      text += rng() % 3 == 0 ? " " : "\n";
    }
    for (int edits = static_cast<int>(rng() % 4); edits > 0; --edits) text = Damage(text, rng);

    const std::string body = Body(text);
    std::string rows;
    const FileParseResult r = parser.Parse(FileKind::kEvent, body, "", &rows);
    CheckInvariants(text, r, rows, "");
    if (HasFailure()) {
      ADD_FAILURE() << "input:\n" << text;
      break;
    }
  }
}

TEST(RecordParserRobustnessTest, ArbitraryBytesKeepTheInvariants) {
  std::mt19937 rng(7);
  RecordParser parser;
  static const char kAlphabet[] = "{}[]\":,\\ \n\rtrue false null 0123456789.eE-+ab\xc3\xa9\xff";
  for (int iteration = 0, iterations = Iterations(5000); iteration < iterations; ++iteration) {
    std::string text(rng() % 200, ' ');
    for (char& c : text) c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
    const std::string body = Body(text);
    std::string rows;
    const FileParseResult r = parser.Parse(FileKind::kSong, body, "", &rows);
    EXPECT_EQ(r.records, r.staged + r.rejects.size());
    EXPECT_EQ(static_cast<uint64_t>(std::count(rows.begin(), rows.end(), '\n')), r.staged);
    if (HasFailure()) {
      ADD_FAILURE() << "input:\n" << text;
      break;
    }
  }
}

}  // namespace
}  // namespace loadstar::worker
