// `loadstar report` and `loadstar runs` against a real PostgreSQL: a star schema built by hand from
// data this test generates, every section's figures compared with figures the test computes from
// that data itself; JSON parsed, text tables read back column by column.
#include "coordinator/report/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <variant>

#include "common/warehouse/sql_catalog.h"
#include "common/warehouse/warehouse.h"
#include "cli/report_commands.h"
#include "coordinator/report/runs_list.h"
#include "tests/support/postgres_server.h"
#include "tests/support/test_env.h"

namespace loadstar {
namespace {

using coordinator::RenderReport;
using coordinator::RenderRunsList;
using coordinator::ReportFormat;
using ::testing::HasSubstr;
using testing::PostgresServer;

// A value as the test expects it: an integer, a number with one decimal, text, or NULL.
struct OneDecimal {
  double value;
};
using Value = std::variant<std::monostate, int64_t, OneDecimal, std::string>;

// How PostgreSQL prints the value in a text result.
std::string AsText(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
  if (std::holds_alternative<OneDecimal>(v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", std::get<OneDecimal>(v).value);
    return buf;
  }
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  return "";
}

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

// round(100.0 * part / whole, 1) as PostgreSQL's numeric rounds it (half away from zero).
OneDecimal Percent(int64_t part, int64_t whole) {
  int64_t tenths = (2000 * part + whole) / (2 * whole);
  return OneDecimal{static_cast<double>(tenths) / 10.0};
}

// ---- The data set: generated here, inserted by hand, and the source of every expected figure.

struct Artist {
  std::string id, name;
};
struct Song {
  std::string id, title, artist_id;
};
struct User {
  std::string id, first, last, level;
};
struct Play {
  int64_t session = 0, item = 0;
  int day = 0, hour = 0, minute = 0, second = 0;
  std::string user_id, level;
  int song = -1;  // index into songs, -1 when the play matched no catalogue song

  int64_t id() const { return session * 16777216 + item; }
  std::string start_time() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2018-11-%02d %02d:%02d:%02d", day, hour, minute, second);
    return buf;
  }
  std::string date() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "2018-11-%02d", day);
    return buf;
  }
};

struct DataSet {
  std::vector<Artist> artists = {{"AR1", "Artist A"}, {"AR2", "Artist B"}, {"AR3", "Artist C"},
                                 {"AR4", "Artist D"}, {"AR5", "Artist E"}, {"AR6", "Artist F"}};
  // Artist A has two songs, so top artists and top songs differ.
  std::vector<Song> songs = {{"SO1", "Song A", "AR1"}, {"SO2", "Song B", "AR2"}, {"SO3", "Song C", "AR3"},
                             {"SO4", "Song D", "AR4"}, {"SO5", "Song E", "AR5"}, {"SO6", "Song F", "AR6"},
                             {"SO7", "Song G", "AR1"}};
  std::vector<User> users = {{"1", "Ann", "Lee", "free"}, {"2", "Bob", "Ray", "paid"}, {"3", "Cy", "Ito", "free"},
                             {"4", "Di", "Kim", "paid"},   {"5", "Ed", "Orr", "free"},  {"6", "Fay", "Poe", "paid"},
                             {"7", "Gus", "Roe", "free"},  {"10", "Hal", "Sun", "paid"}};
  std::vector<Play> plays;

  // Deterministic, uneven plays over three days: users and songs drawn with skew, about a third
  // of the plays unmatched, some played at a level other than the user's current one.
  DataSet() {
    uint64_t state = 42;
    auto next = [&state](uint64_t n) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return (state >> 33) % n;
    };
    std::map<std::pair<size_t, int>, int64_t> items;  // (user, day) -> plays so far in that session
    for (int i = 0; i < 120; ++i) {
      size_t u = std::min(next(users.size()), next(users.size()));  // skewed towards the first users
      Play p;
      p.day = 1 + static_cast<int>(next(3));
      p.hour = static_cast<int>(next(24));
      p.minute = static_cast<int>(next(60));
      p.second = static_cast<int>(next(60));
      p.user_id = users[u].id;
      p.session = 100 * static_cast<int64_t>(u + 1) + p.day;
      p.item = items[{u, p.day}]++;
      p.level = next(5) == 0 ? (users[u].level == "free" ? "paid" : "free") : users[u].level;
      p.song = next(3) == 0 ? -1 : static_cast<int>(std::min(next(songs.size()), next(songs.size())));
      plays.push_back(p);
    }
  }

  const Song* SongOf(const Play& p) const { return p.song < 0 ? nullptr : &songs[static_cast<size_t>(p.song)]; }
  std::string ArtistName(const std::string& id) const {
    for (const Artist& a : artists) {
      if (a.id == id) return a.name;
    }
    return "";
  }
  const User& UserById(const std::string& id) const {
    for (const User& u : users) {
      if (u.id == id) return u;
    }
    throw std::runtime_error("no user " + id);
  }

  // ---- Expected sections, computed from the data above (not from the warehouse).

  Table MatchShare() const {
    int64_t matched = std::count_if(plays.begin(), plays.end(), [](const Play& p) { return p.song >= 0; });
    int64_t n = static_cast<int64_t>(plays.size());
    return {{"plays", "matched", "unmatched", "matched_pct"}, {{n, matched, n - matched, Percent(matched, n)}}};
  }

  Table MostActiveUsers() const {
    std::map<std::string, std::pair<int64_t, std::set<int64_t>>> by_user;
    for (const Play& p : plays) {
      ++by_user[p.user_id].first;
      by_user[p.user_id].second.insert(p.session);
    }
    std::vector<std::pair<std::string, int64_t>> order;
    for (const auto& [id, v] : by_user) order.emplace_back(id, v.first);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    Table t{{"user_id", "first_name", "last_name", "level", "plays", "sessions"}, {}};
    for (size_t i = 0; i < order.size() && i < 5; ++i) {
      const User& u = UserById(order[i].first);
      t.rows.push_back({u.id, u.first, u.last, u.level, order[i].second,
                        static_cast<int64_t>(by_user.at(u.id).second.size())});
    }
    return t;
  }

  Table PlaysByHour() const {
    std::map<int, int64_t> by_hour;
    for (const Play& p : plays) ++by_hour[p.hour];
    Table t{{"hour", "plays"}, {}};
    for (const auto& [hour, n] : by_hour) t.rows.push_back({static_cast<int64_t>(hour), n});
    return t;
  }

  Table PlaysByLevel() const {
    std::map<std::string, std::pair<int64_t, std::set<std::string>>> by_level;
    for (const Play& p : plays) {
      ++by_level[p.level].first;
      by_level[p.level].second.insert(p.user_id);
    }
    Table t{{"level", "plays", "listeners", "share_pct"}, {}};
    for (const auto& [level, v] : by_level) {
      t.rows.push_back({level, v.first, static_cast<int64_t>(v.second.size()),
                        Percent(v.first, static_cast<int64_t>(plays.size()))});
    }
    return t;
  }

  Table PlaysPerDay() const {
    struct Day {
      int64_t plays = 0;
      std::set<std::string> users;
      std::set<int64_t> sessions;
    };
    std::map<std::string, Day> by_day;
    for (const Play& p : plays) {
      Day& d = by_day[p.date()];
      ++d.plays;
      d.users.insert(p.user_id);
      d.sessions.insert(p.session);
    }
    Table t{{"day", "plays", "listeners", "sessions"}, {}};
    for (const auto& [day, d] : by_day) {
      t.rows.push_back({day, d.plays, static_cast<int64_t>(d.users.size()), static_cast<int64_t>(d.sessions.size())});
    }
    return t;
  }

  Table TopArtists() const {
    std::map<std::string, std::pair<int64_t, std::set<std::string>>> by_artist;
    for (const Play& p : plays) {
      if (const Song* s = SongOf(p)) {
        ++by_artist[s->artist_id].first;
        by_artist[s->artist_id].second.insert(p.user_id);
      }
    }
    std::vector<std::string> order;
    for (const auto& [id, v] : by_artist) order.push_back(id);
    std::sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
      int64_t pa = by_artist.at(a).first, pb = by_artist.at(b).first;
      if (pa != pb) return pa > pb;
      if (ArtistName(a) != ArtistName(b)) return ArtistName(a) < ArtistName(b);
      return a < b;
    });
    Table t{{"artist", "plays", "listeners"}, {}};
    for (size_t i = 0; i < order.size() && i < 5; ++i) {
      const auto& v = by_artist.at(order[i]);
      t.rows.push_back({ArtistName(order[i]), v.first, static_cast<int64_t>(v.second.size())});
    }
    return t;
  }

  Table TopSongs() const {
    std::map<std::pair<std::string, std::string>, int64_t> by_song;  // (title, artist name) -> plays
    for (const Play& p : plays) {
      if (const Song* s = SongOf(p)) ++by_song[{s->title, ArtistName(s->artist_id)}];
    }
    std::vector<std::pair<std::pair<std::string, std::string>, int64_t>> order(by_song.begin(), by_song.end());
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first.first < b.first.first;
    });
    Table t{{"title", "artist", "plays"}, {}};
    for (size_t i = 0; i < order.size() && i < 5; ++i) {
      t.rows.push_back({order[i].first.first, order[i].first.second, order[i].second});
    }
    return t;
  }

  std::map<std::string, Table> Expected() const {
    return {{"match_share", MatchShare()},     {"most_active_users", MostActiveUsers()},
            {"plays_by_hour", PlaysByHour()},  {"plays_by_level", PlaysByLevel()},
            {"plays_per_day", PlaysPerDay()},  {"top_artists", TopArtists()},
            {"top_songs", TopSongs()}};
  }
};

// ---- Reading the output back.

void ExpectJsonValue(simdjson::dom::element e, const Value& want, const std::string& where) {
  if (std::holds_alternative<std::monostate>(want)) {
    EXPECT_TRUE(e.is_null()) << where;
  } else if (std::holds_alternative<int64_t>(want)) {
    ASSERT_TRUE(e.is_int64()) << where << " is not an integer: " << simdjson::to_string(e);
    EXPECT_EQ(int64_t(e.get_int64()), std::get<int64_t>(want)) << where;
  } else if (std::holds_alternative<OneDecimal>(want)) {
    ASSERT_TRUE(e.is_double()) << where << " is not a decimal number: " << simdjson::to_string(e);
    EXPECT_DOUBLE_EQ(double(e.get_double()), std::get<OneDecimal>(want).value) << where;
  } else {
    ASSERT_TRUE(e.is_string()) << where << " is not a string: " << simdjson::to_string(e);
    EXPECT_EQ(std::string(std::string_view(e.get_string())), std::get<std::string>(want)) << where;
  }
}

void ExpectJsonTable(simdjson::dom::element array, const Table& want, const std::string& section) {
  ASSERT_TRUE(array.is_array()) << section;
  simdjson::dom::array rows = array.get_array();
  ASSERT_EQ(rows.size(), want.rows.size()) << section;
  size_t r = 0;
  for (simdjson::dom::element row : rows) {
    ASSERT_TRUE(row.is_object()) << section;
    std::vector<std::string> keys;
    size_t c = 0;
    for (simdjson::dom::key_value_pair field : row.get_object()) {
      keys.emplace_back(field.key);
      if (c < want.columns.size()) {
        ExpectJsonValue(field.value, want.rows[r][c],
                        section + "[" + std::to_string(r) + "]." + std::string(field.key));
      }
      ++c;
    }
    EXPECT_EQ(keys, want.columns) << section;
    ++r;
  }
}

// A text table as printed: the header, and each row's cells, cut at the columns the rule line
// marks. Per column, whether every row's cell starts where the column starts (left_aligned) and
// ends where it ends (right_aligned).
struct ParsedTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> left_aligned, right_aligned;
};

std::string TrimSpaces(const std::string& s) {
  size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Reads the table whose header is lines[at]; returns the index of the line after it.
size_t ParseTextTable(const std::vector<std::string>& lines, size_t at, ParsedTable* out) {
  const std::string& rule = lines.at(at + 1);
  std::vector<std::pair<size_t, size_t>> spans;  // [begin, end) of each column
  for (size_t i = 0; i < rule.size();) {
    if (rule[i] != '-') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < rule.size() && rule[j] == '-') ++j;
    spans.emplace_back(i, j);
    i = j;
  }
  auto cells = [&](const std::string& line) {
    std::vector<std::string> v;
    for (auto [b, e] : spans) v.push_back(b < line.size() ? TrimSpaces(line.substr(b, e - b)) : "");
    return v;
  };
  out->header = cells(lines[at]);
  out->left_aligned.assign(spans.size(), true);
  out->right_aligned.assign(spans.size(), true);
  size_t i = at + 2;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    out->rows.push_back(cells(lines[i]));
    for (size_t c = 0; c < spans.size(); ++c) {
      if (lines[i].size() <= spans[c].first || lines[i][spans[c].first] == ' ') out->left_aligned[c] = false;
      if (lines[i].size() < spans[c].second || lines[i][spans[c].second - 1] == ' ') out->right_aligned[c] = false;
    }
  }
  return i;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Runs `fn` with stdout going to a file; returns what it printed.
std::string CaptureStdout(const std::function<int()>& fn, int* exit_code) {
  const std::string path = testing::TempDir("report") + "/stdout";
  std::fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, STDOUT_FILENO);
  close(fd);
  *exit_code = fn();
  std::fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  std::string out;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    schema_ = "report_" + std::to_string(++n);
    uri_ = PostgresServer::Shared().Uri();
    WarehouseOptions wo;
    wo.conninfo = uri_;
    wo.schema = schema_;
    auto wh = Warehouse::Connect(wo, /*create_schema=*/true);
    ASSERT_TRUE(wh.ok()) << wh.status().ToString();
    wh_ = std::move(wh).value();
    ASSERT_TRUE(wh_->ExecFile("schema").ok());
  }

  void Sql(const std::string& sql) {
    auto r = wh_->QueryText(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }

  static std::string Quote(const std::string& s) { return "'" + s + "'"; }

  void Load(const DataSet& data) {
    for (const Artist& a : data.artists) Sql("INSERT INTO artists VALUES (" + Quote(a.id) + ", " + Quote(a.name) + ", NULL, NULL, NULL)");
    for (const Song& s : data.songs) {
      Sql("INSERT INTO songs VALUES (" + Quote(s.id) + ", " + Quote(s.title) + ", " + Quote(s.artist_id) + ", 2001, 200)");
    }
    for (const User& u : data.users) {
      Sql("INSERT INTO users VALUES (" + Quote(u.id) + ", " + Quote(u.first) + ", " + Quote(u.last) + ", 'F', " +
          Quote(u.level) + ", NULL)");
    }
    std::set<std::string> times;
    for (const Play& p : data.plays) {
      const Song* s = data.SongOf(p);
      Sql("INSERT INTO songplays VALUES (" + std::to_string(p.id()) + ", " + Quote(p.start_time()) + ", " +
          Quote(p.user_id) + ", " + Quote(p.level) + ", " + (s ? Quote(s->id) : "NULL") + ", " +
          (s ? Quote(s->artist_id) : "NULL") + ", " + std::to_string(p.session) + ", 'Here', 'UA')");
      if (times.insert(p.start_time()).second) {
        // 2018-11-01 is a Thursday in ISO week 44.
        Sql("INSERT INTO time VALUES (" + Quote(p.start_time()) + ", " + std::to_string(p.hour) + ", " +
            std::to_string(p.day) + ", " + std::to_string(44 + (p.day + 2) / 7) + ", 11, 2018, " +
            std::to_string((p.day + 3) % 7) + ")");
      }
    }
  }

  std::string Report(ReportFormat format) {
    auto out = RenderReport(wh_.get(), format);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "";
  }

  std::string schema_, uri_;
  std::unique_ptr<Warehouse> wh_;
};

TEST_F(ReportTest, TheDataSetExercisesEverySection) {
  // Guards the generated data: limits and tie-breaks are only tested if the data reaches them.
  DataSet data;
  EXPECT_GT(data.TopSongs().rows.size(), 4u);
  EXPECT_EQ(data.MostActiveUsers().rows.size(), 5u);
  EXPECT_EQ(data.TopArtists().rows.size(), 5u);
  EXPECT_EQ(data.PlaysPerDay().rows.size(), 3u);
  EXPECT_EQ(data.PlaysByLevel().rows.size(), 2u);
  EXPECT_GT(data.PlaysByHour().rows.size(), 15u);
  auto share = std::get<OneDecimal>(data.MatchShare().rows[0][3]).value;
  EXPECT_GT(share, 40);
  EXPECT_LT(share, 90);
}

// Checks a JSON report, section by section, against the figures the data set was built with.
void ExpectJsonReport(const std::string& json, const DataSet& data) {
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 1) << "one line";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  ASSERT_TRUE(doc.is_object());
  const std::map<std::string, Table> expected = data.Expected();
  std::vector<std::string> keys;
  for (simdjson::dom::key_value_pair section : doc.get_object()) {
    keys.emplace_back(section.key);
    auto it = expected.find(std::string(section.key));
    if (it == expected.end()) {
      ADD_FAILURE() << "unexpected section " << section.key;
      continue;
    }
    ExpectJsonTable(section.value, it->second, it->first);
  }
  std::vector<std::string> want_keys;
  for (const auto& [name, table] : expected) want_keys.push_back(name);
  EXPECT_EQ(keys, want_keys);
}

TEST_F(ReportTest, JsonHoldsEverySectionWithTheRightFigures) {
  DataSet data;
  Load(data);
  ExpectJsonReport(Report(ReportFormat::kJson), data);
}

TEST_F(ReportTest, TextShowsEverySectionAsAnAlignedTable) {
  DataSet data;
  Load(data);
  const std::vector<std::string> lines = Lines(Report(ReportFormat::kText));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "Listening report for schema " + schema_);
  const std::map<std::string, Table> expected = data.Expected();
  size_t at = 1;
  for (const auto& [name, want] : expected) {
    SCOPED_TRACE(name);
    ASSERT_LT(at + 3, lines.size());
    EXPECT_EQ(lines[at], "");
    // The title is the text of the section file's first comment line.
    auto sql = SqlText("report/" + name, SqlVars{schema_});
    ASSERT_TRUE(sql.ok());
    const std::string first_line = sql->substr(0, sql->find('\n'));
    EXPECT_EQ("-- " + lines[at + 1], first_line);
    ParsedTable got;
    at = ParseTextTable(lines, at + 2, &got);
    EXPECT_EQ(got.header, want.columns);
    ASSERT_EQ(got.rows.size(), want.rows.size());
    for (size_t r = 0; r < want.rows.size(); ++r) {
      std::vector<std::string> want_row;
      for (const Value& v : want.rows[r]) want_row.push_back(AsText(v));
      EXPECT_EQ(got.rows[r], want_row) << "row " << r;
    }
    for (size_t c = 0; c < want.columns.size(); ++c) {
      bool numeric = std::holds_alternative<int64_t>(want.rows[0][c]) || std::holds_alternative<OneDecimal>(want.rows[0][c]);
      // user_id holds digits only, so it is right-aligned like a number; any other text is not.
      if (want.columns[c] == "user_id") numeric = true;
      EXPECT_TRUE(numeric ? got.right_aligned[c] : got.left_aligned[c]) << want.columns[c];
    }
  }
  EXPECT_EQ(at, lines.size());
}

TEST_F(ReportTest, AnEmptyStarGivesEmptySections) {
  const std::string json = Report(ReportFormat::kJson);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  for (simdjson::dom::key_value_pair section : doc.get_object()) {
    if (section.key == "match_share") {
      ExpectJsonTable(section.value,
                      Table{{"plays", "matched", "unmatched", "matched_pct"},
                            {{int64_t{0}, int64_t{0}, int64_t{0}, std::monostate{}}}},
                      "match_share");
    } else {
      EXPECT_EQ(simdjson::to_string(section.value), "[]") << section.key;
    }
  }
  const std::string text = Report(ReportFormat::kText);
  EXPECT_THAT(text, HasSubstr("  (no rows)\n"));
}

TEST_F(ReportTest, AnUnloadedSchemaSaysSo) {
  WarehouseOptions wo;
  wo.conninfo = uri_;
  wo.schema = "no_such_schema";
  auto wh = Warehouse::Connect(wo);
  ASSERT_TRUE(wh.ok());
  auto out = RenderReport(wh->get(), ReportFormat::kText);
  EXPECT_EQ(out.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(out.status().message(), HasSubstr("loadstar run"));
  EXPECT_FALSE((*wh)->in_transaction());
}

TEST_F(ReportTest, TheReportCommandPrintsTheReport) {
  DataSet data;
  Load(data);
  CLI::App app;
  auto* cmd = app.add_subcommand("report", "report");
  auto run = cli::AddReportCommand(cmd);
  app.parse("report --warehouse " + uri_ + " --schema " + schema_ + " --format json", false);
  int code = -1;
  std::string out = CaptureStdout(run, &code);
  EXPECT_EQ(code, 0);
  ExpectJsonReport(out, data);

  // Without --warehouse, $LOADSTAR_WAREHOUSE names the server; text is the default format.
  CLI::App app2;
  auto* cmd2 = app2.add_subcommand("report", "report");
  auto run2 = cli::AddReportCommand(cmd2);
  app2.parse("report --schema " + schema_, false);
  setenv("LOADSTAR_WAREHOUSE", uri_.c_str(), 1);
  out = CaptureStdout(run2, &code);
  unsetenv("LOADSTAR_WAREHOUSE");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, Report(ReportFormat::kText));
}

TEST_F(ReportTest, TheReportCommandRefusesBadFlagsAndSaysWhyItFails) {
  CLI::App app;
  auto* cmd = app.add_subcommand("report", "report");
  auto run = cli::AddReportCommand(cmd);
  try {
    app.parse("report --format xml", false);
    ADD_FAILURE() << "--format xml was accepted";
  } catch (const CLI::ParseError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("--format"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("xml"));
  }
  EXPECT_THAT(cmd->help(), HasSubstr("--warehouse"));
  EXPECT_THAT(cmd->help(), HasSubstr("LOADSTAR_WAREHOUSE"));

  CLI::App app2;
  auto* cmd2 = app2.add_subcommand("report", "report");
  auto run2 = cli::AddReportCommand(cmd2);
  app2.parse("report --warehouse postgresql://postgres@127.0.0.1:1/postgres", false);
  int code = -1;
  ::testing::internal::CaptureStderr();
  std::string out = CaptureStdout(run2, &code);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "");
  EXPECT_THAT(err, HasSubstr("loadstar report: cannot connect to the warehouse at"));
  EXPECT_THAT(err, HasSubstr("127.0.0.1:1"));
}

// ---- loadstar runs

class RunsListTest : public ReportTest {
 protected:
  // Two finished runs, each with ledger rows; the second failed.
  void InsertRuns() {
    Sql("INSERT INTO runs (run_id, sources, state, started_at, finished_at, files_listed, files_skipped, bytes_listed,"
        " error) VALUES"
        " (1, 'songs=a', 'done', '2018-11-01 10:00:00+00', '2018-11-01 10:01:30.25+00', 10, 2, 1000, NULL),"
        " (2, 'songs=a', 'failed', '2018-11-02 10:00:00+00', '2018-11-02 10:00:05+00', 12, 10, 1200,"
        "  E'task 3 failed: \"boom\"\\nsecond line')");
    Sql("INSERT INTO load_files (uri, kind, etag, size, run_id, state, records, staged, rejected) VALUES"
        " ('a/1.json', 'song', 'e', 1, 1, 'loaded', 5, 4, 1),"
        " ('a/2.json', 'song', 'e', 1, 1, 'loaded', 3, 3, 0),"
        " ('a/3.json', 'song', 'e', 1, 2, 'staged', 7, 6, 1),"
        " ('a/4.json', 'song', 'e', 1, 2, 'new', 0, 0, 0)");
  }

  Table ExpectedRuns() const {
    return {{"run_id", "state", "started", "finished", "duration_s", "files_listed", "files_skipped", "records",
             "staged", "rejected", "error"},
            {{int64_t{2}, "failed", "2018-11-02T10:00:00Z", "2018-11-02T10:00:05Z", OneDecimal{5.0}, int64_t{12},
              int64_t{10}, int64_t{7}, int64_t{6}, int64_t{1}, "task 3 failed: \"boom\"\nsecond line"},
             {int64_t{1}, "done", "2018-11-01T10:00:00Z", "2018-11-01T10:01:30Z", OneDecimal{90.3}, int64_t{10},
              int64_t{2}, int64_t{8}, int64_t{7}, int64_t{1}, std::monostate{}}}};
  }

  std::string Runs(int64_t limit, ReportFormat format) {
    auto out = RenderRunsList(wh_.get(), limit, format);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "";
  }
};

TEST_F(RunsListTest, JsonListsBothRunsNewestFirst) {
  InsertRuns();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string json = Runs(20, ReportFormat::kJson);
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  ExpectJsonTable(doc, ExpectedRuns(), "runs");

  Table newest = ExpectedRuns();
  newest.rows.resize(1);
  simdjson::dom::parser parser2;
  ASSERT_EQ(parser2.parse(Runs(1, ReportFormat::kJson)).get(doc), simdjson::SUCCESS);
  ExpectJsonTable(doc, newest, "runs --limit 1");
}

TEST_F(RunsListTest, TextListsBothRunsNewestFirst) {
  InsertRuns();
  const std::vector<std::string> lines = Lines(Runs(20, ReportFormat::kText));
  ParsedTable got;
  ASSERT_EQ(ParseTextTable(lines, 0, &got), lines.size());
  const Table want = ExpectedRuns();
  EXPECT_EQ(got.header, want.columns);
  ASSERT_EQ(got.rows.size(), 2u);
  for (size_t r = 0; r < 2; ++r) {
    for (size_t c = 0; c < want.columns.size(); ++c) {
      std::string text = AsText(want.rows[r][c]);
      std::replace(text.begin(), text.end(), '\n', ' ');  // one line per run
      EXPECT_EQ(got.rows[r][c], text) << want.columns[c];
    }
  }
}

TEST_F(RunsListTest, ARunStillGoingHasNoFinishAndItsTimeSoFar) {
  Sql("INSERT INTO runs (sources, state, started_at) VALUES ('events=b', 'staging', now() - interval '1 hour')");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(Runs(5, ReportFormat::kJson)).get(doc), simdjson::SUCCESS);
  simdjson::dom::element run = doc.at(0);
  EXPECT_EQ(std::string_view(run["state"].get_string()), "staging");
  EXPECT_TRUE(run["finished"].is_null());
  EXPECT_GE(double(run["duration_s"].get_double()), 3600.0);
  EXPECT_EQ(int64_t(run["records"].get_int64()), 0);
}

TEST_F(RunsListTest, NoRunsAndBadLimits) {
  EXPECT_EQ(Runs(20, ReportFormat::kText), "no runs in schema " + schema_ + " yet\n");
  EXPECT_EQ(Runs(20, ReportFormat::kJson), "[]\n");
  EXPECT_EQ(RenderRunsList(wh_.get(), 0, ReportFormat::kText).status().code(), StatusCode::kInvalidArgument);

  CLI::App app;
  auto* cmd = app.add_subcommand("runs", "runs");
  auto run = cli::AddRunsCommand(cmd);
  EXPECT_THROW(app.parse("runs --limit 0", false), CLI::ParseError);
}

TEST_F(RunsListTest, TheRunsCommandPrintsTheList) {
  InsertRuns();
  CLI::App app;
  auto* cmd = app.add_subcommand("runs", "runs");
  auto run = cli::AddRunsCommand(cmd);
  app.parse("runs --warehouse " + uri_ + " --schema " + schema_ + " --limit 1 --format json", false);
  int code = -1;
  std::string out = CaptureStdout(run, &code);
  EXPECT_EQ(code, 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  Table newest = ExpectedRuns();
  newest.rows.resize(1);
  ExpectJsonTable(doc, newest, "runs");
}

}  // namespace
}  // namespace loadstar
