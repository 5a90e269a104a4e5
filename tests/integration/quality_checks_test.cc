// The data-quality checks against a real PostgreSQL: a small correct star schema built by hand
// passes every check; each check fails, alone, when a table is corrupted on purpose, and its
// failure names the check and shows the offending row. songplays_of_the_run checks the songplays
// the run's staged plays name, so the tests that break a songplay stage the run's plays first.
#include "coordinator/report/quality_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/warehouse/warehouse.h"
#include "tests/support/postgres_server.h"

namespace loadstar {
namespace {

using coordinator::CheckResult;
using coordinator::ChecksToStatus;
using coordinator::RunQualityChecks;
using ::testing::HasSubstr;
using testing::PostgresServer;

constexpr int64_t kRun = 7;

// songplay_id of an event, as the transform computes it.
std::string SongplayId(int64_t session, int64_t item) { return std::to_string(session * 16777216 + item); }

class QualityChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    schema_ = "quality_" + std::to_string(++n);
    WarehouseOptions wo;
    wo.conninfo = PostgresServer::Shared().Uri();
    wo.schema = schema_;
    auto wh = Warehouse::Connect(wo, /*create_schema=*/true);
    ASSERT_TRUE(wh.ok()) << wh.status().ToString();
    wh_ = std::move(wh).value();
    ASSERT_TRUE(wh_->ExecFile("schema").ok());
    BuildCorrectStar();
  }

  void Sql(const std::string& sql) {
    auto r = wh_->QueryText(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }

  // Two artists, two songs, three users, four songplays (one unmatched) and their times; no
  // staging rows, as after a transform.
  void BuildCorrectStar() {
    Sql("INSERT INTO artists VALUES ('AR1', 'Artist A', 'Here', NULL, NULL), ('AR2', 'Artist B', '', 1.5, 2.5)");
    Sql("INSERT INTO songs VALUES ('SO1', 'Song A', 'AR1', 2000, 200.5), ('SO2', 'Song B', 'AR2', NULL, 180)");
    Sql("INSERT INTO users VALUES ('1', 'Ann', 'Lee', 'F', 'free', '2018-11-01 10:03:20'),"
        " ('2', 'Bob', 'Ray', 'M', 'paid', '2018-11-02 08:00:00'),"
        " ('3', 'Cy', 'Ito', 'M', 'free', '2018-11-02 09:30:00.5')");
    Sql("INSERT INTO songplays VALUES"
        " (" + SongplayId(10, 0) + ", '2018-11-01 10:00:00', '1', 'free', 'SO1', 'AR1', 10, 'Here', 'UA'),"
        " (" + SongplayId(10, 1) + ", '2018-11-01 10:03:20', '1', 'free', NULL, NULL, 10, 'Here', 'UA'),"
        " (" + SongplayId(11, 0) + ", '2018-11-02 08:00:00', '2', 'paid', 'SO2', 'AR2', 11, 'There', 'UA'),"
        " (" + SongplayId(12, 0) + ", '2018-11-02 09:30:00.5', '3', 'free', 'SO1', 'AR1', 12, 'Here', 'UA')");
    Sql("INSERT INTO time SELECT DISTINCT start_time, extract(hour FROM start_time), extract(day FROM start_time),"
        " extract(week FROM start_time), extract(month FROM start_time), extract(year FROM start_time),"
        " extract(dow FROM start_time) FROM songplays");
  }

  // Run kRun's staging rows as they stand inside the transform, before they are cleared, as
  // workers shape them (docs/STAGING_ROWS.md): the plays of the NextSong events behind the four
  // songplays (one of them staged twice, from two files), each file's latest event per user (a
  // page view, line 3, is user 1's in day1.json), each file's distinct play times; and a play of
  // another run.
  void StageRunEvents() {
    Sql("INSERT INTO runs (run_id, sources, state) VALUES (" + std::to_string(kRun) + ", 'events=t', 'transforming'),"
        " (8, 'events=u', 'staging')");
    // staged: the records each file staged (five events, one, one).
    Sql("INSERT INTO load_files (file_id, uri, kind, etag, size, run_id, state, staged) VALUES"
        " (70, 's3://b/log_data/day1.json', 'event', 'e1', 100, 7, 'staged', 5),"
        " (71, 's3://b/log_data/day1-copy.json', 'event', 'e2', 100, 7, 'staged', 1),"
        " (80, 's3://b/log_data/day9.json', 'event', 'e3', 100, 8, 'staged', 1)");
    Sql("INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id) VALUES"
        " (7, 70, 1, " + SongplayId(10, 0) + ", 1541066400000, '1', 'free', 10),"
        " (7, 70, 2, " + SongplayId(10, 1) + ", 1541066600000, '1', 'free', 10),"
        " (7, 70, 4, " + SongplayId(11, 0) + ", 1541145600000, '2', 'paid', 11),"
        " (7, 70, 5, " + SongplayId(12, 0) + ", 1541151000500, '3', 'free', 12),"
        " (7, 71, 1, " + SongplayId(10, 0) + ", 1541066400000, '1', 'free', 10),"
        " (8, 80, 1, " + SongplayId(99, 0) + ", 1541900000000, '1', 'free', 99)");
    Sql("INSERT INTO staging_users (run_id, file_id, line, user_id, level, ts, session_id, item_in_session) VALUES"
        " (7, 70, 3, '1', 'free', 1541066700000, 10, 2),"
        " (7, 70, 4, '2', 'paid', 1541145600000, 11, 0),"
        " (7, 70, 5, '3', 'free', 1541151000500, 12, 0),"
        " (7, 71, 1, '1', 'free', 1541066400000, 10, 0),"
        " (8, 80, 1, '1', 'free', 1541900000000, 99, 0)");
    StageTimes();
  }

  // The run's staging rows as a first load stages them: each songplay staged once, by this run
  // alone (day1-copy.json's rows and the other run's play taken out).
  void StageAFirstLoad() {
    StageRunEvents();
    Sql("DELETE FROM staging_plays WHERE file_id = 71 OR run_id = 8");
    Sql("DELETE FROM staging_users WHERE file_id = 71");
    Sql("DELETE FROM staging_time WHERE file_id = 71");
    Sql("UPDATE load_files SET staged = 0 WHERE file_id = 71");
  }

  // staging_time rows for the distinct play times of each file's staging_plays rows, with the
  // parts PostgreSQL's date_part gives their start times (as workers compute them).
  void StageTimes() {
    Sql("INSERT INTO staging_time (run_id, file_id, ts, hour, day, week, month, year, weekday)"
        " SELECT run_id, file_id, ts, date_part('hour', t), date_part('day', t), date_part('week', t),"
        " date_part('month', t), date_part('year', t), date_part('dow', t)"
        " FROM (SELECT DISTINCT run_id, file_id, ts, timestamp 'epoch' + ts * interval '1 millisecond' AS t"
        " FROM staging_plays) p"
        " WHERE NOT EXISTS (SELECT 1 FROM staging_time s WHERE s.file_id = p.file_id AND s.ts = p.ts)");
  }

  // The fixtures stage rows with plain INSERTs; a real staging transaction records each file's
  // account in the ledger in the same commit: the rows it staged across the four staging tables,
  // its rejects, and records = staged + rejected (`staged`, the records staged, as the fixture set
  // it). This does that for them.
  void BalanceLedger() {
    Sql("UPDATE load_files f SET staged_rows = (SELECT count(*) FROM staging_plays p WHERE p.file_id = f.file_id)"
        " + (SELECT count(*) FROM staging_users u WHERE u.file_id = f.file_id)"
        " + (SELECT count(*) FROM staging_time t WHERE t.file_id = f.file_id)"
        " + (SELECT count(*) FROM staging_songs s WHERE s.file_id = f.file_id),"
        " rejected = (SELECT count(*) FROM rejects r WHERE r.file_id = f.file_id)");
    Sql("UPDATE load_files SET records = staged + rejected");
  }

  std::vector<CheckResult> Run(int64_t run_id = kRun, bool balance_ledger = true) {
    if (balance_ledger) BalanceLedger();
    auto results = RunQualityChecks(wh_.get(), run_id);
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    return results.ok() ? *results : std::vector<CheckResult>{};
  }

  static std::set<std::string> Failed(const std::vector<CheckResult>& results) {
    std::set<std::string> out;
    for (const CheckResult& r : results) {
      if (!r.passed) out.insert(r.name);
    }
    return out;
  }

  static CheckResult Find(const std::vector<CheckResult>& results, const std::string& name) {
    for (const CheckResult& r : results) {
      if (r.name == name) return r;
    }
    ADD_FAILURE() << "no check named " << name;
    return {};
  }

  // Asserts that exactly `check` fails, with `offending` rows, `sample` among its samples, and a
  // status message that names the check and shows the sample.
  void ExpectOnlyFailure(const std::vector<CheckResult>& results, const std::string& check, uint64_t offending,
                         const std::string& sample) {
    EXPECT_EQ(Failed(results), std::set<std::string>{check});
    CheckResult r = Find(results, check);
    EXPECT_EQ(r.offending_rows, offending);
    EXPECT_THAT(r.samples, ::testing::Contains(sample));
    Status s = ChecksToStatus(results);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(s.message(), HasSubstr(check + " (" + r.description + ")"));
    EXPECT_THAT(s.message(), HasSubstr(sample));
  }

  std::string schema_;
  std::unique_ptr<Warehouse> wh_;
};

TEST_F(QualityChecksTest, EveryCheckPassesOnACorrectStar) {
  StageRunEvents();
  std::vector<CheckResult> results = Run();
  std::set<std::string> names;
  for (const CheckResult& r : results) {
    names.insert(r.name);
    EXPECT_TRUE(r.passed) << r.name << ": " << (r.samples.empty() ? "" : r.samples[0]);
    EXPECT_EQ(r.offending_rows, 0u);
    EXPECT_TRUE(r.samples.empty());
    EXPECT_FALSE(r.description.empty()) << r.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"artists_primary_key", "ledger_accounts_balance", "plays_times_staged",
                                          "songplays_of_the_run", "songplays_primary_key", "songs_primary_key", "tables_not_empty",
                                          "time_primary_key", "users_primary_key"}));
  EXPECT_EQ(results.size(), coordinator::QualityCheckNames().size());
  EXPECT_TRUE(ChecksToStatus(results).ok());
  EXPECT_FALSE(wh_->in_transaction()) << "the checks' own read-only transaction is closed";
}

TEST_F(QualityChecksTest, ChecksAreDiscoveredFromTheCatalog) {
  for (const std::string& name : coordinator::QualityCheckNames()) {
    EXPECT_EQ(name.rfind("checks/", 0), 0u) << name;
  }
  std::vector<CheckResult> results = Run();
  for (const CheckResult& r : results) {
    auto text = SqlText("checks/" + r.name, SqlVars{schema_, kRun});
    ASSERT_TRUE(text.ok());
    EXPECT_THAT(*text, HasSubstr("-- check: " + r.description)) << r.name;
  }
}

// The checks alongside the transform start before it analyses the rows just staged, so their
// statistics may still describe the last run's rows, which publishing it cleared: by those, no
// row has this run's run_id. Planned for that, a check must not take a nested loop, which over a
// million staged rows takes minutes.
TEST_F(QualityChecksTest, TheChecksAlongsideTheTransformPlanNoNestedLoopOnStaleStatistics) {
  Sql("INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id)"
      " SELECT 6, 60, g, (1000 + g) * 16777216::bigint, 1541066400000 + g, '1', 'free', 1000 + g"
      " FROM generate_series(1, 20000) g");
  Sql("INSERT INTO staging_time (run_id, file_id, ts, hour, day, week, month, year, weekday)"
      " SELECT 6, 60, 1541066400000 + g, 10, 1, 44, 11, 2018, 4 FROM generate_series(1, 20000) g");
  Sql("ANALYZE staging_plays");
  Sql("ANALYZE staging_time");
  Sql("DELETE FROM staging_plays WHERE run_id = 6");
  Sql("DELETE FROM staging_time WHERE run_id = 6");
  StageRunEvents();
  Sql("INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id)"
      " SELECT 7, 70, 100 + g, (1000 + g) * 16777216::bigint, 1541066400000 + g, '1', 'free', 1000 + g"
      " FROM generate_series(1, 20000) g");
  StageTimes();
  ASSERT_TRUE(wh_->ExecFile("checks_alongside_session").ok());
  for (const std::string& name : coordinator::QualityCheckNames()) {
    auto text = SqlText(name, SqlVars{schema_, kRun});
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    if (text->find("\n-- reads: staging and ledger\n") == std::string::npos) continue;
    auto plan = wh_->QueryText("EXPLAIN " + *text);
    ASSERT_TRUE(plan.ok()) << name << ": " << plan.status().ToString();
    std::string lines;
    for (size_t i = 0; i < plan->size(); ++i) lines += plan->text(i, 0) + "\n";
    EXPECT_THAT(lines, ::testing::Not(HasSubstr("Nested Loop"))) << name << ":\n" << lines;
  }
}

// The checks that read only staging and the ledger (and so may run while the transform writes)
// and the rest split the catalog between them.
TEST_F(QualityChecksTest, TheChecksThatReadOnlyStagingAndTheLedgerAreTold) {
  StageRunEvents();
  auto names = [&](coordinator::CheckSelection which) {
    auto results = coordinator::RunQualityChecks(wh_.get(), kRun, which);
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    std::set<std::string> out;
    if (results.ok()) {
      for (const CheckResult& r : *results) out.insert(r.name);
    }
    return out;
  };
  BalanceLedger();
  const std::set<std::string> alongside = names(coordinator::CheckSelection::kStagingAndLedger);
  const std::set<std::string> star = names(coordinator::CheckSelection::kStar);
  EXPECT_EQ(alongside, (std::set<std::string>{"ledger_accounts_balance", "plays_times_staged"}));
  EXPECT_EQ(star.size(), coordinator::QualityCheckNames().size() - 2);
  EXPECT_EQ(star.count("ledger_accounts_balance"), 0u);
  EXPECT_EQ(star.count("songplays_of_the_run"), 1u);
}

TEST_F(QualityChecksTest, ASongplayOfAMissingUserFails) {
  StageRunEvents();
  Sql("DELETE FROM users WHERE user_id = '2'");
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(11, 0) +
                        ", user_id=2, start_time=2018-11-02 08:00:00, song_id=SO2, artist_id=AR2, "
                        "problem=its user is not in users, file=s3://b/log_data/day1.json, line=4");
}

TEST_F(QualityChecksTest, ASongplayWithoutAUserFails) {
  StageRunEvents();
  Sql("UPDATE songplays SET user_id = NULL WHERE songplay_id = " + SongplayId(12, 0));
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(12, 0) +
                        ", user_id=NULL, start_time=2018-11-02 09:30:00.5, song_id=SO1, artist_id=AR1, "
                        "problem=its user is not in users, file=s3://b/log_data/day1.json, line=5");
}

// For each star table: drop its primary key, then add a row whose key is already there.
class DuplicateKeyTest : public QualityChecksTest,
                         public ::testing::WithParamInterface<std::tuple<std::string, std::string, std::string>> {};

TEST_P(DuplicateKeyTest, ADuplicatedKeyFails) {
  const auto& [table, key, value] = GetParam();
  Sql("ALTER TABLE " + table + " DROP CONSTRAINT " + table + "_pkey");
  Sql("INSERT INTO " + table + " SELECT * FROM " + table + " WHERE " + key + " = '" + value + "'");
  ExpectOnlyFailure(Run(), table + "_primary_key", 1, key + "=" + value + ", row_count=2, problem=duplicate key");
}

INSTANTIATE_TEST_SUITE_P(
    StarTables, DuplicateKeyTest,
    ::testing::Values(std::make_tuple("songplays", "songplay_id", SongplayId(10, 1)),
                      std::make_tuple("users", "user_id", "3"), std::make_tuple("songs", "song_id", "SO2"),
                      std::make_tuple("artists", "artist_id", "AR1"),
                      std::make_tuple("time", "start_time", "2018-11-02 09:30:00.5")),
    [](const auto& param_info) { return std::get<0>(param_info.param); });

TEST_F(QualityChecksTest, ANullKeyFails) {
  Sql("ALTER TABLE artists DROP CONSTRAINT artists_pkey");
  Sql("ALTER TABLE artists ALTER COLUMN artist_id DROP NOT NULL");
  Sql("INSERT INTO artists VALUES (NULL, 'Nobody', NULL, NULL, NULL), (NULL, 'Nobody else', NULL, NULL, NULL)");
  ExpectOnlyFailure(Run(), "artists_primary_key", 1, "artist_id=NULL, row_count=2, problem=NULL key");
}

TEST_F(QualityChecksTest, AnEmptyTableFails) {
  Sql("DELETE FROM songplays");
  ExpectOnlyFailure(Run(), "tables_not_empty", 1, "table_name=songplays");
}

TEST_F(QualityChecksTest, EveryEmptyTableIsNamed) {
  for (const char* table : {"songplays", "users", "songs", "artists", "time"}) Sql(std::string("DELETE FROM ") + table);
  std::vector<CheckResult> results = Run();
  EXPECT_EQ(Failed(results), std::set<std::string>{"tables_not_empty"});
  CheckResult r = Find(results, "tables_not_empty");
  EXPECT_EQ(r.offending_rows, 5u);
  EXPECT_EQ(r.samples, (std::vector<std::string>{"table_name=artists", "table_name=songplays", "table_name=songs",
                                                 "table_name=time", "table_name=users"}));
}

// A table counts as fed by what the run staged: plays for songplays and time, events with a user
// for users, song records for songs and artists. Input alone cannot fail the check.
TEST_F(QualityChecksTest, ATableTheRunStagedNothingForMayBeEmpty) {
  for (const char* table : {"songplays", "users", "songs", "artists", "time"}) Sql(std::string("DELETE FROM ") + table);
  Sql("INSERT INTO runs (run_id, sources, state) VALUES (7, 'x', 'transforming')");
  // An event file whose records were all rejected, and one of page views by logged-out visitors.
  // The visitors' file staged its one record, a page view with an empty userId: no staging row.
  Sql("INSERT INTO load_files (file_id, uri, kind, etag, size, run_id, state, records, staged, rejected) VALUES"
      " (1, 'all-rejected.json', 'event', 'e', 1, 7, 'staged', 3, 0, 3),"
      " (2, 'visitors.json', 'event', 'e', 1, 7, 'staged', 1, 1, 0)");
  Sql("INSERT INTO rejects (run_id, file_id, line, byte_offset, reason, excerpt) VALUES"
      " (7, 1, 1, 0, 'a play without a user', '{'), (7, 1, 2, 10, 'a play without a user', '{'),"
      " (7, 1, 3, 20, 'a play without a user', '{')");
  EXPECT_TRUE(ChecksToStatus(Run()).ok()) << ChecksToStatus(Run()).ToString();
  EXPECT_EQ(Find(Run(), "ledger_accounts_balance").offending_rows, 0u);

  // A staged user (a page view by user 5), and no users row: that the check catches.
  Sql("UPDATE load_files SET staged = 2 WHERE file_id = 2");
  Sql("INSERT INTO staging_users (run_id, file_id, line, user_id, level, ts, session_id, item_in_session) VALUES"
      " (7, 2, 2, '5', 'free', 1541066400000, 1, 1)");
  ExpectOnlyFailure(Run(), "tables_not_empty", 1, "table_name=users");
}

TEST_F(QualityChecksTest, ATableTheRunFedButLeftEmptyFails) {
  StageRunEvents();
  Sql("DELETE FROM songplays");
  Sql("DELETE FROM time");
  std::vector<CheckResult> results = Run();
  CheckResult r = Find(results, "tables_not_empty");
  EXPECT_EQ(r.samples, (std::vector<std::string>{"table_name=songplays", "table_name=time"}));
}

// The songplay was staged twice (day1.json line 1, day1-copy.json line 1): it is reported once,
// from the first place it was staged.
TEST_F(QualityChecksTest, ASongplayOfAnUnknownSongFails) {
  StageRunEvents();
  Sql("UPDATE songplays SET song_id = 'SO404' WHERE songplay_id = " + SongplayId(10, 0));
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(10, 0) +
                        ", user_id=1, start_time=2018-11-01 10:00:00, song_id=SO404, artist_id=AR1, "
                        "problem=its song is not in songs, file=s3://b/log_data/day1.json, line=1");
}

TEST_F(QualityChecksTest, ASongplayOfAnUnknownArtistFails) {
  StageRunEvents();
  Sql("UPDATE songplays SET artist_id = 'AR404' WHERE songplay_id = " + SongplayId(11, 0));
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(11, 0) +
                        ", user_id=2, start_time=2018-11-02 08:00:00, song_id=SO2, artist_id=AR404, "
                        "problem=its artist is not in artists, file=s3://b/log_data/day1.json, line=4");
}

TEST_F(QualityChecksTest, AStartTimeMissingFromTimeFails) {
  StageRunEvents();
  Sql("DELETE FROM time WHERE start_time = '2018-11-01 10:03:20'");
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(10, 1) +
                        ", user_id=1, start_time=2018-11-01 10:03:20, song_id=NULL, artist_id=NULL, "
                        "problem=its start_time is not in time, file=s3://b/log_data/day1.json, line=2");
}

// A songplay that breaks several rules is one offending row, with the first rule it breaks, in
// the order user, start_time, song, artist.
TEST_F(QualityChecksTest, ASongplayBreakingSeveralRulesIsReportedOnceWithItsFirstProblem) {
  StageRunEvents();
  Sql("UPDATE songplays SET song_id = 'SO404', artist_id = 'AR404' WHERE songplay_id = " + SongplayId(10, 0));
  Sql("DELETE FROM time WHERE start_time = '2018-11-01 10:00:00'");
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(10, 0) +
                        ", user_id=1, start_time=2018-11-01 10:00:00, song_id=SO404, artist_id=AR404, "
                        "problem=its start_time is not in time, file=s3://b/log_data/day1.json, line=1");
  Sql("UPDATE songplays SET user_id = '404' WHERE songplay_id = " + SongplayId(10, 0));
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(10, 0) +
                        ", user_id=404, start_time=2018-11-01 10:00:00, song_id=SO404, artist_id=AR404, "
                        "problem=its user is not in users, file=s3://b/log_data/day1.json, line=1");
}

// A songplay an earlier run loaded was checked by that run: this run's check reads only the
// songplays its own staged plays name, however broken another one is.
TEST_F(QualityChecksTest, ASongplayOfAnEarlierRunIsNotCheckedAgain) {
  StageRunEvents();
  Sql("INSERT INTO songplays VALUES (" + SongplayId(20, 0) + ", '2018-11-01 10:00:00', '404', 'free', NULL, NULL,"
      " 20, 'Here', 'UA')");
  EXPECT_TRUE(ChecksToStatus(Run()).ok()) << ChecksToStatus(Run()).ToString();
  // Staged by this run, the same songplay is reported.
  Sql("UPDATE load_files SET staged = staged + 1 WHERE file_id = 71");
  Sql("INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id) VALUES"
      " (7, 71, 2, " + SongplayId(20, 0) + ", 1541066400000, '404', 'free', 20)");
  Sql("INSERT INTO staging_users (run_id, file_id, line, user_id, level, ts, session_id, item_in_session) VALUES"
      " (7, 71, 2, '404', 'free', 1541066400000, 20, 0)");
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(20, 0) +
                        ", user_id=404, start_time=2018-11-01 10:00:00, song_id=NULL, artist_id=NULL, "
                        "problem=its user is not in users, file=s3://b/log_data/day1-copy.json, line=2");
}

// A run that is a small part of songplays (the next day into a loaded history) is checked over
// the range of keys and times its plays span: what it breaks is still found, and the history
// outside that range is not read.
TEST_F(QualityChecksTest, ASmallRunIsCheckedOverItsOwnRange) {
  StageRunEvents();
  Sql("INSERT INTO songplays (songplay_id, start_time, user_id, level, session_id)"
      " SELECT (100000 + g) * 16777216::bigint, timestamp '2018-10-01' + g * interval '1 second', 'nobody', 'free', 100000 + g"
      " FROM generate_series(1, 5000) g");
  auto small = wh_->QueryText("SELECT pg_relation_size('staging_plays') * 10 < pg_relation_size('songplays') AS small");
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  ASSERT_EQ(small->text(0, "small"), "t");
  // The history's plays name a user that is not in users, but they are not this run's.
  EXPECT_TRUE(ChecksToStatus(Run()).ok()) << ChecksToStatus(Run()).ToString();
  Sql("DELETE FROM time WHERE start_time = '2018-11-01 10:00:00'");
  std::vector<CheckResult> results = Run();
  EXPECT_EQ(Failed(results), std::set<std::string>{"songplays_of_the_run"});
  CheckResult r = Find(results, "songplays_of_the_run");
  ASSERT_FALSE(r.samples.empty());
  EXPECT_THAT(r.samples[0], HasSubstr("problem=its start_time is not in time"));
}

TEST_F(QualityChecksTest, ManyOffendingRowsAreCountedAndSampled) {
  StageRunEvents();
  Sql("DELETE FROM time");
  Sql("INSERT INTO time VALUES ('2000-01-01', 0, 1, 52, 1, 2000, 6)");
  std::vector<CheckResult> results = Run();
  CheckResult r = Find(results, "songplays_of_the_run");
  EXPECT_EQ(r.offending_rows, 4u);
  ASSERT_EQ(r.samples.size(), 4u);
  EXPECT_EQ(r.samples[0], "songplay_id=" + SongplayId(10, 0) +
                              ", user_id=1, start_time=2018-11-01 10:00:00, song_id=SO1, artist_id=AR1, "
                              "problem=its start_time is not in time, file=s3://b/log_data/day1.json, line=1");
  // The message shows three rows and says how many more there are.
  Status s = ChecksToStatus(results);
  EXPECT_THAT(s.message(), HasSubstr("1 of 9 data-quality checks failed"));
  EXPECT_THAT(s.message(), HasSubstr("4 offending rows"));
  EXPECT_THAT(s.message(), HasSubstr(r.samples[2]));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr(r.samples[3])));
  EXPECT_THAT(s.message(), HasSubstr("... and 1 more"));
}

TEST_F(QualityChecksTest, SamplesStopAtFive) {
  StageRunEvents();
  // Eight plays of user 9, staged from day1-copy.json (lines 2 to 9), whose user is not in users.
  Sql("UPDATE load_files SET staged = staged + 8 WHERE file_id = 71");
  for (int item = 2; item < 10; ++item) {
    Sql("INSERT INTO songplays VALUES (" + SongplayId(10, item) + ", '2018-11-01 10:00:00', '9', 'free', NULL, NULL,"
        " 10, 'Here', 'UA')");
    Sql("INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id) VALUES"
        " (7, 71, " + std::to_string(item) + ", " + SongplayId(10, item) + ", 1541066400000, '9', 'free', 10)");
  }
  Sql("INSERT INTO staging_users (run_id, file_id, line, user_id, level, ts, session_id, item_in_session) VALUES"
      " (7, 71, 9, '9', 'free', 1541066400000, 10, 9)");
  std::vector<CheckResult> results = Run();
  CheckResult r = Find(results, "songplays_of_the_run");
  EXPECT_EQ(r.offending_rows, 8u);
  EXPECT_EQ(r.samples.size(), coordinator::kCheckSampleRows);
  EXPECT_EQ(r.samples[0], "songplay_id=" + SongplayId(10, 2) +
                              ", user_id=9, start_time=2018-11-01 10:00:00, song_id=NULL, artist_id=NULL, "
                              "problem=its user is not in users, file=s3://b/log_data/day1-copy.json, line=2");
}

TEST_F(QualityChecksTest, AStagedEventWithoutItsSongplayFails) {
  StageRunEvents();
  Sql("DELETE FROM songplays WHERE songplay_id = " + SongplayId(11, 0));
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(11, 0) +
                        ", user_id=NULL, start_time=NULL, song_id=NULL, artist_id=NULL, "
                        "problem=a staged play has no songplay, file=s3://b/log_data/day1.json, line=4");
  // A play staged twice without its songplay is one offending row, from the first place it was
  // staged.
  Sql("DELETE FROM songplays WHERE songplay_id = " + SongplayId(10, 0));
  std::vector<CheckResult> results = Run();
  EXPECT_EQ(Failed(results), std::set<std::string>{"songplays_of_the_run"});
  CheckResult r = Find(results, "songplays_of_the_run");
  EXPECT_EQ(r.offending_rows, 2u);
  EXPECT_EQ(r.samples, (std::vector<std::string>{
                           "songplay_id=" + SongplayId(10, 0) +
                               ", user_id=NULL, start_time=NULL, song_id=NULL, artist_id=NULL, "
                               "problem=a staged play has no songplay, file=s3://b/log_data/day1.json, line=1",
                           "songplay_id=" + SongplayId(11, 0) +
                               ", user_id=NULL, start_time=NULL, song_id=NULL, artist_id=NULL, "
                               "problem=a staged play has no songplay, file=s3://b/log_data/day1.json, line=4"}));
}

// Where the run's plays and songplays hold as many rows with the same sum of hashes of their ids
// (a first load), no play is joined to its songplay; a songplay whose id changed, which keeps the
// count, changes the sum, and the join then finds the play it left without a songplay.
TEST_F(QualityChecksTest, AFirstLoadsPlaysAreMatchedByTheirSumAndALostOneIsStillFound) {
  StageAFirstLoad();
  EXPECT_TRUE(ChecksToStatus(Run()).ok());
  Sql("UPDATE songplays SET songplay_id = " + SongplayId(13, 0) + " WHERE songplay_id = " + SongplayId(12, 0));
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(12, 0) +
                        ", user_id=NULL, start_time=NULL, song_id=NULL, artist_id=NULL, "
                        "problem=a staged play has no songplay, file=s3://b/log_data/day1.json, line=5");
}

// In a first load, where time holds exactly the times the run staged, a songplay's start time is
// known to be in time without joining them: its play's time is among its file's staged times
// (plays_times_staged), which are time's rows. A play whose time its file did not stage is caught
// there; a songplay whose start time is not its play's changes the sums, and the join finds it.
TEST_F(QualityChecksTest, AFirstLoadsStartTimesAreInTimeByTheStagedTimesAndTheirSums) {
  auto first_load = [&] {
    SetUp();  // a fresh schema
    StageAFirstLoad();
    auto times = wh_->QueryText("SELECT count(*) AS n FROM time");
    ASSERT_TRUE(times.ok()) << times.status().ToString();
    ASSERT_EQ(times->text(0, "n"), "4");
    ASSERT_TRUE(ChecksToStatus(Run()).ok());
  };
  // The worker left a play's time out, and time was written from what it staged.
  first_load();
  Sql("DELETE FROM staging_time WHERE file_id = 70 AND ts = 1541066600000");
  Sql("DELETE FROM time WHERE start_time = '2018-11-01 10:03:20'");
  ExpectOnlyFailure(Run(), "plays_times_staged", 1,
                    "songplay_id=" + SongplayId(10, 1) +
                        ", start_time=2018-11-01 10:03:20, file=s3://b/log_data/day1.json, line=2");
  // The songplay's start time is not its play's, and not in time.
  first_load();
  Sql("UPDATE songplays SET start_time = '2018-11-01 10:03:21' WHERE songplay_id = " + SongplayId(10, 1));
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(10, 1) +
                        ", user_id=1, start_time=2018-11-01 10:03:21, song_id=NULL, artist_id=NULL, "
                        "problem=its start_time is not in time, file=s3://b/log_data/day1.json, line=2");
}

TEST_F(QualityChecksTest, AStagedEventThatWasNeverTransformedFails) {
  StageRunEvents();
  Sql("UPDATE load_files SET staged = staged + 1 WHERE file_id = 71");
  Sql("INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id) VALUES"
      " (7, 71, 2, " + SongplayId(13, 4) + ", 1541160000000, '2', 'paid', 13)");
  Sql("INSERT INTO staging_users (run_id, file_id, line, user_id, level, ts, session_id, item_in_session) VALUES"
      " (7, 71, 2, '2', 'paid', 1541160000000, 13, 4)");
  StageTimes();
  ExpectOnlyFailure(Run(), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(13, 4) +
                        ", user_id=NULL, start_time=NULL, song_id=NULL, artist_id=NULL, "
                        "problem=a staged play has no songplay, file=s3://b/log_data/day1-copy.json, line=2");
}

TEST_F(QualityChecksTest, AFileWhoseAccountDoesNotBalanceFails) {
  StageRunEvents();
  BalanceLedger();
  // The ledger claims a record that is neither staged nor rejected: a record would be lost.
  Sql("UPDATE load_files SET records = records + 1 WHERE uri = 's3://b/log_data/day1.json'");
  std::vector<CheckResult> results = Run(kRun, /*balance_ledger=*/false);
  EXPECT_EQ(Failed(results), std::set<std::string>{"ledger_accounts_balance"});
  EXPECT_EQ(Find(results, "ledger_accounts_balance").offending_rows, 1u);
  EXPECT_THAT(ChecksToStatus(results).message(), HasSubstr("s3://b/log_data/day1.json"));
}

// The rows a file staged are counted apart from its records: one lost from any staging table (as
// a server crash loses the unlogged tables' rows) unbalances the file's account.
TEST_F(QualityChecksTest, AFileMissingAStagedRowFails) {
  for (const char* table : {"staging_plays", "staging_users", "staging_time"}) {
    SCOPED_TRACE(table);
    SetUp();  // a fresh schema
    StageRunEvents();
    BalanceLedger();
    EXPECT_TRUE(ChecksToStatus(Run(kRun, /*balance_ledger=*/false)).ok());
    Sql(std::string("DELETE FROM ") + table + " WHERE file_id = 70 AND ts = 1541145600000");
    std::vector<CheckResult> results = Run(kRun, /*balance_ledger=*/false);
    // A play time lost from staging_time is also a play whose time its file did not stage.
    const std::set<std::string> failing = std::string(table) == "staging_time"
                                              ? std::set<std::string>{"ledger_accounts_balance", "plays_times_staged"}
                                              : std::set<std::string>{"ledger_accounts_balance"};
    EXPECT_EQ(Failed(results), failing);
    CheckResult r = Find(results, "ledger_accounts_balance");
    EXPECT_EQ(r.offending_rows, 1u);
    EXPECT_THAT(r.samples, ::testing::Contains(HasSubstr("uri=s3://b/log_data/day1.json, records=5, staged=5, "
                                                         "rejected=0, staged_rows=11, staged_rows_found=10")));
  }
  // A file staged by an older loadstar has no count of its rows: it does not balance either.
  SetUp();
  StageRunEvents();
  BalanceLedger();
  Sql("UPDATE load_files SET staged_rows = NULL WHERE file_id = 71");
  std::vector<CheckResult> results = Run(kRun, /*balance_ledger=*/false);
  EXPECT_EQ(Failed(results), std::set<std::string>{"ledger_accounts_balance"});
  EXPECT_THAT(ChecksToStatus(results).message(), HasSubstr("s3://b/log_data/day1-copy.json"));
}

// The ledger's counts are first compared with the staging tables' as sums; a row staged under
// the wrong file keeps the total but changes the sum, and both files' accounts then fail.
TEST_F(QualityChecksTest, ARowStagedUnderAnotherFileUnbalancesBothAccounts) {
  StageRunEvents();
  BalanceLedger();
  EXPECT_TRUE(ChecksToStatus(Run(kRun, /*balance_ledger=*/false)).ok());
  Sql("UPDATE staging_users SET file_id = 71 WHERE file_id = 70 AND user_id = '3'");
  std::vector<CheckResult> results = Run(kRun, /*balance_ledger=*/false);
  EXPECT_EQ(Failed(results), std::set<std::string>{"ledger_accounts_balance"});
  CheckResult r = Find(results, "ledger_accounts_balance");
  EXPECT_EQ(r.offending_rows, 2u);
  EXPECT_THAT(r.samples, ::testing::Contains(HasSubstr("uri=s3://b/log_data/day1.json, records=5, staged=5, "
                                                       "rejected=0, staged_rows=11, staged_rows_found=10")));
}

TEST_F(QualityChecksTest, TheSongplayCheckLooksAtItsRunOnly) {
  StageRunEvents();
  // Run 8's play has no songplay (that run was never transformed): checking run 7 passes,
  // checking run 8 does not.
  EXPECT_TRUE(ChecksToStatus(Run(kRun)).ok());
  ExpectOnlyFailure(Run(8), "songplays_of_the_run", 1,
                    "songplay_id=" + SongplayId(99, 0) +
                        ", user_id=NULL, start_time=NULL, song_id=NULL, artist_id=NULL, "
                        "problem=a staged play has no songplay, file=s3://b/log_data/day9.json, line=1");
}

TEST_F(QualityChecksTest, InsideATransactionTheChecksSeeItsRowsAndLeaveItOpen) {
  StageRunEvents();
  ASSERT_TRUE(wh_->Begin().ok());
  Sql("UPDATE songplays SET song_id = 'SO404' WHERE songplay_id = " + SongplayId(12, 0));
  std::vector<CheckResult> inside = Run();
  EXPECT_EQ(Failed(inside), std::set<std::string>{"songplays_of_the_run"});
  EXPECT_TRUE(wh_->in_transaction());
  ASSERT_TRUE(wh_->Rollback().ok());
  EXPECT_TRUE(ChecksToStatus(Run()).ok());
}

TEST_F(QualityChecksTest, TheTransformBuildsAStarThatPasses) {
  // Start over from staging rows and let the real transform build the star, in a transaction
  // the checks then run in, as a load would.
  for (const char* table : {"songplays", "users", "songs", "artists", "time"}) Sql(std::string("DELETE FROM ") + table);
  Sql("INSERT INTO runs (run_id, sources, state) VALUES (7, 'x', 'transforming')");
  Sql("INSERT INTO load_files (file_id, uri, kind, etag, size, run_id, state, staged) VALUES"
      " (1, 'song.json', 'song', 'e', 1, 7, 'staged', 1), (2, 'log.json', 'event', 'e', 1, 7, 'staged', 2)");
  Sql("INSERT INTO staging_songs (run_id, file_id, line, artist_id, artist_name, song_id, title, duration, year,"
      " match_key) VALUES (7, 1, 1, 'AR1', 'Artist A', 'SO1', 'Song A', 200.5, 0,"
      " song_match_key('Song A', 'Artist A', 200.5))");
  // Two plays of user 1 (the first matches SO1), the user's latest event, the two play times.
  Sql("INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id, match_key)"
      " VALUES (7, 2, 1, " + SongplayId(5, 0) + ", 1541066400000, '1', 'free', 5,"
      " song_match_key('Song A', 'Artist A', 200.5)),"
      " (7, 2, 2, " + SongplayId(5, 1) + ", 1541066600000, '1', 'paid', 5, song_match_key('Other', 'Nobody', 1.0))");
  Sql("INSERT INTO staging_users (run_id, file_id, line, user_id, first_name, level, ts, session_id, item_in_session)"
      " VALUES (7, 2, 2, '1', 'Ann', 'paid', 1541066600000, 5, 1)");
  StageTimes();
  ASSERT_TRUE(wh_->Begin().ok());
  SqlVars vars;
  vars.run_id = kRun;
  ASSERT_TRUE(wh_->ExecFile("transform", vars).ok());
  std::vector<CheckResult> results = Run();
  EXPECT_TRUE(ChecksToStatus(results).ok()) << ChecksToStatus(results).ToString();
  ASSERT_TRUE(wh_->Commit().ok());
  auto star = wh_->QueryText(
      "SELECT (SELECT string_agg(songplay_id || ':' || coalesce(song_id, '-'), ',' ORDER BY songplay_id)"
      " FROM songplays)"
      " || '/' || (SELECT string_agg(user_id || ':' || level, ',') FROM users) || '/' || (SELECT count(*) FROM time)");
  ASSERT_TRUE(star.ok()) << star.status().ToString();
  EXPECT_EQ(star->text(0, 0), SongplayId(5, 0) + ":SO1," + SongplayId(5, 1) + ":-/1:paid/2");
}

TEST_F(QualityChecksTest, ANegativeRunIdIsRefused) {
  auto results = RunQualityChecks(wh_.get(), -1);
  EXPECT_EQ(results.status().code(), StatusCode::kInvalidArgument);
}

TEST(ChecksToStatusTest, NamesEveryFailedCheck) {
  std::vector<CheckResult> results = {
      {"a_check", "rows are fine", true, 0, {}},
      {"b_check", "keys are unique", false, 1, {"id=1, row_count=2"}},
      {"c_check", "tables are full", false, 2, {"table_name=x", "table_name=y"}},
  };
  Status s = ChecksToStatus(results);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "2 of 3 data-quality checks failed:\n"
            "  b_check (keys are unique): 1 offending row\n"
            "    id=1, row_count=2\n"
            "  c_check (tables are full): 2 offending rows\n"
            "    table_name=x\n"
            "    table_name=y");
  EXPECT_TRUE(ChecksToStatus({}).ok());
  EXPECT_TRUE(ChecksToStatus({results[0]}).ok());
}

}  // namespace
}  // namespace loadstar
