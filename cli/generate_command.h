// The `loadstar generate` command: flags in, a data set out, a summary printed.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace loadstar::cli {

// Adds the generator's flags to `cmd` and returns what runs it once they are parsed (its value
// is the process exit code).
std::function<int()> AddGenerateCommand(CLI::App* cmd);

}  // namespace loadstar::cli
