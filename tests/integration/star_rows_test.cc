// What workers compute for PostgreSQL (worker/star_rows.h) against what a real PostgreSQL
// computes: hashtextextended(s, 0), float8 output, the schema's song_match_key, and date_part of
// a start time. Each case is sent to the server in one query and compared value for value.
#include "worker/star_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/warehouse/warehouse.h"
#include "tests/support/postgres_server.h"

namespace loadstar::worker {
namespace {

using testing::PostgresServer;

constexpr const char* kDatabase = "star_rows";

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// A text[] literal of `items`, each quoted (they hold no quote or backslash).
std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ",\"" : "\"") + items[i] + "\"";
  return out + "}";
}

// A double as text PostgreSQL reads back to the same double.
std::string Exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

class StarRowsPostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // UTF-8 whatever the server's default, so that multibyte text reaches the hash as its bytes.
    PostgresServer::Shared().Psql("postgres", std::string("DROP DATABASE IF EXISTS ") + kDatabase + ";");
    PostgresServer::Shared().Psql("postgres", std::string("CREATE DATABASE ") + kDatabase +
                                                  " ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';");
  }

  void SetUp() override {
    WarehouseOptions wo;
    wo.conninfo = PostgresServer::Shared().Uri(kDatabase);
    wo.schema = "star_rows";
    auto wh = Warehouse::Connect(wo, /*create_schema=*/true);
    ASSERT_TRUE(wh.ok()) << wh.status().ToString();
    wh_ = std::move(wh).value();
    ASSERT_TRUE(wh_->ExecFile("schema").ok());  // for song_match_key
    ASSERT_EQ(Query("SHOW server_encoding")[0], "UTF8");
  }

  // PostgreSQL's float8 output of each of `cases`, in order, in one query.
  std::vector<std::string> Float8Texts(const std::vector<double>& cases) {
    std::vector<std::string> texts;
    for (double v : cases) texts.push_back(Exact(v));
    return Query("SELECT x::float8::text FROM unnest($1::text[]) WITH ORDINALITY AS u (x, i) ORDER BY i",
                 {ArrayLiteral(texts)});
  }

  // The first column of every row of `sql` (NULL as "NULL").
  std::vector<std::string> Query(const std::string& sql, const std::vector<SqlParam>& params = {}) {
    auto r = wh_->QueryText(sql, params);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (size_t i = 0; i < r->size(); ++i) out.push_back(r->at(i, 0).value_or("NULL"));
    return out;
  }

  std::unique_ptr<Warehouse> wh_;
};

// Strings of every length from 0 to 40 (each length a few times, with bytes from all over the
// range a UTF-8 text can hold), lengths around the 12-byte blocks the hash reads, multibyte
// characters that straddle those blocks, and text like the keys the hash is used for.
std::vector<std::string> HashCases() {
  std::vector<std::string> cases = {"", "a", "ab", "abc", "\x1f", "Song A\x1f" "Artist A\x1f" "200.5",
                                    "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\xb5", "Bj\xc3\xb6rk\x1f"
                                    "J\xc3\xb3ga\x1f" "305.13"};
  std::mt19937_64 rng(20240611);
  const std::string multibyte[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\xb5", "\xd0\x96", "\xe6\x97\xa5"};
  for (size_t len = 0; len <= 40; ++len) {
    for (int k = 0; k < 3; ++k) {
      std::string s;
      while (s.size() < len) s.push_back(static_cast<char>(1 + rng() % 127));  // any ASCII but NUL
      cases.push_back(s);
    }
    // Bytes above 0x7f in every position of the last, partial block: multibyte characters.
    std::string m;
    while (m.size() < len) m += multibyte[rng() % 5];
    cases.push_back(m);
  }
  for (size_t len : {11, 12, 13, 23, 24, 25, 35, 36, 37, 47, 48, 49, 100, 255, 256, 1000, 4096}) {
    std::string s;
    while (s.size() < len) s.push_back(static_cast<char>('A' + rng() % 58));
    cases.push_back(s);
    std::string m(len >= 2 ? len - 2 : 0, 'x');
    cases.push_back(m + "\xc3\xa9");  // a 2-byte character ending the string
  }
  return cases;
}

TEST_F(StarRowsPostgresTest, HashTextExtendedIsPostgresOwn) {
  const std::vector<std::string> cases = HashCases();
  ASSERT_GT(cases.size(), 200u);
  std::vector<std::string> hex;
  for (const std::string& s : cases) hex.push_back(Hex(s));
  const std::vector<std::string> got =
      Query("SELECT hashtextextended(convert_from(decode(h, 'hex'), 'UTF8'), 0)::text"
            " FROM unnest($1::text[]) WITH ORDINALITY AS u (h, i) ORDER BY i",
            {ArrayLiteral(hex)});
  ASSERT_EQ(got.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(std::to_string(PostgresHashTextExtended(cases[i])), got[i])
        << "length " << cases[i].size() << ", bytes " << Hex(cases[i]);
  }
}

std::vector<double> DoubleCases() {
  std::vector<double> cases = {0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 200.5, 269.58322, 180.25, 99.5,
                               1.5, 305.13, 1e-4, 9.999999999999999e-5, 0.00010000000000000002, 1e-5, 1.5e-5,
                               1e15, 999999999999999.0, 999999999999999.9, 1e15 + 2, 1.0000000000000002e15, 1e14,
                               123456789012345.6, 1e16, 1e21, 1e22, 1e100, 1.7976931348623157e308,
                               std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min(),
                               2.2250738585072009e-308, 5e-324, 1e-300, -1e-300, 4503599627370496.0,
                               9007199254740993.0, 0.5, 0.25, 100.0, 1000000.0, 12345678.0, -269.58322,
                               std::nextafter(1e-4, 0.0), std::nextafter(1e-4, 1.0), std::nextafter(1e15, 0.0),
                               std::nextafter(1e15, 2e15), 0x1p51, std::nextafter(0x1p51, 0.0),
                               std::nextafter(0x1p51, 1e300), 0x1p52 + 1, 0x1p53 - 1, 3 * 0x1p50 + 0.5,
                               -(0x1p51 + 0.5)};
  std::mt19937_64 rng(7);
  // Typical song durations: seconds with five decimals, as the song files have them.
  std::uniform_int_distribution<int64_t> centiseconds(1, 100000000);
  for (int i = 0; i < 300; ++i) cases.push_back(static_cast<double>(centiseconds(rng)) / 100000.0);
  // Doubles of every magnitude: random bit patterns, finite ones only.
  while (cases.size() < 1200) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) cases.push_back(v);
  }
  // Decimal powers and their neighbours across the range.
  for (int e = -320; e <= 308; e += 7) {
    const double p = std::pow(10.0, e);
    if (!std::isfinite(p) || p == 0) continue;
    cases.push_back(p);
    cases.push_back(-std::nextafter(p, 0.0));
  }
  // 1e23, a tie, has a test of its own below.
  cases.erase(std::remove_if(cases.begin(), cases.end(), [](double v) { return std::fabs(v) == 1e23; }), cases.end());
  return cases;
}

TEST_F(StarRowsPostgresTest, Float8TextIsPostgresFloat8Output) {
  const std::vector<double> cases = DoubleCases();
  const std::vector<std::string> got = Float8Texts(cases);
  ASSERT_EQ(got.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    // -0 is the one value PostgreSQL writes otherwise ("-0"); the key hashes duration + 0.
    const std::string want = got[i] == "-0" ? "0" : got[i];
    EXPECT_EQ(Float8Text(cases[i]), want) << Exact(cases[i]);
  }
  EXPECT_EQ(Query("SELECT ('-0'::float8 + 0::float8)::text")[0], "0");
}

// Where the shortest digits that read back as the double lie exactly on the edge of its rounding
// interval (1e23 is halfway between two doubles, and reads as the even one), PostgreSQL's
// float8out does not take them (src/common/d2s.c: acceptBounds is false) but the shortest digits
// strictly inside it: 9.999999999999999e+22, where std::to_chars writes 1e+23.
TEST_F(StarRowsPostgresTest, Float8TextIsPostgresOutputWhereTheShortestDigitsLieOnARoundingBound) {
  for (double v : {1e23, -1e23}) {
    EXPECT_EQ(Float8Text(v), Query("SELECT ($1::float8)::text", {Exact(v)})[0]) << Exact(v);
  }
}

// Durations and lengths as the data has them (seconds with five decimals), many of them: the
// halfway test above must not mistake a value near a rounding bound for one on it (258.16601 is
// within long double's precision of one).
TEST_F(StarRowsPostgresTest, Float8TextIsPostgresOutputForEveryDurationOfASweep) {
  std::vector<double> cases = {258.16601};
  for (int64_t k = 1; k <= 60000000; k += 1009) cases.push_back(static_cast<double>(k) / 100000.0);
  const std::vector<std::string> got = Float8Texts(cases);
  ASSERT_EQ(got.size(), cases.size());
  size_t wrong = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (Float8Text(cases[i]) != got[i] && ++wrong <= 5) ADD_FAILURE() << Exact(cases[i]) << ": " << got[i];
  }
  EXPECT_EQ(wrong, 0u) << "of " << cases.size();
}

TEST_F(StarRowsPostgresTest, SongMatchKeyIsTheSchemasSongMatchKey) {
  const std::vector<std::string> titles = HashCases();
  const std::vector<double> durations = DoubleCases();
  std::vector<std::string> t, a, d;
  std::vector<std::string> tt, aa;
  std::vector<double> dd;
  std::mt19937_64 rng(11);
  for (size_t i = 0; i < titles.size(); ++i) {
    const std::string& title = titles[i];
    const std::string& artist = titles[(i * 7 + 3) % titles.size()];
    const double duration = durations[rng() % durations.size()];
    tt.push_back(title);
    aa.push_back(artist);
    dd.push_back(duration);
  }
  tt.push_back("Song A");
  aa.push_back("Artist A");
  dd.push_back(-0.0);
  for (size_t i = 0; i < tt.size(); ++i) {
    t.push_back(Hex(tt[i]));
    a.push_back(Hex(aa[i]));
    d.push_back(Exact(dd[i]));
  }
  const std::vector<std::string> got = Query(
      "SELECT song_match_key(convert_from(decode(t, 'hex'), 'UTF8'), convert_from(decode(a, 'hex'), 'UTF8'),"
      " d::float8)::text FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u (t, a, d, i) ORDER BY i",
      {ArrayLiteral(t), ArrayLiteral(a), ArrayLiteral(d)});
  ASSERT_EQ(got.size(), tt.size());
  for (size_t i = 0; i < tt.size(); ++i) {
    EXPECT_EQ(std::to_string(SongMatchKey(tt[i], aa[i], dd[i])), got[i])
        << "title " << Hex(tt[i]) << ", artist " << Hex(aa[i]) << ", duration " << Exact(dd[i]);
  }
  EXPECT_EQ(SongMatchKey("Song A", "Artist A", -0.0), SongMatchKey("Song A", "Artist A", 0.0));
}

int64_t Ms(int year, int month, int day) {
  // Days from 1970-01-01 (proleptic Gregorian), counted independently of worker/star_rows.cc.
  const auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t days = 0;
  for (int y = 1970; y < year; ++y) days += leap(y) ? 366 : 365;
  for (int y = year; y < 1970; ++y) days -= leap(y) ? 366 : 365;
  for (int m = 1; m < month; ++m) days += kDays[m - 1] + (m == 2 && leap(year));
  days += day - 1;
  return days * 86400000;
}

std::vector<int64_t> TimeCases() {
  std::vector<int64_t> cases = {0, -1, 1, 999, -999, 3599999, 3600000, 86399999, 86400000, -86400000, -86400001,
                                1541105830796, 1541105900796, 1543622399999, 1543622400000};
  constexpr int64_t kHour = 3600000;
  // The first and last millisecond of each year, and around them, from 0001 to 9999; the
  // first days of January and the last of December, where ISO weeks 52, 53 and 1 meet.
  for (int year : {1, 2, 3, 4, 99, 100, 101, 399, 400, 401, 1582, 1600, 1752, 1899, 1900, 1901, 1969, 1970, 1971, 1999,
                   2000, 2001, 2004, 2009, 2015, 2016, 2018, 2020, 2021, 2026, 2032, 2037, 2038, 2099, 2100, 2400, 4000,
                   5000, 9998, 9999}) {
    for (int day = 1; day <= 7; ++day) {
      const int64_t start = Ms(year, 1, day);
      for (int64_t off : {int64_t{0}, int64_t{1}, kHour - 1, 12 * kHour, 24 * kHour - 1}) cases.push_back(start + off);
    }
    for (int day = 25; day <= 31; ++day) {
      const int64_t start = Ms(year, 12, day);
      for (int64_t off : {int64_t{0}, 23 * kHour + 59 * 60000 + 59999}) cases.push_back(start + off);
    }
    cases.push_back(Ms(year, 2, 28) + 13 * kHour);
    cases.push_back(Ms(year, 3, 1) - 1);
  }
  // Random instants over the whole range 0001-01-01 .. 9999-12-31.
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int64_t> any(Ms(1, 1, 1), Ms(10000, 1, 1) - 1);
  for (int i = 0; i < 2000; ++i) cases.push_back(any(rng));
  return cases;
}

TEST_F(StarRowsPostgresTest, TimePartsAreDatePartOfTheStartTime) {
  const std::vector<int64_t> cases = TimeCases();
  ASSERT_EQ(Ms(1, 1, 1), -62135596800000);  // the helper agrees with PostgreSQL on 0001-01-01
  std::vector<std::string> texts;
  for (int64_t ts : cases) texts.push_back(std::to_string(ts));
  auto r = wh_->QueryText(
      "SELECT date_part('hour', t)::int, date_part('day', t)::int, date_part('week', t)::int,"
      " date_part('month', t)::int, date_part('year', t)::int, date_part('dow', t)::int, t::text"
      " FROM (SELECT i, timestamp 'epoch' + ts::bigint * interval '1 millisecond' AS t"
      "       FROM unnest($1::text[]) WITH ORDINALITY AS u (ts, i)) x ORDER BY i",
      {ArrayLiteral(texts)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), cases.size());
  EXPECT_EQ(r->text(0, 6), "1970-01-01 00:00:00");
  int week_53 = 0, week_1_in_december = 0, before_1970 = 0, min_year = 10000, max_year = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const TimeParts t = TimePartsOf(cases[i]);
    const std::string got = std::to_string(t.hour) + " " + std::to_string(t.day) + " " + std::to_string(t.week) + " " +
                            std::to_string(t.month) + " " + std::to_string(t.year) + " " + std::to_string(t.weekday);
    std::string want;
    for (size_t c = 0; c < 6; ++c) want += (c ? " " : "") + r->text(i, c);
    EXPECT_EQ(got, want) << "ts " << cases[i] << " = " << r->text(i, 6);
    week_53 += t.week == 53;
    week_1_in_december += t.week == 1 && t.month == 12;
    before_1970 += cases[i] < 0;
    min_year = std::min(min_year, t.year);
    max_year = std::max(max_year, t.year);
  }
  // The cases reach the edges they are meant to.
  EXPECT_GT(week_53, 10);
  EXPECT_GT(week_1_in_december, 10);
  EXPECT_GT(before_1970, 500);
  EXPECT_EQ(min_year, 1);
  EXPECT_EQ(max_year, 9999);
}

}  // namespace
}  // namespace loadstar::worker
