#include "coordinator/status_command.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "common/http_client.h"
#include "coordinator/monitor_server.h"
#include "coordinator/progress_view.h"
#include "coordinator/status_encoding.h"

namespace loadstar::coordinator {
namespace {

// Columns of the terminal on stdout, or 0 when stdout is not one.
int StdoutWidth() {
  winsize size{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col - 1;
  }
  return 0;
}

}  // namespace

Result<std::string> QueryStatus(const StatusQuery& query) {
  LOADSTAR_ASSIGN_OR_RETURN(HostPort address, ParseHostPort(query.coordinator));
  if (address.host.empty()) address.host = "127.0.0.1";
  if (address.port == 0) return Status::InvalidArgument("'" + query.coordinator + "': give the monitor port, not 0");
  const std::string where = address.ToString();

  HttpOptions options;
  options.connect_timeout = std::min<std::chrono::milliseconds>(query.timeout, std::chrono::seconds(5));
  options.total_timeout = query.timeout;
  HttpClient client(options);
  HttpRequest request;
  request.url = "http://" + where + "/status";
  request.headers.push_back({"Accept", "application/json"});
  auto response = client.Send(request);
  if (!response.ok()) {
    return Status::Unavailable("no coordinator answering at " + where +
                               ": is it running with --metrics-listen? (" + response.status().message() + ")");
  }
  if (response->status != 200) {
    return Status::FailedPrecondition(where + " answered HTTP " + std::to_string(response->status) +
                                      " to GET /status: is that the monitor port of a loadstar coordinator?");
  }
  auto snapshot = DecodeStatusJson(response->body);
  if (!snapshot.ok()) {
    return Status::FailedPrecondition(where + " did not answer with a loadstar status document (" +
                                      snapshot.status().message() + ")");
  }
  if (query.format == StatusFormat::kJson) {
    std::string out = std::move(response->body);
    if (out.empty() || out.back() != '\n') out += '\n';
    return out;
  }
  return RenderStatusText(*snapshot, query.width, SIZE_MAX);
}

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

}  // namespace loadstar::coordinator
