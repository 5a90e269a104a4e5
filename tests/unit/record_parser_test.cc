#include "worker/parse/record_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/storage/object_store.h"

namespace loadstar::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view kPrefix = "R\tF\t";

// `text` as a fetched body holds it: with kBodyPadding readable bytes past the end.
std::string Body(std::string_view text) {
  std::string body(text);
  body.append(kBodyPadding, ' ');
  body.resize(text.size());  // keeps the capacity, and the padding bytes in it
  return body;
}

struct Parsed {
  FileParseResult result;
  std::string rows;                             // the COPY text as appended
  std::vector<std::vector<std::string>> lines;  // each row split on tabs, prefix columns dropped
};

Parsed ParseWith(RecordParser& parser, FileKind kind, std::string_view text) {
  Parsed p;
  const std::string body = Body(text);
  p.result = parser.Parse(kind, body, kPrefix, &p.rows);
  EXPECT_EQ(p.result.records, p.result.staged + p.result.rejects.size()) << "every record accounted for";
  std::string_view rest = p.rows;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    EXPECT_NE(nl, std::string_view::npos) << "rows end in a newline";
    std::string_view row = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    EXPECT_TRUE(row.substr(0, kPrefix.size()) == kPrefix) << row;
    row.remove_prefix(kPrefix.size());
    std::vector<std::string> fields;
    for (size_t start = 0;;) {
      const size_t tab = row.find('\t', start);
      fields.emplace_back(row.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    EXPECT_EQ(fields.size(), 1 + StagingColumns(kind).size()) << row;
    p.lines.push_back(std::move(fields));
  }
  EXPECT_EQ(p.lines.size(), p.result.staged);
  return p;
}

Parsed Parse(FileKind kind, std::string_view text, ParserOptions options = {}) {
  RecordParser parser(options);
  return ParseWith(parser, kind, text);
}

Parsed Events(std::string_view text, ParserOptions options = {}) { return Parse(FileKind::kEvent, text, options); }
Parsed Songs(std::string_view text, ParserOptions options = {}) { return Parse(FileKind::kSong, text, options); }

// The value of staging column `column` in a row of Parsed::lines (index 0 is `line`).
std::string Col(const std::vector<std::string>& row, FileKind kind, std::string_view column) {
  const auto& cols = StagingColumns(kind);
  const auto it = std::find(cols.begin(), cols.end(), column);
  EXPECT_NE(it, cols.end()) << column;
  if (it == cols.end()) return "<no such column>";
  return row.at(1 + static_cast<size_t>(it - cols.begin()));
}
std::string Ev(const Parsed& p, size_t row, std::string_view column) {
  return Col(p.lines.at(row), FileKind::kEvent, column);
}
std::string So(const Parsed& p, size_t row, std::string_view column) {
  return Col(p.lines.at(row), FileKind::kSong, column);
}

// A minimal valid event with `extra` members added after "ts".
std::string Event(int64_t ts, std::string_view extra = "") {
  std::string s = "{\"ts\":" + std::to_string(ts);
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

TEST(StagingColumnsTest, MatchTheSchemaOrder) {
  EXPECT_THAT(StagingColumns(FileKind::kEvent),
              ElementsAre("artist", "auth", "first_name", "gender", "item_in_session", "last_name", "length", "level",
                          "location", "method", "page", "registration", "session_id", "song", "status", "ts",
                          "user_agent", "user_id"));
  EXPECT_THAT(StagingColumns(FileKind::kSong),
              ElementsAre("num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location",
                          "artist_name", "song_id", "title", "duration", "year"));
}

TEST(RecordParserTest, SampleSongFileGivesExactRow) {
  // song_data/A/B/C/TRABCEI128F424C983.json, byte for byte (no trailing newline).
  const Parsed p = Songs(
      R"({"num_songs": 1, "artist_id": "ARJIE2Y1187B994AB7", "artist_latitude": null, "artist_longitude": null, )"
      R"("artist_location": "", "artist_name": "Line Renaud", "song_id": "SOUPIRU12A6D4FA1E1", )"
      R"("title": "Der Kleine Dompfaff", "duration": 152.92036, "year": 0})");
  EXPECT_EQ(p.result.records, 1u);
  EXPECT_EQ(p.rows,
            "R\tF\t1\t1\tARJIE2Y1187B994AB7\t\\N\t\\N\t\tLine Renaud\tSOUPIRU12A6D4FA1E1\tDer Kleine Dompfaff\t"
            "152.92036\t0\n");
}

TEST(RecordParserTest, SampleEventLineGivesExactRow) {
  // The first line of log_data/2018/11/2018-11-01-events.json.
  const Parsed p = Events(
      R"({"artist":null,"auth":"Logged In","firstName":"Walter","gender":"M","itemInSession":0,"lastName":"Frye",)"
      R"("length":null,"level":"free","location":"San Francisco-Oakland-Hayward, CA","method":"GET","page":"Home",)"
      R"("registration":1540919166796.0,"sessionId":38,"song":null,"status":200,"ts":1541105830796,)"
      R"("userAgent":"\"Mozilla\/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit\/537.36 (KHTML, like Gecko) )"
      R"(Chrome\/36.0.1985.143 Safari\/537.36\"","userId":"39"})");
  EXPECT_EQ(p.result.records, 1u);
  EXPECT_EQ(p.rows,
            "R\tF\t1\t\\N\tLogged In\tWalter\tM\t0\tFrye\t\\N\tfree\tSan Francisco-Oakland-Hayward, CA\tGET\tHome\t"
            "1540919166796.0\t38\t\\N\t200\t1541105830796\t"
            "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/36.0.1985.143 Safari/537.36\"\t39\n");
}

TEST(RecordParserTest, EmptyAndWhitespaceOnlyFilesHoldNoRecords) {
  for (std::string_view text : {"", " ", "\n", " \r\n\t \n\n", "\xEF\xBB\xBF", "\xEF\xBB\xBF  \r\n"}) {
    const Parsed p = Events(text);
    EXPECT_EQ(p.result.records, 0u) << text;
    EXPECT_TRUE(p.result.rejects.empty());
    EXPECT_TRUE(p.rows.empty());
  }
}

TEST(RecordParserTest, ByteOrderMarkIsSkippedButCountsInOffsets) {
  Parsed p = Events("\xEF\xBB\xBF" + Event(1));
  EXPECT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "ts"), "1");

  p = Events("\xEF\xBB\xBF{\"ts\":}");
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].line, 1u);
  EXPECT_EQ(p.result.rejects[0].byte_offset, 3u);
}

TEST(RecordParserTest, CrlfLineEnds) {
  const Parsed p = Events(Event(1, R"("song":"a")") + "\r\n" + Event(2) + "\r\n\r\n" + Event(3) + "\r\n");
  EXPECT_EQ(p.result.records, 3u);
  EXPECT_EQ(p.result.staged, 3u);
  EXPECT_EQ(Ev(p, 0, "song"), "a");
  EXPECT_EQ(p.lines[0][0], "1");
  EXPECT_EQ(p.lines[1][0], "2");
  EXPECT_EQ(p.lines[2][0], "4");
}

TEST(RecordParserTest, BlankLinesAndTrailingWhitespace) {
  const Parsed p = Events("\n\n" + Event(1) + "   \t\n\n  \n" + Event(2) + "  \n \n");
  EXPECT_EQ(p.result.records, 2u);
  EXPECT_EQ(p.result.staged, 2u);
  EXPECT_EQ(p.lines[0][0], "3");
  EXPECT_EQ(p.lines[1][0], "6");
}

TEST(RecordParserTest, PrettyPrintedObjects) {
  const std::string text =
      "{\n"
      "    \"num_songs\": 1,\n"
      "    \"artist_id\": \"AR1\",\n"
      "    \"extra\": {\n"
      "        \"nested\": [1, 2, {\"x\": \"}\"}]\n"
      "    },\n"
      "    \"song_id\": \"SO1\",\n"
      "    \"title\": \"First {\"\n"
      "}\n"
      "{\n"
      "    \"artist_id\": \"AR2\",\r\n"
      "    \"song_id\": \"SO2\"\r\n"
      "}";
  const Parsed p = Songs(text);
  EXPECT_EQ(p.result.records, 2u);
  EXPECT_EQ(p.result.staged, 2u);
  EXPECT_EQ(p.lines[0][0], "1");
  EXPECT_EQ(So(p, 0, "song_id"), "SO1");
  EXPECT_EQ(So(p, 0, "title"), "First {");
  EXPECT_EQ(p.lines[1][0], "10");
  EXPECT_EQ(So(p, 1, "artist_id"), "AR2");
}

TEST(RecordParserTest, SeveralCompactObjectsOnOneLine) {
  const std::string a = Event(1), b = Event(2), c = Event(3);
  const Parsed p = Events(a + b + " " + c + "\n" + Event(4));
  EXPECT_EQ(p.result.records, 4u);
  EXPECT_EQ(p.result.staged, 4u);
  EXPECT_EQ(Ev(p, 1, "ts"), "2");
  EXPECT_EQ(p.lines[2][0], "1");
  EXPECT_EQ(p.lines[3][0], "2");

  // A bad one among them rejects only itself, at its own offset.
  const Parsed q = Events(a + "{\"ts\":2,}" + c);
  EXPECT_EQ(q.result.records, 3u);
  EXPECT_EQ(q.result.staged, 2u);
  ASSERT_EQ(q.result.rejects.size(), 1u);
  EXPECT_EQ(q.result.rejects[0].byte_offset, a.size());
  EXPECT_EQ(q.result.rejects[0].excerpt, "{\"ts\":2,}");
}

TEST(RecordParserTest, MalformedLineInTheMiddleRejectsOnlyItself) {
  const std::string l1 = Event(1), l2 = R"({"ts":2,"song":"unterminated)", l3 = Event(3);
  const Parsed p = Events(l1 + "\n" + l2 + "\n" + l3);
  EXPECT_EQ(p.result.records, 3u);
  EXPECT_EQ(p.result.staged, 2u);
  ASSERT_EQ(p.result.rejects.size(), 1u);
  const RejectedRecord& r = p.result.rejects[0];
  EXPECT_EQ(r.line, 2u);
  EXPECT_EQ(r.byte_offset, l1.size() + 1);
  EXPECT_THAT(r.reason, HasSubstr("malformed JSON"));
  EXPECT_EQ(r.excerpt, l2);
  EXPECT_EQ(Ev(p, 1, "ts"), "3");
  EXPECT_EQ(p.lines[1][0], "3");
}

TEST(RecordParserTest, UnbalancedBracketsOnOneLineRejectOnlyThatLine) {
  // An unclosed '{' would pair with later lines' brackets; the lines are then read one by one.
  const std::string text = Event(1) + "\n" + R"({"ts":2,"x":{"y":1})" + "\n" + Event(3) + "\n" + Event(4) +
                           "\n" + R"({"ts":5}})" + "\n" + Event(6);
  const Parsed p = Events(text);
  ASSERT_EQ(p.result.rejects.size(), 2u);
  EXPECT_EQ(p.result.rejects[0].line, 2u);
  EXPECT_EQ(p.result.rejects[1].line, 5u);  // the stray '}' after a good object
  EXPECT_EQ(p.result.rejects[1].excerpt, "}");
  std::vector<std::string> ts;
  for (size_t i = 0; i < p.lines.size(); ++i) ts.push_back(Ev(p, i, "ts"));
  EXPECT_THAT(ts, ElementsAre("1", "3", "4", "5", "6"));
  EXPECT_EQ(p.result.records, 7u);
}

TEST(RecordParserTest, TruncatedLastRecord) {
  const Parsed p = Events(Event(1) + "\n" + R"({"ts":2,"artist":"Tru)");
  EXPECT_EQ(p.result.records, 2u);
  EXPECT_EQ(p.result.staged, 1u);
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].line, 2u);
  EXPECT_THAT(p.result.rejects[0].reason, HasSubstr("unterminated"));

  const Parsed q = Events(Event(1) + "\n{\"ts\":2,\n\"artist\":3");
  EXPECT_EQ(q.result.records, 2u);
  ASSERT_EQ(q.result.rejects.size(), 1u);
  EXPECT_EQ(q.result.rejects[0].line, 2u);
  EXPECT_EQ(q.result.rejects[0].excerpt, "{\"ts\":2,\n\"artist\":3");
}

TEST(RecordParserTest, MalformedPrettyPrintedObjectIsOneRecord) {
  const std::string text =
      "{\n"
      "  \"ts\": 1,\n"
      "  \"artist\" \"missing colon\"\n"
      "}\n"
      "{\n"
      "  \"ts\": 2\n"
      "}\n";
  const Parsed p = Events(text);
  EXPECT_EQ(p.result.records, 2u);
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].line, 1u);
  EXPECT_EQ(p.result.rejects[0].byte_offset, 0u);
  EXPECT_THAT(p.result.rejects[0].reason, HasSubstr("malformed JSON"));
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(p.lines[0][0], "5");
}

TEST(RecordParserTest, ContentAfterADocumentIsItsOwnRecord) {
  const Parsed p = Events(Event(1) + " trailing words\n" + Event(2));
  EXPECT_EQ(p.result.records, 3u);
  EXPECT_EQ(p.result.staged, 2u);
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].excerpt, "trailing words");
  EXPECT_EQ(p.result.rejects[0].byte_offset, Event(1).size() + 1);
}

TEST(RecordParserTest, InvalidUtf8IsRejected) {
  const Parsed p = Events(Event(1, "\"song\":\"caf\xE9\"") + "\n" + Event(2, "\"song\":\"\xED\xA0\x80\"") + "\n" +
                          Event(3, "\"song\":\"caf\xC3\xA9\""));
  EXPECT_EQ(p.result.records, 3u);
  ASSERT_EQ(p.result.rejects.size(), 2u);
  for (const RejectedRecord& r : p.result.rejects) {
    EXPECT_THAT(r.reason, HasSubstr("UTF-8"));
    EXPECT_TRUE(IsValidUtf8(r.excerpt)) << r.excerpt;
  }
  EXPECT_THAT(p.result.rejects[0].excerpt, HasSubstr("caf\xEF\xBF\xBD"));  // U+FFFD for the bad byte
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "song"), "caf\xC3\xA9");
}

TEST(RecordParserTest, NulCharacterInAStringIsRejected) {
  Parsed p = Events(Event(1, R"("song":"a\u0000b")"));
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_THAT(p.result.rejects[0].reason, HasSubstr("field 'song'"));
  EXPECT_THAT(p.result.rejects[0].reason, HasSubstr("NUL"));

  // A raw NUL byte is not JSON at all; the excerpt shows it as U+FFFD, never as NUL.
  const char kRawNul[] = "{\"ts\":1,\"song\":\"a\0b\"}";
  p = Events(std::string_view(kRawNul, sizeof kRawNul - 1));
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].excerpt.find('\0'), std::string::npos);

  // In a field nobody loads, \u0000 is harmless.
  p = Events(Event(1, R"("comment":"a\u0000b")"));
  EXPECT_EQ(p.result.staged, 1u);
}

TEST(RecordParserTest, NumberIntoTextKeepsItsTextAsWritten) {
  const Parsed p = Songs(R"({"artist_id": 12, "song_id": -0, "title": 123.50, "artist_name": 1E+5, )"
                         R"("artist_location": 1e400})");
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(So(p, 0, "artist_id"), "12");
  EXPECT_EQ(So(p, 0, "song_id"), "-0");
  EXPECT_EQ(So(p, 0, "title"), "123.50");
  EXPECT_EQ(So(p, 0, "artist_name"), "1E+5");
  EXPECT_EQ(So(p, 0, "artist_location"), "1e400");
}

TEST(RecordParserTest, BooleansObjectsAndArraysIntoText) {
  const Parsed p = Events(Event(1, R"("song": true, "artist": false, "userId": [1, "a b", {"k": null}], )"
                                   R"("location": { "x" : "tab\there", "y" : [ ] })"));
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "song"), "true");
  EXPECT_EQ(Ev(p, 0, "artist"), "false");
  EXPECT_EQ(Ev(p, 0, "user_id"), R"([1,"a b",{"k":null}])");
  // The JSON escape \t stays two characters, its backslash escaped for COPY.
  EXPECT_EQ(Ev(p, 0, "location"), R"({"x":"tab\\there","y":[]})");
}

TEST(RecordParserTest, StringsHoldingNumbersLoadIntoNumericColumns) {
  const Parsed p = Events(R"({"ts":" 1541105830796 ","itemInSession":"12.0","status":"+200","sessionId":"1e3",)"
                          R"("length":"218.5","registration":" .5 "})");
  ASSERT_EQ(p.result.staged, 1u) << (p.result.rejects.empty() ? "" : p.result.rejects[0].reason);
  EXPECT_EQ(Ev(p, 0, "ts"), "1541105830796");
  EXPECT_EQ(Ev(p, 0, "item_in_session"), "12");
  EXPECT_EQ(Ev(p, 0, "status"), "200");
  EXPECT_EQ(Ev(p, 0, "session_id"), "1000");
  EXPECT_EQ(Ev(p, 0, "length"), "218.5");
  EXPECT_EQ(Ev(p, 0, "registration"), "0.5");
}

TEST(RecordParserTest, StringsThatAreNotNumbersAreRejected) {
  struct Case {
    std::string extra;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {R"("status":"abc")", R"(field 'status': "abc" is not an integer)"},
      {R"("status":"")", R"(field 'status': "" is not an integer)"},
      {R"("status":"12 3")", R"(field 'status': "12 3" is not an integer)"},
      {R"("length":"NaN")", R"(field 'length': "NaN" is not a number)"},
      {R"("length":"Infinity")", R"(field 'length': "Infinity" is not a number)"},
      {R"("length":"0x10")", R"(field 'length': "0x10" is not a number)"},
      {R"("length":"1e400")", R"(field 'length': "1e400" is out of range for double precision)"},
      {R"("status":"12.5")", R"(field 'status': "12.5" is not an integer)"},
  };
  for (const Case& c : cases) {
    const Parsed p = Events(Event(1, c.extra));
    ASSERT_EQ(p.result.rejects.size(), 1u) << c.extra;
    EXPECT_EQ(p.result.rejects[0].reason, c.reason);
  }
  const Parsed p = Events(R"({"ts":"abc"})");
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].reason, R"(field 'ts': "abc" is not an integer)");
}

TEST(RecordParserTest, IntegerRanges) {
  // Not a play (no page "NextSong"), so the ranges a songplay_id needs do not apply.
  Parsed p = Events(Event(1, R"("itemInSession":-2147483648,"status":2147483647,)"
                             R"("sessionId":9223372036854775807)"));
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "item_in_session"), "-2147483648");
  EXPECT_EQ(Ev(p, 0, "status"), "2147483647");
  EXPECT_EQ(Ev(p, 0, "session_id"), "9223372036854775807");
  p = Events(Event(1, R"("sessionId":-9223372036854775808)"));
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "session_id"), "-9223372036854775808");

  const std::vector<std::pair<std::string, std::string>> out_of_range = {
      {R"("status":2147483648)", "field 'status': 2147483648 is out of range for integer"},
      {R"("itemInSession":-2147483649)", "field 'itemInSession': -2147483649 is out of range for integer"},
      {R"("status":3000000000)", "field 'status': 3000000000 is out of range for integer"},
      {R"("sessionId":9223372036854775808)", "field 'sessionId': 9223372036854775808 is out of range for bigint"},
      {R"("sessionId":-9223372036854775809)", "field 'sessionId': -9223372036854775809 is out of range for bigint"},
      {R"("sessionId":1e19)", "field 'sessionId': 1e19 is out of range for bigint"},
      {R"("sessionId":1e100000000000)", "field 'sessionId': 1e100000000000 is out of range for bigint"},
  };
  for (const auto& [extra, reason] : out_of_range) {
    p = Events(Event(1, extra));
    ASSERT_EQ(p.result.rejects.size(), 1u) << extra;
    EXPECT_EQ(p.result.rejects[0].reason, reason);
  }
}

TEST(RecordParserTest, IntegralNumbersLoadIntoIntegerColumnsNonIntegralOnesReject) {
  Parsed p = Events(R"({"ts":1.541105830796e12,"itemInSession":12.0,"status":1.2e1,"sessionId":-0.0})");
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "ts"), "1541105830796");
  EXPECT_EQ(Ev(p, 0, "item_in_session"), "12");
  EXPECT_EQ(Ev(p, 0, "status"), "12");
  EXPECT_EQ(Ev(p, 0, "session_id"), "0");

  for (std::string extra : {R"("status":12.5)", R"("status":1e-1)", R"("sessionId":0.0000001)",
                            R"("itemInSession":1.00000000000000000001)"}) {
    p = Events(Event(1, extra));
    ASSERT_EQ(p.result.rejects.size(), 1u) << extra;
    EXPECT_THAT(p.result.rejects[0].reason, HasSubstr("is not an integer"));
  }
  p = Events(R"({"ts":1541105830796.5})");
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].reason, "field 'ts': 1541105830796.5 is not an integer");
}

TEST(RecordParserTest, DoublesMustBeFiniteAndNotUnderflow) {
  Parsed p = Events(Event(1, R"("length":4.9e-324,"registration":-0.0)"));
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "length"), "4.9e-324");
  EXPECT_EQ(Ev(p, 0, "registration"), "-0.0");

  p = Events(Event(1, R"("length":1e400)"));
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].reason, "field 'length': 1e400 is out of range for double precision");
  p = Events(Event(1, R"("length":1e-400)"));  // PostgreSQL rejects a non-zero value that rounds to 0
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].reason, "field 'length': 1e-400 is out of range for double precision");
}

TEST(RecordParserTest, BooleansObjectsAndArraysIntoNumericColumnsAreRejected) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"ts":true})", "field 'ts': true is not a number"},
      {R"({"ts":1,"length":false})", "field 'length': false is not a number"},
      {R"({"ts":1,"status":{"a":1}})", "field 'status': an object is not a number"},
      {R"({"ts":[1]})", "field 'ts': an array is not a number"},
  };
  for (const auto& [text, reason] : cases) {
    const Parsed p = Events(text);
    ASSERT_EQ(p.result.rejects.size(), 1u) << text;
    EXPECT_EQ(p.result.rejects[0].reason, reason);
  }
}

TEST(RecordParserTest, MissingOrNullRequiredFieldsAreRejected) {
  const std::vector<std::pair<std::string, std::string>> events = {
      {R"({"artist":"x"})", "missing required field 'ts'"},
      {R"({"artist":"x","ts":null})", "required field 'ts' is null"},
      {R"({})", "missing required field 'ts'"},
  };
  for (const auto& [text, reason] : events) {
    const Parsed p = Events(text);
    ASSERT_EQ(p.result.rejects.size(), 1u) << text;
    EXPECT_EQ(p.result.rejects[0].reason, reason);
  }
  const std::vector<std::pair<std::string, std::string>> songs = {
      {R"({"artist_id":"AR1","title":"x"})", "missing required field 'song_id'"},
      {R"({"artist_id":null,"song_id":"SO1"})", "required field 'artist_id' is null"},
  };
  for (const auto& [text, reason] : songs) {
    const Parsed p = Songs(text);
    ASSERT_EQ(p.result.rejects.size(), 1u) << text;
    EXPECT_EQ(p.result.rejects[0].reason, reason);
  }
  // Other fields may be null or missing.
  const Parsed p = Songs(R"({"artist_id":"AR1","song_id":"SO1","year":null})");
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(So(p, 0, "year"), "\\N");
  EXPECT_EQ(So(p, 0, "title"), "\\N");
}

// ---- Rules that keep every data-quality check passable, decided record by record -----------

// A NextSong event with all it takes to become a songplay; `extra` members come after "ts", and a
// key given again in `extra` overrides the one here (the last occurrence wins).
std::string Play(std::string_view extra = "") {
  std::string s = R"({"page":"NextSong","sessionId":10,"itemInSession":3,"userId":"7","ts":1541105830796)";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

std::string RejectReason(FileKind kind, const std::string& text) {
  const Parsed p = Parse(kind, text);
  EXPECT_EQ(p.result.records, 1u) << text;
  if (p.result.rejects.size() != 1) {
    ADD_FAILURE() << "not rejected: " << text;
    return "";
  }
  return p.result.rejects[0].reason;
}

TEST(RecordParserRulesTest, ACompletePlayStages) {
  const Parsed p = Events(Play());
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "user_id"), "7");
}

// songplays_of_the_run (songplays_user_in_users on Redshift): every songplay has a user.
TEST(RecordParserRulesTest, APlayWithoutAUserIsRejected) {
  for (const std::string& text : {
           std::string(R"({"page":"NextSong","sessionId":10,"itemInSession":3,"ts":1541105830796})"),
           Play(R"("userId":null)"),
           Play(R"("userId":"")"),
       }) {
    EXPECT_EQ(RejectReason(FileKind::kEvent, text), "a play without a user") << text;
  }
  // Other pages come from logged-out visitors too: they load without a user.
  for (const std::string& text : {Event(1, R"("page":"Home","userId":"")"), Event(1, R"("page":"Home")"),
                                  Event(1, R"("page":"nextsong","userId":"")")}) {
    EXPECT_EQ(Events(text).result.staged, 1u) << text;
  }
  // Any non-empty value is a user, a number included.
  EXPECT_EQ(Events(Play(R"("userId":0)")).result.staged, 1u);
  EXPECT_EQ(Events(Play(R"("userId":" ")")).result.staged, 1u);
}

// songplays_of_the_run (songplays_count_matches_run on Redshift) and songplays_primary_key:
// songplay_id = sessionId * 2^24 + itemInSession must not be NULL.
TEST(RecordParserRulesTest, APlayWithoutASessionOrItemIsRejected) {
  EXPECT_EQ(RejectReason(FileKind::kEvent, Play(R"("sessionId":null)")), "a play without a session");
  EXPECT_EQ(RejectReason(FileKind::kEvent, R"({"page":"NextSong","itemInSession":3,"userId":"7","ts":1})"),
            "a play without a session");
  EXPECT_EQ(RejectReason(FileKind::kEvent, Play(R"("itemInSession":null)")), "a play without its place in the session");
  EXPECT_EQ(RejectReason(FileKind::kEvent, R"({"page":"NextSong","sessionId":10,"userId":"7","ts":1})"),
            "a play without its place in the session");
  // The first rule broken is the reason.
  EXPECT_EQ(RejectReason(FileKind::kEvent, R"({"page":"NextSong","ts":1})"), "a play without a user");
  // Not a play: nothing is made of its session.
  EXPECT_EQ(Events(Event(1, R"("page":"Home","userId":"7")")).result.staged, 1u);
}

// songplay_id must fit in bigint (the transform would fail) and be unique per (sessionId,
// itemInSession) (two plays would become one).
TEST(RecordParserRulesTest, APlayWhoseSongplayIdWouldOverflowOrCollideIsRejected) {
  for (const char* ok : {R"("sessionId":549755813887,"itemInSession":16777215)",
                         R"("sessionId":-549755813888,"itemInSession":0)", R"("sessionId":0)"}) {
    EXPECT_EQ(Events(Play(ok)).result.staged, 1u) << ok;
  }
  EXPECT_EQ(RejectReason(FileKind::kEvent, Play(R"("sessionId":549755813888)")),
            "field 'sessionId': 549755813888 is out of range for a play (-549755813888 to 549755813887)");
  EXPECT_EQ(RejectReason(FileKind::kEvent, Play(R"("sessionId":"-549755813889")")),
            "field 'sessionId': -549755813889 is out of range for a play (-549755813888 to 549755813887)");
  EXPECT_EQ(RejectReason(FileKind::kEvent, Play(R"("itemInSession":16777216)")),
            "field 'itemInSession': 16777216 is out of range for a play (0 to 16777215)");
  EXPECT_EQ(RejectReason(FileKind::kEvent, Play(R"("itemInSession":-1)")),
            "field 'itemInSession': -1 is out of range for a play (0 to 16777215)");
}

// The transform turns ts into a timestamp (songplays, time, users.as_of), which must not overflow.
TEST(RecordParserRulesTest, ATsOutsideTheYearsATimestampHoldsIsRejected) {
  for (int64_t ts : {int64_t{-62135596800000}, int64_t{0}, int64_t{253402300799999}}) {
    EXPECT_EQ(Events(Event(ts)).result.staged, 1u) << ts;
  }
  EXPECT_EQ(RejectReason(FileKind::kEvent, Event(253402300800000)),
            "field 'ts': 253402300800000 is out of range for a time (0001-01-01 to 9999-12-31)");
  EXPECT_EQ(RejectReason(FileKind::kEvent, Event(-62135596800001)),
            "field 'ts': -62135596800001 is out of range for a time (0001-01-01 to 9999-12-31)");
  EXPECT_EQ(RejectReason(FileKind::kEvent, Event(-9223372036854775807LL - 1)),
            "field 'ts': -9223372036854775808 is out of range for a time (0001-01-01 to 9999-12-31)");
  EXPECT_EQ(RejectReason(FileKind::kEvent, Play(R"("ts":"9e15")")),
            "field 'ts': 9000000000000000 is out of range for a time (0001-01-01 to 9999-12-31)");
}

// songs_primary_key, artists_primary_key: an empty key names no song or artist.
TEST(RecordParserRulesTest, AnEmptySongIdOrArtistIdIsRejected) {
  EXPECT_EQ(RejectReason(FileKind::kSong, R"({"artist_id":"AR1","song_id":""})"), "required field 'song_id' is empty");
  EXPECT_EQ(RejectReason(FileKind::kSong, R"({"artist_id":"","song_id":"SO1"})"), "required field 'artist_id' is empty");
  EXPECT_EQ(Songs(R"({"artist_id":" ","song_id":"0"})").result.staged, 1u);
}

// The primary keys of songs, artists and users: a PostgreSQL index entry holds at most 2704 bytes,
// and a longer key fails the insert, so keys are held to 1024 bytes.
TEST(RecordParserRulesTest, AKeyLongerThan1024BytesIsRejected) {
  const std::string at_limit(1024, 'k');
  const std::string over(1025, 'k');
  EXPECT_EQ(Songs(R"({"artist_id":")" + at_limit + R"(","song_id":")" + at_limit + R"("})").result.staged, 1u);
  EXPECT_THAT(RejectReason(FileKind::kSong, R"({"artist_id":"AR1","song_id":")" + over + R"("})"),
              ::testing::StartsWith("field 'song_id': \"kkkk"));
  EXPECT_EQ(RejectReason(FileKind::kSong, R"({"artist_id":"AR1","song_id":")" + over + R"("})"),
            "field 'song_id': \"" + std::string(63, 'k') + "... is longer than 1024 bytes, too long for a key");
  EXPECT_THAT(RejectReason(FileKind::kSong, R"({"artist_id":")" + over + R"(","song_id":"SO1"})"),
              ::testing::StartsWith("field 'artist_id': "));
  // userId feeds users for any page.
  EXPECT_THAT(RejectReason(FileKind::kEvent, Event(1, R"("page":"Home","userId":")" + over + "\"")),
              ::testing::StartsWith("field 'userId': "));
  EXPECT_EQ(Events(Play(R"("userId":")" + at_limit + "\"")).result.staged, 1u);
  // Counted as loaded: 1024 tabs are 2048 bytes of COPY text but 1024 bytes of key.
  std::string tabs;
  for (int i = 0; i < 1024; ++i) tabs += "\\t";
  EXPECT_EQ(Events(Play(R"("userId":")" + tabs + "\"")).result.staged, 1u);
  EXPECT_EQ(RejectReason(FileKind::kEvent, Play(R"("userId":")" + tabs + "\\t\"")).substr(0, 10), "field 'use");
}

TEST(RecordParserTest, TopLevelValuesThatAreNotObjectsAreRejected) {
  const std::string text = "[1,2]\n42\n\"text\"\ntrue\nnull\n" + Event(1) + "\n[1,2\n";
  const Parsed p = Events(text);
  EXPECT_EQ(p.result.records, 7u);
  EXPECT_EQ(p.result.staged, 1u);
  ASSERT_EQ(p.result.rejects.size(), 6u);
  EXPECT_EQ(p.result.rejects[0].reason, "the record is an array, not a JSON object");
  EXPECT_EQ(p.result.rejects[1].reason, "the record is a number, not a JSON object");
  EXPECT_EQ(p.result.rejects[2].reason, "the record is a string, not a JSON object");
  EXPECT_EQ(p.result.rejects[3].reason, "the record is a boolean, not a JSON object");
  EXPECT_EQ(p.result.rejects[4].reason, "the record is null, not a JSON object");
  EXPECT_THAT(p.result.rejects[5].reason, HasSubstr("malformed JSON"));
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(p.result.rejects[i].line, i + 1);
  EXPECT_EQ(p.result.rejects[5].line, 7u);
}

TEST(RecordParserTest, RecordsLongerThanTheLimitAreRejectedUnparsed) {
  ParserOptions options;
  options.max_record_bytes = 64;
  const std::string big = Event(2, "\"song\":\"" + std::string(100, 'x') + "\"");
  const std::string pretty_big = "{\n  \"ts\": 3,\n  \"song\": \"" + std::string(100, 'y') + "\"\n}";
  const Parsed p = Events(Event(1) + "\n" + big + "\n" + pretty_big + "\n" + Event(4), options);
  EXPECT_EQ(p.result.records, 4u);
  EXPECT_EQ(p.result.staged, 2u);
  ASSERT_EQ(p.result.rejects.size(), 2u);
  EXPECT_EQ(p.result.rejects[0].line, 2u);
  EXPECT_EQ(p.result.rejects[0].reason,
            "record is " + std::to_string(big.size()) + " bytes, longer than the limit of 64");
  EXPECT_EQ(p.result.rejects[1].line, 3u);
  EXPECT_THAT(p.result.rejects[1].reason, HasSubstr("longer than the limit"));
  EXPECT_EQ(Ev(p, 1, "ts"), "4");
  EXPECT_EQ(p.lines[1][0], "7");
}

TEST(RecordParserTest, TextIsEscapedForCopy) {
  const Parsed p = Events(Event(1, R"("song":"tab\tnew\nline\r\\back\"quote\/ \u00e9\u0001",)"
                                   R"("artist":"C:\\dir\\n"  ,  "userAgent":"\"Mozilla\/5.0\"")"));
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "song"), "tab\\tnew\\nline\\r\\\\back\"quote/ \xC3\xA9\x01");
  EXPECT_EQ(Ev(p, 0, "artist"), "C:\\\\dir\\\\n");
  EXPECT_EQ(Ev(p, 0, "user_agent"), "\"Mozilla/5.0\"");
}

TEST(RecordParserTest, DoubleEncodedUtf8IsKeptAsIs) {
  // From log_data/2018/11/2018-11-02-events.json line 52: UTF-8 read as Latin-1, encoded again.
  const Parsed p = Events(Event(1, R"("song":"No Hay Nadie Como T\u00c3\u0083\u00c2\u00ba")"));
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "song"), "No Hay Nadie Como T\xC3\x83\xC2\x83\xC3\x82\xC2\xBA");
}

TEST(RecordParserTest, DuplicateKeysLastOneWins) {
  Parsed p = Events(R"({"ts":1,"song":"first","ts":2,"song":"second"})");
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "ts"), "2");
  EXPECT_EQ(Ev(p, 0, "song"), "second");

  p = Events(R"({"ts":"bad","ts":5})");  // the bad value is overwritten, so it does not count
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "ts"), "5");

  p = Events(R"({"ts":5,"ts":null})");
  ASSERT_EQ(p.result.rejects.size(), 1u);
  EXPECT_EQ(p.result.rejects[0].reason, "required field 'ts' is null");
}

TEST(RecordParserTest, UnknownKeysAreIgnoredButMustBeWellFormed) {
  Parsed p = Events(R"({"x":{"y":[1,{"z":null}],"w":"\u00e9"},"ts":1,"big":1e999,"Ts":"no"})");
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(Ev(p, 0, "ts"), "1");

  for (std::string_view text : {R"({"x":[1 2],"ts":1})", R"({"x":{"a":1,},"ts":1})", R"({"x":tru,"ts":1})",
                                R"({"x":01,"ts":1})", R"({"x":"\q","ts":1})", R"({"x":[1,],"ts":1})",
                                R"({"ts":1,"x":-})"}) {
    p = Events(text);
    ASSERT_EQ(p.result.rejects.size(), 1u) << text;
    EXPECT_THAT(p.result.rejects[0].reason, HasSubstr("malformed JSON")) << text;
  }
}

TEST(RecordParserTest, KeysMayBeEscapedAndComeInAnyOrder) {
  const Parsed p = Songs(R"({ "year" : 2007 , "title":"Face the Ashes","song_id" : "SOFSOCN12A8C143F5D",)"
                         "\n\t"
                         R"("artist_\u0069d":"ARXR32B1187FB57099","duration":209.60608,"num_songs":1})");
  ASSERT_EQ(p.result.staged, 1u);
  EXPECT_EQ(p.rows, "R\tF\t1\t1\tARXR32B1187FB57099\t\\N\t\\N\t\\N\t\\N\tSOFSOCN12A8C143F5D\tFace the Ashes\t"
                    "209.60608\t2007\n");
}

TEST(RecordParserTest, ReasonsAndExcerptsAreBoundedValidUtf8) {
  // A long record of multi-byte characters: the excerpt stops at 256 bytes, on a boundary.
  std::string text = "{\"ts\":\"";
  for (int i = 0; i < 200; ++i) text += "\xE2\x82\xAC";  // U+20AC, 3 bytes
  text += "\"}";
  const Parsed p = Events(text);
  ASSERT_EQ(p.result.rejects.size(), 1u);
  const RejectedRecord& r = p.result.rejects[0];
  EXPECT_LE(r.excerpt.size(), 256u);
  EXPECT_GE(r.excerpt.size(), 253u);
  EXPECT_TRUE(IsValidUtf8(r.excerpt));
  EXPECT_TRUE(IsValidUtf8(r.reason));
  EXPECT_LT(r.reason.size(), 120u) << "the offending value is abbreviated";
  EXPECT_THAT(r.reason, HasSubstr("... is not an integer"));
}

TEST(RecordParserTest, ParserIsReusableAndAppendsRows) {
  RecordParser parser;
  std::string rows = "existing\n";
  const std::string first = Body(Event(1) + "\n" + "{bad");
  const std::string second = Body(Event(2));
  const FileParseResult a = parser.Parse(FileKind::kEvent, first, "A\t", &rows);
  const FileParseResult b = parser.Parse(FileKind::kEvent, second, "B\t", &rows);
  EXPECT_EQ(a.records, 2u);
  EXPECT_EQ(a.staged, 1u);
  EXPECT_EQ(b.records, 1u);
  EXPECT_EQ(b.staged, 1u);
  EXPECT_TRUE(b.rejects.empty());
  EXPECT_THAT(rows, ::testing::StartsWith("existing\nA\t1\t"));
  EXPECT_THAT(rows, HasSubstr("\nB\t1\t"));

  // A song file after an event file uses the song columns.
  const std::string song = Body(R"({"artist_id":"AR1","song_id":"SO1"})");
  std::string song_rows;
  EXPECT_EQ(parser.Parse(FileKind::kSong, song, "", &song_rows).staged, 1u);
  EXPECT_EQ(song_rows, "1\t\\N\tAR1\t\\N\t\\N\t\\N\t\\N\tSO1\t\\N\t\\N\t\\N\n");
}

// Shapes that would be quadratic with a naive "retry from the next line" strategy.
TEST(RecordParserTest, PathologicalShapesParseInLinearTime) {
  const auto time_parse = [](const std::string& text, FileParseResult* out) {
    RecordParser parser;
    const std::string body = Body(text);
    std::string rows;
    const auto start = std::chrono::steady_clock::now();
    *out = parser.Parse(FileKind::kEvent, body, "", &rows);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  constexpr int kRecords = 100000;
  FileParseResult r;

  std::string one_line;  // many documents, one line, no separators
  for (int i = 0; i < kRecords; ++i) one_line += Event(i, R"("song":"a song title")");
  EXPECT_LT(time_parse(one_line, &r), 5.0);
  EXPECT_EQ(r.staged, static_cast<uint64_t>(kRecords));

  std::string unclosed;  // every line opens one more '{' than it closes
  for (int i = 0; i < kRecords; ++i) unclosed += "{\"ts\":" + std::to_string(i) + ",\"x\":{\"y\":1}\n";
  EXPECT_LT(time_parse(unclosed, &r), 5.0);
  EXPECT_EQ(r.records, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(r.rejects.size(), static_cast<size_t>(kRecords));

  std::string opened_early = "{\"ts\":0,\"x\":[\n";  // one unclosed line, then good ones
  for (int i = 1; i < kRecords; ++i) opened_early += Event(i) + "\n";
  EXPECT_LT(time_parse(opened_early, &r), 5.0);
  EXPECT_EQ(r.staged, static_cast<uint64_t>(kRecords - 1));
  EXPECT_EQ(r.rejects.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// The real sample (data/sparkify-sample): see docs/SAMPLE_FIGURES.md.

std::filesystem::path SampleDir() {
  if (const char* dir = std::getenv("LOADSTAR_SAMPLE_DIR"); dir != nullptr && *dir != '\0') return dir;
  return LOADSTAR_DEFAULT_SAMPLE_DIR;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::string data(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return Body(data);
}

std::vector<std::filesystem::path> JsonFilesUnder(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(RecordParserSampleTest, EveryRecordOfTheSampleStages) {
  const std::filesystem::path dir = SampleDir();
  ASSERT_TRUE(std::filesystem::is_directory(dir / "log_data") && std::filesystem::is_directory(dir / "song_data"))
      << "the sample data is missing at " << dir << "; set LOADSTAR_SAMPLE_DIR to its location";

  RecordParser parser;
  const auto load = [&](FileKind kind, const std::string& subdir, size_t* files, std::string* rows) {
    FileParseResult total;
    for (const auto& path : JsonFilesUnder(dir / subdir)) {
      ++*files;
      const std::string body = ReadFile(path);
      const FileParseResult r = parser.Parse(kind, body, path.filename().string() + "\t", rows);
      total.records += r.records;
      total.staged += r.staged;
      for (const RejectedRecord& rej : r.rejects) {
        ADD_FAILURE() << path << " line " << rej.line << ": " << rej.reason;
        total.rejects.push_back(rej);
      }
    }
    return total;
  };

  size_t event_files = 0, song_files = 0;
  std::string event_rows, song_rows;
  const FileParseResult events = load(FileKind::kEvent, "log_data", &event_files, &event_rows);
  const FileParseResult songs = load(FileKind::kSong, "song_data", &song_files, &song_rows);
  EXPECT_EQ(event_files, 30u);
  EXPECT_EQ(song_files, 71u);
  EXPECT_EQ(events.records, 8056u);
  EXPECT_EQ(events.staged, 8056u);
  EXPECT_EQ(songs.records, 71u);
  EXPECT_EQ(songs.staged, 71u);
  EXPECT_TRUE(events.rejects.empty());
  EXPECT_TRUE(songs.rejects.empty());

  // Every row has all its columns, and the events say what docs/SAMPLE_FIGURES.md says.
  size_t next_songs = 0, rows_seen = 0;
  std::set<std::string> users;
  for (size_t start = 0; start < event_rows.size();) {
    const size_t nl = event_rows.find('\n', start);
    const std::string_view row(event_rows.data() + start, nl - start);
    start = nl + 1;
    ++rows_seen;
    std::vector<std::string_view> f;
    for (size_t s = 0;;) {
      const size_t tab = row.find('\t', s);
      f.push_back(row.substr(s, tab == std::string_view::npos ? std::string_view::npos : tab - s));
      if (tab == std::string_view::npos) break;
      s = tab + 1;
    }
    ASSERT_EQ(f.size(), 2 + StagingColumns(FileKind::kEvent).size()) << row;
    // f: file name, line, then the columns: page is column 10, user_id column 17.
    if (f[2 + 10] == "NextSong") ++next_songs;
    if (!f[2 + 17].empty()) users.insert(std::string(f[2 + 17]));
  }
  EXPECT_EQ(rows_seen, 8056u);
  EXPECT_EQ(next_songs, 6820u);
  EXPECT_EQ(users.size(), 97u);

  // Spot checks: a song row, and an event with a double-encoded title and a quoted user agent.
  EXPECT_THAT(song_rows, HasSubstr("TRAAABD128F429CF47.json\t1\t1\tARMJAGH1187FB546F3\t35.14968\t-90.04892\t"
                                   "Memphis, TN\tThe Box Tops\tSOCIWDW12A8C13D406\tSoul Deep\t148.03546\t1969\n"));
  EXPECT_THAT(event_rows,
              HasSubstr("2018-11-02-events.json\t52\tCalle 13 Featuring Caf\xC3\x83\xC2\x83\xC3\x82\xC2\xA9 Tacuba\t"
                        "Logged In\tLily\tF\t37\tKoch\t293.32853\tpaid\tChicago-Naperville-Elgin, IL-IN-WI\tPUT\t"
                        "NextSong\t1541048010796.0\t172\tNo Hay Nadie Como T\xC3\x83\xC2\x83\xC3\x82\xC2\xBA\t200\t"
                        "1541157637796\t\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36\"\t15\n"));
}

}  // namespace
}  // namespace loadstar::worker
