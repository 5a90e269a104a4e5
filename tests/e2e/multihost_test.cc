// loadstar across hosts: every test builds its own network of namespaces (tests/support/netns.h),
// a coordinator host, three worker hosts, a warehouse host (PostgreSQL on its own address) and an
// S3 host (s3rver on its own), so that every hop of a load crosses a link that a test can cut,
// slow down, route away or listen on. Each run must end with the same star tables as a load of
// the same data on one host over loopback.
//
// Needs root (network namespaces); the ctest RESOURCE_LOCK netns keeps two such tests apart.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/curve_keys.h"
#include "tests/support/netns.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/s3_server.h"
#include "tests/support/star_fingerprint.h"
#include "tests/support/test_env.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kBucket = "sparkify";
constexpr const char* kDatabase = "multihost";
constexpr int kZmqPort = 5570;
// One generated data set, written by `loadstar generate` with these figures into each S3 server.
const std::vector<std::string> kGenerate = {"--songs", "1500", "--events", "60000", "--days", "30", "--seed", "7"};
constexpr long kFiles = 1500 + 30;
// Small tasks, so that every worker holds several leases at any moment.
const std::vector<std::string> kSmallTasks = {"--task-files", "20", "--task-bytes", "262144"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The coordinator's planning line: "listed L files (B bytes): F to stage in T tasks, S already
// loaded, N already staged by this run".
struct PlanLine {
  long listed = -1, to_stage = -1, already_staged = -1;
};
PlanLine ReadPlanLine(const std::string& output) {
  static const std::regex line(
      R"(listed (\d+) files \(\d+ bytes\): (\d+) to stage in \d+ tasks, \d+ already loaded, (\d+) already staged by this run)");
  std::smatch m;
  PlanLine p;
  if (!std::regex_search(output, m, line)) return p;
  p.listed = std::stol(m[1]);
  p.to_stage = std::stol(m[2]);
  p.already_staged = std::stol(m[3]);
  return p;
}

// Whether the binary can encrypt its ZeroMQ traffic (CURVE): `loadstar keygen` exists.
bool HasKeygen() {
  static const bool has = Contains(RunCommand({LoadstarBinary(), "--help"}, {}, 30).output, "keygen");
  return has;
}

// What the coordinator and the workers are given to talk to each other across hosts. Without
// CURVE in the binary, nothing; with it, keys from `loadstar keygen`.
struct Security {
  std::vector<std::string> coordinator_args;
  std::vector<std::string> worker_args;
  std::map<std::string, std::string> env;
  std::string error;  // why the keys could not be made
};
Security MakeSecurity() {
  Security s;
  if (!HasKeygen()) return s;
  // One coordinator key pair and one worker key pair, shared by the three worker hosts, made
  // by `loadstar keygen`; kept for the whole test binary.
  static CurveKeys* keys = new CurveKeys(1);
  s.coordinator_args = keys->CoordinatorFlags();
  s.worker_args = keys->WorkerFlags(0);
  if (s.coordinator_args.empty() || s.worker_args.empty()) s.error = "loadstar keygen failed";
  return s;
}

// A loadstar process on one host of the network, its output in a file.
class HostProcess {
 public:
  HostProcess(const NetnsLab& lab, const std::string& host, const std::vector<std::string>& args,
              const std::map<std::string, std::string>& env) {
    log_ = TempDir("multihost-" + host) + "/output";
    Subprocess::Options o;
    std::vector<std::string> argv = {LoadstarBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    o.argv = lab.On(host, argv);
    o.env = env;
    o.unset_env = LocalS3Server::ConflictingAwsVariables();
    o.unset_env.push_back("LOADSTAR_WAREHOUSE");
    o.stdout_path = log_;
    o.stderr_path = log_;
    auto spawned = Subprocess::Spawn(o);
    if (!spawned.ok()) {
      ADD_FAILURE() << "cannot start loadstar " << args.front() << " on " << host << ": "
                    << spawned.status().ToString();
      return;
    }
    process_ = std::make_unique<Subprocess>(std::move(spawned).value());
  }

  bool started() const { return process_ != nullptr; }
  Subprocess* process() { return process_.get(); }
  bool Running() { return process_ && process_->Running(); }
  std::string Output() const { return ReadFile(log_); }
  void KillHard() {
    if (!process_) return;
    process_->Kill(SIGKILL);
    (void)process_->Wait(seconds(10));
  }
  ExitStatus Finish(seconds timeout) {
    if (!process_) return ExitStatus{};
    auto ended = process_->Wait(timeout);
    if (!ended) {
      ADD_FAILURE() << "still running after " << timeout.count() << " s; its output:\n" << Output();
      process_->Kill(SIGKILL);
      ended = process_->Wait(seconds(10));
    }
    return ended.value_or(ExitStatus{});
  }

 private:
  std::string log_;
  std::unique_ptr<Subprocess> process_;
};

class MultihostTest : public ::testing::Test {
 protected:
  // The reference: the same data loaded on one host over loopback (a private PostgreSQL and S3
  // server on 127.0.0.1, `loadstar run` with 3 local workers).
  static void SetUpTestSuite() {
    std::string why;
    if (!NetnsLab::Available(&why)) {
      skip_ = new std::string(why);
      return;
    }
    NetnsLab::RemoveLeftovers();
    LocalS3Server s3({kBucket});
    if (!s3.ok()) return;
    std::vector<std::string> generate = {LoadstarBinary(), "generate", "--to", std::string("s3://") + kBucket + "/"};
    generate.insert(generate.end(), kGenerate.begin(), kGenerate.end());
    CommandResult g = RunCommand(generate, s3.AwsEnvironment(), 120);
    ASSERT_EQ(g.exit_code, 0) << g.output;
    const std::string db = PostgresServer::Shared().FreshDatabase(kDatabase);
    std::vector<std::string> run = {LoadstarBinary(), "run", "--workers", "3", "--warehouse", db, "--schema", "single"};
    for (const std::string& a : Sources()) run.push_back(a);
    CommandResult r = RunCommand(run, s3.AwsEnvironment(), 180);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    reference_ = new std::string(StarFingerprint(kDatabase, "single"));
    ASSERT_TRUE(Contains(*reference_, "songs=1500:")) << *reference_;
  }
  static void TearDownTestSuite() {
    delete reference_;
    delete skip_;
  }

  void SetUp() override {
    // Network namespaces need root and iproute2 (scripts/setup installs it; CI runs as root).
    if (skip_ != nullptr) FAIL() << "cannot build the test network: " << *skip_;
    ASSERT_TRUE(reference_ != nullptr) << "the single-host reference load failed";
    security_ = MakeSecurity();
    ASSERT_TRUE(security_.error.empty()) << security_.error;
  }

  void TearDown() override {
    s3_.reset();
    pg_.reset();
    lab_.reset();
  }

  // Builds this test's network (namespaces named lsmh<tag>-...), the warehouse and S3 hosts'
  // servers, and writes the data set into S3 from the coordinator's host.
  void Build(const std::string& tag) {
    lab_ = std::make_unique<NetnsLab>(std::string(NetnsLab::kFamily) + tag, 3);
    ASSERT_TRUE(lab_->ok());
    pg_ = std::make_unique<NetnsPostgres>(*lab_);
    ASSERT_TRUE(pg_->ok());
    s3_ = std::make_unique<NetnsS3Server>(*lab_, std::vector<std::string>{kBucket});
    ASSERT_TRUE(s3_->ok());
    warehouse_ = pg_->FreshDatabase(kDatabase);
    std::vector<std::string> generate = {LoadstarBinary(), "generate", "--to", std::string("s3://") + kBucket + "/"};
    generate.insert(generate.end(), kGenerate.begin(), kGenerate.end());
    CommandResult g = lab_->Run("coord", generate, s3_->AwsEnvironment(), 120);
    ASSERT_EQ(g.exit_code, 0) << g.output;
  }

  static std::vector<std::string> Sources() {
    std::vector<std::string> args = {"--songs", std::string("s3://") + kBucket + "/song_data/", "--events",
                                     std::string("s3://") + kBucket + "/log_data/"};
    args.insert(args.end(), kSmallTasks.begin(), kSmallTasks.end());
    return args;
  }

  std::string Endpoint() const { return "tcp://" + NetnsLab::Address("coord") + ":" + std::to_string(kZmqPort); }

  std::map<std::string, std::string> Env() const {
    std::map<std::string, std::string> env = s3_->AwsEnvironment();
    for (const auto& [k, v] : security_.env) env[k] = v;
    return env;
  }

  std::vector<std::string> CoordinatorArgs(const std::string& schema) const {
    std::vector<std::string> args = {"coordinator", "--listen", Endpoint(), "--warehouse", warehouse_, "--schema", schema};
    for (const std::string& a : Sources()) args.push_back(a);
    args.insert(args.end(), security_.coordinator_args.begin(), security_.coordinator_args.end());
    return args;
  }

  // Starts the coordinator on its host and waits until a worker host can reach its port.
  std::unique_ptr<HostProcess> StartCoordinator(const std::string& schema) {
    auto c = std::make_unique<HostProcess>(*lab_, "coord", CoordinatorArgs(schema), Env());
    EXPECT_TRUE(c->started());
    EXPECT_TRUE(lab_->WaitForTcp("w1", "coord", kZmqPort, milliseconds(30000), c->process())) << c->Output();
    return c;
  }

  std::unique_ptr<HostProcess> StartWorker(const std::string& host) {
    std::vector<std::string> args = {"worker", "--connect", Endpoint(), "--warehouse", warehouse_,
                                     "--name", host, "--give-up-after", "60"};
    args.insert(args.end(), security_.worker_args.begin(), security_.worker_args.end());
    auto w = std::make_unique<HostProcess>(*lab_, host, args, Env());
    EXPECT_TRUE(w->started()) << host;
    return w;
  }

  std::vector<std::unique_ptr<HostProcess>> StartWorkers() {
    std::vector<std::unique_ptr<HostProcess>> workers;
    for (const char* host : {"w1", "w2", "w3"}) workers.push_back(StartWorker(host));
    return workers;
  }

  std::string Sql(const std::string& sql) const { return pg_->Psql(kDatabase, sql); }
  long SqlLong(const std::string& sql) const {
    const std::string text = Sql(sql);
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    EXPECT_TRUE(!text.empty() && *end == '\0') << "not a number: " << text << "\nfrom: " << sql;
    return value;
  }
  long StagedFiles(const std::string& schema) const {
    return SqlLong("SELECT count(*) FROM \"" + schema + "\".load_files WHERE state IN ('staged', 'loaded')");
  }
  long WaitForStagedFiles(const std::string& schema, long at_least) const {
    long staged = 0;
    (void)WaitUntil(
        [&] {
          staged = StagedFiles(schema);
          return staged >= at_least;
        },
        milliseconds(60000), milliseconds(30));
    return staged;
  }

  // The run is over and right: one run, done; every planned file in the ledger once, loaded,
  // with records == staged + rejected; staging empty; the star tables those of the reference.
  void ExpectRunRight(const std::string& schema) const {
    const std::string s = "\"" + schema + "\"";
    EXPECT_EQ(Sql("SELECT count(*) || ' ' || min(state) FROM " + s + ".runs"), "1 done");
    EXPECT_EQ(SqlLong("SELECT count(DISTINCT uri) FROM " + s + ".load_files WHERE state = 'loaded'"), kFiles);
    EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".load_files"), kFiles);
    EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".load_files WHERE records <> staged + rejected"), 0);
    EXPECT_EQ(SqlLong("SELECT (SELECT count(*) FROM " + s + ".staging_plays) + (SELECT count(*) FROM " + s +
                      ".staging_users) + (SELECT count(*) FROM " + s + ".staging_time) + (SELECT count(*) FROM " + s +
                      ".staging_songs)"),
              0);
    // The ledger counted every file's staged rows: one per song record for song files.
    EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".load_files WHERE staged_rows IS NULL"), 0);
    EXPECT_EQ(SqlLong("SELECT count(*) FROM " + s + ".load_files WHERE kind = 'song' AND staged_rows <> staged"), 0);
    EXPECT_EQ(pg_->StarFingerprint(kDatabase, schema), *reference_);
  }

  static std::string* reference_;
  static std::string* skip_;
  Security security_;
  std::unique_ptr<NetnsLab> lab_;
  std::unique_ptr<NetnsPostgres> pg_;
  std::unique_ptr<NetnsS3Server> s3_;
  std::string warehouse_;
};

std::string* MultihostTest::reference_ = nullptr;
std::string* MultihostTest::skip_ = nullptr;

// The load across five hosts gives the star tables of the single-host load, and really crossed
// the network: the warehouse saw the workers connect from their own hosts' addresses.
TEST_F(MultihostTest, LoadAcrossHostsMatchesSingleHostLoad) {
  Build("load");
  auto coordinator = StartCoordinator("multi");
  ASSERT_TRUE(coordinator->started());
  auto workers = StartWorkers();

  std::set<std::string> worker_addresses;
  (void)WaitUntil(
      [&] {
        std::istringstream in(Sql("SELECT string_agg(DISTINCT host(client_addr), ' ') FROM pg_stat_activity "
                                  "WHERE application_name = 'loadstar-worker'"));
        for (std::string a; in >> a;) worker_addresses.insert(a);
        return !coordinator->Running();
      },
      milliseconds(120000), milliseconds(100));
  ExitStatus ended = coordinator->Finish(seconds(30));
  const std::string out = coordinator->Output();
  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << out;
  for (const char* name : {"w1", "w2", "w3"}) {
    EXPECT_TRUE(Contains(out, std::string("worker ") + name + " ready")) << name << "\n" << out;
  }
  for (size_t i = 0; i < workers.size(); ++i) {
    ExitStatus w = workers[i]->Finish(seconds(30));
    EXPECT_TRUE(w.success()) << "w" << i + 1 << ": " << w.ToString() << "\n" << workers[i]->Output();
  }
  EXPECT_EQ(worker_addresses, (std::set<std::string>{NetnsLab::Address("w1"), NetnsLab::Address("w2"),
                                                     NetnsLab::Address("w3")}));
  // The coordinator reached the warehouse from its own host too.
  ExpectRunRight("multi");
}

// One worker host's link goes down mid-run: the coordinator gives its leases to the others. The
// S3 host is slowed down meanwhile, so that the run is still going when the link comes back and
// the worker rejoins it; then the run ends right.
TEST_F(MultihostTest, WorkerWhoseLinkIsCutLosesNothingAndRejoinsWhenItComesBack) {
  Build("cut");
  auto coordinator = StartCoordinator("cut");
  ASSERT_TRUE(coordinator->started());
  auto workers = StartWorkers();
  ASSERT_GE(WaitForStagedFiles("cut", kFiles / 10), kFiles / 10) << coordinator->Output();

  ASSERT_TRUE(lab_->Throttle("s3", 2000));
  ASSERT_TRUE(lab_->SetLink("w2", false));
  const auto cut = Clock::now();
  ASSERT_TRUE(WaitUntil([&] { return Contains(coordinator->Output(), "worker w2 went silent"); }, milliseconds(20000),
                        milliseconds(100)))
      << coordinator->Output();
  ASSERT_TRUE(coordinator->Running()) << "the run was over before w2 was lost; nothing was tested\n"
                                      << coordinator->Output();
  EXPECT_LT(StagedFiles("cut"), kFiles);
  // Down long enough for w2 to give the coordinator up and start reconnecting with backoff.
  std::this_thread::sleep_until(cut + seconds(10));
  EXPECT_TRUE(Contains(workers[1]->Output(), "no word from the coordinator")) << workers[1]->Output();

  ASSERT_TRUE(lab_->SetLink("w2", true));
  const auto restored = Clock::now();
  // w2 announces itself again (its second "ready") while the run still goes on.
  const bool rejoined = WaitUntil([&] { return Count(coordinator->Output(), "worker w2 ready") >= 2; },
                                  milliseconds(40000), milliseconds(100));
  const double rejoin_s = std::chrono::duration<double>(Clock::now() - restored).count();
  const double down_s = std::chrono::duration<double>(restored - cut).count();
  EXPECT_TRUE(rejoined) << "w2 did not rejoin within 40 s of its link coming back (down " << down_s << " s)\n"
                        << workers[1]->Output() << "\ncoordinator:\n"
                        << coordinator->Output();
  EXPECT_TRUE(coordinator->Running()) << "the run ended before w2 could rejoin it";
  std::cout << "w2's link was down " << down_s << " s; it rejoined " << rejoin_s << " s after it came back\n";
  ASSERT_TRUE(lab_->Unthrottle("s3"));

  ExitStatus ended = coordinator->Finish(seconds(120));
  const std::string out = coordinator->Output();
  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << out;
  for (auto& w : workers) (void)w->Finish(seconds(60));
  ExpectRunRight("cut");
}

// The coordinator host's process is killed with SIGKILL mid-run and started again with the same
// arguments: it resumes the same run, plans only the files not yet staged, and the workers on
// the other hosts rejoin it.
TEST_F(MultihostTest, CoordinatorKilledAndRestartedResumesTheSameRun) {
  Build("kill");
  auto first = StartCoordinator("kill");
  ASSERT_TRUE(first->started());
  const std::string run_id = Sql("SELECT max(run_id) FROM kill.runs");
  ASSERT_FALSE(run_id.empty());
  auto workers = StartWorkers();
  // Slowed down so that there is a middle of the run to kill it in.
  ASSERT_TRUE(lab_->Throttle("s3", 8000));
  ASSERT_GE(WaitForStagedFiles("kill", kFiles / 5), kFiles / 5) << first->Output();
  first->KillHard();
  ASSERT_FALSE(first->Running());
  ASSERT_TRUE(lab_->Unthrottle("s3"));
  const long staged_at_kill = StagedFiles("kill");
  ASSERT_LT(staged_at_kill, kFiles) << "the run was over before the coordinator was killed; nothing was tested";
  EXPECT_EQ(Sql("SELECT state FROM kill.runs WHERE run_id = " + run_id), "staging");

  // The workers finish what they were running; once nothing has changed for two seconds and no
  // worker is staging, the ledger holds everything this run staged before the restart.
  long last = -1, staged = 0;
  auto since = Clock::now();
  (void)WaitUntil(
      [&] {
        staged = StagedFiles("kill");
        const long busy = SqlLong(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'loadstar-worker' "
            "AND state IN ('active', 'idle in transaction')");
        if (staged != last || busy > 0) {
          last = staged;
          since = Clock::now();
        }
        return Clock::now() - since >= seconds(2);
      },
      milliseconds(60000), milliseconds(100));
  const long staged_before_restart = staged;
  ASSERT_LT(staged_before_restart, kFiles) << "the workers staged everything without a coordinator?";
  // The dead coordinator's session (holding the schema's lock) ends once PostgreSQL sees its
  // socket closed.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'loadstar-coordinator'") == "0";
      },
      milliseconds(10000), milliseconds(100)));

  HostProcess second(*lab_, "coord", CoordinatorArgs("kill"), Env());
  ASSERT_TRUE(second.started());
  ExitStatus ended = second.Finish(seconds(120));
  const std::string out = second.Output();
  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << out;
  EXPECT_TRUE(Contains(out, "resuming run " + run_id)) << out;
  const PlanLine plan = ReadPlanLine(out);
  EXPECT_EQ(plan.listed, kFiles) << out;
  EXPECT_EQ(plan.already_staged, staged_before_restart) << out;
  EXPECT_EQ(plan.to_stage, kFiles - staged_before_restart) << out;
  for (const char* name : {"w1", "w2", "w3"}) {
    EXPECT_TRUE(Contains(out, std::string("worker ") + name + " ready")) << name << "\n" << out;
  }
  for (auto& w : workers) (void)w->Finish(seconds(60));
  ExpectRunRight("kill");
  EXPECT_EQ(SqlLong("SELECT count(*) FROM kill.load_files WHERE run_id <> " + run_id), 0);
}

// A worker host with no route to the warehouse host says so, naming the warehouse it could not
// reach and why, and leaves before it takes a task; the run finishes with the other two.
TEST_F(MultihostTest, WorkerHostWithoutARouteToTheWarehouseLeavesAndTheRunFinishesWithoutIt) {
  Build("route");
  ASSERT_TRUE(lab_->Block("w3", "wh"));
  ASSERT_FALSE(lab_->CanConnect("w3", "wh", NetnsPostgres::kPort));
  ASSERT_TRUE(lab_->CanConnect("w3", "s3", NetnsS3Server::kPort));
  auto coordinator = StartCoordinator("route");
  ASSERT_TRUE(coordinator->started());
  auto w3 = StartWorker("w3");
  ExitStatus bad = w3->Finish(seconds(30));
  const std::string bad_out = w3->Output();
  EXPECT_TRUE(bad.exited() && bad.code == 1) << bad.ToString() << "\n" << bad_out;
  EXPECT_TRUE(Contains(bad_out, "this worker cannot stage anything: cannot connect to the warehouse at " +
                                    pg_->Uri(kDatabase)))
      << bad_out;
  EXPECT_TRUE(Contains(bad_out, "No route to host")) << bad_out;

  auto w1 = StartWorker("w1");
  auto w2 = StartWorker("w2");
  ExitStatus ended = coordinator->Finish(seconds(120));
  const std::string out = coordinator->Output();
  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << out;
  EXPECT_FALSE(Contains(out, "worker w3 ready")) << out;
  // The coordinator heard it from w3 itself, by name.
  EXPECT_TRUE(Contains(out, "worker w3 cannot take part in this run and has left: this worker cannot stage anything: "
                            "cannot connect to the warehouse"))
      << out;
  EXPECT_TRUE(Contains(out, "worker w1 ready")) << out;
  EXPECT_TRUE(Contains(out, "worker w2 ready")) << out;
  (void)w1->Finish(seconds(60));
  (void)w2->Finish(seconds(60));
  ExpectRunRight("route");
}

// What a worker host's link carries during a run, captured with tcpdump: the coordinator-worker
// traffic is on it, and with CURVE no file URI of the run can be read from it.
TEST_F(MultihostTest, CaptureOnAWorkerLinkShowsTheZeroMqTrafficAndWhatTravelsInIt) {
  ASSERT_EQ(RunCommand({"tcpdump", "--version"}, {}, 30).exit_code, 0) << "tcpdump is missing: run scripts/setup";
  Build("cap");
  const std::string dir = TempDir("multihost-capture");
  const std::string capture = dir + "/w1.pcap", tcpdump_log = dir + "/tcpdump.log";
  Subprocess::Options o;
  o.argv = lab_->On("w1", {"tcpdump", "-i", "eth0", "-n", "-U", "-s", "0", "-w", capture});
  o.stdout_path = tcpdump_log;
  o.stderr_path = tcpdump_log;
  auto spawned = Subprocess::Spawn(o);
  ASSERT_TRUE(spawned.ok()) << spawned.status().ToString();
  Subprocess tcpdump = std::move(spawned).value();
  ASSERT_TRUE(WaitUntil([&] { return Contains(ReadFile(tcpdump_log), "listening on eth0"); }, milliseconds(10000)))
      << ReadFile(tcpdump_log);

  auto coordinator = StartCoordinator("cap");
  ASSERT_TRUE(coordinator->started());
  auto w1 = StartWorker("w1");
  ExitStatus ended = coordinator->Finish(seconds(120));
  ASSERT_TRUE(ended.success()) << ended.ToString() << "\n" << coordinator->Output();
  (void)w1->Finish(seconds(60));
  tcpdump.Kill(SIGINT);
  ASSERT_TRUE(tcpdump.Wait(seconds(10)).has_value());
  ExpectRunRight("cap");

  // The packets between w1 and the coordinator's ZeroMQ port, on their own.
  const std::string zmq = dir + "/zmq.pcap";
  const std::string filter = "tcp port " + std::to_string(kZmqPort) + " and host " + NetnsLab::Address("coord");
  CommandResult split = RunCommand({"tcpdump", "-r", capture, "-w", zmq, filter}, {}, 60);
  ASSERT_EQ(split.exit_code, 0) << split.output;
  CommandResult packets = RunCommand({"tcpdump", "-r", zmq, "-n", "-q"}, {}, 60);
  ASSERT_EQ(packets.exit_code, 0) << packets.output;
  const size_t count = Count(packets.output, NetnsLab::Address("coord") + "." + std::to_string(kZmqPort));
  EXPECT_GT(count, 20u) << "no coordinator-worker traffic on w1's link:\n" << packets.output.substr(0, 2000);

  // A URI the coordinator leased to w1: one of the run's files.
  const std::string uri = Sql("SELECT min(uri) FROM cap.load_files");
  ASSERT_TRUE(Contains(uri, "s3://sparkify/")) << uri;
  const std::string bytes = ReadFile(zmq);
  const std::string any_uri = "s3://sparkify/";
  if (!HasKeygen()) {
    // This build speaks ZeroMQ in the clear: the capture must show the task messages' URIs,
    // which proves it sees what travels. (With CURVE, the same capture must show none.)
    EXPECT_TRUE(Contains(bytes, any_uri)) << "the plaintext capture holds no URI: is the capture working?";
    return;
  }
  EXPECT_FALSE(Contains(bytes, any_uri)) << "a file URI travels in the clear between coordinator and worker";
  EXPECT_FALSE(Contains(bytes, uri));
}

}  // namespace
}  // namespace loadstar::testing
