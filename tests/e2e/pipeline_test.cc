// End to end: the Sparkify sample uploaded to a local S3 server, `loadstar run` with real worker
// processes over ZeroMQ, a private PostgreSQL; the star schema checked against the figures an
// independent load gives (shared/docs/SAMPLE_FIGURES.md).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/storage/object_store.h"
#include "tests/support/coordinator_status.h"
#include "tests/support/loadstar_schema.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/s3_server.h"
#include "tests/support/sample_upload.h"
#include "tests/support/star_fingerprint.h"
#include "tests/support/test_env.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {
namespace fs = std::filesystem;

constexpr const char* kBucket = "sparkify";

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s3_ = new LocalS3Server({kBucket});
    s3_->ExportAwsEnvironment();
    // Upload the sample exactly as it is on disk, under the same relative keys.
    Uri bucket_uri{Uri::Scheme::kS3, kBucket, ""};
    auto store = OpenObjectStore(bucket_uri);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto uploaded = UploadSample(store->get());
    ASSERT_TRUE(uploaded.ok()) << uploaded.status().ToString();
    uploaded_ = *uploaded;
    db_ = new std::string(PostgresServer::Shared().FreshDatabase("pipeline"));
  }
  static void TearDownTestSuite() {
    delete s3_;
    delete db_;
  }

  static CommandResult Load(const std::string& schema, int workers, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {LoadstarBinary(), "run", "--songs", std::string("s3://") + kBucket + "/song_data/",
                                     "--events", std::string("s3://") + kBucket + "/log_data/", "--warehouse", *db_,
                                     "--schema", schema, "--workers", std::to_string(workers)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv, s3_->AwsEnvironment(), 300);
  }

  static std::string Sql(const std::string& sql) { return PostgresServer::Shared().Psql("pipeline", sql); }
  static long Count(const std::string& schema, const std::string& what) {
    return std::stol(Sql("SELECT count(*) FROM " + schema + "." + what));
  }
  // A fingerprint of every star table's full contents.
  static std::string Fingerprint(const std::string& schema) { return StarFingerprint("pipeline", schema); }

  static LocalS3Server* s3_;
  static std::string* db_;
  static int uploaded_;
};

LocalS3Server* PipelineTest::s3_ = nullptr;
std::string* PipelineTest::db_ = nullptr;
int PipelineTest::uploaded_ = 0;

TEST_F(PipelineTest, SampleThroughThreeWorkersGivesTheReferenceFigures) {
  ASSERT_EQ(uploaded_, 101);
  CommandResult r = Load("e2e_three", 3);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The summary printed for people.
  EXPECT_NE(r.output.find("songplays"), std::string::npos) << r.output;

  const std::string s = "e2e_three";
  // Staging is cleared once the transforms commit; the ledger keeps the account of what it held.
  EXPECT_EQ(Sql("SELECT sum(records) || '/' || sum(staged) || '/' || sum(rejected) FROM " + s +
                ".load_files WHERE kind = 'event'"), "8056/8056/0");
  EXPECT_EQ(Sql("SELECT sum(records) || '/' || sum(staged) || '/' || sum(rejected) FROM " + s +
                ".load_files WHERE kind = 'song'"), "71/71/0");
  EXPECT_EQ(Count(s, "load_files WHERE kind = 'event'"), 30);
  EXPECT_EQ(Count(s, "load_files WHERE kind = 'song'"), 71);
  EXPECT_EQ(Count(s, "songplays"), 6820);
  EXPECT_EQ(Count(s, "songplays WHERE song_id IS NOT NULL"), 1);
  EXPECT_EQ(Count(s, "users"), 97);
  EXPECT_EQ(Count(s, "users WHERE level = 'paid'"), 22);
  EXPECT_EQ(Count(s, "songs"), 71);
  EXPECT_EQ(Count(s, "artists"), 69);
  EXPECT_EQ(Count(s, "time"), 6813);
  for (const char* table : {"staging_plays", "staging_users", "staging_time", "staging_songs"}) {
    EXPECT_EQ(Count(s, table), 0) << table;
  }
  // The rows the log files staged (docs/STAGING_ROWS.md), worked out from the sample's files with
  // json.loads of each line: 6,820 plays, 707 (file, userId) pairs, 6,813 (file, NextSong ts)
  // pairs; one row per song record.
  EXPECT_EQ(Sql("SELECT sum(staged_rows) FROM " + s + ".load_files WHERE kind = 'event'"), "14340");
  EXPECT_EQ(Sql("SELECT sum(staged_rows) FROM " + s + ".load_files WHERE kind = 'song'"), "71");
  EXPECT_EQ(Count(s, "rejects"), 0);
  EXPECT_EQ(Sql("SELECT state FROM " + s + ".runs ORDER BY run_id DESC LIMIT 1"), "done");
  // Milliseconds are kept, and the matched play is the one an independent match finds.
  EXPECT_EQ(Count(s, "songplays WHERE extract(milliseconds FROM start_time)::numeric % 1000 = 796"), 6820);
  EXPECT_EQ(Sql("SELECT s.title || '|' || a.name FROM " + s + ".songplays p JOIN " + s + ".songs s USING (song_id) JOIN " +
                s + ".artists a ON a.artist_id = p.artist_id"),
            "Setanta matins|Elena");

  // A second run over the same input changes nothing: every file is already loaded.
  std::string before = Fingerprint(s);
  CommandResult again = Load(s, 3);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(Fingerprint(s), before);
  EXPECT_EQ(Count(s, "runs WHERE state = 'done'"), 2);
  EXPECT_NE(again.output.find("already loaded 101"), std::string::npos) << again.output;

  // A full refresh stages everything again and still leaves identical tables.
  CommandResult refresh = Load(s, 2, {"--full-refresh"});
  ASSERT_EQ(refresh.exit_code, 0) << refresh.output;
  EXPECT_EQ(Fingerprint(s), before);
}

TEST_F(PipelineTest, OneWorkerAndFourWorkersGiveIdenticalTables) {
  CommandResult one = Load("e2e_one", 1);
  ASSERT_EQ(one.exit_code, 0) << one.output;

  // Small tasks, so four workers really do share the work; the run's /status says who did what.
  // A statement trigger holds the transform for two seconds (changing no row), so that the
  // status is read once every task is done, before the run exits.
  const std::string s = "e2e_four";
  CreateLoadstarSchema("pipeline", s);
  Sql("CREATE FUNCTION " + s + ".hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); "
      "RETURN NULL; END $$; CREATE TRIGGER hold AFTER INSERT ON " + s + ".time FOR EACH STATEMENT EXECUTE FUNCTION " +
      s + ".hold();");
  const int monitor_port = FreeTcpPort();
  ASSERT_GT(monitor_port, 0);
  const std::string monitor = "127.0.0.1:" + std::to_string(monitor_port);
  const std::string log = TempDir("pipeline-four") + "/run.log";
  Subprocess::Options o;
  o.argv = {LoadstarBinary(), "run", "--songs", std::string("s3://") + kBucket + "/song_data/", "--events",
            std::string("s3://") + kBucket + "/log_data/", "--warehouse", *db_, "--schema", s, "--workers", "4",
            "--task-bytes", "65536", "--task-files", "8", "--metrics-listen", monitor};
  o.env = s3_->AwsEnvironment();
  o.stdout_path = log;
  o.stderr_path = log;
  auto run = Subprocess::Spawn(o);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  std::optional<CoordinatorStatus> staged;  // the first status with every task done
  (void)WaitUntil(
      [&] {
        auto now = ReadCoordinatorStatus(monitor);
        if (now && now->tasks_total > 0 && now->tasks_done == now->tasks_total) staged = now;
        return staged.has_value() || !run->Running();
      },
      std::chrono::seconds(240), std::chrono::milliseconds(20));
  auto ended = run->Wait(std::chrono::seconds(120));
  std::ifstream in(log);
  std::stringstream output;
  output << in.rdbuf();
  ASSERT_TRUE(ended.has_value() && ended->success()) << (ended ? ended->ToString() : "still running") << "\n"
                                                     << output.str();
  ASSERT_TRUE(staged.has_value()) << "no status with every task done was read\n" << output.str();

  uint64_t by_workers = 0;
  int busy = 0;
  for (const CoordinatorStatus::Worker& w : staged->workers) {
    by_workers += w.tasks_done;
    if (w.tasks_done > 0) ++busy;
  }
  EXPECT_EQ(staged->workers.size(), 4u) << staged->ToString();
  EXPECT_EQ(by_workers, staged->tasks_total) << staged->ToString();
  EXPECT_GT(staged->tasks_total, 4u) << staged->ToString();
  EXPECT_GE(busy, 2) << "one worker did every task: " << staged->ToString();

  std::string a = Fingerprint("e2e_one"), b = Fingerprint(s);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("songplays=6820:"), std::string::npos) << a;
}

TEST_F(PipelineTest, BadWarehouseFailsWithAClearMessage) {
  CommandResult r = RunCommand({LoadstarBinary(), "run", "--songs", std::string("s3://") + kBucket + "/song_data/",
                                "--warehouse", "postgresql://postgres@127.0.0.1:1/none", "--workers", "1"},
                               s3_->AwsEnvironment(), 60);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot connect to the warehouse"), std::string::npos) << r.output;
}

TEST_F(PipelineTest, MissingBucketFailsNamingIt) {
  CommandResult r = RunCommand({LoadstarBinary(), "run", "--songs", "s3://no-such-bucket/song_data/", "--warehouse",
                                *db_, "--schema", "e2e_missing", "--workers", "1"},
                               s3_->AwsEnvironment(), 60);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no-such-bucket"), std::string::npos) << r.output;
  EXPECT_EQ(Sql("SELECT state FROM e2e_missing.runs ORDER BY run_id DESC LIMIT 1"), "failed");
}

}  // namespace
}  // namespace loadstar::testing
