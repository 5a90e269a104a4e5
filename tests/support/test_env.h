// Where tests find things: the loadstar binary, the source tree, the sample data; and a way to
// run a command and collect its output.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace loadstar::testing {

// $LOADSTAR_SAMPLE_DIR, else <source dir>/../shared/data/sparkify-sample. Fails the calling
// test if it does not exist: the sample is part of the test environment, never optional.
std::string SampleDir();
// $LOADSTAR_BINARY (set by ctest), the built `loadstar`.
std::string LoadstarBinary();
// $LOADSTAR_SOURCE_DIR (set by ctest).
std::string SourceDir();

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs argv with extra environment variables set, waits for it, and returns its exit code and
// output. `timeout_s` bounds the run (the command is killed past it).
CommandResult RunCommand(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                         int timeout_s = 300);

// A fresh empty temporary directory, removed at exit.
std::string TempDir(const std::string& tag);

}  // namespace loadstar::testing
