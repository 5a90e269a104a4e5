// The fault-injecting HTTP proxy (tests/tools/fault_proxy.cc) as a child process of a test.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "tests/support/process.h"

namespace loadstar::testing {

class FaultProxyProcess {
 public:
  struct Options {
    int upstream_port = 0;  // the local S3 server on 127.0.0.1
    uint64_t seed = 1;
    // Shares of requests, each in [0, 1], summing to at most 1 (see fault_proxy.cc).
    double slowdown = 0, error500 = 0, reset_before = 0, reset_mid = 0, truncate = 0, delay = 0;
    int delay_ms = 1500;
  };

  // Starts $LOADSTAR_FAULT_PROXY (set by ctest) and waits until it listens. Fails the current
  // test and returns nullptr when it cannot.
  static std::unique_ptr<FaultProxyProcess> Start(const Options& options);
  ~FaultProxyProcess();

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Stops the proxy (SIGTERM) and returns what it counted: "requests", "forwarded",
  // "slowdown_503", "error_500", "reset_before_response", "reset_mid_response",
  // "truncated_body", "delayed", ... Empty (and the test failed) if it wrote no summary.
  std::map<std::string, uint64_t> Stop();

  // Its stderr so far (the listening line; one line per fault with --verbose).
  std::string Log() const;

 private:
  FaultProxyProcess() = default;
  std::unique_ptr<Subprocess> process_;
  std::string dir_;
  int port_ = 0;
};

}  // namespace loadstar::testing
