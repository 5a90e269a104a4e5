// The `loadstar status` command's flags: which coordinator to ask, and how to print its answer.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace loadstar::cli {

// Adds the command's flags and help to `cmd` and returns what runs it once they are parsed.
// The returned function's value is the process exit code: 0 when the status was printed on
// stdout (whatever the run's phase, failed included), 1 when it could not be had, 2 for bad
// flag values. Errors go to stderr.
std::function<int()> AddStatusCommand(CLI::App* cmd);

}  // namespace loadstar::cli
