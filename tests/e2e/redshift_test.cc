// End to end into the Redshift stand-in (tests/tools/redshift_standin, docs/REDSHIFT_STANDIN.md):
// `loadstar run --dialect redshift` with real workers writing gzip CSV parts to the local S3
// server, manifests, one COPY per table and the MERGE transforms, all through the stand-in in
// front of the test binary's private PostgreSQL. Every load is compared with the PostgreSQL
// path's on the same input: the same star tables, row for row, and the same ledger; and it must
// stay so when workers and the coordinator are killed, S3 breaks part uploads, the input is
// dirty, and the data comes in several runs.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/core/uri.h"
#include "common/generator/generator.h"
#include "common/storage/object_store.h"
#include "tests/support/fault_proxy_process.h"
#include "tests/support/generated_objects.h"
#include "tests/support/loadstar_process.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/redshift_standin.h"
#include "tests/support/s3_server.h"
#include "tests/support/sample_upload.h"
#include "tests/support/star_fingerprint.h"
#include "tests/support/test_env.h"
#include "tests/support/tls_front.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

constexpr const char* kSampleBucket = "sample";
constexpr const char* kDataBucket = "sparkify";
constexpr const char* kStagingBucket = "staging";
constexpr const char* kDatabase = "redshift";
constexpr const char* kRole = "arn:aws:iam::123456789012:role/loadstar-copy";
// Small, to keep the file within its time: about 30,000 events over 10 days, 600 songs.
constexpr uint64_t kEvents = 30'000;
constexpr uint64_t kSongs = 600;
constexpr uint32_t kDays = 10;

bool Contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// The star tables' contents, every column (songplays.unmatched_key too: both dialects keep the
// workers' 64-bit match key). One line per table, "table=rows:md5".
std::string CrossFingerprint(const std::string& schema) {
  const std::string s = "\"" + schema + "\".";
  struct Table {
    const char* name;
    const char* row;
    const char* order;
  };
  const Table tables[] = {
      {"songplays",
       "songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent, "
       "unmatched_key",
       "songplay_id"},
      {"users", "user_id, first_name, last_name, gender, level, as_of", "user_id"},
      {"songs", "song_id, title, artist_id, year, duration", "song_id"},
      {"artists", "artist_id, name, location, latitude, longitude", "artist_id"},
      {"time", "start_time, hour, day, week, month, year, weekday", "start_time"},
  };
  std::string out;
  for (const Table& t : tables) {
    std::string sql = std::string("SELECT count(*) || ':' || coalesce(md5(string_agg(md5(ROW(") + t.row +
                      ")::text), '' ORDER BY " + t.order + ")), '') FROM " + s + t.name;
    out += std::string(t.name) + "=" + PostgresServer::Shared().Psql(kDatabase, sql) + "\n";
  }
  return out;
}

// `output` without loadstar's log lines ("2026-12-01T10:00:00.000Z warn ...").
std::string WithoutLogLines(const std::string& output) {
  static const std::regex log_line(R"(^\d{4}-\d\d-\d\dT[0-9:.]+Z (debug|info|warn|error) )");
  std::istringstream in(output);
  std::string line, out;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, log_line)) out += line + "\n";
  }
  return out;
}


class RedshiftTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s3_ = new LocalS3Server({kSampleBucket, kDataBucket, kStagingBucket});
    if (!s3_->ok()) return;
    s3_->ExportAwsEnvironment();
    {
      auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, kSampleBucket, ""});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      auto uploaded = UploadSample(store->get());
      ASSERT_TRUE(uploaded.ok()) << uploaded.status().ToString();
    }
    GenerateOptions options;
    options.events = kEvents;
    options.songs = kSongs;
    options.days = kDays;
    auto data = GenerateInMemory(options);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    summary_ = new GenerateSummary(data->summary);
    Status uploaded = UploadObjects(kDataBucket, "", data->objects);
    ASSERT_TRUE(uploaded.ok()) << uploaded.ToString();
    db_ = new std::string(PostgresServer::Shared().FreshDatabase(kDatabase));
    hold_file_ = new std::string(TempDir("redshift-hold") + "/hold-commit");
    StandinOptions so;
    so.slices = 2;
    so.hold_commit_file = *hold_file_;
    standin_ = RedshiftStandin::Start(PostgresServer::Shared().port(), s3_->endpoint(), so).release();
  }
  static void TearDownTestSuite() {
    delete standin_;
    delete s3_;
    delete summary_;
    delete db_;
    delete hold_file_;
  }

  void SetUp() override {
    ASSERT_TRUE(s3_ != nullptr && s3_->ok() && summary_ != nullptr && db_ != nullptr && standin_ != nullptr)
        << "the test services could not be set up";
  }
  void TearDown() override {
    if (HasFailure() && standin_ != nullptr) {
      std::string log = standin_->Log();
      if (log.size() > 20000) log = log.substr(log.size() - 20000);
      std::cerr << "--- the stand-in's log (end) ---\n" << log << "\n";
    }
  }

  static std::string Sql(const std::string& sql) { return PostgresServer::Shared().Psql(kDatabase, sql); }
  static long SqlLong(const std::string& sql) {
    std::string text = Sql(sql);
    char* end = nullptr;
    long value = std::strtol(text.c_str(), &end, 10);
    EXPECT_TRUE(!text.empty() && *end == '\0') << "not a number: " << text << "\nfrom: " << sql;
    return value;
  }

  static std::string Staging(const std::string& schema) {
    return std::string("s3://") + kStagingBucket + "/" + schema + "/";
  }
  // The flags of a Redshift load into `schema` through the stand-in.
  static std::vector<std::string> RedshiftArgs(const std::string& schema) {
    return {"--warehouse", standin_->Conninfo(kDatabase), "--schema", schema, "--dialect", "redshift",
            "--staging", Staging(schema), "--iam-role", kRole, "--region", "us-east-1"};
  }
  static std::vector<std::string> Sources(const std::string& bucket) {
    return {"--songs", "s3://" + bucket + "/song_data/", "--events", "s3://" + bucket + "/log_data/"};
  }
  static std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  static CommandResult Run(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                           int timeout_s = 180) {
    std::vector<std::string> argv = {LoadstarBinary(), "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> full = s3_->AwsEnvironment();
    for (auto& [k, v] : env) full[k] = v;
    return RunCommand(argv, full, timeout_s);
  }
  static CommandResult RunPostgres(const std::string& schema, const std::string& bucket,
                                   const std::vector<std::string>& extra = {}) {
    return Run(Concat(Concat(Sources(bucket), {"--warehouse", *db_, "--schema", schema, "--workers", "2"}), extra));
  }
  static CommandResult RunRedshift(const std::string& schema, const std::string& bucket,
                                   const std::vector<std::string>& extra = {},
                                   std::map<std::string, std::string> env = {}) {
    return Run(Concat(Concat(Concat(Sources(bucket), RedshiftArgs(schema)), {"--workers", "2"}), extra), env);
  }

  // Objects under the schema's staging prefix.
  static std::vector<std::string> StagingObjects(const std::string& schema, const std::string& under = "") {
    std::vector<std::string> keys;
    auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, kStagingBucket, ""});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return keys;
    Status listed = (*store)->List(schema + "/" + under, [&](ObjectInfo info) {
      keys.push_back(info.key);
      return Status::Ok();
    });
    EXPECT_TRUE(listed.ok()) << listed.ToString();
    return keys;
  }
  static long AcceptedAttempts(const std::string& schema) {
    long n = 0;
    for (const std::string& k : StagingObjects(schema)) n += Contains(k, "/accepted/") ? 1 : 0;
    return n;
  }

  // The PostgreSQL path's tables for the generated data set, loaded once.
  static const std::string& PostgresGenerated() {
    if (pg_generated_ == nullptr) {
      CommandResult r = RunPostgres("ref_generated", kDataBucket);
      EXPECT_EQ(r.exit_code, 0) << r.output;
      pg_generated_ = new std::string(CrossFingerprint("ref_generated"));
    }
    return *pg_generated_;
  }

  static void ExpectLedgerLike(const std::string& schema, const std::string& reference) {
    for (const char* kind : {"song", "event"}) {
      EXPECT_EQ(ReadLedgerAccount(kDatabase, schema, kind).ToString(),
                ReadLedgerAccount(kDatabase, reference, kind).ToString())
          << kind;
    }
    EXPECT_EQ(SqlLong("SELECT count(*) FROM \"" + schema + "\".load_files WHERE state <> 'loaded'"), 0);
    for (const char* t : {"staging_plays", "staging_users", "staging_time", "staging_songs", "staging_files"}) {
      EXPECT_EQ(SqlLong("SELECT count(*) FROM \"" + schema + "\"." + t), 0) << t << " is not empty after the run";
    }
  }

  static std::vector<std::string> CoordinatorArgs(const std::string& schema, int port,
                                                  const std::vector<std::string>& extra = {}) {
    return Concat(Concat(Concat({"coordinator", "--listen", "tcp://127.0.0.1:" + std::to_string(port),
                                 "--insecure-plaintext", "--task-files", "8", "--task-bytes", "200000"},
                                Sources(kDataBucket)),
                         RedshiftArgs(schema)),
                  extra);
  }
  static std::unique_ptr<LoadstarProcess> StartWorker(int port, const std::string& name) {
    return std::make_unique<LoadstarProcess>(
        name,
        std::vector<std::string>{"worker", "--connect", "tcp://127.0.0.1:" + std::to_string(port),
                                 "--insecure-plaintext", "--s3-staging-only", "--name", name, "--give-up-after", "60"},
        s3_->AwsEnvironment());
  }

  static LocalS3Server* s3_;
  static GenerateSummary* summary_;
  static std::string* db_;
  static std::string* hold_file_;
  static RedshiftStandin* standin_;
  static std::string* pg_generated_;
};

LocalS3Server* RedshiftTest::s3_ = nullptr;
GenerateSummary* RedshiftTest::summary_ = nullptr;
std::string* RedshiftTest::db_ = nullptr;
std::string* RedshiftTest::hold_file_ = nullptr;
RedshiftStandin* RedshiftTest::standin_ = nullptr;
std::string* RedshiftTest::pg_generated_ = nullptr;

// The sample, loaded both ways: the same tables and ledger; the parts are gone afterwards; a
// rerun loads nothing and changes nothing.
TEST_F(RedshiftTest, SampleLoadsExactlyAsOnPostgres) {
  CommandResult pg = RunPostgres("ref_sample", kSampleBucket);
  ASSERT_EQ(pg.exit_code, 0) << pg.output;
  CommandResult rs = RunRedshift("rs_sample", kSampleBucket);
  ASSERT_EQ(rs.exit_code, 0) << rs.output;
  EXPECT_TRUE(Contains(rs.output, "staged parts: ")) << rs.output;
  EXPECT_TRUE(Contains(standin_->Log(), "MANIFEST")) << "no COPY from a manifest reached the stand-in";

  const std::string reference = CrossFingerprint("ref_sample");
  EXPECT_TRUE(Contains(reference, "songplays=6820:")) << reference;  // shared/docs/SAMPLE_FIGURES.md
  EXPECT_EQ(CrossFingerprint("rs_sample"), reference);
  ExpectLedgerLike("rs_sample", "ref_sample");
  EXPECT_EQ(SqlLong("SELECT count(*) FROM rs_sample.rejects"), SqlLong("SELECT count(*) FROM ref_sample.rejects"));
  EXPECT_TRUE(StagingObjects("rs_sample").empty()) << "staging parts were left behind";

  // The analysts' report reads the Redshift tables too, as text and as JSON.
  for (const char* format : {"text", "json"}) {
    CommandResult report = RunCommand({LoadstarBinary(), "report", "--warehouse", standin_->Conninfo(kDatabase),
                                       "--schema", "rs_sample", "--format", format},
                                      {}, 60);
    EXPECT_EQ(report.exit_code, 0) << format << "\n" << report.output;
    CommandResult on_postgres = RunCommand({LoadstarBinary(), "report", "--warehouse", *db_, "--schema", "ref_sample",
                                            "--format", format},
                                           {}, 60);
    EXPECT_EQ(on_postgres.exit_code, 0) << on_postgres.output;
    // The same answers, word for word (but for the schema's name and the log's warning).
    std::string answers = WithoutLogLines(report.output);
    for (size_t at; (at = answers.find("rs_sample")) != std::string::npos;) answers.replace(at, 9, "ref_sample");
    EXPECT_EQ(answers, WithoutLogLines(on_postgres.output)) << format;
    EXPECT_TRUE(Contains(answers, "6820")) << answers;
  }

  CommandResult again = RunRedshift("rs_sample", kSampleBucket);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "nothing new to load")) << again.output;
  EXPECT_EQ(CrossFingerprint("rs_sample"), reference);
}

// Usage errors are found before anything is touched, and say what to do.
TEST_F(RedshiftTest, MissingStagingOrRoleIsAUsageErrorBeforeAnyWork) {
  CommandResult no_staging = Run(Concat(Sources(kSampleBucket), {"--warehouse", standin_->Conninfo(kDatabase),
                                                                 "--schema", "rs_usage", "--iam-role", kRole}));
  EXPECT_NE(no_staging.exit_code, 0);
  EXPECT_TRUE(Contains(no_staging.output, "--staging s3://bucket/prefix/")) << no_staging.output;
  CommandResult bad_role = Run(Concat(Sources(kSampleBucket), {"--warehouse", standin_->Conninfo(kDatabase),
                                                               "--schema", "rs_usage", "--dialect", "redshift",
                                                               "--staging", Staging("rs_usage"), "--iam-role",
                                                               "loadstar-copy", "--region", "us-east-1"}));
  EXPECT_NE(bad_role.exit_code, 0);
  EXPECT_TRUE(Contains(bad_role.output, "is not an IAM role ARN")) << bad_role.output;
  CommandResult wrong_dialect = Run(Concat(Sources(kSampleBucket), {"--warehouse", *db_ + "?sslmode=disable",
                                                                    "--schema", "rs_usage",
                                                                    "--dialect", "redshift", "--staging",
                                                                    Staging("rs_usage"), "--iam-role", kRole,
                                                                    "--region", "us-east-1"}));
  EXPECT_NE(wrong_dialect.exit_code, 0);
  EXPECT_TRUE(Contains(wrong_dialect.output, "--dialect redshift was given, but")) << wrong_dialect.output;
  EXPECT_EQ(SqlLong("SELECT count(*) FROM pg_namespace WHERE nspname = 'rs_usage'"), 0)
      << "a usage error left a schema behind";
}

// A worker and then the coordinator killed with SIGKILL mid-run; the coordinator started again
// resumes from the accepted attempts in S3 and ends with the PostgreSQL path's tables.
TEST_F(RedshiftTest, WorkerAndCoordinatorKilledMidRunResumeToTheSameTables) {
  const std::string reference = PostgresGenerated();
  const std::string schema = "rs_kills";
  const int port = FreeTcpPort();
  auto coordinator = std::make_unique<LoadstarProcess>("redshift-coordinator", CoordinatorArgs(schema, port),
                                                       s3_->AwsEnvironment());
  std::vector<std::unique_ptr<LoadstarProcess>> workers;
  for (int i = 1; i <= 3; ++i) workers.push_back(StartWorker(port, "w" + std::to_string(i)));
  ASSERT_TRUE(WaitUntil([&] { return AcceptedAttempts(schema) >= 3 || !coordinator->running(); }, seconds(90),
                        milliseconds(50)))
      << coordinator->Output();
  workers[0]->KillHard();
  const long before = AcceptedAttempts(schema);
  ASSERT_TRUE(WaitUntil([&] { return AcceptedAttempts(schema) >= before + 3 || !coordinator->running(); },
                        seconds(90), milliseconds(50)))
      << coordinator->Output();
  ASSERT_TRUE(coordinator->running()) << "the run ended before the coordinator could be killed:\n"
                                      << coordinator->Output();
  coordinator->KillHard();
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + schema + ".songplays"), 0) << "something was published before the commit";
  // A record of an accepted attempt cut short, as a store that keeps a killed client's partial
  // upload leaves it: the resumed run passes over it.
  {
    auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, kStagingBucket, ""});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Put(schema + "/run=1/accepted/0000000000000-cut-short-task=1.json", "{\"marker_k").ok());
  }

  auto again = std::make_unique<LoadstarProcess>("redshift-coordinator-again", CoordinatorArgs(schema, port),
                                                 s3_->AwsEnvironment());
  ExitStatus ended = again->Finish(seconds(150));
  const std::string out = again->Output();
  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << out;
  EXPECT_TRUE(Contains(out, "resuming run")) << out;
  EXPECT_TRUE(Contains(out, "accepted attempts")) << out;
  EXPECT_TRUE(Contains(out, "passing over the accepted-attempt record " + schema +
                                "/run=1/accepted/0000000000000-cut-short-task=1.json, which cannot be read"))
      << out;
  EXPECT_EQ(CrossFingerprint(schema), reference);
  ExpectLedgerLike(schema, "ref_generated");
  for (auto& w : workers) w->KillHard();
}

// One coordinator per schema: a second one is turned away while the first one's warehouse
// session lives, and takes over at once when it is gone.
TEST_F(RedshiftTest, OneCoordinatorPerSchemaAndATakeoverOnceItIsGone) {
  const std::string schema = "rs_two";
  const int port = FreeTcpPort();
  auto first = std::make_unique<LoadstarProcess>("redshift-coordinator-first", CoordinatorArgs(schema, port),
                                                 s3_->AwsEnvironment());
  ASSERT_TRUE(WaitUntil([&] { return Contains(first->Output(), "listening for workers") || !first->running(); },
                        seconds(30), milliseconds(50)))
      << first->Output();
  CommandResult second = RunRedshift(schema, kDataBucket);
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_TRUE(Contains(second.output, "another loadstar coordinator is running in schema 'rs_two'")) << second.output;
  first->KillHard();
  CommandResult takeover = RunRedshift(schema, kDataBucket);
  ASSERT_EQ(takeover.exit_code, 0) << takeover.output;
  EXPECT_TRUE(Contains(takeover.output, "resuming run")) << takeover.output;
  EXPECT_EQ(CrossFingerprint(schema), PostgresGenerated());
}

// The coordinator killed while the stand-in holds its COMMIT, after every COPY and the
// transforms: nothing is published, and a rerun loads the same tables.
TEST_F(RedshiftTest, CoordinatorKilledBetweenTheCopiesAndTheCommit) {
  const std::string reference = PostgresGenerated();
  const std::string schema = "rs_commit_kill";
  std::ofstream(*hold_file_) << "hold\n";
  fs::remove(*hold_file_ + ".held");
  std::vector<std::string> argv = Concat(Concat({"run"}, Sources(kDataBucket)), RedshiftArgs(schema));
  argv.push_back("--workers");
  argv.push_back("2");
  auto run = std::make_unique<LoadstarProcess>("redshift-run-held", argv, s3_->AwsEnvironment());
  const bool held = WaitUntil([&] { return fs::exists(*hold_file_ + ".held") || !run->running(); }, seconds(120),
                              milliseconds(50));
  ASSERT_TRUE(held && fs::exists(*hold_file_ + ".held")) << run->Output();
  run->KillHard();
  fs::remove(*hold_file_);
  // The stand-in sees the client gone and drops the transaction instead of committing it.
  ASSERT_TRUE(WaitUntil([&] { return Contains(standin_->Log(), "not relayed"); }, seconds(30), milliseconds(50)))
      << standin_->Log();
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + schema + ".songplays"), 0);
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + schema + ".load_files"), 0);
  EXPECT_EQ(SqlLong("SELECT count(*) FROM " + schema + ".runs WHERE state = 'done'"), 0);

  CommandResult again = RunRedshift(schema, kDataBucket);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(Contains(again.output, "resuming run")) << again.output;
  EXPECT_TRUE(Contains(again.output, "0 to stage")) << again.output;  // everything was accepted before
  EXPECT_EQ(CrossFingerprint(schema), reference);
  ExpectLedgerLike(schema, "ref_generated");
}

// S3 through a proxy that breaks a good share of every request, part uploads included: retries
// absorb it, and no broken part reaches a COPY.
TEST_F(RedshiftTest, S3FaultsOnPartUploadsAreRetriedAway) {
  const std::string reference = PostgresGenerated();
  const std::string schema = "rs_s3_faults";
  FaultProxyProcess::Options o;
  o.upstream_port = s3_->port();
  o.seed = 20181102;
  o.slowdown = 0.05;
  o.error500 = 0.05;
  o.reset_before = 0.04;
  o.reset_mid = 0.03;
  o.truncate = 0.03;
  auto proxy = FaultProxyProcess::Start(o);
  ASSERT_NE(proxy, nullptr);
  CommandResult r = RunRedshift(schema, kDataBucket, {"--task-files", "8", "--task-bytes", "200000", "--max-attempts", "10"},
                                {{"AWS_ENDPOINT_URL_S3", proxy->endpoint()}});
  std::map<std::string, uint64_t> injected = proxy->Stop();
  ASSERT_EQ(r.exit_code, 0) << r.output << "\nfault proxy log:\n" << proxy->Log();
  EXPECT_GE(injected["slowdown_503"] + injected["error_500"] + injected["reset_before_response"], 10u);
  EXPECT_EQ(CrossFingerprint(schema), reference);
  ExpectLedgerLike(schema, "ref_generated");
}

// The data in several runs (incremental: the first days, then all; backfill: a middle window
// first) ends with the tables of one load.
TEST_F(RedshiftTest, IncrementalAndBackfillRunsEqualOneLoad) {
  const std::string reference = PostgresGenerated();
  ASSERT_GE(kDays, 6u);
  std::string first = "2018-11-03", mid_from = "2018-11-04", mid_to = "2018-11-06";
  {
    CommandResult r = RunRedshift("rs_incremental", kDataBucket, {"--until", first});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_GT(SqlLong("SELECT count(*) FROM rs_incremental.songplays"), 0);
    CommandResult all = RunRedshift("rs_incremental", kDataBucket);
    ASSERT_EQ(all.exit_code, 0) << all.output;
    EXPECT_EQ(CrossFingerprint("rs_incremental"), reference);
    ExpectLedgerLike("rs_incremental", "ref_generated");
  }
  {
    CommandResult window = RunRedshift("rs_backfill", kDataBucket, {"--since", mid_from, "--until", mid_to});
    ASSERT_EQ(window.exit_code, 0) << window.output;
    CommandResult early = RunRedshift("rs_backfill", kDataBucket, {"--until", first});
    ASSERT_EQ(early.exit_code, 0) << early.output;
    CommandResult all = RunRedshift("rs_backfill", kDataBucket);
    ASSERT_EQ(all.exit_code, 0) << all.output;
    EXPECT_EQ(CrossFingerprint("rs_backfill"), reference);
    ExpectLedgerLike("rs_backfill", "ref_generated");
  }
}

// Dirty input: every record the PostgreSQL path rejects is rejected here too, with the same
// reasons, and a value too wide for Redshift is rejected by the worker (not by a failed COPY).
TEST_F(RedshiftTest, DirtyInputIsRejectedPerRecordAsOnPostgres) {
  const std::string bucket = kDataBucket;
  auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, bucket, ""});
  ASSERT_TRUE(store.ok());
  const std::string wide(70000, 'x');
  const std::string good =
      R"({"artist":"A","auth":"Logged In","firstName":"F","gender":"F","itemInSession":1,"lastName":"L",)"
      R"("length":200.5,"level":"free","location":"X","method":"PUT","page":"NextSong","registration":1.5e12,)"
      R"("sessionId":77,"song":"S","status":200,"ts":1541990000000,"userAgent":"UA","userId":"9"})";
  const std::string lines = good + "\n" + "{not json\n" +
                            R"({"page":"NextSong","ts":"yesterday","userId":"9","sessionId":1,"itemInSession":2})" +
                            "\n" + R"({"page":"Home","ts":1541990000001,"userId":"","sessionId":78,"itemInSession":1,"userAgent":")" +
                            wide + "\"}\n";
  ASSERT_TRUE((*store)->Put("dirty/log_data/2018-11-12-events.json", lines).ok());
  ASSERT_TRUE((*store)->Put("dirty/song_data/S.json",
                            R"({"num_songs":1,"artist_id":"AR1","artist_latitude":null,"artist_longitude":null,)"
                            R"("artist_location":"","artist_name":"A","song_id":"SO1","title":"S","duration":200.5,"year":0})")
                  .ok());
  const std::vector<std::string> src = {"--songs", "s3://" + bucket + "/dirty/song_data/", "--events",
                                        "s3://" + bucket + "/dirty/log_data/", "--max-errors", "-1"};
  CommandResult pg = Run(Concat(src, {"--warehouse", *db_, "--schema", "ref_dirty", "--workers", "1"}));
  ASSERT_EQ(pg.exit_code, 0) << pg.output;
  CommandResult rs = Run(Concat(Concat(src, RedshiftArgs("rs_dirty")), {"--workers", "1"}));
  ASSERT_EQ(rs.exit_code, 0) << rs.output;
  EXPECT_EQ(CrossFingerprint("rs_dirty"), CrossFingerprint("ref_dirty"));
  EXPECT_EQ(SqlLong("SELECT count(*) FROM ref_dirty.songplays"), 1);
  // The same rejects with the same reasons, plus the one too wide for Redshift.
  EXPECT_EQ(Sql("SELECT string_agg(reason, ' | ' ORDER BY line) FROM ref_dirty.rejects"),
            Sql("SELECT string_agg(reason, ' | ' ORDER BY line) FROM rs_dirty.rejects WHERE reason NOT LIKE "
                "'%at most 65535 bytes in a value%'"));
  EXPECT_EQ(SqlLong("SELECT count(*) FROM rs_dirty.rejects WHERE reason LIKE '%at most 65535 bytes in a value%' "
                    "AND line = 4 AND excerpt LIKE '{%'"),
            1);
  EXPECT_EQ(ReadLedgerAccount(kDatabase, "rs_dirty", "event").records,
            ReadLedgerAccount(kDatabase, "ref_dirty", "event").records);
}

// TLS: --dialect redshift asks for sslmode=require by default and gets an encrypted connection
// where the server offers one; a plaintext Redshift connection nobody asked for is refused.
TEST_F(RedshiftTest, RedshiftConnectionsAreEncryptedUnlessAskedOtherwise) {
  TestCertificates certs;
  ASSERT_TRUE(certs.ok());
  StandinOptions so;
  so.tls_cert = certs.server_cert();
  so.tls_key = certs.server_key();
  auto tls = RedshiftStandin::Start(PostgresServer::Shared().port(), s3_->endpoint(), so);
  ASSERT_NE(tls, nullptr);
  std::vector<std::string> args = Concat(Sources(kSampleBucket),
                                         {"--warehouse", tls->Conninfo(kDatabase, ""), "--schema", "rs_tls",
                                          "--dialect", "redshift", "--staging", Staging("rs_tls"), "--iam-role",
                                          kRole, "--region", "us-east-1", "--workers", "1"});
  CommandResult r = Run(args);
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n" << tls->Log();
  EXPECT_FALSE(Contains(r.output, "is not encrypted")) << r.output;
  EXPECT_TRUE(Contains(tls->Log(), "TLS")) << tls->Log();

  // Without TLS on the server: --dialect redshift (sslmode=require) cannot connect, and says why.
  CommandResult refused = Run(Concat(Sources(kSampleBucket),
                                     {"--warehouse", standin_->Conninfo(kDatabase, ""), "--schema", "rs_tls",
                                      "--dialect", "redshift", "--staging", Staging("rs_tls"), "--iam-role", kRole,
                                      "--region", "us-east-1"}),
                              {});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_TRUE(Contains(refused.output, "loadstar asks Redshift for sslmode=require")) << refused.output;
  // Detected (no --dialect) over a connection that fell back to plaintext: refused too.
  CommandResult plain = Run(Concat(Sources(kSampleBucket),
                                   {"--warehouse", standin_->Conninfo(kDatabase, ""), "--schema", "rs_tls",
                                    "--staging", Staging("rs_tls"), "--iam-role", kRole, "--region", "us-east-1"}),
                            {});
  EXPECT_EQ(plain.exit_code, 1) << plain.output;
  EXPECT_TRUE(Contains(plain.output, "is not encrypted")) << plain.output;
}

}  // namespace
}  // namespace loadstar::testing
