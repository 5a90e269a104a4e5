// The `loadstar cluster create|status|delete` command: the Redshift cluster and the IAM role
// loadstar loads with (common/provision/cluster.h).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace loadstar::cli {

// Adds the command and its three subcommands to `cmd` and returns what runs the one given (its
// value is the exit code: 0 done, 1 failed, 2 a usage error).
std::function<int()> AddClusterCommand(CLI::App* cmd);

}  // namespace loadstar::cli
