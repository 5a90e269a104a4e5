#include "tests/support/curve_keys.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/test_env.h"

namespace loadstar::testing {

std::string CurveKeys::ReadKey(const std::string& path) {
  std::ifstream in(path);
  std::string line, key;
  while (std::getline(in, line)) {
    std::string word = line.substr(0, line.find_first_of(" \t\r"));
    if (!word.empty() && word[0] != '#') key = word;
  }
  EXPECT_EQ(key.size(), 40u) << "no key in " << path;
  return key;
}

bool CurveKeys::Keygen(const std::string& prefix) {
  CommandResult r = RunCommand({LoadstarBinary(), "keygen", "--out", prefix}, {}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0;
}

CurveKeys::CurveKeys(int workers) : dir_(TempDir("curve-keys")), workers_(workers < 1 ? 1 : workers) {
  if (!Keygen(dir_ + "/coordinator")) return;
  std::ofstream authorized(dir_ + "/authorized_keys");
  authorized << "# the test's workers\n";
  for (int i = 0; i < workers_; ++i) {
    if (!Keygen(Worker(i))) return;
    authorized << worker_public(i) << " worker-" << i << "\n";
  }
}

std::vector<std::string> CurveKeys::CoordinatorFlags() const {
  return {"--key-file", dir_ + "/coordinator.key", "--authorized-keys", dir_ + "/authorized_keys"};
}

std::vector<std::string> CurveKeys::WorkerFlags(int i) const {
  return {"--key-file", Worker(i) + ".key", "--coordinator-key", dir_ + "/coordinator.pub"};
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace loadstar::testing
