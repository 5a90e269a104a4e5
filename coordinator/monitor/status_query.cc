#include "coordinator/monitor/status_query.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "common/storage/http_client.h"
#include "coordinator/monitor/monitor_server.h"
#include "coordinator/monitor/progress_view.h"
#include "coordinator/monitor/status_encoding.h"

namespace loadstar::coordinator {
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

}  // namespace loadstar::coordinator
