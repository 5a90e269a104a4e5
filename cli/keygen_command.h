// The `loadstar keygen` command: a CURVE key pair for a coordinator or a worker, written as
// NAME.key (the secret, mode 0600) and NAME.pub (the public key, to hand to the other side).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace loadstar::cli {

// Adds keygen's flags to `cmd` and returns what runs it once they are parsed (its value is the
// process exit code: 0 written, 1 not written, e.g. because a file of that name exists).
std::function<int()> AddKeygenCommand(CLI::App* cmd);

}  // namespace loadstar::cli
