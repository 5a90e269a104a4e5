// CURVE keys for tests that start `loadstar coordinator` and `loadstar worker` by hand: a
// coordinator key pair and some worker key pairs, made with `loadstar keygen` in a fresh
// temporary directory, and an authorized-keys file listing the workers' public keys.
#pragma once

#include <string>
#include <vector>

namespace loadstar::testing {

class CurveKeys {
 public:
  // Fails the calling test (and leaves the keys empty) if keygen fails.
  explicit CurveKeys(int workers = 4);

  // --key-file and --authorized-keys for `loadstar coordinator` (or `run`).
  std::vector<std::string> CoordinatorFlags() const;
  // --key-file and --coordinator-key for `loadstar worker`, with worker key `i` (taken modulo
  // the number of worker keys).
  std::vector<std::string> WorkerFlags(int i) const;

  const std::string& dir() const { return dir_; }
  std::string coordinator_public() const { return ReadKey(dir_ + "/coordinator.pub"); }
  std::string worker_public(int i) const { return ReadKey(Worker(i) + ".pub"); }
  std::string worker_secret(int i) const { return ReadKey(Worker(i) + ".key"); }
  int workers() const { return workers_; }

  // The one key line of a key file (comments skipped).
  static std::string ReadKey(const std::string& path);
  // Makes DIR/NAME.key and DIR/NAME.pub with `loadstar keygen`; false (with the test failed) if it failed.
  static bool Keygen(const std::string& prefix);

 private:
  std::string Worker(int i) const { return dir_ + "/worker-" + std::to_string(i % workers_); }
  std::string dir_;
  int workers_;
};

// `a` followed by `b`.
std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b);

}  // namespace loadstar::testing
