#include "tests/support/loadstar_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "tests/support/s3_server.h"
#include "tests/support/test_env.h"

namespace loadstar::testing {

LoadstarProcess::LoadstarProcess(const std::string& name, std::vector<std::string> args,
                                 std::map<std::string, std::string> env) {
  log_ = TempDir(name) + "/output";
  Subprocess::Options o;
  o.argv = {LoadstarBinary()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = std::move(env);
  o.unset_env = LocalS3Server::ConflictingAwsVariables();
  o.unset_env.push_back("LOADSTAR_WAREHOUSE");
  o.stdout_path = log_;
  o.stderr_path = log_;
  auto spawned = Subprocess::Spawn(o);
  if (!spawned.ok()) {
    ADD_FAILURE() << "cannot start loadstar " << args.front() << ": " << spawned.status().ToString();
    return;
  }
  process_ = std::make_unique<Subprocess>(std::move(spawned).value());
}

std::string LoadstarProcess::Output() const {
  std::ifstream in(log_, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void LoadstarProcess::KillHard() {
  if (!process_) return;
  process_->Kill(SIGKILL);
  (void)process_->Wait(std::chrono::seconds(10));
}

ExitStatus LoadstarProcess::Finish(std::chrono::seconds timeout) {
  if (!process_) return ExitStatus{};
  auto ended = process_->Wait(timeout);
  if (!ended) {
    ADD_FAILURE() << "still running after " << timeout.count() << " s; its output:\n" << Output();
    process_->Kill(SIGKILL);
    ended = process_->Wait(std::chrono::seconds(10));
  }
  return ended.value_or(ExitStatus{});
}

}  // namespace loadstar::testing
