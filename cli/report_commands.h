// The `loadstar report` and `loadstar runs` commands: flags in, one warehouse connection, text or
// JSON on stdout. Errors go to stderr.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace loadstar::cli {

// Adds the report's flags and help to `cmd` and returns what runs it once they are parsed. The
// returned function's value is the process exit code: 0 when the report was printed, 1 when it
// could not be made (the warehouse unreachable, the schema not loaded), 2 for bad flag values.
std::function<int()> AddReportCommand(CLI::App* cmd);

// The same for `loadstar runs`.
std::function<int()> AddRunsCommand(CLI::App* cmd);

}  // namespace loadstar::cli
