// The rows workers shape for the star (worker/star_rows.h, docs/STAGING_ROWS.md), without a
// database: plays only for NextSong events, each file's latest event per user by the documented
// order, distinct play times, match keys NULL where a part is NULL. That the hashes, float texts
// and time parts equal PostgreSQL's own is checked against a real server in
// tests/integration/star_rows_test.cc.
#include "worker/star_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "worker/parse/record_parser.h"

namespace loadstar::worker {
namespace {

constexpr const char* kPrefix = "7\t70\t";

// A typed event row (COPY text) as the parser writes it: the prefix, the line, then every
// StagingColumns(kEvent) column, \N where `values` has none. Values are COPY text already.
std::string EventRow(int line, const std::map<std::string, std::string>& values) {
  std::string row = std::string(kPrefix) + std::to_string(line);
  std::map<std::string, std::string> left = values;
  for (const std::string& column : StagingColumns(FileKind::kEvent)) {
    row.push_back('\t');
    auto it = left.find(column);
    row.append(it == left.end() ? "\\N" : it->second);
    if (it != left.end()) left.erase(it);
  }
  EXPECT_TRUE(left.empty()) << "no event column named " << left.begin()->first;
  return row + "\n";
}

// A play's columns as the tests below give them; `extra` adds or replaces any.
std::string Play(int line, const std::string& user, const std::string& ts, const std::string& session,
                 const std::string& item, const std::map<std::string, std::string>& extra = {}) {
  std::map<std::string, std::string> v = {{"page", "NextSong"}, {"user_id", user},     {"ts", ts},
                                          {"session_id", session}, {"item_in_session", item}, {"level", "free"},
                                          {"first_name", "F" + user}, {"last_name", "L"}, {"gender", "F"},
                                          {"location", "Here"}, {"user_agent", "UA"}, {"song", "Song"},
                                          {"artist", "Artist"}, {"length", "200.5"}};
  for (const auto& [k, x] : extra) v[k] = x;
  return EventRow(line, v);
}

std::vector<std::string> Lines(const std::string& rows) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < rows.size()) {
    size_t nl = rows.find('\n', start);
    EXPECT_NE(nl, std::string::npos) << "a row without its newline: " << rows.substr(start);
    if (nl == std::string::npos) nl = rows.size();
    out.push_back(rows.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::vector<std::string> Fields(const std::string& row) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t tab = row.find('\t', start);
    out.push_back(row.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return out;
    start = tab + 1;
  }
}

// All of one file's rows, shaped from `events` in one piece.
StagedRows ShapeFile(const std::string& events) {
  StagedRows out;
  EventShaper shaper(kPrefix);
  shaper.Add(events, &out);
  shaper.Finish(&out);
  return out;
}

std::string Key(const std::string& title, const std::string& artist, double duration) {
  return std::to_string(SongMatchKey(title, artist, duration));
}

TEST(EventShaperTest, APlayPerNextSongEventWithItsColumnsInCopyOrder) {
  StagedRows out = ShapeFile(Play(1, "10", "1541105830796", "5", "3") +
                             EventRow(2, {{"page", "Home"}, {"user_id", "10"}, {"ts", "1541105830900"},
                                          {"session_id", "5"}, {"item_in_session", "4"}}) +
                             Play(3, "11", "1541105840796", "6", "0", {{"level", "paid"}, {"location", "\\N"}}));
  ASSERT_EQ(Lines(out.plays).size(), 2u) << out.plays;
  // run_id, file_id, line, songplay_id, ts, user_id, level, session_id, location, user_agent, match_key
  const std::string key = Key("Song", "Artist", 200.5);
  EXPECT_EQ(Lines(out.plays)[0],
            "7\t70\t1\t" + std::to_string(5LL * 16777216 + 3) + "\t1541105830796\t10\tfree\t5\tHere\tUA\t" + key);
  EXPECT_EQ(Lines(out.plays)[1],
            "7\t70\t3\t" + std::to_string(6LL * 16777216) + "\t1541105840796\t11\tpaid\t6\t\\N\tUA\t" + key);
  // The page view is no play and gives no time, but it is user 10's latest event.
  EXPECT_EQ(out.times.find("1541105830900"), std::string::npos) << out.times;
  EXPECT_EQ(Lines(out.times).size(), 2u);
  ASSERT_EQ(Lines(out.users).size(), 2u);
  EXPECT_EQ(Fields(Lines(out.users)[0])[2], "2");
  EXPECT_EQ(out.rows, 6u);
}

TEST(EventShaperTest, TheMatchKeyIsNullWhereSongArtistOrLengthIsNull) {
  StagedRows out = ShapeFile(Play(1, "1", "1000", "1", "0", {{"song", "\\N"}}) +
                             Play(2, "1", "1001", "1", "1", {{"artist", "\\N"}}) +
                             Play(3, "1", "1002", "1", "2", {{"length", "\\N"}}) +
                             Play(4, "1", "1003", "1", "3", {{"song", ""}, {"artist", ""}, {"length", "-0"}}) +
                             // COPY text escapes are undone before hashing: a tab and a backslash.
                             Play(5, "1", "1004", "1", "4", {{"song", "A\\tB\\\\C"}, {"length", "1e3"}}));
  std::vector<std::string> plays = Lines(out.plays);
  ASSERT_EQ(plays.size(), 5u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Fields(plays[i]).back(), "\\N") << plays[i];
  EXPECT_EQ(Fields(plays[3]).back(), Key("", "", 0.0));
  EXPECT_EQ(Fields(plays[3]).back(), Key("", "", -0.0));
  EXPECT_EQ(Fields(plays[4]).back(), Key("A\tB\\C", "Artist", 1000.0));
}

TEST(EventShaperTest, EachUserKeepsTheLatestEventOfTheFileInTheDocumentedOrder) {
  // One user's events, the latest last: by ts, then session_id, then item_in_session (NULL
  // lowest), then the lowest first_name, last_name, gender, level (NULL last).
  const std::vector<std::map<std::string, std::string>> ascending = {
      {{"ts", "100"}, {"session_id", "9"}, {"item_in_session", "9"}, {"level", "a"}},
      {{"ts", "200"}, {"session_id", "\\N"}, {"item_in_session", "9"}, {"level", "b"}},
      {{"ts", "200"}, {"session_id", "1"}, {"item_in_session", "9"}, {"level", "c"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "\\N"}, {"level", "d"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "0"}, {"level", "e"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "5"}, {"first_name", "\\N"}, {"level", "f"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "5"}, {"first_name", "b"}, {"level", "g"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "5"}, {"first_name", "a"}, {"last_name", "\\N"},
       {"level", "h"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "5"}, {"first_name", "a"}, {"last_name", "z"},
       {"gender", "\\N"}, {"level", "i"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "5"}, {"first_name", "a"}, {"last_name", "z"},
       {"gender", "M"}, {"level", "j"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "5"}, {"first_name", "a"}, {"last_name", "z"},
       {"gender", "F"}, {"level", "\\N"}},
      {{"ts", "200"}, {"session_id", "2"}, {"item_in_session", "5"}, {"first_name", "a"}, {"last_name", "z"},
       {"gender", "F"}, {"level", "paid"}},
  };
  const auto row = [](int line, std::map<std::string, std::string> v) {
    v["page"] = "Home";
    v["user_id"] = "42";
    v.emplace("first_name", "x");
    v.emplace("last_name", "y");
    v.emplace("gender", "F");
    return EventRow(line, v);
  };
  // Each prefix of the list, fed in both orders, ends with its last event's attributes.
  for (size_t n = 1; n <= ascending.size(); ++n) {
    std::string forward, backward;
    for (size_t i = 0; i < n; ++i) forward += row(static_cast<int>(i + 1), ascending[i]);
    for (size_t i = n; i-- > 0;) backward += row(static_cast<int>(i + 1), ascending[i]);
    for (const std::string* events : {&forward, &backward}) {
      StagedRows out = ShapeFile(*events);
      ASSERT_EQ(Lines(out.users).size(), 1u) << out.users;
      const std::vector<std::string> f = Fields(Lines(out.users)[0]);
      // run_id, file_id, line, user_id, first_name, last_name, gender, level, ts, session_id, item_in_session
      ASSERT_EQ(f.size(), 11u);
      const auto& want = ascending[n - 1];
      EXPECT_EQ(f[2], std::to_string(n)) << "n=" << n;
      EXPECT_EQ(f[3], "42");
      EXPECT_EQ(f[4], want.count("first_name") ? want.at("first_name") : "x") << "n=" << n;
      EXPECT_EQ(f[5], want.count("last_name") ? want.at("last_name") : "y") << "n=" << n;
      EXPECT_EQ(f[6], want.count("gender") ? want.at("gender") : "F") << "n=" << n;
      EXPECT_EQ(f[7], want.at("level")) << "n=" << n;
      EXPECT_EQ(f[8], want.at("ts"));
      EXPECT_EQ(f[9], want.at("session_id"));
      EXPECT_EQ(f[10], want.at("item_in_session"));
      EXPECT_TRUE(out.plays.empty());
      EXPECT_TRUE(out.times.empty());
      EXPECT_EQ(out.rows, 1u);
    }
  }
}

TEST(EventShaperTest, AttributesCompareByTheirBytesUnescaped) {
  // "a\tb" (COPY text a\\tb) sorts before "a b" by its bytes (0x09 < 0x20), though its escaped
  // text does not; a byte above 0x7f sorts after ASCII.
  StagedRows out = ShapeFile(EventRow(1, {{"user_id", "1"}, {"ts", "5"}, {"first_name", "a b"}}) +
                             EventRow(2, {{"user_id", "1"}, {"ts", "5"}, {"first_name", "a\\tb"}}) +
                             EventRow(3, {{"user_id", "2"}, {"ts", "5"}, {"first_name", "\xc3\xa9"}}) +
                             EventRow(4, {{"user_id", "2"}, {"ts", "5"}, {"first_name", "z"}}));
  std::vector<std::string> users = Lines(out.users);
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(Fields(users[0])[4], "a\\tb");
  EXPECT_EQ(Fields(users[1])[4], "z");
}

TEST(EventShaperTest, EventsWithoutAUserIdGiveNoUserRow) {
  StagedRows out = ShapeFile(Play(1, "", "1000", "1", "0") + Play(2, "\\N", "2000", "1", "1") +
                             EventRow(3, {{"page", "Home"}, {"ts", "3000"}, {"user_id", ""}}));
  EXPECT_TRUE(out.users.empty()) << out.users;
  EXPECT_EQ(Lines(out.plays).size(), 2u);
  EXPECT_EQ(Lines(out.times).size(), 2u);
  EXPECT_EQ(out.rows, 4u);
}

TEST(EventShaperTest, TimeRowsAreTheFilesDistinctPlayTimesWithTheirParts) {
  // Three plays at two times (two users at the same ms), in no order.
  StagedRows out = ShapeFile(Play(1, "1", "1541105900796", "1", "0") + Play(2, "2", "1541105830796", "2", "0") +
                             Play(3, "3", "1541105900796", "3", "0"));
  const std::vector<std::string> times = Lines(out.times);
  ASSERT_EQ(times.size(), 2u) << out.times;
  // run_id, file_id, ts, hour, day, week, month, year, weekday: 2018-11-01 was a Thursday of ISO
  // week 44.
  EXPECT_EQ(times[0], "7\t70\t1541105830796\t20\t1\t44\t11\t2018\t4");
  EXPECT_EQ(times[1], "7\t70\t1541105900796\t20\t1\t44\t11\t2018\t4");
  EXPECT_EQ(out.rows, 3u + 3u + 2u);
}

TEST(EventShaperTest, PiecesOfAFileGiveTheRowsOfTheWholeFile) {
  std::string events;
  for (int i = 0; i < 50; ++i) {
    events += i % 7 == 3 ? EventRow(i + 1, {{"page", "Home"}, {"user_id", std::to_string(i % 5)},
                                            {"ts", std::to_string(1000 + i % 13)}})
                         : Play(i + 1, std::to_string(i % 5), std::to_string(1000 + i % 13), std::to_string(i), "0",
                                {{"level", i % 2 ? "paid" : "free"}});
  }
  const StagedRows whole = ShapeFile(events);
  StagedRows pieces;
  EventShaper shaper(kPrefix);
  const std::vector<std::string> rows = Lines(events);
  for (size_t i = 0; i < rows.size(); i += 6) {
    std::string piece;
    for (size_t j = i; j < std::min(rows.size(), i + 6); ++j) piece += rows[j] + "\n";
    shaper.Add(piece, &pieces);
  }
  shaper.Finish(&pieces);
  EXPECT_EQ(pieces.plays, whole.plays);
  EXPECT_EQ(pieces.users, whole.users);
  EXPECT_EQ(pieces.times, whole.times);
  EXPECT_EQ(pieces.rows, whole.rows);
  EXPECT_EQ(Lines(whole.users).size(), 5u);
  EXPECT_EQ(Lines(whole.times).size(), 13u);

  // Finish leaves the shaper empty: a second one adds nothing.
  StagedRows after;
  shaper.Finish(&after);
  EXPECT_TRUE(after.empty());
  EXPECT_EQ(after.rows, 0u);
}

TEST(ShapeSongRowsTest, EachRowGainsItsMatchKeyNullWhereAPartIsNull) {
  const auto song = [](int line, const std::string& artist_name, const std::string& title,
                       const std::string& duration) {
    std::map<std::string, std::string> v = {{"num_songs", "1"}, {"artist_id", "AR1"}, {"artist_name", artist_name},
                                            {"song_id", "SO" + std::to_string(line)}, {"title", title},
                                            {"duration", duration}, {"year", "2000"}};
    std::string row = std::string(kPrefix) + std::to_string(line);
    for (const std::string& column : StagingColumns(FileKind::kSong)) {
      row.push_back('\t');
      row.append(v.count(column) ? v.at(column) : "\\N");
    }
    return row + "\n";
  };
  const std::string rows = song(1, "Artist A", "Song A", "200.5") + song(2, "\\N", "Song A", "200.5") +
                           song(3, "Artist A", "\\N", "200.5") + song(4, "Artist A", "Song A", "\\N") +
                           song(5, "Art\\\\ist", "S\\nong", "269.58322");
  StagedRows out;
  ShapeSongRows(rows, &out);
  const std::vector<std::string> in = Lines(rows), shaped = Lines(out.songs);
  ASSERT_EQ(shaped.size(), 5u);
  for (size_t i = 0; i < shaped.size(); ++i) EXPECT_EQ(shaped[i].rfind(in[i] + "\t", 0), 0u) << shaped[i];
  EXPECT_EQ(Fields(shaped[0]).back(), Key("Song A", "Artist A", 200.5));
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(Fields(shaped[i]).back(), "\\N") << shaped[i];
  EXPECT_EQ(Fields(shaped[4]).back(), Key("S\nong", "Art\\ist", 269.58322));
  EXPECT_EQ(out.rows, 5u);
}

TEST(Float8TextTest, WritesWhatPostgresWrites) {
  EXPECT_EQ(Float8Text(0.0), "0");
  EXPECT_EQ(Float8Text(-0.0), "0");
  EXPECT_EQ(Float8Text(200.5), "200.5");
  EXPECT_EQ(Float8Text(-1.5), "-1.5");
  EXPECT_EQ(Float8Text(269.58322), "269.58322");
  EXPECT_EQ(Float8Text(0.1), "0.1");
  EXPECT_EQ(Float8Text(1e-4), "0.0001");
  EXPECT_EQ(Float8Text(9.9e-5), "9.9e-05");
  EXPECT_EQ(Float8Text(1e15), "1e+15");
  EXPECT_EQ(Float8Text(999999999999999.0), "999999999999999");
  EXPECT_EQ(Float8Text(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(Float8Text(1e100), "1e+100");
  EXPECT_EQ(Float8Text(5e-324), "5e-324");
}

TEST(TimePartsOfTest, EdgesOfDaysYearsAndIsoWeeks) {
  const auto parts = [](int64_t ts) {
    const TimeParts t = TimePartsOf(ts);
    return std::to_string(t.year) + "-" + std::to_string(t.month) + "-" + std::to_string(t.day) + " h" +
           std::to_string(t.hour) + " w" + std::to_string(t.week) + " d" + std::to_string(t.weekday);
  };
  EXPECT_EQ(parts(0), "1970-1-1 h0 w1 d4");
  EXPECT_EQ(parts(-1), "1969-12-31 h23 w1 d3");           // a Wednesday in 1970's week 1
  EXPECT_EQ(parts(1609459199999), "2020-12-31 h23 w53 d4");  // 2020 had 53 ISO weeks
  EXPECT_EQ(parts(1609459200000), "2021-1-1 h0 w53 d5");     // still 2020's week 53
  EXPECT_EQ(parts(1609718400000), "2021-1-4 h0 w1 d1");
  EXPECT_EQ(parts(951782400000), "2000-2-29 h0 w9 d2");
}

}  // namespace
}  // namespace loadstar::worker
