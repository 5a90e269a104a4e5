// Dirty input never fails a run at its last step: every record the star schema could not hold is
// rejected by the worker, one by one, with its reason, so that with a high --max-errors the run
// ends with exit code 0 and its data-quality checks passed. A generated data set with 1% bad
// lines, plus hand-made records that break each rule the checks rely on, loaded from file://.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/generated_objects.h"
#include "tests/support/postgres_server.h"
#include "tests/support/star_fingerprint.h"
#include "tests/support/test_env.h"

namespace loadstar::testing {
namespace {

constexpr const char* kDatabase = "dirty_input";

bool Contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// A NextSong event of a user outside the generator's range (its ids are 1..users), in a session
// of its own, at a ts no generated event has (those all end in 796 ms). `edit` replaces the
// members it names: each `"key":value` given there is put in place of the event's own.
std::string HandPlay(int n, const std::map<std::string, std::string>& edit = {}, const std::string& song = "",
                     const std::string& artist = "", const std::string& length = "201.5") {
  std::vector<std::pair<std::string, std::string>> members = {
      {"artist", "\"" + (artist.empty() ? "Hand Artist " + std::to_string(n) : artist) + "\""},
      {"auth", "\"Logged In\""},
      {"firstName", "\"Hand\""},
      {"gender", "\"F\""},
      {"itemInSession", "0"},
      {"lastName", "\"Made\""},
      {"length", length},
      {"level", "\"free\""},
      {"location", "\"Nowhere, XX\""},
      {"method", "\"PUT\""},
      {"page", "\"NextSong\""},
      {"registration", "1540000000000.0"},
      {"sessionId", std::to_string(800000000 + n)},
      {"song", "\"" + (song.empty() ? "Hand Song " + std::to_string(n) : song) + "\""},
      {"status", "200"},
      {"ts", std::to_string(1541600000123 + n * 1000)},
      {"userAgent", "\"Mozilla/5.0\""},
      {"userId", "\"" + std::to_string(880000 + n) + "\""},
  };
  std::string out = "{";
  for (auto& [key, value] : members) {
    auto it = edit.find(key);
    if (it != edit.end() && it->second.empty()) continue;  // an empty replacement drops the key
    if (out.size() > 1) out += ",";
    out += "\"" + key + "\":" + (it != edit.end() ? it->second : value);
  }
  return out + "}";
}

std::string HandSong(const std::string& song_id, const std::string& artist_id, const std::string& artist_name,
                     const std::string& title, const std::string& duration) {
  return R"({"num_songs": 1, "artist_id": ")" + artist_id +
         R"(", "artist_latitude": null, "artist_longitude": null, "artist_location": "", "artist_name": ")" +
         artist_name + R"(", "song_id": ")" + song_id + R"(", "title": ")" + title + R"(", "duration": )" + duration +
         R"(, "year": 2001})";
}

void WriteFile(const std::string& path, const std::string& body) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << body;
}

class DirtyInputRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { db_ = new std::string(PostgresServer::Shared().FreshDatabase(kDatabase)); }
  static void TearDownTestSuite() { delete db_; }

  static std::string Sql(const std::string& sql) { return PostgresServer::Shared().Psql(kDatabase, sql); }
  static long SqlLong(const std::string& sql) {
    std::string text = Sql(sql);
    char* end = nullptr;
    long value = std::strtol(text.c_str(), &end, 10);
    EXPECT_TRUE(!text.empty() && *end == '\0') << "not a number: " << text << "\nfrom: " << sql;
    return value;
  }

  // `loadstar run` of `dir`'s song_data/ and log_data/ into `schema`, errors allowed.
  static CommandResult Load(const std::string& dir, const std::string& schema, bool songs = true) {
    std::vector<std::string> argv = {LoadstarBinary(), "run"};
    if (songs) argv.insert(argv.end(), {"--songs", "file://" + dir + "/song_data/"});
    argv.insert(argv.end(), {"--events", "file://" + dir + "/log_data/", "--warehouse", *db_, "--schema", schema,
                             "--workers", "2", "--max-errors", "100000"});
    return RunCommand(argv, {}, 180);
  }

  // "uri:line" -> reason of every reject in `schema`.
  static std::map<std::string, std::string> Rejects(const std::string& schema) {
    std::string rows = Sql("SELECT f.uri || ':' || r.line || E'\\t' || r.reason FROM " + schema + ".rejects r JOIN " +
                           schema + ".load_files f USING (file_id) ORDER BY 1");
    std::map<std::string, std::string> out;
    std::istringstream in(rows);
    for (std::string line; std::getline(in, line);) {
      size_t tab = line.find('\t');
      out[line.substr(0, tab)] = tab == std::string::npos ? "" : line.substr(tab + 1);
    }
    return out;
  }

  static std::string* db_;
};

std::string* DirtyInputRunTest::db_ = nullptr;

TEST_F(DirtyInputRunTest, EveryRecordTheStarCannotHoldIsRejectedAndTheRunSucceeds) {
  GenerateOptions options;
  options.events = 6'000;
  options.songs = 120;
  options.dirty_share = 0.01;
  auto data = GenerateInMemory(options);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const GenerateSummary& summary = data->summary;
  const std::string dir = TempDir("dirty-input");
  const std::string uri_base = "file://" + dir + "/";

  // The generator's bad lines, read from the bytes (the three kinds of common/generator/generator.h): cut
  // short (no closing brace), a text sessionId, or no ts at all. Their reasons are the
  // parser's type and JSON rules, checked elsewhere; here each must be there, once.
  std::set<std::string> generated_bad;
  for (const GeneratedObject& o : data->objects) {
    WriteFile(dir + "/" + o.key, o.body);
    if (o.key.rfind("log_data/", 0) != 0) continue;
    std::istringstream in(o.body);
    int n = 0;
    for (std::string l; std::getline(in, l);) {
      ++n;
      if (l.empty() || l.back() != '}' || Contains(l, "\"sessionId\":\"session-") || !Contains(l, "\"ts\":")) {
        generated_bad.insert(uri_base + o.key + ":" + std::to_string(n));
      }
    }
  }
  ASSERT_EQ(generated_bad.size(), summary.dirty_records()) << "this test misreads the generator's bad records";

  // Hand-made records, each breaking one rule a data-quality check relies on, between good ones.
  const std::string over_long(1025, 'k');
  const std::vector<std::pair<std::string, std::string>> bad_plays = {
      {HandPlay(1, {{"userId", ""}}), "a play without a user"},
      {HandPlay(2, {{"userId", "null"}}), "a play without a user"},
      {HandPlay(3, {{"userId", "\"\""}}), "a play without a user"},
      {HandPlay(4, {{"sessionId", ""}}), "a play without a session"},
      {HandPlay(5, {{"sessionId", "null"}}), "a play without a session"},
      {HandPlay(6, {{"itemInSession", "null"}}), "a play without its place in the session"},
      {HandPlay(7, {{"sessionId", "549755813888"}}),
       "field 'sessionId': 549755813888 is out of range for a play (-549755813888 to 549755813887)"},
      {HandPlay(8, {{"itemInSession", "-1"}}), "field 'itemInSession': -1 is out of range for a play (0 to 16777215)"},
      {HandPlay(9, {{"ts", "253402300800000"}}),
       "field 'ts': 253402300800000 is out of range for a time (0001-01-01 to 9999-12-31)"},
      {HandPlay(10, {{"page", "\"Home\""}, {"userId", "\"" + over_long + "\""}}),
       "field 'userId': \"" + std::string(63, 'k') + "... is longer than 1024 bytes, too long for a key"},
  };
  std::map<std::string, std::string> expected_rejects;
  std::string log;
  int line = 0;
  int good_plays = 0;
  auto add_good = [&](const std::string& record) {
    log += record + "\n";
    ++line;
    ++good_plays;
  };
  add_good(HandPlay(100));
  for (const auto& [record, reason] : bad_plays) {
    log += record + "\n";
    expected_rejects[uri_base + "log_data/handmade/plays.json:" + std::to_string(++line)] = reason;
    add_good(HandPlay(101 + line));
  }
  // Plays of the hand-made songs below: artist ARHAND1 is "Hand Band" on one song record and
  // "The Hand Band" on another; each play names the spelling of its own song's record.
  add_good(HandPlay(200, {}, "Hand Tune One", "Hand Band", "111.5"));
  add_good(HandPlay(201, {}, "Hand Tune Two", "The Hand Band", "222.25"));
  add_good(HandPlay(202, {}, "Hand Tune Two", "The Hand Band", "222.25"));
  add_good(HandPlay(203, {}, "Hand Tune Two", "Hand Band", "222.25"));  // no record says that: no match
  const long hand_matched = 3;
  WriteFile(dir + "/log_data/handmade/plays.json", log);

  // A file whose every record is rejected: its plays load nowhere, and nothing fails for that.
  WriteFile(dir + "/log_data/handmade/all-rejected.json",
            HandPlay(300, {{"userId", ""}}) + "\n" + HandPlay(301, {{"sessionId", ""}}) + "\n");
  expected_rejects[uri_base + "log_data/handmade/all-rejected.json:1"] = "a play without a user";
  expected_rejects[uri_base + "log_data/handmade/all-rejected.json:2"] = "a play without a session";

  std::string songs = HandSong("SOHAND1", "ARHAND1", "Hand Band", "Hand Tune One", "111.5") + "\n" +
                      HandSong("SOHAND2", "ARHAND1", "The Hand Band", "Hand Tune Two", "222.25") + "\n" +
                      HandSong("", "ARHAND2", "Nobody", "No Id", "1.0") + "\n" +
                      HandSong("SOHAND3", "", "Nobody", "No Artist Id", "1.0") + "\n" +
                      HandSong(over_long, "ARHAND2", "Nobody", "Long Id", "1.0") + "\n";
  WriteFile(dir + "/song_data/handmade/songs.json", songs);
  const std::string songs_uri = uri_base + "song_data/handmade/songs.json";
  expected_rejects[songs_uri + ":3"] = "required field 'song_id' is empty";
  expected_rejects[songs_uri + ":4"] = "required field 'artist_id' is empty";
  expected_rejects[songs_uri + ":5"] =
      "field 'song_id': \"" + std::string(63, 'k') + "... is longer than 1024 bytes, too long for a key";
  const long hand_good_songs = 2;
  const long hand_bad_songs = 3;
  const long hand_bad_events = static_cast<long>(bad_plays.size()) + 2;

  const std::string s = "dirty_run";
  CommandResult r = Load(dir, s);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The rejects: exactly the bad records, each once, with its reason.
  const std::map<std::string, std::string> rejects = Rejects(s);
  EXPECT_EQ(static_cast<long>(rejects.size()), SqlLong("SELECT count(*) FROM " + s + ".rejects"));
  std::set<std::string> generated_found;
  std::map<std::string, std::string> hand_found;
  for (const auto& [where, reason] : rejects) {
    if (generated_bad.count(where)) {
      generated_found.insert(where);
      EXPECT_FALSE(reason.empty()) << where;
    } else {
      hand_found[where] = reason;
    }
  }
  EXPECT_EQ(generated_found, generated_bad);
  EXPECT_EQ(hand_found, expected_rejects);

  // Every record accounted for: records = staged + rejected, and the figures behind them.
  LedgerAccount events = ReadLedgerAccount(kDatabase, s, "event");
  LedgerAccount song_files = ReadLedgerAccount(kDatabase, s, "song");
  EXPECT_EQ(events.records, events.staged + events.rejected) << events.ToString();
  EXPECT_EQ(song_files.records, song_files.staged + song_files.rejected) << song_files.ToString();
  EXPECT_EQ(events.staged, static_cast<long>(summary.events) + good_plays) << events.ToString();
  EXPECT_EQ(events.rejected, static_cast<long>(generated_bad.size()) + hand_bad_events) << events.ToString();
  EXPECT_EQ(song_files.staged, static_cast<long>(summary.songs) + hand_good_songs) << song_files.ToString();
  EXPECT_EQ(song_files.rejected, hand_bad_songs) << song_files.ToString();

  // The star: the generator's figures plus the good hand-made records; plays matched on their
  // own song record's artist name.
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".songplays"),
            static_cast<long>(summary.expected_songplays()) + good_plays);
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".songplays WHERE song_id IS NOT NULL"),
            static_cast<long>(summary.matched_plays) + hand_matched);
  EXPECT_EQ(Sql("SELECT string_agg(session_id - 800000000 || ':' || coalesce(song_id, '-'), ',' ORDER BY session_id)"
                " FROM " + s + ".songplays WHERE session_id BETWEEN 800000200 AND 800000203"),
            "200:SOHAND1,201:SOHAND2,202:SOHAND2,203:-");
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".songplays WHERE user_id IS NULL"), 0);
  EXPECT_EQ(Sql("SELECT state FROM " + s + ".runs"), "done");
}

// A run whose only event files hold page views of logged-out visitors and records that are all
// rejected stages no play and no user: it succeeds, with those tables empty.
TEST_F(DirtyInputRunTest, ARunThatStagesNoPlayAtAllSucceeds) {
  const std::string dir = TempDir("no-plays");
  WriteFile(dir + "/log_data/visitors.json",
            HandPlay(1, {{"page", "\"Home\""}, {"auth", "\"Logged Out\""}, {"userId", "\"\""}}) + "\n" +
                HandPlay(2, {{"page", "\"About\""}, {"auth", "\"Logged Out\""}, {"userId", "\"\""}}) + "\n");
  WriteFile(dir + "/log_data/rejected.json", HandPlay(3, {{"userId", "null"}}) + "\n");
  const std::string s = "no_plays";
  CommandResult r = Load(dir, s, /*songs=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  LedgerAccount events = ReadLedgerAccount(kDatabase, s, "event");
  EXPECT_EQ(events.ToString(), "files=2 records=3 staged=2 rejected=1");
  EXPECT_EQ(Sql("SELECT reason FROM " + s + ".rejects"), "a play without a user");
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".songplays"), 0);
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".users"), 0);
  EXPECT_EQ(Sql("SELECT state FROM " + s + ".runs"), "done");
}

}  // namespace
}  // namespace loadstar::testing
