// A private S3 endpoint for tests: s3rver (a Node.js S3 emulator, installed by scripts/setup)
// on a free port of 127.0.0.1 with its data in a temporary directory.
//
// s3rver checks the access key but not SigV4 signatures, so a test that passes against it says
// nothing about signing; tests/unit/sigv4_test.cc and tests/integration/sigv4_curl_test.cc do.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/core/status.h"
#include "tests/support/process.h"

namespace loadstar::testing {

class LocalS3Server {
 public:
  static constexpr const char* kAccessKeyId = "S3RVER";
  static constexpr const char* kSecretAccessKey = "S3RVER";
  static constexpr const char* kRegion = "us-east-1";

  // Starts s3rver with `buckets` created, and waits until it accepts connections.
  // s3rver is $LOADSTAR_S3RVER, else <source dir>/.tools/node_modules/.bin/s3rver (the source dir
  // from $LOADSTAR_SOURCE_DIR, set by ctest). When it cannot start, the current test fails with a
  // message that says why (and to run scripts/setup when s3rver or Node.js is missing), and ok()
  // is false.
  explicit LocalS3Server(std::vector<std::string> buckets);
  // Stops the server and deletes its data.
  ~LocalS3Server();
  LocalS3Server(const LocalS3Server&) = delete;
  LocalS3Server& operator=(const LocalS3Server&) = delete;

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }  // why it did not start

  const std::string& endpoint() const { return endpoint_; }  // "http://127.0.0.1:PORT"
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }

  // The variables that point an AWS client at this server: AWS_ACCESS_KEY_ID,
  // AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL_S3. For child processes
  // (Subprocess::Options::env, RunCommand()).
  std::map<std::string, std::string> AwsEnvironment() const;
  // Variables that would override or confuse those (AWS_SESSION_TOKEN, AWS_PROFILE, ...). For
  // Subprocess::Options::unset_env.
  static std::vector<std::string> ConflictingAwsVariables();
  // Sets AwsEnvironment() in this process and unsets ConflictingAwsVariables().
  void ExportAwsEnvironment() const;

 private:
  Status Start(const std::vector<std::string>& buckets);

  Status status_;
  std::string root_dir_;  // temporary: holds data_dir_ and the server's log
  std::string data_dir_;
  std::string log_path_;
  std::string endpoint_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace loadstar::testing
