// A loadstar process (coordinator, worker or `run`) started by a test, its output in a file. The
// AWS variables that would point it away from the test's own S3 server are left out of its
// environment, and so is LOADSTAR_WAREHOUSE.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace loadstar::testing {

class LoadstarProcess {
 public:
  // Starts `loadstar ARGS...` with `env` on top of this process's environment; `name` names its
  // temporary folder. Fails the current test when it cannot start.
  LoadstarProcess(const std::string& name, std::vector<std::string> args, std::map<std::string, std::string> env);

  bool started() const { return process_ != nullptr; }
  bool running() const { return process_ != nullptr && process_->Running(); }
  Subprocess* process() { return process_.get(); }
  std::string Output() const;
  // SIGKILL, and waits for it to be gone.
  void KillHard();
  // Waits for the process to end; fails the test (and kills it) if it outlives `timeout`.
  ExitStatus Finish(std::chrono::seconds timeout);

 private:
  std::string log_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace loadstar::testing
