// End to end: CURVE between real `loadstar` processes. Only workers whose keys the coordinator
// lists get work; strangers, plaintext peers and their garbage change nothing; `loadstar run`
// keys its own workers without a secret on any command line or in any log; `loadstar keygen`
// writes private secrets and never overwrites one; plaintext is refused off loopback.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "common/transport/curve.h"
#include "common/transport/transport.h"
#include "tests/support/curve_keys.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// /proc/PID/cmdline or /proc/PID/environ, NULs as they are.
std::string ProcFile(pid_t pid, const char* what) { return ReadFile("/proc/" + std::to_string(pid) + "/" + what); }

// The value of `name` in a /proc/PID/environ text, or "".
std::string EnvValue(const std::string& environ, const std::string& name) {
  std::stringstream s(environ);
  std::string entry;
  while (std::getline(s, entry, '\0')) {
    if (entry.rfind(name + "=", 0) == 0) return entry.substr(name.size() + 1);
  }
  return "";
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::string stat = ProcFile(pid, "stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::stringstream fields(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent) out.push_back(pid);
  }
  closedir(d);
  return out;
}

class CurveE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { db_ = new std::string(PostgresServer::Shared().FreshDatabase("curve")); }
  static void TearDownTestSuite() { delete db_; }

  static std::string Songs() { return "file://" + SampleDir() + "/song_data/"; }
  static std::string Events() { return "file://" + SampleDir() + "/log_data/"; }
  static std::string Sql(const std::string& sql) { return PostgresServer::Shared().Psql("curve", sql); }

  static std::string* db_;
};
std::string* CurveE2eTest::db_ = nullptr;

// A coordinator with keys, a worker with an unlisted key, a plaintext worker, and in-process
// strangers sending garbage, oversized frames and floods: none of them gets a task or changes
// the run, each refusal is logged (throttled) by fingerprint and address, and the listed worker
// then loads everything.
TEST_F(CurveE2eTest, OnlyWorkersWithListedKeysGetTasksAndStrangersChangeNothing) {
  const std::string schema = "curve_strangers";
  CurveKeys keys(1);
  ASSERT_TRUE(CurveKeys::Keygen(keys.dir() + "/intruder"));
  const std::string intruder_public = CurveKeys::ReadKey(keys.dir() + "/intruder.pub");
  const int port = FreeTcpPort();
  ASSERT_GT(port, 0);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  const std::string log = TempDir("curve") + "/coordinator.log";
  auto coordinator = Subprocess::Spawn(
      {.argv = Concat({LoadstarBinary(), "coordinator", "--songs", Songs(), "--events", Events(), "--warehouse", *db_,
                       "--schema", schema, "--listen", endpoint},
                      keys.CoordinatorFlags()),
       .stdout_path = log,
       .stderr_path = log});
  ASSERT_TRUE(coordinator.ok()) << coordinator.status().ToString();
  ASSERT_TRUE(WaitUntil([&] { return Contains(ReadFile(log), "listening for workers"); }, 30s)) << ReadFile(log);

  // A real worker whose key is not listed: refused at every attempt until it gives up, and the
  // refusal names its key's fingerprint and its address.
  auto intruder = Subprocess::Spawn(
      {.argv = {LoadstarBinary(), "worker", "--connect", endpoint, "--warehouse", *db_, "--name", "intruder",
                "--give-up-after", "3", "--key-file", keys.dir() + "/intruder.key", "--coordinator-key",
                keys.dir() + "/coordinator.pub"},
       .stdout_path = log + ".intruder",
       .stderr_path = log + ".intruder"});
  ASSERT_TRUE(intruder.ok());
  auto intruder_ended = intruder->Wait(60s);
  ASSERT_TRUE(intruder_ended.has_value());
  EXPECT_FALSE(intruder_ended->success()) << "the intruder worker was not refused";
  EXPECT_TRUE(Contains(ReadFile(log), "refused a connection from 127.0.0.1 with key " +
                                          transport::Fingerprint(intruder_public)))
      << ReadFile(log).substr(0, 8192);
  // ...and the worker is told why, in its own words: which key, and what to do.
  EXPECT_TRUE(Contains(ReadFile(log + ".intruder"), "refused this worker's key (fingerprint " +
                                                        transport::Fingerprint(intruder_public)))
      << ReadFile(log + ".intruder");
  EXPECT_TRUE(Contains(ReadFile(log + ".intruder"), "--authorized-keys")) << ReadFile(log + ".intruder");

  // A worker that speaks plaintext.
  auto plain = Subprocess::Spawn({.argv = {LoadstarBinary(), "worker", "--connect", endpoint, "--warehouse", *db_,
                                           "--name", "plaintext", "--give-up-after", "3", "--insecure-plaintext"},
                                  .stdout_path = log + ".plain",
                                  .stderr_path = log + ".plain"});
  ASSERT_TRUE(plain.ok());

  {
    // Strangers in this process: CURVE dealers with keys of their own, each sending a burst...
    std::vector<std::unique_ptr<transport::Dealer>> strangers;
    for (int i = 0; i < 30; ++i) {
      auto k = transport::GenerateKeyPair();
      ASSERT_TRUE(k.ok());
      auto d = transport::Dealer::Connect(endpoint, "stranger-" + std::to_string(i),
                                          transport::CurveClient{k->secret_key, keys.coordinator_public()});
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      wire::Envelope ready;
      ready.mutable_ready()->set_worker_name("stranger");
      ready.mutable_ready()->set_credit(100);
      for (int j = 0; j < 50; ++j) ASSERT_TRUE((*d)->Send(ready).ok());
      strangers.push_back(std::move(d).value());
    }
    // ...and plaintext sockets sending garbage, an oversized frame, and connecting over and over.
    zmq::context_t ctx;
    for (int round = 0; round < 20; ++round) {
      zmq::socket_t raw(ctx, zmq::socket_type::dealer);
      raw.set(zmq::sockopt::linger, 200);
      raw.connect(endpoint);
      for (int i = 0; i < 500; ++i) raw.send(zmq::buffer(std::string("garbage")), zmq::send_flags::dontwait);
      if (round == 0) {
        std::string huge(transport::kMaxMessageBytes + 1024, 'x');
        raw.send(zmq::buffer(huge), zmq::send_flags::dontwait);
      }
    }
    std::this_thread::sleep_for(1500ms);
  }
  auto plain_ended = plain->Wait(60s);
  ASSERT_TRUE(plain_ended.has_value());
  EXPECT_FALSE(plain_ended->success()) << "the plaintext worker was not refused";
  EXPECT_TRUE(Contains(ReadFile(log + ".plain"), "the coordinator probably expects CURVE keys"))
      << ReadFile(log + ".plain");

  std::string text = ReadFile(log);
  // Nobody got in: no worker announced itself, nothing is staged, and the run still waits.
  EXPECT_FALSE(Contains(text, " ready (credit")) << text.substr(0, 8192);
  EXPECT_EQ(Sql("SELECT count(*) FROM " + schema + ".load_files"), "0");
  EXPECT_TRUE(coordinator->Running()) << text.substr(0, 8192);
  // Thirty-one refused keys from one address in a few seconds: a handful of lines, with counts.
  EXPECT_LE(Occurrences(text, "refused a connection"), 15u) << text.substr(0, 8192);

  // The listed worker loads everything.
  auto good = Subprocess::Spawn({.argv = Concat({LoadstarBinary(), "worker", "--connect", endpoint, "--warehouse",
                                                 *db_, "--name", "listed", "--give-up-after", "60"},
                                                keys.WorkerFlags(0))});
  ASSERT_TRUE(good.ok());
  auto ended = coordinator->Wait(180s);
  text = ReadFile(log);
  ASSERT_TRUE(ended.has_value()) << text.substr(0, 8192);
  ASSERT_TRUE(ended->success()) << ended->ToString() << "\n" << text.substr(0, 8192);
  EXPECT_TRUE(Contains(text, "worker listed ready")) << text.substr(0, 8192);
  EXPECT_FALSE(Contains(text, "worker intruder ready"));
  EXPECT_FALSE(Contains(text, "worker stranger ready"));
  EXPECT_EQ(Sql("SELECT count(*) FROM " + schema + ".songs"), "71");
  EXPECT_EQ(Sql("SELECT count(*) FROM " + schema + ".users"), "97");
  EXPECT_LT(text.size(), 64u << 10) << "the log took in what the strangers sent";
  // No secret is ever logged.
  EXPECT_FALSE(Contains(text, CurveKeys::ReadKey(keys.dir() + "/coordinator.key")));
  EXPECT_FALSE(Contains(text, CurveKeys::ReadKey(keys.dir() + "/intruder.key")));
  EXPECT_FALSE(Contains(text, keys.worker_secret(0)));
}

// `loadstar run` keys its local workers itself: each gets a secret of its own through its
// environment, the coordinator's public key on its command line, and no secret appears in any
// process's /proc/PID/cmdline nor in the output.
TEST_F(CurveE2eTest, RunKeysItsOwnWorkersWithoutASecretOnAnyCommandLineOrInTheLog) {
  CurveKeys keys(1);
  const std::string coordinator_secret = CurveKeys::ReadKey(keys.dir() + "/coordinator.key");
  const std::string out = TempDir("curve-run") + "/run.log";
  auto run = Subprocess::Spawn({.argv = {LoadstarBinary(), "run", "--songs", Songs(), "--events", Events(),
                                         "--warehouse", *db_, "--schema", "curve_run", "--workers", "2",
                                         "--task-files", "1", "--log-level", "debug", "--key-file",
                                         keys.dir() + "/coordinator.key"},
                                .stdout_path = out,
                                .stderr_path = out});
  ASSERT_TRUE(run.ok()) << run.status().ToString();

  std::map<pid_t, std::pair<std::string, std::string>> workers;  // pid: cmdline, environ
  std::string run_cmdline = ProcFile(run->pid(), "cmdline");
  for (auto until = std::chrono::steady_clock::now() + 120s;
       workers.size() < 2 && run->Running() && std::chrono::steady_clock::now() < until;) {
    for (pid_t pid : ChildrenOf(run->pid())) {
      std::string cmdline = ProcFile(pid, "cmdline");
      if (workers.count(pid) == 0 && Contains(cmdline, std::string("worker") + '\0' + "--connect")) {
        workers[pid] = {cmdline, ProcFile(pid, "environ")};
      }
    }
    std::this_thread::sleep_for(5ms);
  }
  auto ended = run->Wait(300s);
  const std::string text = ReadFile(out);
  ASSERT_TRUE(ended.has_value()) << text.substr(0, 8192);
  ASSERT_TRUE(ended->success()) << ended->ToString() << "\n" << text.substr(0, 8192);
  ASSERT_EQ(workers.size(), 2u) << "did not see the run's two workers\n" << text.substr(0, 8192);

  std::set<std::string> secrets;
  for (const auto& [pid, seen] : workers) {
    const auto& [cmdline, environ] = seen;
    const std::string secret = EnvValue(environ, "LOADSTAR_CURVE_SECRET_KEY");
    EXPECT_EQ(secret.size(), 40u) << "worker " << pid << " has no secret key in its environment";
    secrets.insert(secret);
    EXPECT_TRUE(Contains(cmdline, std::string("--coordinator-key") + '\0' + keys.coordinator_public()));
    EXPECT_FALSE(Contains(environ, coordinator_secret)) << "a worker was handed the coordinator's secret";
  }
  EXPECT_EQ(secrets.size(), 2u) << "the workers share a key";
  secrets.insert(coordinator_secret);
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    EXPECT_FALSE(Contains(run_cmdline, secret));
    for (const auto& [pid, seen] : workers) EXPECT_FALSE(Contains(seen.first, secret)) << "in the argv of " << pid;
    EXPECT_FALSE(Contains(text, secret)) << "a secret key was logged";
  }
  // The coordinator's public key is logged (remote workers need it); the run loaded everything.
  EXPECT_TRUE(Contains(text, "coordinator public key " + keys.coordinator_public())) << text.substr(0, 4096);
  EXPECT_EQ(Sql("SELECT count(*) FROM curve_run.songs"), "71");
}

TEST(CurveCliTest, KeygenWritesAPrivateSecretAndRefusesToOverwrite) {
  const std::string dir = TempDir("curve-keygen") + "/new-dir";
  CommandResult r = RunCommand({LoadstarBinary(), "keygen", "--out", dir + "/host-a"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  struct stat key {}, pub {}, parent {};
  ASSERT_EQ(stat((dir + "/host-a.key").c_str(), &key), 0);
  ASSERT_EQ(stat((dir + "/host-a.pub").c_str(), &pub), 0);
  ASSERT_EQ(stat(dir.c_str(), &parent), 0);
  EXPECT_EQ(key.st_mode & 0777, 0600u);
  EXPECT_EQ(pub.st_mode & 0777, 0644u);
  EXPECT_EQ(parent.st_mode & 0777, 0700u);
  const std::string secret = CurveKeys::ReadKey(dir + "/host-a.key");
  const std::string pub_key = CurveKeys::ReadKey(dir + "/host-a.pub");
  EXPECT_FALSE(Contains(r.output, secret)) << "keygen printed the secret";
  EXPECT_TRUE(Contains(r.output, pub_key)) << r.output;

  CommandResult again = RunCommand({LoadstarBinary(), "keygen", "--out", dir + "/host-a"});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_TRUE(Contains(again.output, "already exists")) << again.output;
  EXPECT_EQ(CurveKeys::ReadKey(dir + "/host-a.key"), secret);
  EXPECT_EQ(CurveKeys::ReadKey(dir + "/host-a.pub"), pub_key);
  // Only the .key there (a .pub lost, say): still never overwritten.
  ASSERT_EQ(unlink((dir + "/host-a.pub").c_str()), 0);
  CommandResult half = RunCommand({LoadstarBinary(), "keygen", "--out", dir + "/host-a"});
  EXPECT_EQ(half.exit_code, 1) << half.output;
  EXPECT_EQ(CurveKeys::ReadKey(dir + "/host-a.key"), secret);

  EXPECT_EQ(RunCommand({LoadstarBinary(), "keygen"}).exit_code, 2);
}

TEST(CurveCliTest, PlaintextOffLoopbackAndMissingKeysAreUsageErrors) {
  CurveKeys keys(1);
  const std::string sources = "file://" + SampleDir() + "/song_data/";
  std::ofstream(keys.dir() + "/bad.key") << "hunter2-not-a-key\n";
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"coordinator", "--songs", sources, "--listen", "tcp://*:5570", "--insecure-plaintext"}, "loopback"},
      {{"coordinator", "--songs", sources, "--listen", "tcp://0.0.0.0:5570", "--insecure-plaintext"}, "loopback"},
      {{"run", "--songs", sources, "--listen", "tcp://*:5570", "--insecure-plaintext"}, "loopback"},
      {{"worker", "--connect", "tcp://192.0.2.1:5570", "--insecure-plaintext"}, "loopback"},
      {{"coordinator", "--songs", sources, "--listen", "tcp://127.0.0.1:5570"}, "--key-file"},
      {Concat({"coordinator", "--songs", sources, "--listen", "tcp://127.0.0.1:5570"},
              {"--key-file", keys.dir() + "/coordinator.key"}),
       "--authorized-keys"},
      {Concat({"coordinator", "--songs", sources, "--insecure-plaintext"}, keys.CoordinatorFlags()), "turns CURVE off"},
      {{"worker", "--connect", "tcp://127.0.0.1:5570"}, "--key-file"},
      {{"worker", "--connect", "tcp://127.0.0.1:5570", "--key-file", keys.dir() + "/worker-0.key"},
       "--coordinator-key"},
      // A secret key file that is not one: said so, without echoing what it holds.
      {{"worker", "--connect", "tcp://127.0.0.1:5570", "--key-file", keys.dir() + "/bad.key", "--coordinator-key",
        keys.coordinator_public()},
       "not a CURVE key"},
      {{"worker", "--connect", "tcp://127.0.0.1:5570", "--key-file", keys.dir() + "/worker-0.key",
        "--coordinator-key", "not-a-key"},
       "--coordinator-key"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = Concat({"env", "-u", "LOADSTAR_CURVE_SECRET_KEY_FILE", "-u",
                                            "LOADSTAR_CURVE_SECRET_KEY", "-u", "LOADSTAR_CURVE_AUTHORIZED_KEYS",
                                            "-u", "LOADSTAR_CURVE_COORDINATOR_KEY", "LOADSTAR_WAREHOUSE=postgresql://"
                                            "nobody@127.0.0.1:1/none", LoadstarBinary()},
                                           c.args);
    CommandResult r = RunCommand(argv, {}, 60);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.says << "\n" << r.output;
    EXPECT_TRUE(Contains(r.output, c.says)) << r.output;
    EXPECT_FALSE(Contains(r.output, "cannot connect")) << "checked only after connecting: " << r.output;
    EXPECT_FALSE(Contains(r.output, "hunter2")) << r.output;
  }
  // A secret key in the environment is taken, and the worker gets as far as the warehouse.
  CommandResult env_key = RunCommand({LoadstarBinary(), "worker", "--connect", "tcp://127.0.0.1:1", "--warehouse",
                                      "postgresql://nobody@127.0.0.1:1/none", "--coordinator-key",
                                      keys.coordinator_public()},
                                     {{"LOADSTAR_CURVE_SECRET_KEY", keys.worker_secret(0)}}, 60);
  EXPECT_EQ(env_key.exit_code, 1) << env_key.output;
  EXPECT_TRUE(Contains(env_key.output, "cannot connect to the warehouse")) << env_key.output;
  EXPECT_FALSE(Contains(env_key.output, keys.worker_secret(0)));
}

}  // namespace
}  // namespace loadstar::testing
