// Child processes and TCP ports for integration and end-to-end tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/core/status.h"

namespace loadstar::testing {

// How a child process ended.
struct ExitStatus {
  int code = -1;   // exit code when the process exited, else -1
  int signal = 0;  // the signal that killed it, else 0

  bool exited() const { return signal == 0 && code >= 0; }
  bool success() const { return signal == 0 && code == 0; }
  std::string ToString() const;  // "exit code 3", "killed by signal 9 (Killed)"
};

// A child process. The destructor makes sure it is gone: SIGTERM to its process group, then
// SIGKILL after a grace period, then reaps it. Move-only.
class Subprocess {
 public:
  struct Options {
    std::vector<std::string> argv{};  // argv[0] is looked up in PATH when it has no '/'
    // Set in the child on top of this process's environment (replacing variables of the same name).
    std::map<std::string, std::string> env{};
    std::vector<std::string> unset_env{};  // removed from the child's environment
    std::string stdout_path{};             // empty: inherit this process's stdout
    std::string stderr_path{};             // empty: inherit; the same as stdout_path: both in one file
    std::string working_dir{};             // empty: this process's working directory
    // The child leads a new process group, so the destructor also stops whatever it started.
    bool new_process_group = true;
  };

  // Starts the process. Returns an error when it cannot be started at all, e.g. when argv[0]
  // does not exist or an output file cannot be created (the message says which).
  [[nodiscard]] static Result<Subprocess> Spawn(Options options);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Sends `signal` to the process (not its group). Returns false if it has already been reaped.
  bool Kill(int signal);

  // Waits up to `timeout` for the process to end and returns how it ended; nullopt if it is
  // still running. Once it has ended, every call returns the same status at once.
  std::optional<ExitStatus> Wait(std::chrono::milliseconds timeout);

  // True until the process has ended (reaping it if it has).
  bool Running();

 private:
  Subprocess(pid_t pid, bool group) : pid_(pid), group_(group) {}
  void Stop();  // the destructor's TERM, grace period, KILL and reap

  pid_t pid_ = -1;
  bool group_ = false;
  std::optional<ExitStatus> exit_;
};

// A TCP port on 127.0.0.1 that nothing listened on a moment ago (0 if none could be found).
int FreeTcpPort();

// Waits until something accepts connections on 127.0.0.1:`port`. Returns false on timeout, or
// early when `process` is given and ends first.
bool WaitForTcpPort(int port, std::chrono::milliseconds timeout, Subprocess* process = nullptr);

}  // namespace loadstar::testing
