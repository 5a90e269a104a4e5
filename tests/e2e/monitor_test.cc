// End to end: a real `loadstar coordinator` with --metrics-listen, watched through its monitor
// port (/status, /metrics, /healthz and `loadstar status`) while it waits for workers, then
// finished by one worker.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"

namespace loadstar::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(MonitorE2eTest, CoordinatorIsWatchedThroughItsMonitorPort) {
  const std::string db = PostgresServer::Shared().FreshDatabase("monitor");
  const std::string sample = SampleDir();
  // What the status must say, from the sample on disk rather than from the coordinator.
  uint64_t sample_files = 0, sample_bytes = 0;
  for (const char* dir : {"/song_data", "/log_data"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(sample + dir)) {
      if (!e.is_regular_file() || e.path().extension() != ".json") continue;
      ++sample_files;
      sample_bytes += e.file_size();
    }
  }
  ASSERT_EQ(sample_files, 101u);
  const int zmq_port = FreeTcpPort(), monitor_port = FreeTcpPort();
  ASSERT_GT(zmq_port, 0);
  ASSERT_GT(monitor_port, 0);
  const std::string monitor = "127.0.0.1:" + std::to_string(monitor_port);
  const std::string log = TempDir("monitor") + "/coordinator.log";

  auto coordinator = Subprocess::Spawn(
      {.argv = {LoadstarBinary(), "coordinator", "--songs", "file://" + sample + "/song_data/", "--events",
                "file://" + sample + "/log_data/", "--warehouse", db, "--schema", "e2e_monitor", "--listen",
                "tcp://127.0.0.1:" + std::to_string(zmq_port), "--metrics-listen", monitor,
                // One file a task, so that the number of tasks is known too.
                "--task-files", "1",
                // This test is about the monitor, not the workers: plaintext on loopback.
                "--insecure-plaintext"},
       .stdout_path = log,
       .stderr_path = log});
  ASSERT_TRUE(coordinator.ok()) << coordinator.status().ToString();
  ASSERT_TRUE(WaitForTcpPort(monitor_port, seconds(30), &*coordinator));

  // No worker yet: the coordinator waits in staging with every task pending.
  CommandResult json;
  for (auto deadline = std::chrono::steady_clock::now() + seconds(30); std::chrono::steady_clock::now() < deadline;) {
    json = RunCommand({LoadstarBinary(), "status", "--coordinator", monitor, "--format", "json"});
    if (json.exit_code == 0 && json.output.find("\"phase\":\"staging\"") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_EQ(json.exit_code, 0) << json.output;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json.output).get(doc), simdjson::SUCCESS) << json.output;
  EXPECT_EQ(std::string_view(doc["phase"]), "staging");
  EXPECT_EQ(std::string_view(doc["schema"]), "e2e_monitor");
  EXPECT_GT(int64_t(doc["run_id"]), 0);
  EXPECT_EQ(uint64_t(doc["files_total"]), sample_files);
  EXPECT_EQ(uint64_t(doc["bytes_total"]), sample_bytes);
  EXPECT_EQ(uint64_t(doc["files_done"]), 0u);
  EXPECT_EQ(uint64_t(doc["bytes_done"]), 0u);
  EXPECT_EQ(uint64_t(doc["tasks_total"]), sample_files);
  // Every task pending.
  EXPECT_EQ(uint64_t(doc["tasks_pending"]), sample_files);
  EXPECT_EQ(uint64_t(doc["tasks_leased"]), 0u);
  EXPECT_EQ(uint64_t(doc["tasks_done"]), 0u);
  EXPECT_EQ(uint64_t(doc["tasks_failed"]), 0u);
  EXPECT_EQ(simdjson::dom::array(doc["workers"]).size(), 0u);

  CommandResult text = RunCommand({LoadstarBinary(), "status", "--coordinator", monitor});
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("(schema e2e_monitor): staging"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("files 0/101"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("no workers connected"), std::string::npos) << text.output;

  CommandResult metrics = RunCommand({"curl", "-sS", "--max-time", "10", "http://" + monitor + "/metrics"});
  EXPECT_EQ(metrics.exit_code, 0) << metrics.output;
  EXPECT_NE(metrics.output.find("\nloadstar_phase{phase=\"staging\"} 1\n"), std::string::npos) << metrics.output;
  EXPECT_NE(metrics.output.find("\nloadstar_files_total 101\n"), std::string::npos) << metrics.output;
  CommandResult health = RunCommand({"curl", "-sS", "--fail", "--max-time", "10", "http://" + monitor + "/healthz"});
  EXPECT_EQ(health.exit_code, 0) << health.output;

  // One worker finishes the run; the coordinator exits 0 and its port closes with it.
  auto worker = Subprocess::Spawn({.argv = {LoadstarBinary(), "worker", "--connect",
                                            "tcp://127.0.0.1:" + std::to_string(zmq_port), "--warehouse", db,
                                            "--name", "monitor-worker", "--give-up-after", "30",
                                            "--insecure-plaintext"}});
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  auto done = coordinator->Wait(milliseconds(120'000));
  ASSERT_TRUE(done.has_value()) << "the coordinator did not finish";
  EXPECT_TRUE(done->success()) << done->ToString();
  EXPECT_TRUE(worker->Wait(milliseconds(30'000)).has_value());

  CommandResult gone = RunCommand({LoadstarBinary(), "status", "--coordinator", monitor});
  EXPECT_EQ(gone.exit_code, 1) << gone.output;
  EXPECT_NE(gone.output.find("no coordinator answering at " + monitor + ": is it running with --metrics-listen?"),
            std::string::npos)
      << gone.output;
}

}  // namespace
}  // namespace loadstar::testing
