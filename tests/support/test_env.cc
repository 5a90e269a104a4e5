#include "tests/support/test_env.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace loadstar::testing {
namespace fs = std::filesystem;

namespace {
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}
}  // namespace

std::string SourceDir() {
  const char* env = std::getenv("LOADSTAR_SOURCE_DIR");
  return env != nullptr ? env : fs::current_path().string();
}

std::string SampleDir() {
  const char* env = std::getenv("LOADSTAR_SAMPLE_DIR");
  std::string dir = env != nullptr ? env : SourceDir() + "/../shared/data/sparkify-sample";
  if (!fs::is_directory(dir + "/song_data") || !fs::is_directory(dir + "/log_data")) {
    ADD_FAILURE() << "the Sparkify sample is not at " << dir
                  << " (expected song_data/ and log_data/); set LOADSTAR_SAMPLE_DIR to its location";
  }
  return fs::weakly_canonical(dir).string();
}

std::string LoadstarBinary() {
  const char* env = std::getenv("LOADSTAR_BINARY");
  if (env == nullptr) ADD_FAILURE() << "LOADSTAR_BINARY is not set; run the tests through ctest";
  return env != nullptr ? env : "loadstar";
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                         int timeout_s) {
  std::string cmd = "timeout -k 5 " + std::to_string(timeout_s) + " env";
  for (const auto& [k, v] : env) cmd += " " + Quote(k + "=" + v);
  for (const auto& a : argv) cmd += " " + Quote(a);
  cmd += " 2>&1";
  CommandResult result;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) result.output.append(buf, n);
  int status = pclose(p);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string TempDir(const std::string& tag) {
  std::string templ = (fs::temp_directory_path() / ("loadstar-" + tag + "-XXXXXX")).string();
  char* made = mkdtemp(templ.data());
  if (made == nullptr) ADD_FAILURE() << "cannot create a temporary directory";
  static std::vector<std::string>* to_remove = [] {
    auto* v = new std::vector<std::string>();
    std::atexit([] {
      for (const auto& d : *to_remove) {
        std::error_code ec;
        fs::remove_all(d, ec);
      }
    });
    return v;
  }();
  to_remove->push_back(templ);
  return templ;
}

}  // namespace loadstar::testing
