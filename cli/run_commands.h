// The `loadstar run`, `loadstar coordinator` and `loadstar worker` commands: their flags and
// help, and the wiring from those flags to the coordinator and the worker.
#pragma once

#include <functional>
#include <string>

#include "common/core/stop.h"

namespace CLI {
class App;
}

namespace loadstar::cli {

// Each adds its command's flags and help to `cmd` and returns what runs it once they are parsed;
// the returned function's value is the process exit code (0 done, 1 failed, 2 a usage error, 130
// stopped by `stop`). `self_binary` is this executable, for the local workers `run` starts.
std::function<int()> AddRunCommand(CLI::App* cmd, StopToken stop, std::string self_binary);
std::function<int()> AddCoordinatorCommand(CLI::App* cmd, StopToken stop);
std::function<int()> AddWorkerCommand(CLI::App* cmd, StopToken stop);

}  // namespace loadstar::cli
