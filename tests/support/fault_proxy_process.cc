#include "tests/support/fault_proxy_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/test_env.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Rate(double r) {
  std::ostringstream out;
  out << r;
  return out.str();
}

}  // namespace

std::unique_ptr<FaultProxyProcess> FaultProxyProcess::Start(const Options& options) {
  const char* binary = std::getenv("LOADSTAR_FAULT_PROXY");
  if (binary == nullptr) {
    ADD_FAILURE() << "LOADSTAR_FAULT_PROXY is not set; run the tests through ctest";
    return nullptr;
  }
  std::unique_ptr<FaultProxyProcess> proxy(new FaultProxyProcess());
  proxy->dir_ = TempDir("fault-proxy");
  Subprocess::Options o;
  // clang-format off: flag and value pairs, one pair a line
  o.argv = {binary,
            "--upstream",
            "127.0.0.1:" + std::to_string(options.upstream_port),
            "--port",
            "0",
            "--port-file",
            proxy->dir_ + "/port",
            "--summary",
            proxy->dir_ + "/summary",
            "--seed",
            std::to_string(options.seed),
            "--slowdown",
            Rate(options.slowdown),
            "--error500",
            Rate(options.error500),
            "--reset-before",
            Rate(options.reset_before),
            "--reset-mid",
            Rate(options.reset_mid),
            "--truncate",
            Rate(options.truncate),
            "--delay",
            Rate(options.delay),
            "--delay-ms",
            std::to_string(options.delay_ms),
            "--verbose"};
  // clang-format on
  o.stdout_path = proxy->dir_ + "/stdout";
  o.stderr_path = proxy->dir_ + "/stderr";
  auto spawned = Subprocess::Spawn(o);
  if (!spawned.ok()) {
    ADD_FAILURE() << "cannot start the fault proxy: " << spawned.status().ToString();
    return nullptr;
  }
  proxy->process_ = std::make_unique<Subprocess>(std::move(spawned).value());
  // The proxy writes its port once it listens (write-then-rename: never half a number).
  bool listening = WaitUntil(
      [&] {
        std::string text = ReadAll(proxy->dir_ + "/port");
        proxy->port_ = text.empty() ? 0 : std::atoi(text.c_str());
        return proxy->port_ > 0 || !proxy->process_->Running();
      },
      std::chrono::seconds(10));
  if (!listening || proxy->port_ <= 0) {
    ADD_FAILURE() << "the fault proxy did not start listening: " << proxy->Log();
    return nullptr;
  }
  return proxy;
}

FaultProxyProcess::~FaultProxyProcess() = default;

std::string FaultProxyProcess::Log() const { return ReadAll(dir_ + "/stderr"); }

std::map<std::string, uint64_t> FaultProxyProcess::Stop() {
  std::map<std::string, uint64_t> counts;
  if (process_ == nullptr) return counts;
  process_->Kill(SIGTERM);
  auto ended = process_->Wait(std::chrono::seconds(10));
  EXPECT_TRUE(ended.has_value() && ended->success())
      << "the fault proxy did not stop cleanly: " << (ended ? ended->ToString() : "still running");
  std::istringstream in(ReadAll(dir_ + "/summary"));
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(": ");
    if (colon != std::string::npos)
      counts[line.substr(0, colon)] = std::strtoull(line.c_str() + colon + 2, nullptr, 10);
  }
  EXPECT_FALSE(counts.empty()) << "the fault proxy wrote no summary; its log:\n" << Log();
  return counts;
}

}  // namespace loadstar::testing
