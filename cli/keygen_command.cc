#include "cli/keygen_command.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "common/transport/curve.h"

namespace loadstar::cli {

std::function<int()> AddKeygenCommand(CLI::App* cmd) {
  auto out = std::make_shared<std::string>();
  cmd->add_option("--out", *out,
                  "where to write the keys: DIR/NAME writes DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub "
                  "(public). DIR is created (mode 0700) if missing; existing files are never overwritten")
      ->required();
  cmd->footer(
      "Across machines: run keygen on each host; list every worker's .pub line in the coordinator's\n"
      "--authorized-keys file; give each worker the coordinator's .pub with --coordinator-key.\n\n"
      "Example:\n  loadstar keygen --out ~/.loadstar/coordinator");
  return [out]() -> int {
    const std::string& prefix = *out;
    if (prefix.empty() || prefix.back() == '/') {
      std::fprintf(stderr, "loadstar keygen: --out needs a name after the directory, e.g. keys/worker-1\n");
      return 2;
    }
    size_t slash = prefix.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      std::string dir = prefix.substr(0, slash);
      if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        std::fprintf(stderr, "loadstar keygen: cannot create %s: %s\n", dir.c_str(), std::strerror(errno));
        return 1;
      }
    }
    auto keys = transport::GenerateKeyPair();
    if (!keys.ok()) {
      std::fprintf(stderr, "loadstar keygen: %s\n", keys.status().message().c_str());
      return 1;
    }
    Status s = transport::WriteKeyPair(prefix, *keys);
    explicit_bzero(keys->secret_key.data(), keys->secret_key.size());
    if (!s.ok()) {
      std::fprintf(stderr, "loadstar keygen: %s\n", s.message().c_str());
      return 1;
    }
    std::printf("wrote %s.key (secret: keep it on this host) and %s.pub (public key %s, fingerprint %s)\n",
                prefix.c_str(), prefix.c_str(), keys->public_key.c_str(),
                transport::Fingerprint(keys->public_key).c_str());
    return 0;
  };
}

}  // namespace loadstar::cli
