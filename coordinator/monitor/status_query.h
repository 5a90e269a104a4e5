// What `loadstar status` does: asks a running coordinator's monitor port (GET /status, see
// monitor_server.h) how its run is going, as text for people or as the coordinator's JSON for
// programs.
#pragma once

#include <chrono>
#include <string>

#include "common/core/status.h"

namespace loadstar::coordinator {

// The monitor port `loadstar status` asks when given no --coordinator.
inline constexpr const char* kDefaultMonitorAddress = "127.0.0.1:9464";

enum class StatusFormat { kText, kJson };

struct StatusQuery {
  std::string coordinator = kDefaultMonitorAddress;  // HOST:PORT of the monitor server
  StatusFormat format = StatusFormat::kText;
  // kText: lines are cut to this many characters; 0: no limit.
  int width = 0;
  std::chrono::milliseconds timeout{10'000};  // for the whole exchange
};

// Fetches the coordinator's status and renders it: kText is the picture of the live terminal
// view (RenderStatusText) with every worker listed; kJson is the document the coordinator sent,
// unchanged, ending in a newline. Errors:
//   InvalidArgument: `coordinator` is not HOST:PORT;
//   Unavailable: nothing answered ("no coordinator answering at HOST:PORT: is it running with
//                --metrics-listen?");
//   FailedPrecondition: something answered but not with a status document (another server
//                on that port, or a coordinator of an incompatible version).
Result<std::string> QueryStatus(const StatusQuery& query);


}  // namespace loadstar::coordinator
