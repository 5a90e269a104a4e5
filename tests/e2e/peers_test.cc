// End to end: what the coordinator does with peers it cannot trust and with the people who run
// it. A fake worker speaks the real protocol over ZeroMQ to a real `loadstar coordinator`, next
// to a real `loadstar worker`; runs are stopped by signals in the middle of their transform;
// sources hold nothing. Every run loads the Sparkify sample from file:// into a private
// PostgreSQL and is checked against the sample's figures.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "common/transport/transport.h"
#include "common/warehouse/warehouse.h"
#include "tests/support/curve_keys.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/star_fingerprint.h"
#include "tests/support/test_env.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// These tests are about what workers send, so the coordinator and every peer, fake or real,
// use real CURVE keys (as across machines), not plaintext: worker key 0 is the real worker's,
// the others the fake workers'.
const CurveKeys& Keys() {
  static const CurveKeys* keys = new CurveKeys(4);
  return *keys;
}

transport::CurveClient FakeWorkerKeys() {
  return {Keys().worker_secret(1), Keys().coordinator_public()};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class PeersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { db_ = new std::string(PostgresServer::Shared().FreshDatabase("peers")); }
  static void TearDownTestSuite() { delete db_; }

  static std::string Songs() { return "file://" + SampleDir() + "/song_data/"; }
  static std::string Events() { return "file://" + SampleDir() + "/log_data/"; }
  static std::string Sql(const std::string& sql) { return PostgresServer::Shared().Psql("peers", sql); }
  static long Count(const std::string& schema, const std::string& what) {
    return std::stol(Sql("SELECT count(*) FROM " + schema + "." + what));
  }
  static std::string Fingerprint(const std::string& schema) { return StarFingerprint("peers", schema); }
  // The sample's figures (shared/docs/SAMPLE_FIGURES.md), loaded whole.
  static void ExpectSampleLoaded(const std::string& s) {
    EXPECT_EQ(Count(s, "songs"), 71);
    EXPECT_EQ(Count(s, "songplays"), 6820);
    EXPECT_EQ(Count(s, "users"), 97);
    EXPECT_EQ(Count(s, "time"), 6813);
    EXPECT_EQ(Sql("SELECT sum(records) || '/' || sum(staged) FROM " + s + ".load_files"), "8127/8127");
    EXPECT_EQ(Sql("SELECT state FROM " + s + ".runs ORDER BY run_id DESC LIMIT 1"), "done");
  }

  // A coordinator on a fresh port, logging to a file.
  struct Coordinator {
    Subprocess process;
    std::string endpoint;
    std::string log;
  };
  static Coordinator StartCoordinator(const std::string& schema) {
    int port = FreeTcpPort();
    std::string log = TempDir("peers") + "/coordinator.log";
    auto p = Subprocess::Spawn({.argv = Concat({LoadstarBinary(), "coordinator", "--songs", Songs(), "--events",
                                                Events(), "--warehouse", *db_, "--schema", schema, "--listen",
                                                "tcp://127.0.0.1:" + std::to_string(port)},
                                               Keys().CoordinatorFlags()),
                                .stdout_path = log,
                                .stderr_path = log});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return Coordinator{std::move(p).value(), "tcp://127.0.0.1:" + std::to_string(port), log};
  }
  static Subprocess StartWorker(const std::string& endpoint, const std::string& name) {
    auto p = Subprocess::Spawn({.argv = Concat({LoadstarBinary(), "worker", "--connect", endpoint, "--warehouse", *db_,
                                                "--name", name, "--give-up-after", "60"},
                                               Keys().WorkerFlags(0))});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return std::move(p).value();
  }
  static bool LogHas(const Coordinator& c, const std::string& text) {
    return ReadFile(c.log).find(text) != std::string::npos;
  }

  static std::string* db_;
};

std::string* PeersTest::db_ = nullptr;

wire::Envelope Ready(const std::string& name, uint32_t credit) {
  wire::Envelope env;
  env.mutable_ready()->set_worker_name(name);
  env.mutable_ready()->set_credit(credit);
  return env;
}

// A peer that speaks the protocol but does not stage: it collects the tasks it is leased.
class FakeWorker {
 public:
  explicit FakeWorker(const std::string& endpoint, const std::string& identity,
                      std::optional<transport::CurveClient> curve = FakeWorkerKeys()) {
    auto d = transport::Dealer::Connect(endpoint, identity, std::move(curve));
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    dealer_ = std::move(d).value();
  }
  void Send(wire::Envelope env) { ASSERT_TRUE(dealer_->Send(std::move(env)).ok()); }
  // Receives for up to `for_how_long`, keeping tasks and noting a refusal.
  void Pump(std::chrono::milliseconds for_how_long) {
    auto until = std::chrono::steady_clock::now() + for_how_long;
    while (std::chrono::steady_clock::now() < until) {
      auto w = dealer_->Receive(50ms);
      if (!w.ok() || !w->message) continue;
      const wire::Envelope& env = w->message->envelope;
      if (env.has_task()) tasks.push_back(env.task());
      if (env.has_refuse()) refused += env.refuse().reason() + "\n";
    }
  }
  // Heartbeats as a live worker would.
  void Heartbeat() {
    wire::Envelope hb;
    hb.mutable_heartbeat();
    Send(hb);
  }

  std::vector<wire::Task> tasks;
  std::string refused;  // every refusal's reason, a line each

 private:
  std::unique_ptr<transport::Dealer> dealer_;
};

TEST_F(PeersTest, AWorkerThatClaimsWorkItDidNotDoIsFoundOutAndTheRunStillLoadsEverything) {
  Coordinator c = StartCoordinator("peers_liar");
  ASSERT_TRUE(WaitUntil([&] { return LogHas(c, "listening for workers"); }, 30s)) << ReadFile(c.log);

  FakeWorker liar(c.endpoint, "liar-identity");
  liar.Send(Ready("liar", 100));
  liar.Pump(1500ms);
  ASSERT_FALSE(liar.tasks.empty()) << ReadFile(c.log);
  // "Staged", with plausible accounts, without staging a thing.
  for (const wire::Task& t : liar.tasks) {
    wire::Envelope env;
    wire::TaskResult* r = env.mutable_result();
    r->set_task_id(t.task_id());
    r->set_attempt(t.attempt());
    r->set_ok(true);
    for (const wire::FileRef& f : t.files()) {
      wire::FileAccount* a = r->add_files();
      a->set_uri(f.uri());
      a->set_bytes(f.size());
      a->set_records(1);
      a->set_staged(1);
    }
    liar.Send(env);
  }
  liar.Pump(1000ms);
  EXPECT_NE(liar.refused.find("did not match the warehouse"), std::string::npos) << liar.refused;
  EXPECT_TRUE(LogHas(c, "reported task 0 staged, but the ledger has no row for")) << ReadFile(c.log);
  EXPECT_TRUE(LogHas(c, "the task is leased again and the worker refused")) << ReadFile(c.log);

  // A real worker does the work; the run ends done with everything in it.
  Subprocess worker = StartWorker(c.endpoint, "honest");
  auto ended = c.process.Wait(120s);
  ASSERT_TRUE(ended.has_value()) << ReadFile(c.log);
  ASSERT_EQ(ended->code, 0) << ReadFile(c.log);
  ExpectSampleLoaded("peers_liar");
}

TEST_F(PeersTest, APermanentFailureIsConfirmedByAnotherWorkerBeforeTheRunFailsOnIt) {
  Coordinator c = StartCoordinator("peers_final");
  ASSERT_TRUE(WaitUntil([&] { return LogHas(c, "listening for workers"); }, 30s)) << ReadFile(c.log);
  FakeWorker doubter(c.endpoint, "doubter-identity");
  doubter.Send(Ready("doubter", 1));
  doubter.Pump(1000ms);
  ASSERT_EQ(doubter.tasks.size(), 1u) << ReadFile(c.log);

  Subprocess worker = StartWorker(c.endpoint, "honest");
  ASSERT_TRUE(WaitUntil(
      [&] {
        doubter.Heartbeat();
        doubter.Pump(100ms);
        return LogHas(c, "worker honest ready");
      },
      30s))
      << ReadFile(c.log);
  wire::Envelope env;
  env.mutable_result()->set_task_id(doubter.tasks[0].task_id());
  env.mutable_result()->set_attempt(doubter.tasks[0].attempt());
  env.mutable_result()->set_ok(false);
  env.mutable_result()->set_retryable(false);
  env.mutable_result()->set_error("access denied (says the doubter)");
  doubter.Send(env);
  // The doubter stays connected and keeps asking, but never gets that task back.
  size_t tasks_before = doubter.tasks.size();
  std::optional<ExitStatus> ended;
  for (int i = 0; i < 1200 && !(ended = c.process.Wait(0ms)); ++i) {
    doubter.Heartbeat();
    doubter.Pump(100ms);
  }
  ASSERT_TRUE(ended.has_value()) << ReadFile(c.log);
  ASSERT_EQ(ended->code, 0) << ReadFile(c.log);
  EXPECT_TRUE(LogHas(c, "another worker tries it")) << ReadFile(c.log);
  for (size_t i = tasks_before; i < doubter.tasks.size(); ++i) {
    EXPECT_NE(doubter.tasks[i].task_id(), doubter.tasks[0].task_id());
  }
  ExpectSampleLoaded("peers_final");
}

TEST_F(PeersTest, OversizedMessagesAndNamesAreRefusedWithoutFloodingTheLog) {
  Coordinator c = StartCoordinator("peers_big");
  ASSERT_TRUE(WaitUntil([&] { return LogHas(c, "listening for workers"); }, 30s)) << ReadFile(c.log);
  {
    // Larger than the message cap: ZeroMQ drops the connection before the coordinator sees it.
    FakeWorker huge(c.endpoint, "huge-identity");
    huge.Send(Ready(std::string(transport::kMaxMessageBytes + 1024, 'x'), 1));
    huge.Pump(500ms);
    EXPECT_TRUE(huge.tasks.empty());
  }
  FakeWorker longname(c.endpoint, "long-identity");
  longname.Send(Ready(std::string(1 << 20, 'n'), 1));
  longname.Pump(1000ms);
  EXPECT_NE(longname.refused.find("at most 256 bytes"), std::string::npos) << longname.refused;
  EXPECT_TRUE(longname.tasks.empty());

  // A name that would forge a log line and drive the terminal.
  FakeWorker forger(c.endpoint, "forger-identity");
  forger.Send(Ready("evil\n2026-12-01T00:00:00.000Z info coordinator: done\x1b[2J", 1));
  forger.Pump(300ms);

  // Ten thousand frames that are not envelopes.
  {
    zmq::context_t ctx;
    zmq::socket_t raw(ctx, zmq::socket_type::dealer);
    raw.set(zmq::sockopt::linger, 2000);
    raw.set(zmq::sockopt::curve_serverkey, Keys().coordinator_public());
    raw.set(zmq::sockopt::curve_publickey, Keys().worker_public(2));
    raw.set(zmq::sockopt::curve_secretkey, Keys().worker_secret(2));
    raw.connect(c.endpoint);
    for (int i = 0; i < 10000; ++i) raw.send(zmq::buffer(std::string("garbage")), zmq::send_flags::none);
    std::this_thread::sleep_for(1500ms);
  }

  Subprocess worker = StartWorker(c.endpoint, "honest");
  auto ended = c.process.Wait(120s);
  ASSERT_TRUE(ended.has_value());
  const std::string log = ReadFile(c.log);
  ASSERT_EQ(ended->code, 0) << log.substr(0, 4096);
  EXPECT_LT(log.size(), 64u << 10) << "the log took in what the peers sent";
  // One log call, one line: the name's newline and escape are shown, not obeyed.
  EXPECT_EQ(log.find("\ninfo coordinator: done"), std::string::npos);
  EXPECT_EQ(log.find('\x1b'), std::string::npos);
  EXPECT_NE(log.find("evil\\n2026"), std::string::npos) << log.substr(0, 4096);
  // The flood is told once a second with a count, not ten thousand times.
  size_t refusals = 0;
  for (size_t at = log.find("refused a peer"); at != std::string::npos; at = log.find("refused a peer", at + 1)) {
    ++refusals;
  }
  EXPECT_GE(refusals, 1u);
  EXPECT_LE(refusals, 10u) << log.substr(0, 4096);
  EXPECT_NE(log.find("more like it"), std::string::npos) << log.substr(0, 4096);
  ExpectSampleLoaded("peers_big");
}

TEST_F(PeersTest, SignalDuringTheTransformRollsBackExitsNonZeroAndTheNextRunResumes) {
  const std::string s = "peers_signal";
  std::vector<std::string> argv = {LoadstarBinary(), "run", "--songs", Songs(), "--events", Events(), "--warehouse",
                                   *db_, "--schema", s, "--workers", "2"};
  CommandResult first = RunCommand(argv, {}, 300);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(first.output.find("stopped by a signal"), std::string::npos) << first.output;
  const std::string before = Fingerprint(s);

  // Hold the songs table, so the next run's transform waits on it: that is "during the transform".
  WarehouseOptions wo;
  wo.conninfo = *db_;
  wo.schema = s;
  auto holder = Warehouse::Connect(wo);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  ASSERT_TRUE((*holder)->Begin().ok());
  ASSERT_TRUE((*holder)->QueryText("LOCK TABLE " + s + ".songs IN ACCESS EXCLUSIVE MODE").ok());

  std::vector<std::string> refresh = argv;
  refresh.push_back("--full-refresh");
  std::string out = TempDir("peers") + "/run.log";
  auto run = Subprocess::Spawn({.argv = refresh, .stdout_path = out, .stderr_path = out});
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'loadstar-coordinator' "
                   "AND wait_event_type = 'Lock'") == "1";
      },
      120s))
      << ReadFile(out);
  EXPECT_EQ(Sql("SELECT state FROM " + s + ".runs ORDER BY run_id DESC LIMIT 1"), "transforming");
  ASSERT_TRUE(run->Kill(SIGTERM));
  auto ended = run->Wait(20s);
  ASSERT_TRUE(ended.has_value()) << "the run went on after SIGTERM: " << ReadFile(out);
  EXPECT_EQ(ended->code, 130) << ReadFile(out);
  EXPECT_NE(ReadFile(out).find("stopped by a signal during the transform"), std::string::npos) << ReadFile(out);
  ASSERT_TRUE((*holder)->Rollback().ok());

  EXPECT_EQ(Fingerprint(s), before);
  const std::string stopped_run = Sql("SELECT run_id FROM " + s + ".runs ORDER BY run_id DESC LIMIT 1");
  EXPECT_EQ(Sql("SELECT state FROM " + s + ".runs WHERE run_id = " + stopped_run), "failed");

  // The same command again resumes that run and finishes it.
  CommandResult again = RunCommand(refresh, {}, 300);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resuming run " + stopped_run), std::string::npos) << again.output;
  EXPECT_EQ(Sql("SELECT state FROM " + s + ".runs WHERE run_id = " + stopped_run), "done");
  EXPECT_EQ(Fingerprint(s), before);
}

TEST_F(PeersTest, MoreLocalWorkersThanTheMachineCanRunAreRefusedBeforeAnyWork) {
  const std::string s = "peers_many";
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  CommandResult r = RunCommand({LoadstarBinary(), "run", "--songs", Songs(), "--warehouse", *db_, "--schema", s,
                                "--workers", std::to_string(cores * 4 + 1)},
                               {}, 60);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("at most " + std::to_string(cores * 4) + " local workers"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("more hosts"), std::string::npos) << r.output;
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_namespace WHERE nspname = '" + s + "'"), "0");

  // The most the machine can run loads the sample.
  CommandResult most = RunCommand({LoadstarBinary(), "run", "--songs", Songs(), "--events", Events(), "--warehouse",
                                   *db_, "--schema", s, "--workers", std::to_string(cores * 4), "--task-files", "4"},
                                  {}, 300);
  ASSERT_EQ(most.exit_code, 0) << most.output;
  ExpectSampleLoaded(s);
}

TEST_F(PeersTest, AnEmptySourceSaysWhatWasLookedForAndARerunWithNothingNewSucceeds) {
  const std::string s = "peers_empty";
  const std::string empty = TempDir("peers-empty");
  { std::ofstream(empty + "/README.txt") << "not JSON\n"; }
  CommandResult r = RunCommand({LoadstarBinary(), "run", "--songs", "file://" + empty + "/", "--events", Events(),
                                "--warehouse", *db_, "--schema", s, "--workers", "1"},
                               {}, 120);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("nothing to load from --songs file://" + empty + "/: no JSON files under it (1 other"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("offending rows"), std::string::npos) << r.output;

  std::vector<std::string> both = {LoadstarBinary(), "run", "--songs", Songs(), "--events", Events(), "--warehouse",
                                   *db_, "--schema", s, "--workers", "1"};
  CommandResult load = RunCommand(both, {}, 300);
  ASSERT_EQ(load.exit_code, 0) << load.output;
  CommandResult again = RunCommand(both, {}, 300);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing new to load"), std::string::npos) << again.output;
  ExpectSampleLoaded(s);
}

}  // namespace
}  // namespace loadstar::testing
