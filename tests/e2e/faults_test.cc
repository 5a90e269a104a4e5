// Nothing lost, nothing doubled: end-to-end runs with things broken on purpose. Workers and the
// coordinator are killed with SIGKILL mid-run, S3 answers through a proxy that injects 503s,
// 500s, resets, truncated and slow bodies, the warehouse drops workers' connections, a transform
// fails; every run must still end with star tables identical, row for row, to a clean run's, and
// with a ledger and staging history that account for every record exactly once.
//
// One generated data set (common/generator/generator.h) in one local S3 server serves every test; each test
// loads it into a schema of its own in one private PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/coordinator_status.h"
#include "tests/support/curve_keys.h"
#include "tests/support/fault_proxy_process.h"
#include "tests/support/generated_objects.h"
#include "tests/support/loadstar_schema.h"
#include "tests/support/loadstar_process.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/s3_server.h"
#include "tests/support/star_fingerprint.h"
#include "tests/support/test_env.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kBucket = "sparkify";
constexpr const char* kDatabase = "faults";
// Big enough that a run takes a few seconds (so there is a "middle" to break things in), small
// enough that the whole file stays well within a few minutes on two cores.
constexpr uint64_t kEvents = 100'000;
constexpr uint64_t kSongs = 2'000;
constexpr uint32_t kDays = 30;
// Small tasks, so that every worker holds several leases at any moment of the run.
const std::vector<std::string> kSmallTasks = {"--task-files", "20", "--task-bytes", "262144"};

bool Contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// `loadstar run` failed the way the product reports a failed run: exit code 1 and "loadstar: run
// failed: " followed by `why`. A hang killed by RunCommand's timeout (124, 137) or a crash (128 +
// a signal) is not that.
::testing::AssertionResult RunFailed(const CommandResult& r, const std::string& why) {
  if (r.exit_code != 1) {
    return ::testing::AssertionFailure() << "exit code " << r.exit_code << ", not 1 (a failed run)\n" << r.output;
  }
  if (!Contains(r.output, "loadstar: run failed: ") || !Contains(r.output, why)) {
    return ::testing::AssertionFailure() << "no \"loadstar: run failed: ... " << why << "\" in:\n" << r.output;
  }
  return ::testing::AssertionSuccess();
}

// The coordinator's planning line: "listed L files (B bytes): F to stage in T tasks, S already
// loaded, N already staged by this run".
struct PlanLine {
  long listed = -1, to_stage = -1, already_loaded = -1, already_staged = -1;
};
PlanLine ReadPlanLine(const std::string& output) {
  static const std::regex line(
      R"(listed (\d+) files \(\d+ bytes\): (\d+) to stage in \d+ tasks, (\d+) already loaded, (\d+) already staged by this run)");
  std::smatch m;
  PlanLine p;
  if (!std::regex_search(output, m, line)) return p;
  p.listed = std::stol(m[1]);
  p.to_stage = std::stol(m[2]);
  p.already_loaded = std::stol(m[3]);
  p.already_staged = std::stol(m[4]);
  return p;
}


class FaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s3_ = new LocalS3Server({kBucket});
    if (!s3_->ok()) return;
    s3_->ExportAwsEnvironment();
    GenerateOptions options;
    options.events = kEvents;
    options.songs = kSongs;
    options.days = kDays;
    auto data = GenerateInMemory(options);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    summary_ = new GenerateSummary(data->summary);
    Status uploaded = UploadObjects(kBucket, "", data->objects);
    ASSERT_TRUE(uploaded.ok()) << uploaded.ToString();
    db_ = new std::string(PostgresServer::Shared().FreshDatabase(kDatabase));
  }
  static void TearDownTestSuite() {
    delete s3_;
    delete summary_;
    delete db_;
    delete clean_;
  }

  void SetUp() override {
    ASSERT_TRUE(s3_ != nullptr && s3_->ok() && summary_ != nullptr && db_ != nullptr)
        << "the test data set could not be set up";
  }

  static std::string Sql(const std::string& sql) { return PostgresServer::Shared().Psql(kDatabase, sql); }
  // A number from psql; a test failure (and 0) when psql answers anything else.
  static long SqlLong(const std::string& sql) {
    std::string text = Sql(sql);
    char* end = nullptr;
    long value = std::strtol(text.c_str(), &end, 10);
    EXPECT_TRUE(!text.empty() && *end == '\0') << "not a number: " << text << "\nfrom: " << sql;
    return value;
  }

  static std::string Songs() { return std::string("s3://") + kBucket + "/song_data/"; }
  static std::string Events() { return std::string("s3://") + kBucket + "/log_data/"; }

  // Arguments shared by `run` and `coordinator` for a load of the whole data set into `schema`.
  static std::vector<std::string> SourceArgs(const std::string& schema, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--songs", Songs(), "--events", Events(), "--warehouse", *db_, "--schema", schema};
    args.insert(args.end(), kSmallTasks.begin(), kSmallTasks.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  static CommandResult Run(const std::string& schema, const std::vector<std::string>& extra = {},
                           std::map<std::string, std::string> env = {}, int timeout_s = 180) {
    std::vector<std::string> argv = {LoadstarBinary(), "run"};
    for (const std::string& a : SourceArgs(schema, extra)) argv.push_back(a);
    std::map<std::string, std::string> full_env = s3_->AwsEnvironment();
    for (auto& [k, v] : env) full_env[k] = v;
    return RunCommand(argv, full_env, timeout_s);
  }

  // The star tables of a clean load of the data set (3 local workers, no faults), loaded once
  // per test binary, the first time a test asks for it.
  static const std::string& CleanFingerprint() {
    if (clean_ == nullptr) {
      CommandResult r = Run("clean", {"--workers", "3"});
      EXPECT_EQ(r.exit_code, 0) << r.output;
      clean_ = new std::string(StarFingerprint(kDatabase, "clean"));
      // The clean load itself is right: the generator's figures.
      EXPECT_TRUE(Contains(*clean_, "songplays=" + std::to_string(summary_->expected_songplays()) + ":")) << *clean_;
      EXPECT_TRUE(Contains(*clean_, "users=" + std::to_string(summary_->distinct_users) + ":")) << *clean_;
      EXPECT_TRUE(Contains(*clean_, "songs=" + std::to_string(summary_->songs) + ":")) << *clean_;
      EXPECT_TRUE(Contains(*clean_, "artists=" + std::to_string(summary_->artists) + ":")) << *clean_;
      EXPECT_TRUE(Contains(*clean_, "time=" + std::to_string(summary_->expected_time_rows()) + ":")) << *clean_;
    }
    return *clean_;
  }

  // Every row of the data set staged exactly once (per the audit), and the ledger's account:
  // one row per file, records == staged + rejected for each source, staged == the generator's.
  // The rows are those docs/STAGING_ROWS.md defines: a play per NextSong event, a song row per
  // song record, and per file a row per user and per distinct play time (so each user and each
  // play time at least once overall); the ledger counts all of them.
  static void ExpectEverythingStagedOnce(const std::string& schema) {
    const std::string s = "\"" + schema + "\"";
    EXPECT_EQ(Sql("SELECT count(*) FROM (SELECT 1 FROM " + s +
                  ".staging_audit GROUP BY tbl, file_id, key HAVING count(*) > 1) d"),
              "0")
        << "some staging rows were staged twice";
    EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".staging_audit WHERE tbl = 'staging_plays'"),
              static_cast<long>(summary_->next_song_events));
    EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".staging_audit WHERE tbl = 'staging_songs'"),
              static_cast<long>(summary_->songs));
    EXPECT_EQ(SqlLong("SELECT count(DISTINCT key) FROM " + s + ".staging_audit WHERE tbl = 'staging_users'"),
              static_cast<long>(summary_->distinct_users));
    EXPECT_EQ(SqlLong("SELECT count(DISTINCT key) FROM " + s + ".staging_audit WHERE tbl = 'staging_time'"),
              static_cast<long>(summary_->distinct_next_song_ts));
    EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".staging_audit"),
              SqlLong("SELECT sum(staged_rows) FROM " + s + ".load_files"))
        << "the ledger's count of staged rows is not what was staged";
    ExpectLedgerComplete(schema);
  }

  static void ExpectLedgerComplete(const std::string& schema) {
    const std::string s = "\"" + schema + "\"";
    LedgerAccount events = ReadLedgerAccount(kDatabase, schema, "event");
    LedgerAccount songs = ReadLedgerAccount(kDatabase, schema, "song");
    EXPECT_EQ(events.files, static_cast<long>(summary_->log_files)) << events.ToString();
    EXPECT_EQ(songs.files, static_cast<long>(summary_->song_files)) << songs.ToString();
    EXPECT_EQ(events.records, events.staged + events.rejected) << events.ToString();
    EXPECT_EQ(songs.records, songs.staged + songs.rejected) << songs.ToString();
    EXPECT_EQ(events.staged, static_cast<long>(summary_->events)) << events.ToString();
    EXPECT_EQ(songs.staged, static_cast<long>(summary_->songs)) << songs.ToString();
    EXPECT_EQ(SqlLong("SELECT count(DISTINCT uri) FROM " + s + ".load_files"), events.files + songs.files);
    EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".load_files WHERE state <> 'loaded'"), 0);
    for (const char* table : {"staging_plays", "staging_users", "staging_time", "staging_songs"}) {
      EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + "." + table), 0) << table;
    }
  }

  // Rows in the four staging tables of `schema`.
  static long StagingRows(const std::string& schema) {
    const std::string s = "\"" + schema + "\"";
    return SqlLong("SELECT (SELECT count(*) FROM " + s + ".staging_plays) + (SELECT count(*) FROM " + s +
                   ".staging_users) + (SELECT count(*) FROM " + s + ".staging_time) + (SELECT count(*) FROM " + s +
                   ".staging_songs)");
  }

  // Files whose rows have committed to staging (and, once the run is transformed, are loaded).
  static long StagedFiles(const std::string& schema) {
    return SqlLong("SELECT count(*) FROM \"" + schema + "\".load_files WHERE state IN ('staged', 'loaded')");
  }
  static long TotalFiles() { return static_cast<long>(summary_->files); }

  // Starts workers w1..wN against the coordinator on `port`.
  static std::vector<std::unique_ptr<LoadstarProcess>> StartWorkers(int port, int n) {
    std::vector<std::unique_ptr<LoadstarProcess>> workers;
    for (int i = 1; i <= n; ++i) {
      workers.push_back(std::make_unique<LoadstarProcess>("faults-worker", WorkerArgs(port, "w" + std::to_string(i), *db_),
                                                          s3_->AwsEnvironment()));
      if (!workers.back()->started()) ADD_FAILURE() << "worker w" << i << " did not start";
    }
    return workers;
  }

  // Waits (up to a minute) until at least `at_least` files of `schema` are staged; returns how
  // many were staged when it stopped waiting.
  static long WaitForStagedFiles(const std::string& schema, long at_least) {
    long staged = 0;
    (void)WaitUntil(
        [&] {
          staged = StagedFiles(schema);
          return staged >= at_least;
        },
        milliseconds(60000), milliseconds(30));
    return staged;
  }

  // Waits (up to a minute) until no worker is staging anything in `schema`'s database and the
  // number of staged files has not changed for two seconds; returns that number.
  static long WaitForWorkersToSettle(const std::string& schema) {
    long last = -1;
    auto since = std::chrono::steady_clock::now();
    long staged = 0;
    (void)WaitUntil(
        [&] {
          staged = StagedFiles(schema);
          const long busy = SqlLong(
              "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'loadstar-worker' "
              "AND state IN ('active', 'idle in transaction')");
          const auto now = std::chrono::steady_clock::now();
          if (staged != last || busy > 0) {
            last = staged;
            since = now;
          }
          return now - since >= seconds(2);
        },
        milliseconds(60000), milliseconds(100));
    return staged;
  }

  // These tests are about workers failing, so coordinator and workers use real CURVE keys, as
  // across machines; each worker started gets the next of the worker keys.
  static const CurveKeys& Keys() {
    static const CurveKeys* keys = new CurveKeys(4);
    return *keys;
  }
  static std::vector<std::string> CoordinatorArgs(int port) {
    return Concat({"coordinator", "--listen", "tcp://127.0.0.1:" + std::to_string(port)}, Keys().CoordinatorFlags());
  }
  static std::vector<std::string> WorkerArgs(int port, const std::string& name, const std::string& warehouse) {
    static int next_key = 0;
    return Concat({"worker",      "--connect",       "tcp://127.0.0.1:" + std::to_string(port),
                   "--warehouse", warehouse,         "--name",
                   name,          "--give-up-after", "60"},
                  Keys().WorkerFlags(next_key++));
  }

  static LocalS3Server* s3_;
  static GenerateSummary* summary_;
  static std::string* db_;
  static std::string* clean_;
};

LocalS3Server* FaultsTest::s3_ = nullptr;
GenerateSummary* FaultsTest::summary_ = nullptr;
std::string* FaultsTest::db_ = nullptr;
std::string* FaultsTest::clean_ = nullptr;

// A worker killed with SIGKILL while it holds leases: the coordinator notices the silence,
// leases its tasks to the other two, and the run completes with nothing lost or doubled.
TEST_F(FaultsTest, WorkerKilledMidRunLosesAndDoublesNothing) {
  const std::string clean = CleanFingerprint();
  const std::string schema = "kill_worker";
  CreateLoadstarSchema(kDatabase, schema);
  AuditStaging(kDatabase, schema);

  const int port = FreeTcpPort(), monitor_port = FreeTcpPort();
  ASSERT_GT(port, 0);
  ASSERT_GT(monitor_port, 0);
  const std::string monitor = "127.0.0.1:" + std::to_string(monitor_port);
  std::vector<std::string> coordinator_args = Concat(CoordinatorArgs(port), {"--metrics-listen", monitor});
  for (const std::string& a : SourceArgs(schema)) coordinator_args.push_back(a);
  LoadstarProcess coordinator("faults-coordinator", coordinator_args, s3_->AwsEnvironment());
  ASSERT_TRUE(coordinator.started());
  ASSERT_TRUE(WaitForTcpPort(port, milliseconds(30000), coordinator.process())) << coordinator.Output();

  std::vector<std::unique_ptr<LoadstarProcess>> workers = StartWorkers(port, 3);
  for (const auto& w : workers) ASSERT_TRUE(w->started());

  // Wait for the middle of the run: some files staged, most not, and w2 holding leases.
  const long staged_at_kill = WaitForStagedFiles(schema, TotalFiles() / 10);
  ASSERT_GE(staged_at_kill, TotalFiles() / 10) << coordinator.Output();
  std::optional<CoordinatorStatus> before;
  ASSERT_TRUE(WaitUntil(
      [&] {
        before = ReadCoordinatorStatus(monitor);
        const CoordinatorStatus::Worker* w2 = before ? before->FindWorker("w2") : nullptr;
        return w2 != nullptr && w2->in_flight > 0;
      },
      milliseconds(10000), milliseconds(20)))
      << "w2 held no lease while the run was staging: " << (before ? before->ToString() : "no status");
  workers[1]->KillHard();
  ASSERT_LT(staged_at_kill, TotalFiles()) << "the run was over before the worker was killed; nothing was tested";
  const long staged_after_kill = StagedFiles(schema);
  EXPECT_LT(staged_after_kill, TotalFiles()) << "the run had nothing left to do when the worker was killed";
  EXPECT_EQ(before->workers_lost, 0u) << before->ToString();

  // After the kill, read from the coordinator while it still runs: w2 was declared lost, the
  // only worker lost, and the leases it held went back to the queue as retries.
  std::optional<CoordinatorStatus> after;
  EXPECT_TRUE(WaitUntil(
      [&] {
        if (auto s = ReadCoordinatorStatus(monitor)) after = s;
        return (after && after->workers_lost > 0) || !coordinator.process()->Running();
      },
      milliseconds(60000), milliseconds(20)));
  ASSERT_TRUE(after.has_value()) << "no status read after the kill\n" << coordinator.Output();
  EXPECT_EQ(after->workers_lost, 1u) << after->ToString();
  EXPECT_GE(after->tasks_retried, before->tasks_retried + 1) << "before the kill: " << before->ToString()
                                                             << "\nafter: " << after->ToString();
  EXPECT_EQ(after->FindWorker("w2"), nullptr) << after->ToString();

  ExitStatus ended = coordinator.Finish(seconds(120));
  const std::string out = coordinator.Output();
  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << out;
  EXPECT_TRUE(Contains(out, "worker w2 went silent")) << out;
  for (int i : {0, 2}) {
    ExitStatus w = workers[i]->Finish(seconds(30));
    EXPECT_TRUE(w.success()) << "worker w" << i + 1 << ": " << w.ToString() << "\n" << workers[i]->Output();
  }

  EXPECT_EQ(StarFingerprint(kDatabase, schema), clean);
  ExpectEverythingStagedOnce(schema);
  EXPECT_EQ(Sql("SELECT count(*) || ' ' || min(state) FROM " + schema + ".runs"), "1 done");
}

// The coordinator killed with SIGKILL mid-run and started again with the same arguments: it
// resumes the same run, the workers (which outlive it) announce themselves again, and files
// staged before the crash are neither lost nor staged again.
TEST_F(FaultsTest, CoordinatorKilledAndRestartedResumesTheSameRun) {
  const std::string clean = CleanFingerprint();
  const std::string schema = "kill_coordinator";
  CreateLoadstarSchema(kDatabase, schema);
  AuditStaging(kDatabase, schema);

  const int port = FreeTcpPort();
  ASSERT_GT(port, 0);
  std::vector<std::string> coordinator_args = CoordinatorArgs(port);
  for (const std::string& a : SourceArgs(schema)) coordinator_args.push_back(a);
  auto first = std::make_unique<LoadstarProcess>("faults-coordinator", coordinator_args, s3_->AwsEnvironment());
  ASSERT_TRUE(first->started());
  ASSERT_TRUE(WaitForTcpPort(port, milliseconds(30000), first->process())) << first->Output();
  const std::string run_id = Sql("SELECT max(run_id) FROM " + schema + ".runs");

  std::vector<std::unique_ptr<LoadstarProcess>> workers = StartWorkers(port, 3);
  for (const auto& w : workers) ASSERT_TRUE(w->started());

  ASSERT_GE(WaitForStagedFiles(schema, TotalFiles() / 5), TotalFiles() / 5) << first->Output();
  first->KillHard();
  ASSERT_FALSE(first->process()->Running());
  // Read once the coordinator is gone: the ledger only grows, so this bounds what was staged when
  // it died. Some files staged, not all: it really was killed mid-run.
  const long staged_at_kill = StagedFiles(schema);
  ASSERT_GT(staged_at_kill, 0);
  ASSERT_LT(staged_at_kill, TotalFiles()) << "the run was over before the coordinator was killed; nothing was tested";
  EXPECT_EQ(Sql("SELECT state FROM " + schema + ".runs WHERE run_id = " + run_id), "staging");
  // The workers outlive it and finish the tasks they were running (the ones they had queued
  // they drop once the coordinator has been silent too long); once they are idle, nothing more
  // is staged until a coordinator hands out tasks again.
  const long staged_before_restart = WaitForWorkersToSettle(schema);
  ASSERT_GE(staged_before_restart, staged_at_kill);
  ASSERT_LT(staged_before_restart, TotalFiles()) << "the workers staged everything without a coordinator?";

  // The crashed coordinator's database session (and the advisory lock that keeps a second
  // coordinator out of the schema) ends when PostgreSQL notices the closed socket; that is
  // PostgreSQL's business, not what this test is about, so wait for it.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'loadstar-coordinator' "
                   "AND datname = '" +
                   std::string(kDatabase) + "'") == "0";
      },
      milliseconds(10000)));

  // Same arguments, same port.
  LoadstarProcess second("faults-coordinator", coordinator_args, s3_->AwsEnvironment());
  ASSERT_TRUE(second.started());
  ExitStatus ended = second.Finish(seconds(150));
  const std::string out = second.Output();
  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << out;
  EXPECT_TRUE(Contains(out, "resuming run " + run_id)) << out;
  // The restarted coordinator resumed rather than started over: it planned exactly the files not
  // staged yet, and counted the others as staged by this run.
  const PlanLine plan = ReadPlanLine(out);
  EXPECT_EQ(plan.listed, TotalFiles()) << out;
  EXPECT_EQ(plan.already_staged, staged_before_restart) << out;
  EXPECT_EQ(plan.to_stage, TotalFiles() - staged_before_restart) << out;
  for (auto& w : workers) {
    ExitStatus we = w->Finish(seconds(30));
    EXPECT_TRUE(we.success()) << we.ToString() << "\n" << w->Output();
  }
  // Every worker announced itself to the new coordinator: told to by it (a worker it does not
  // know), or on its own after the old one had been silent for a while, as here while the test
  // waited for the workers to settle.
  for (const char* name : {"w1", "w2", "w3"}) {
    EXPECT_TRUE(Contains(out, std::string("worker ") + name + " ready")) << name << "\n" << out;
  }

  EXPECT_EQ(StarFingerprint(kDatabase, schema), clean);
  ExpectEverythingStagedOnce(schema);
  // One run, resumed: every file belongs to it.
  EXPECT_EQ(Sql("SELECT count(*) || ' ' || min(state) FROM " + schema + ".runs"), "1 done");
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + schema + ".load_files WHERE run_id <> " + run_id), 0);
}

// PostgreSQL crashes (pg_ctl -m immediate) after every file is staged, while the transform waits:
// the unlogged staging tables come back empty, the ledger still says staged. The next run finds
// the rows gone, stages those files again, and builds exactly the clean tables.
TEST_F(FaultsTest, PostgresCrashBetweenStagingAndTransformStagesAgainAndLoadsRight) {
  const std::string clean = CleanFingerprint();
  const std::string schema = "crash_restage";
  const int port = FreeTcpPort();
  ASSERT_GT(port, 0);
  std::vector<std::string> coordinator_args = CoordinatorArgs(port);
  for (const std::string& a : SourceArgs(schema)) coordinator_args.push_back(a);
  auto coordinator = std::make_unique<LoadstarProcess>("faults-coordinator", coordinator_args, s3_->AwsEnvironment());
  ASSERT_TRUE(coordinator->started());
  ASSERT_TRUE(WaitForTcpPort(port, milliseconds(30000), coordinator->process())) << coordinator->Output();
  std::vector<std::unique_ptr<LoadstarProcess>> workers = StartWorkers(port, 3);
  ASSERT_GE(WaitForStagedFiles(schema, 1), 1) << coordinator->Output();

  // Hold the transform at its first write: a session of ours keeps the songs table locked.
  Subprocess::Options lock;
  lock.argv = {"psql", "-X", "-q", PostgresServer::Shared().Uri(kDatabase), "-c",
               "BEGIN; LOCK TABLE " + schema + ".songs IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);"};
  lock.stdout_path = lock.stderr_path = TempDir("pg-crash-lock") + "/psql.log";
  auto holder = Subprocess::Spawn(lock);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'loadstar-coordinator' AND "
                   "wait_event_type = 'Lock' AND datname = '" + std::string(kDatabase) + "'") == "1" ||
               !coordinator->process()->Running();
      },
      milliseconds(120000), milliseconds(100)))
      << coordinator->Output();
  ASSERT_TRUE(coordinator->process()->Running()) << coordinator->Output();
  EXPECT_EQ(StagedFiles(schema), TotalFiles()) << "the transform started before every file was staged";
  EXPECT_EQ(Sql("SELECT state FROM " + schema + ".runs"), "transforming");
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + schema + ".staging_plays"),
            static_cast<long>(summary_->next_song_events));
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + schema + ".staging_songs"), static_cast<long>(summary_->songs));
  EXPECT_EQ(StagingRows(schema), SqlLong("SELECT sum(staged_rows) FROM " + schema + ".load_files"));

  ASSERT_TRUE(PostgresServer::Shared().CrashAndRestart());
  ExitStatus ended = coordinator->Finish(seconds(60));
  EXPECT_EQ(ended.code, 1) << ended.ToString() << "\n" << coordinator->Output();
  for (auto& w : workers) (void)w->Finish(seconds(60));
  (void)holder->Wait(seconds(10));
  // What the crash left: an empty staging, a ledger that says staged, empty star tables.
  EXPECT_EQ(StagingRows(schema), 0);
  EXPECT_GT(SqlLong("SELECT sum(staged_rows) FROM " + schema + ".load_files"), 0);
  EXPECT_EQ(StagedFiles(schema), TotalFiles());
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + schema + ".songplays"), 0);

  CommandResult again = Run(schema, {"--workers", "3"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "are gone (PostgreSQL restarted since they were staged")) << again.output;
  const PlanLine plan = ReadPlanLine(again.output);
  EXPECT_EQ(plan.to_stage, TotalFiles()) << again.output;
  EXPECT_EQ(StarFingerprint(kDatabase, schema), clean);
  ExpectLedgerComplete(schema);
  EXPECT_EQ(Sql("SELECT count(*) || ' ' || min(state) FROM " + schema + ".runs"), "1 done");
  // Unlogged staging really is unlogged (the point of the change).
  EXPECT_EQ(Sql("SELECT string_agg(relpersistence::text, '') FROM pg_class WHERE oid IN ('" + schema +
                ".staging_plays'::regclass, '" + schema + ".staging_users'::regclass, '" + schema +
                ".staging_time'::regclass, '" + schema + ".staging_songs'::regclass)"),
            "uuuu");
}

// S3 through a proxy that breaks 18% of the requests: 503 SlowDown, 500, resets before and in
// the middle of a response, truncated bodies, slow bodies. Retries must absorb all of it.
TEST_F(FaultsTest, S3FaultsOnEveryKindOfRequestAreRetriedAway) {
  const std::string clean = CleanFingerprint();
  const std::string schema = "s3_faults";
  CreateLoadstarSchema(kDatabase, schema);
  AuditStaging(kDatabase, schema);

  FaultProxyProcess::Options o;
  o.upstream_port = s3_->port();
  o.seed = 20181101;
  o.slowdown = 0.04;
  o.error500 = 0.03;
  o.reset_before = 0.03;
  o.reset_mid = 0.03;
  o.truncate = 0.03;
  o.delay = 0.02;
  o.delay_ms = 1000;
  auto proxy = FaultProxyProcess::Start(o);
  ASSERT_NE(proxy, nullptr);

  CommandResult r = Run(schema, {"--workers", "3"}, {{"AWS_ENDPOINT_URL_S3", proxy->endpoint()}});
  std::map<std::string, uint64_t> injected = proxy->Stop();
  for (const auto& [name, count] : injected) RecordProperty("proxy_" + name, std::to_string(count));
  ASSERT_EQ(r.exit_code, 0) << r.output << "\nfault proxy log:\n" << proxy->Log();

  // The proxy really did break requests of every kind (else this test proves nothing).
  EXPECT_GE(injected["requests"], summary_->files);
  for (const char* kind :
       {"slowdown_503", "error_500", "reset_before_response", "reset_mid_response", "truncated_body", "delayed"}) {
    EXPECT_GE(injected[kind], 10u) << kind;
  }
  EXPECT_EQ(StarFingerprint(kDatabase, schema), clean);
  ExpectEverythingStagedOnce(schema);
}

// Workers' warehouse connections terminated by the server while they stage: each broken task is
// retried on a fresh connection, and the staging transaction makes the retry see a clean slate.
TEST_F(FaultsTest, WorkerWarehouseConnectionsDroppedMidTaskAreRetried) {
  const std::string clean = CleanFingerprint();
  const std::string schema = "dropped_connections";
  CreateLoadstarSchema(kDatabase, schema);
  AuditStaging(kDatabase, schema);

  // More attempts than the default: a task may be unlucky twice; what is under test is that a
  // retried task stages exactly what a first attempt would have.
  std::vector<std::string> argv = {"run"};
  for (const std::string& a : SourceArgs(schema, {"--workers", "3", "--max-attempts", "10"})) argv.push_back(a);
  LoadstarProcess run("faults-run", argv, s3_->AwsEnvironment());
  ASSERT_TRUE(run.started());

  // Terminate the backends of workers that are in the middle of something (running a statement,
  // or inside their staging transaction), a few at a time, until enough have been hit.
  long terminated = 0;
  const long wanted = 6;
  WaitUntil(
      [&] {
        if (!run.process()->Running()) return true;
        terminated += SqlLong(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM ("
            "  SELECT pid FROM pg_stat_activity WHERE application_name = 'loadstar-worker'"
            "  AND state IN ('active', 'idle in transaction') LIMIT 2) w");
        return terminated >= wanted;
      },
      milliseconds(120000), milliseconds(250));

  ExitStatus ended = run.Finish(seconds(150));
  const std::string out = run.Output();

  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << out;
  ASSERT_GE(terminated, 1) << "no worker connection was caught mid-task; nothing was tested\n" << out;
  EXPECT_TRUE(Contains(out, "will retry")) << "no task was retried after " << terminated << " terminated connections\n"
                                           << out;
  EXPECT_EQ(StarFingerprint(kDatabase, schema), clean);
  ExpectEverythingStagedOnce(schema);
}

// A transform that fails (here: a trigger on `time` that raises) rolls back whole: the star
// tables keep what an earlier run left, the run is marked failed with the error; once the cause
// is gone, the same command resumes the run and finishes it.
TEST_F(FaultsTest, FailingTransformRollsBackWholeAndResumes) {
  const std::string clean = CleanFingerprint();
  const std::string schema = "failing_transform";
  CreateLoadstarSchema(kDatabase, schema);
  AuditStaging(kDatabase, schema);

  // An earlier run, so that "unchanged" means something: the songs and the first three days.
  CommandResult early = Run(schema, {"--workers", "2", "--until", "2018-11-03"});
  ASSERT_EQ(early.exit_code, 0) << early.output;
  const std::string before = StarFingerprint(kDatabase, schema);
  ASSERT_NE(before, clean);
  ASSERT_FALSE(Contains(before, "time=0:")) << before;

  Sql("CREATE FUNCTION " + schema +
      ".refuse_time() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "RAISE EXCEPTION 'time rows refused by the test trigger'; END $$;"
      "CREATE TRIGGER refuse BEFORE INSERT ON " +
      schema + ".time FOR EACH ROW EXECUTE FUNCTION " + schema + ".refuse_time();");
  CommandResult failed = Run(schema, {"--workers", "2"});
  EXPECT_TRUE(RunFailed(failed, "time rows refused by the test trigger"));
  EXPECT_EQ(StarFingerprint(kDatabase, schema), before);
  const std::string failed_run = Sql("SELECT max(run_id) FROM " + schema + ".runs");
  EXPECT_EQ(Sql("SELECT state FROM " + schema + ".runs WHERE run_id = " + failed_run), "failed");
  EXPECT_TRUE(Contains(Sql("SELECT error FROM " + schema + ".runs WHERE run_id = " + failed_run),
                       "time rows refused by the test trigger"));
  // The staged rows wait for the rerun: nothing of the failed run was marked loaded.
  EXPECT_EQ(
      SqlLong("SELECT count(*) FROM " + schema + ".load_files WHERE run_id = " + failed_run + " AND state <> 'staged'"),
      0);

  Sql("DROP TRIGGER refuse ON " + schema + ".time");
  CommandResult resumed = Run(schema, {"--workers", "2"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(Contains(resumed.output, "resuming run " + failed_run)) << resumed.output;
  EXPECT_EQ(StarFingerprint(kDatabase, schema), clean);
  ExpectEverythingStagedOnce(schema);
  EXPECT_EQ(Sql("SELECT string_agg(state, ',' ORDER BY run_id) FROM " + schema + ".runs"), "done,done");
}

// `loadstar run` whose only worker cannot reach the warehouse (the role may hold one connection,
// and the coordinator holds it): the run fails, saying why, in bounded time; it never hangs.
TEST_F(FaultsTest, RunWhoseWorkerCannotReachTheWarehouseFailsPromptly) {
  PostgresServer& pg = PostgresServer::Shared();
  pg.Psql("postgres", "DROP DATABASE IF EXISTS faults_limited WITH (FORCE)");
  pg.Psql("postgres", "DROP ROLE IF EXISTS faults_one_connection");
  pg.Psql("postgres", "CREATE ROLE faults_one_connection LOGIN CONNECTION LIMIT 1");
  pg.Psql("postgres", "CREATE DATABASE faults_limited OWNER faults_one_connection");
  const std::string uri =
      "postgresql://faults_one_connection@127.0.0.1:" + std::to_string(pg.port()) + "/faults_limited";

  const auto start = std::chrono::steady_clock::now();
  CommandResult r = RunCommand({LoadstarBinary(), "run", "--songs", Songs(), "--events", Events(), "--warehouse", uri,
                                "--schema", "unreachable", "--workers", "1"},
                               s3_->AwsEnvironment(), 120);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(RunFailed(r, "every local worker process has exited"));
  EXPECT_LT(took, 60.0) << r.output;
  // The worker's own reason, relayed on the run's output.
  EXPECT_TRUE(Contains(r.output, "loadstar worker: this worker cannot stage anything: cannot connect to the warehouse"))
      << r.output;
  EXPECT_TRUE(Contains(r.output, "too many connections")) << r.output;
  EXPECT_EQ(pg.Psql("faults_limited", "SELECT state FROM unreachable.runs ORDER BY run_id DESC LIMIT 1"), "failed");
  EXPECT_EQ(pg.Psql("faults_limited", "SELECT count(*) FROM unreachable.songplays"), "0");
}

// The same with a separately started worker given a warehouse nobody listens on, and a plan of
// many small tasks: how long the run takes to fail must not grow with the number of tasks (a
// worker that cannot stage anything should not be handed every task, twice, before the run gives
// up on it).
// On several machines one misconfigured worker must not sink the run: a worker that cannot reach
// the warehouse says why and exits before it takes any task, and the run finishes with the
// workers that can stage.
TEST_F(FaultsTest, AWorkerThatCannotReachTheWarehouseLeavesAndTheRunFinishesWithoutIt) {
  const std::string schema = "unreachable_worker";
  const int port = FreeTcpPort();
  ASSERT_GT(port, 0);
  std::vector<std::string> coordinator_args = CoordinatorArgs(port);
  for (const std::string& a : SourceArgs(schema)) coordinator_args.push_back(a);
  LoadstarProcess coordinator("faults-coordinator", coordinator_args, s3_->AwsEnvironment());
  ASSERT_TRUE(coordinator.started());
  ASSERT_TRUE(WaitForTcpPort(port, milliseconds(30000), coordinator.process())) << coordinator.Output();

  LoadstarProcess bad("faults-worker", WorkerArgs(port, "w-bad", "postgresql://postgres@127.0.0.1:1/none"),
                      s3_->AwsEnvironment());
  ExitStatus bad_ended = bad.Finish(seconds(30));
  // A worker that fails exits 1 (130 is for a worker stopped by a signal), saying why.
  EXPECT_TRUE(bad_ended.exited() && bad_ended.code == 1) << bad_ended.ToString() << "\n" << bad.Output();
  EXPECT_TRUE(Contains(bad.Output(), "loadstar worker: this worker cannot stage anything: cannot connect to the "
                                     "warehouse"))
      << bad.Output();
  EXPECT_TRUE(Contains(bad.Output(), "127.0.0.1:1")) << bad.Output();

  LoadstarProcess good("faults-worker", WorkerArgs(port, "w-good", *db_), s3_->AwsEnvironment());
  auto ended = coordinator.process()->Wait(seconds(120));
  const std::string out = coordinator.Output();
  ASSERT_TRUE(ended.has_value()) << out;
  EXPECT_TRUE(ended->success()) << ended->ToString() << "\n" << out;
  EXPECT_FALSE(Contains(out, "w-bad ready")) << "the bad worker announced itself:\n" << out;
  EXPECT_FALSE(Contains(out, "will retry")) << out;
  EXPECT_EQ(Sql("SELECT state FROM " + schema + ".runs ORDER BY run_id DESC LIMIT 1"), "done");
  (void)good.Finish(seconds(30));
}

}  // namespace
}  // namespace loadstar::testing
