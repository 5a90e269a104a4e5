#include "coordinator/monitor/status_query.h"

#include <cstdint>
#include <utility>

#include "coordinator/monitor/monitor_server.h"
#include "coordinator/monitor/progress_view.h"
#include "coordinator/monitor/status_encoding.h"

namespace loadstar::coordinator {
Result<std::string> QueryStatus(const StatusQuery& query) {
  LOADSTAR_ASSIGN_OR_RETURN(HostPort address, ParseHostPort(query.coordinator));
  if (address.host.empty()) address.host = "127.0.0.1";
  if (address.port == 0) return Status::InvalidArgument("'" + query.coordinator + "': give the monitor port, not 0");
  const std::string where = address.ToString();

  auto response = HttpGet(address, "/status", query.timeout);
  if (!response.ok()) {
    if (response.status().code() != StatusCode::kUnavailable) {
      return Status::FailedPrecondition(where + " did not answer with a loadstar status document (" +
                                        response.status().message() + ")");
    }
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

}  // namespace loadstar::coordinator
