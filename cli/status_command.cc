#include "cli/status_command.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "coordinator/monitor/status_query.h"

namespace loadstar::cli {
namespace {

using coordinator::QueryStatus;
using coordinator::StatusFormat;
using coordinator::StatusQuery;

// Columns of the terminal on stdout, or 0 when stdout is not one.
int StdoutWidth() {
  winsize size{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col - 1;
  }
  return 0;
}

}  // namespace

std::function<int()> AddStatusCommand(CLI::App* cmd) {
  auto query = std::make_shared<StatusQuery>();
  auto format = std::make_shared<std::string>("text");
  auto timeout_s = std::make_shared<double>(10);
  cmd->add_option("--coordinator", query->coordinator,
                  "the coordinator's monitor address, HOST:PORT (what it was given as --metrics-listen)")
      ->capture_default_str();
  cmd->add_option("--format", *format, "text (for people) or json (the coordinator's document, for programs)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--timeout", *timeout_s, "seconds to wait for an answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->footer(
      "Shows a running coordinator's progress: phase and transform step, bytes and files done, records\n"
      "staged and rejected, rate and ETA (over the last 20 s), tasks by state, and every worker with its tasks in flight and done and when it was last\n"
      "heard from. The coordinator must have been started with --metrics-listen HOST:PORT; the same port\n"
      "serves Prometheus metrics at /metrics and a health check at /healthz.\n\n"
      "Examples:\n  loadstar status --coordinator 10.0.0.5:9464\n"
      "  loadstar status --format json | jq .phase");
  return [query, format, timeout_s]() -> int {
    query->format = *format == "json" ? StatusFormat::kJson : StatusFormat::kText;
    query->timeout = std::chrono::milliseconds(static_cast<int64_t>(*timeout_s * 1000));
    query->width = StdoutWidth();
    Result<std::string> out = QueryStatus(*query);
    if (!out.ok()) {
      std::fprintf(stderr, "loadstar status: %s\n", out.status().message().c_str());
      return out.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
    }
    std::fwrite(out->data(), 1, out->size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  };
}

}  // namespace loadstar::cli
