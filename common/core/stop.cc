#include "common/core/stop.h"

#include <csignal>

namespace loadstar {
namespace {

StopSource* g_signalled = nullptr;

extern "C" void RequestStopOnSignal(int) {
  if (g_signalled != nullptr) g_signalled->request_stop();
}

}  // namespace

void StopOnSignals(StopSource* source) {
  g_signalled = source;
  struct sigaction action {};
  action.sa_handler = RequestStopOnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace loadstar
