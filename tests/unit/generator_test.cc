// Tests of common/generator: determinism, the shape of what it writes, and that every figure of
// its summary equals what an independent count over the written bytes gives.
#include "common/generator/generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/storage/object_store.h"

namespace loadstar {
namespace {

struct Object {
  std::string key;
  std::string body;
};

struct Output {
  std::vector<Object> objects;
  GenerateSummary summary;
};

Output Collect(const GenerateOptions& options) {
  Output out;
  Result<GenerateSummary> r = Generate(options, [&out](std::string_view key, std::string_view body) {
    out.objects.push_back({std::string(key), std::string(body)});
    return Status::Ok();
  });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) out.summary = *r;
  return out;
}

GenerateOptions Small() {
  GenerateOptions o;
  o.songs = 400;
  o.events = 20'000;
  o.days = 30;
  o.seed = 7;
  return o;
}

bool IsSongKey(std::string_view key) { return key.rfind("song_data/", 0) == 0; }

std::vector<std::string_view> Lines(std::string_view body) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (true) {
    const size_t nl = body.find('\n', start);
    lines.push_back(body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

const std::vector<std::string_view> kSongKeys = {"num_songs", "artist_id", "artist_latitude", "artist_longitude",
                                                 "artist_location", "artist_name", "song_id", "title",
                                                 "duration", "year"};
const std::vector<std::string_view> kEventKeys = {
    "artist", "auth",         "firstName", "gender", "itemInSession", "lastName", "length", "level", "location",
    "method", "page",         "registration", "sessionId", "song", "status", "ts", "userAgent", "userId"};

std::vector<std::string_view> KeysOf(simdjson::dom::object obj) {
  std::vector<std::string_view> keys;
  for (auto field : obj) keys.push_back(field.key);
  return keys;
}

std::string Str(simdjson::dom::element e) { return std::string(std::string_view(e.get_string())); }

// What the catalogue says, read back from the song files.
struct Catalogue {
  std::set<std::tuple<std::string, std::string, double>> triples;  // (title, artist_name, duration)
  std::set<std::pair<std::string, std::string>> title_artist;
  std::set<std::pair<std::string, double>> title_duration;
  std::set<std::string> song_ids;
  std::map<std::string, std::string> artists;  // artist_id -> its details, as text
  size_t songs_without_year = 0;
  size_t artists_without_coordinates = 0;
};

Catalogue ReadCatalogue(const Output& out) {
  Catalogue c;
  simdjson::dom::parser parser;
  for (const Object& o : out.objects) {
    if (!IsSongKey(o.key)) continue;
    simdjson::dom::object obj;
    EXPECT_EQ(parser.parse(o.body).get(obj), simdjson::SUCCESS) << o.key;
    const std::string title = Str(obj["title"]);
    const std::string artist = Str(obj["artist_name"]);
    const double duration = double(obj["duration"]);
    c.triples.emplace(title, artist, duration);
    c.title_artist.emplace(title, artist);
    c.title_duration.emplace(title, duration);
    c.song_ids.insert(Str(obj["song_id"]));
    if (int64_t(obj["year"]) == 0) ++c.songs_without_year;
    const std::string details = simdjson::to_string(obj["artist_name"]) + "|" +
                                simdjson::to_string(obj["artist_location"]) + "|" +
                                simdjson::to_string(obj["artist_latitude"]) + "|" +
                                simdjson::to_string(obj["artist_longitude"]);
    auto [it, inserted] = c.artists.emplace(Str(obj["artist_id"]), details);
    EXPECT_EQ(it->second, details) << "artist " << it->first << " has two sets of details";
    if (inserted && obj["artist_latitude"].is_null()) ++c.artists_without_coordinates;
  }
  return c;
}

// The figures a load gives, counted over the log lines the way the warehouse would.
struct EventFigures {
  uint64_t events = 0;
  uint64_t next_song = 0;
  uint64_t logged_out = 0;
  uint64_t matched = 0;
  uint64_t two_of_three = 0;  // match on title+artist or title+length only
  uint64_t users = 0;
  uint64_t paid_users = 0;
  uint64_t users_changing_level = 0;
  uint64_t sessions = 0;
  uint64_t distinct_next_song_ts = 0;
  int64_t first_ts = 0;
  int64_t last_ts = 0;
  std::array<uint64_t, kDirtyKindCount> dirty{};
  std::vector<std::string> clean_lines;
};

EventFigures CountEvents(const Output& out, const Catalogue& catalogue) {
  EventFigures f;
  simdjson::dom::parser parser;
  struct Latest {
    int64_t ts = -1;
    std::string level;
    std::set<std::string> levels;
  };
  std::map<std::string, Latest> users;
  std::set<int64_t> next_song_ts;
  std::map<int64_t, std::vector<int64_t>> items_by_session;
  std::map<int64_t, std::set<std::string>> users_by_session;
  bool first = true;
  for (const Object& o : out.objects) {
    if (IsSongKey(o.key)) continue;
    for (std::string_view line : Lines(o.body)) {
      simdjson::dom::object obj;
      if (parser.parse(line.data(), line.size()).get(obj) != simdjson::SUCCESS) {
        ++f.dirty[static_cast<size_t>(DirtyKind::kTruncatedLine)];
        continue;
      }
      if (obj["sessionId"].is_string()) {
        ++f.dirty[static_cast<size_t>(DirtyKind::kNonNumericSessionId)];
        continue;
      }
      int64_t ts = 0;
      if (obj["ts"].get(ts) != simdjson::SUCCESS) {
        ++f.dirty[static_cast<size_t>(DirtyKind::kMissingTs)];
        continue;
      }
      f.clean_lines.emplace_back(line);
      ++f.events;
      f.first_ts = first ? ts : std::min(f.first_ts, ts);
      f.last_ts = first ? ts : std::max(f.last_ts, ts);
      first = false;
      const int64_t session = int64_t(obj["sessionId"]);
      items_by_session[session].push_back(int64_t(obj["itemInSession"]));
      const std::string user = Str(obj["userId"]);
      if (user.empty()) {
        ++f.logged_out;
      } else {
        users_by_session[session].insert(user);
        Latest& l = users[user];
        const std::string level = Str(obj["level"]);
        l.levels.insert(level);
        if (ts > l.ts) {
          l.ts = ts;
          l.level = level;
        } else if (ts == l.ts) {
          EXPECT_EQ(l.level, level) << "user " << user << " has two levels at ts " << ts;
        }
      }
      if (Str(obj["page"]) == "NextSong") {
        ++f.next_song;
        next_song_ts.insert(ts);
        const std::string song = Str(obj["song"]);
        const std::string artist = Str(obj["artist"]);
        const double length = double(obj["length"]);
        if (catalogue.triples.count({song, artist, length})) {
          ++f.matched;
        } else if (catalogue.title_artist.count({song, artist}) || catalogue.title_duration.count({song, length})) {
          ++f.two_of_three;
        }
      }
    }
  }
  for (const auto& [id, l] : users) {
    ++f.users;
    if (l.level == "paid") ++f.paid_users;
    if (l.levels.size() > 1) ++f.users_changing_level;
  }
  for (auto& [session, items] : items_by_session) {
    std::sort(items.begin(), items.end());
    for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(items[i], static_cast<int64_t>(i)) << "session " << session;
  }
  for (const auto& [session, ids] : users_by_session) EXPECT_EQ(ids.size(), 1u) << "session " << session;
  f.sessions = items_by_session.size();
  f.distinct_next_song_ts = next_song_ts.size();
  return f;
}

TEST(GeneratorTest, SameSeedGivesTheSameBytes) {
  const Output a = Collect(Small());
  const Output b = Collect(Small());
  ASSERT_EQ(a.objects.size(), b.objects.size());
  for (size_t i = 0; i < a.objects.size(); ++i) {
    EXPECT_EQ(a.objects[i].key, b.objects[i].key);
    EXPECT_EQ(a.objects[i].body, b.objects[i].body) << a.objects[i].key;
  }
  EXPECT_EQ(a.summary.ToString(), b.summary.ToString());
}

TEST(GeneratorTest, DifferentSeedGivesDifferentBytes) {
  GenerateOptions other = Small();
  other.seed = 8;
  const Output a = Collect(Small());
  const Output b = Collect(other);
  std::set<std::string> keys_a, keys_b;
  for (const Object& o : a.objects) keys_a.insert(o.key);
  for (const Object& o : b.objects) keys_b.insert(o.key);
  EXPECT_NE(keys_a, keys_b);  // track ids differ
  const Object& last_a = a.objects.back();
  const Object& last_b = b.objects.back();
  ASSERT_EQ(last_a.key, last_b.key);  // the same day
  EXPECT_NE(last_a.body, last_b.body);
}

// Pins the exact bytes: the generator must give them with any compiler and standard library. A
// deliberate change to the generator's output changes this value; update it in the same change.
TEST(GeneratorTest, OutputFingerprintIsStable) {
  GenerateOptions o;
  o.songs = 50;
  o.events = 2'000;
  o.days = 3;
  o.seed = 42;
  o.dirty_share = 0.01;
  const Output out = Collect(o);
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xFF) * 1099511628211ull;
  };
  for (const Object& obj : out.objects) {
    mix(obj.key);
    mix(obj.body);
  }
  EXPECT_EQ(h, 353359778815970848u) << "the generated bytes changed";
}

TEST(GeneratorTest, KeyLayout) {
  GenerateOptions o = Small();
  o.days = 35;  // into December
  const Output out = Collect(o);
  const std::regex song_key(R"(song_data/([A-Z])/([A-Z])/([A-Z])/TR([A-Z])([A-Z])([A-Z])[A-Z]{2}128F[0-9A-F]{7}\.json)");
  std::vector<std::string> log_keys;
  std::set<std::string> song_keys;
  bool songs_done = false;
  for (const Object& obj : out.objects) {
    if (IsSongKey(obj.key)) {
      EXPECT_FALSE(songs_done) << "song files come first";
      std::smatch m;
      ASSERT_TRUE(std::regex_match(obj.key, m, song_key)) << obj.key;
      EXPECT_EQ(m[1], m[4]);
      EXPECT_EQ(m[2], m[5]);
      EXPECT_EQ(m[3], m[6]);
      EXPECT_TRUE(song_keys.insert(obj.key).second) << "duplicate " << obj.key;
    } else {
      songs_done = true;
      log_keys.push_back(obj.key);
    }
  }
  EXPECT_EQ(song_keys.size(), o.songs);
  ASSERT_EQ(log_keys.size(), 35u);
  EXPECT_EQ(log_keys.front(), "log_data/2018/11/2018-11-01-events.json");
  EXPECT_EQ(log_keys[9], "log_data/2018/11/2018-11-10-events.json");
  EXPECT_EQ(log_keys[29], "log_data/2018/11/2018-11-30-events.json");
  EXPECT_EQ(log_keys[30], "log_data/2018/12/2018-12-01-events.json");
  EXPECT_EQ(log_keys.back(), "log_data/2018/12/2018-12-05-events.json");
  EXPECT_EQ(out.summary.files, out.objects.size());
  EXPECT_EQ(out.summary.song_files, o.songs);
  EXPECT_EQ(out.summary.log_files, 35u);
}

TEST(GeneratorTest, SongFilesHaveTheSampleShape) {
  const Output out = Collect(Small());
  simdjson::dom::parser parser;
  const std::regex duration(R"("duration": [0-9]+\.[0-9]{1,5}, )");
  size_t null_coordinates = 0, year_zero = 0, escaped = 0;
  for (const Object& o : out.objects) {
    if (!IsSongKey(o.key)) continue;
    ASSERT_FALSE(o.body.empty());
    EXPECT_EQ(o.body.rfind(R"({"num_songs": 1, "artist_id": "AR)", 0), 0u) << o.body;
    EXPECT_EQ(o.body.back(), '}') << "no trailing newline: " << o.key;
    EXPECT_TRUE(std::regex_search(o.body, duration)) << o.body;
    for (char c : o.body) ASSERT_LT(static_cast<unsigned char>(c), 0x80) << "non-ASCII is written as \\uXXXX";
    if (o.body.find("\\u") != std::string::npos) ++escaped;
    simdjson::dom::object obj;
    ASSERT_EQ(parser.parse(o.body).get(obj), simdjson::SUCCESS) << o.key;
    EXPECT_EQ(KeysOf(obj), kSongKeys) << o.key;
    EXPECT_EQ(int64_t(obj["num_songs"]), 1);
    const std::string song_id = Str(obj["song_id"]);
    const std::string artist_id = Str(obj["artist_id"]);
    EXPECT_TRUE(std::regex_match(song_id, std::regex("SO[A-Z0-9]{16}"))) << song_id;
    EXPECT_TRUE(std::regex_match(artist_id, std::regex("AR[A-Z0-9]{16}"))) << artist_id;
    const std::string track = o.key.substr(o.key.rfind('/') + 1, 18);
    EXPECT_TRUE(std::regex_match(track, std::regex("TR[A-Z0-9]{16}"))) << track;
    if (obj["artist_latitude"].is_null()) {
      ++null_coordinates;
      EXPECT_TRUE(obj["artist_longitude"].is_null());
    }
    const int64_t year = int64_t(obj["year"]);
    if (year == 0) ++year_zero;
    else EXPECT_TRUE(year >= 1950 && year <= 2010) << year;
    const double d = double(obj["duration"]);
    EXPECT_TRUE(d >= 20 && d < 1000) << d;
  }
  EXPECT_GT(null_coordinates, 0u);
  EXPECT_GT(year_zero, 0u);
  EXPECT_GT(escaped, 0u);
  const Catalogue c = ReadCatalogue(out);
  EXPECT_EQ(c.song_ids.size(), 400u);
  EXPECT_LT(c.artists.size(), c.song_ids.size()) << "some artists have several songs";
  std::set<std::string> titles;
  for (const auto& t : c.triples) titles.insert(std::get<0>(t));
  EXPECT_EQ(titles.size(), c.triples.size()) << "catalogue titles are unique";
}

TEST(GeneratorTest, EventLinesHaveTheSampleShape) {
  const Output out = Collect(Small());
  simdjson::dom::parser parser;
  const int64_t kStart = 1541030400000;
  size_t day = 0, quoted_agents = 0, unquoted_agents = 0, logged_out = 0, level_changes = 0;
  std::set<std::string> pages;
  for (const Object& o : out.objects) {
    if (IsSongKey(o.key)) continue;
    ASSERT_FALSE(o.body.empty());
    EXPECT_NE(o.body.back(), '\n') << "no final newline: " << o.key;
    EXPECT_NE(o.body.find("\\/"), std::string::npos) << "'/' is written as \\/";
    int64_t previous = 0;
    for (std::string_view line : Lines(o.body)) {
      simdjson::dom::object obj;
      ASSERT_EQ(parser.parse(line.data(), line.size()).get(obj), simdjson::SUCCESS) << line;
      ASSERT_EQ(KeysOf(obj), kEventKeys) << line;
      const int64_t ts = int64_t(obj["ts"]);
      EXPECT_EQ(ts % 1000, 796);
      EXPECT_GE(ts, kStart + static_cast<int64_t>(day) * 86'400'000);
      EXPECT_LT(ts, kStart + static_cast<int64_t>(day + 1) * 86'400'000);
      EXPECT_GE(ts, previous) << "sorted by ts";
      previous = ts;
      const std::string page = Str(obj["page"]);
      pages.insert(page);
      if (page.rfind("Submit", 0) == 0) ++level_changes;
      const bool play = page == "NextSong";
      EXPECT_EQ(obj["song"].is_string(), play);
      EXPECT_EQ(obj["artist"].is_string(), play);
      EXPECT_EQ(obj["length"].is_null(), !play);
      EXPECT_EQ(Str(obj["method"]), play || page == "Login" || page == "Logout" || page == "Save Settings" ||
                                            page.rfind("Submit", 0) == 0
                                        ? "PUT"
                                        : "GET");
      const std::string user = Str(obj["userId"]);
      if (user.empty()) {
        ++logged_out;
        EXPECT_EQ(Str(obj["auth"]), "Logged Out");
        EXPECT_TRUE(obj["firstName"].is_null() && obj["lastName"].is_null() && obj["gender"].is_null() &&
                    obj["location"].is_null() && obj["registration"].is_null() && obj["userAgent"].is_null());
        EXPECT_FALSE(play);
      } else {
        EXPECT_TRUE(user[0] != '0' && user.find_first_not_of("0123456789") == std::string::npos) << user;
        EXPECT_EQ(Str(obj["auth"]), "Logged In");
        const std::string agent = Str(obj["userAgent"]);
        if (agent.find(',') != std::string::npos) {
          ++quoted_agents;
          EXPECT_TRUE(agent.size() > 2 && agent.front() == '"' && agent.back() == '"') << agent;
        } else {
          ++unquoted_agents;
          EXPECT_NE(agent.front(), '"');
        }
        EXPECT_TRUE(obj["registration"].is_double());
        EXPECT_LT(double(obj["registration"]), static_cast<double>(kStart));
      }
      const std::string level = Str(obj["level"]);
      EXPECT_TRUE(level == "free" || level == "paid") << level;
    }
    ++day;
  }
  EXPECT_GT(quoted_agents, 0u);
  EXPECT_GT(unquoted_agents, 0u);
  EXPECT_GT(logged_out, 0u);
  EXPECT_GT(level_changes, 0u);
  for (const char* page : {"NextSong", "Home", "Login", "Logout", "Settings", "Help", "About"}) {
    EXPECT_TRUE(pages.count(page)) << page;
  }
}

void ExpectSummaryMatches(const Output& out) {
  const Catalogue c = ReadCatalogue(out);
  const EventFigures f = CountEvents(out, c);
  const GenerateSummary& s = out.summary;
  uint64_t bytes = 0, song_bytes = 0;
  for (const Object& o : out.objects) {
    bytes += o.body.size();
    if (IsSongKey(o.key)) song_bytes += o.body.size();
  }
  EXPECT_EQ(s.files, out.objects.size());
  EXPECT_EQ(s.bytes, bytes);
  EXPECT_EQ(s.song_bytes, song_bytes);
  EXPECT_EQ(s.log_bytes, bytes - song_bytes);
  EXPECT_EQ(s.songs, c.song_ids.size());
  EXPECT_EQ(s.songs_without_year, c.songs_without_year);
  EXPECT_EQ(s.artists, c.artists.size());
  EXPECT_EQ(s.artists_without_coordinates, c.artists_without_coordinates);
  EXPECT_EQ(s.events, f.events);
  EXPECT_EQ(s.next_song_events, f.next_song);
  EXPECT_EQ(s.expected_songplays(), f.next_song);
  EXPECT_EQ(s.logged_out_events, f.logged_out);
  EXPECT_EQ(s.sessions, f.sessions);
  EXPECT_EQ(s.distinct_users, f.users);
  EXPECT_EQ(s.paid_users, f.paid_users);
  EXPECT_EQ(s.users_changing_level, f.users_changing_level);
  EXPECT_EQ(s.matched_plays, f.matched);
  EXPECT_EQ(s.distinct_next_song_ts, f.distinct_next_song_ts);
  EXPECT_EQ(s.expected_time_rows(), f.distinct_next_song_ts);
  EXPECT_EQ(s.first_ts, f.first_ts);
  EXPECT_EQ(s.last_ts, f.last_ts);
  // Near misses that differ in encoding match on none of the pairs; the others on exactly one.
  EXPECT_LE(f.two_of_three, s.near_miss_plays);
  EXPECT_EQ(s.dirty, f.dirty);
}

TEST(GeneratorTest, SummaryEqualsIndependentCounts) {
  GenerateOptions o = Small();
  o.near_miss_share = 0.05;
  const Output out = Collect(o);
  ExpectSummaryMatches(out);
  const GenerateSummary& s = out.summary;
  EXPECT_EQ(s.events, o.events);
  EXPECT_EQ(s.songs, o.songs);
  EXPECT_EQ(s.artists, o.songs * 2 / 3);
  EXPECT_GT(s.matched_plays, 0u);
  EXPECT_GT(s.near_miss_plays, 0u);
  EXPECT_GT(s.paid_users, 0u);
  EXPECT_LT(s.paid_users, s.distinct_users);
  EXPECT_GT(s.users_changing_level, 0u);
  EXPECT_LT(s.distinct_next_song_ts, s.next_song_events) << "some NextSong events share a ts";
  EXPECT_EQ(s.dirty_records(), 0u);
  // match_share is a share of NextSong events.
  const double share = static_cast<double>(s.matched_plays) / static_cast<double>(s.next_song_events);
  EXPECT_NEAR(share, o.match_share, 0.03);
}

TEST(GeneratorTest, SummaryEqualsIndependentCountsForOtherShapes) {
  GenerateOptions o;
  o.songs = 30;
  o.artists = 30;  // one song per artist
  o.events = 5'000;
  o.users = 20;
  o.days = 7;
  o.seed = 99;
  o.match_share = 0.9;
  o.near_miss_share = 0.1;
  ExpectSummaryMatches(Collect(o));

  o.songs = 0;  // every play is of a song outside the catalogue
  o.artists = 0;
  o.match_share = 0.5;
  const Output no_songs = Collect(o);
  ExpectSummaryMatches(no_songs);
  EXPECT_EQ(no_songs.summary.matched_plays, 0u);
  EXPECT_EQ(no_songs.summary.song_files, 0u);

  o.songs = 10;
  o.events = 0;
  const Output no_events = Collect(o);
  EXPECT_EQ(no_events.summary.log_files, 0u);
  EXPECT_EQ(no_events.summary.events, 0u);
  EXPECT_EQ(no_events.objects.size(), 10u);
}

TEST(GeneratorTest, DirtyRecordsAreExtraLines) {
  const Output clean = Collect(Small());
  GenerateOptions o = Small();
  o.dirty_share = 0.03;
  const Output dirty = Collect(o);
  ExpectSummaryMatches(dirty);
  for (size_t k = 0; k < kDirtyKindCount; ++k) {
    EXPECT_GT(dirty.summary.dirty[k], 0u) << DirtyKindName(static_cast<DirtyKind>(k));
  }
  // Take the bad lines away and what remains is the clean output, line for line.
  const Catalogue c = ReadCatalogue(clean);
  const EventFigures clean_figures = CountEvents(clean, c);
  const EventFigures dirty_figures = CountEvents(dirty, c);
  EXPECT_EQ(clean_figures.clean_lines, dirty_figures.clean_lines);
  GenerateSummary without_dirt = dirty.summary;
  without_dirt.dirty = {};
  without_dirt.files = clean.summary.files;
  without_dirt.bytes = clean.summary.bytes;
  without_dirt.log_bytes = clean.summary.log_bytes;
  EXPECT_EQ(without_dirt.ToString(), clean.summary.ToString());

  o.dirty_kinds = DirtyKindBit(DirtyKind::kMissingTs);
  const Output only_missing_ts = Collect(o);
  ExpectSummaryMatches(only_missing_ts);
  EXPECT_GT(only_missing_ts.summary.dirty[static_cast<size_t>(DirtyKind::kMissingTs)], 0u);
  EXPECT_EQ(only_missing_ts.summary.dirty_records(),
            only_missing_ts.summary.dirty[static_cast<size_t>(DirtyKind::kMissingTs)]);
}

TEST(GeneratorTest, RejectsInvalidOptionsBeforeWritingAnything) {
  auto expect_invalid = [](GenerateOptions o, const char* what) {
    int calls = 0;
    Result<GenerateSummary> r = Generate(o, [&calls](std::string_view, std::string_view) {
      ++calls;
      return Status::Ok();
    });
    EXPECT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << what;
    EXPECT_EQ(calls, 0) << what;
    EXPECT_FALSE(ValidateGenerateOptions(o).ok()) << what;
  };
  GenerateOptions o = Small();
  o.days = 0;
  expect_invalid(o, "no days");
  o = Small();
  o.artists = o.songs + 1;
  expect_invalid(o, "more artists than songs");
  o = Small();
  o.match_share = 1.5;
  expect_invalid(o, "share above 1");
  o = Small();
  o.dirty_share = std::nan("");
  expect_invalid(o, "NaN share");
  o = Small();
  o.match_share = 0.7;
  o.near_miss_share = 0.4;
  expect_invalid(o, "shares summing above 1");
  o = Small();
  o.users = 2;
  expect_invalid(o, "too many events per user");
  o = Small();
  o.dirty_share = 0.1;
  o.dirty_kinds = 0;
  expect_invalid(o, "no dirty kinds");
  o = Small();
  o.songs = MaxGeneratedSongs() + 1;
  expect_invalid(o, "too many songs");
  EXPECT_TRUE(ValidateGenerateOptions(Small()).ok());
  EXPECT_TRUE(ValidateGenerateOptions(GenerateOptions{}).ok());
}

TEST(GeneratorTest, SinkErrorStopsGenerationAndNamesTheKey) {
  int calls = 0;
  std::string failed_key;
  Result<GenerateSummary> r = Generate(Small(), [&](std::string_view key, std::string_view) {
    if (++calls == 5) {
      failed_key = std::string(key);
      return Status::Unavailable("disk on fire");
    }
    return Status::Ok();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find(failed_key), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("disk on fire"), std::string::npos);
  EXPECT_EQ(calls, 5);
}

// An in-memory ObjectStore: only Put and UriFor are used by the generator.
class MemoryStore : public ObjectStore {
 public:
  Status List(std::string_view, const std::function<Status(ObjectInfo)>&) override {
    return Status::Internal("not used");
  }
  Result<std::string> Get(std::string_view) override { return Status::Internal("not used"); }
  void GetMany(const std::vector<std::string>&, size_t,
               const std::function<void(size_t, Result<std::string>)>&) override {}
  Result<std::string> GetRange(std::string_view, uint64_t, uint64_t, std::string_view) override {
    return Status::Internal("not used");
  }
  Result<ObjectInfo> Head(std::string_view) override { return Status::Internal("not used"); }
  Status Put(std::string_view key, std::string_view body) override {
    if (!fail_on_.empty() && key.find(fail_on_) != std::string_view::npos) return Status::PermissionDenied("no");
    objects_.emplace(std::string(key), std::string(body));
    return Status::Ok();
  }
  Status Delete(std::string_view key) override {
    objects_.erase(std::string(key));
    return Status::Ok();
  }
  std::string UriFor(std::string_view key) const override { return "mem://bucket/" + std::string(key); }

  std::map<std::string, std::string> objects_;
  std::string fail_on_;
};

TEST(GeneratorTest, WritesThroughAnObjectStoreUnderAPrefix) {
  GenerateOptions o = Small();
  o.songs = 20;
  o.events = 2'000;
  const Output direct = Collect(o);
  for (std::string_view prefix : {"runs/r1", "runs/r1/"}) {
    MemoryStore store;
    Result<GenerateSummary> r = GenerateToStore(o, store, prefix);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->ToString(), direct.summary.ToString());
    ASSERT_EQ(store.objects_.size(), direct.objects.size());
    for (const Object& obj : direct.objects) {
      auto it = store.objects_.find("runs/r1/" + obj.key);
      ASSERT_NE(it, store.objects_.end()) << obj.key;
      EXPECT_EQ(it->second, obj.body);
    }
  }
  MemoryStore root;
  ASSERT_TRUE(GenerateToStore(o, root, "").ok());
  EXPECT_TRUE(root.objects_.count(direct.objects.back().key));

  MemoryStore failing;
  failing.fail_on_ = "log_data/";
  Result<GenerateSummary> r = GenerateToStore(o, failing, "p");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("mem://bucket/p/log_data/2018/11/2018-11-01-events.json"), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace loadstar
