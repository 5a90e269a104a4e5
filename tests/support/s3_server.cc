#include "tests/support/s3_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace loadstar::testing {
namespace {

namespace fs = std::filesystem;

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string S3rverPath() {
  if (std::string explicit_path = Getenv("LOADSTAR_S3RVER"); !explicit_path.empty()) return explicit_path;
  std::string source_dir = Getenv("LOADSTAR_SOURCE_DIR");
#ifdef LOADSTAR_SOURCE_DIR_DEFAULT
  if (source_dir.empty()) source_dir = LOADSTAR_SOURCE_DIR_DEFAULT;
#endif
  if (source_dir.empty()) return "";
  return source_dir + "/.tools/node_modules/.bin/s3rver";
}

// s3rver's entry point is a Node script; run it with node so neither its shebang nor the
// executable bit matters. Anything else is executed directly.
bool IsNodeScript(const std::string& path) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  if (!ec && real.extension() == ".js") return true;
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  return first.rfind("#!", 0) == 0 && first.find("node") != std::string::npos;
}

std::string Tail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string all = buffer.str();
  return all.size() > max_bytes ? "..." + all.substr(all.size() - max_bytes) : all;
}

}  // namespace

LocalS3Server::LocalS3Server(std::vector<std::string> buckets) {
  status_ = Start(buckets);
  if (!status_.ok()) ADD_FAILURE() << "cannot start the local S3 server: " << status_.ToString();
}

Status LocalS3Server::Start(const std::vector<std::string>& buckets) {
  const std::string s3rver = S3rverPath();
  std::error_code ec;
  if (s3rver.empty() || !fs::exists(s3rver, ec)) {
    return Status::FailedPrecondition("the local S3 server (s3rver) is not installed" +
                                      (s3rver.empty() ? std::string() : " at " + s3rver) +
                                      ": run scripts/setup (or point LOADSTAR_S3RVER at an s3rver executable)");
  }

  std::string tmpl = Getenv("TMPDIR");
  tmpl = (tmpl.empty() ? std::string("/tmp") : tmpl) + "/loadstar-s3rver-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::Internal("cannot create a directory for s3rver: " + std::string(std::strerror(errno)));
  }
  root_dir_ = tmpl;
  data_dir_ = tmpl + "/data";
  log_path_ = tmpl + "/s3rver.log";
  fs::create_directories(data_dir_, ec);
  if (ec) return Status::Internal("cannot create " + data_dir_ + ": " + ec.message());

  // A free port can be taken by someone else before s3rver binds it; try a few.
  std::string last_log;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = FreeTcpPort();
    if (port == 0) return Status::Unavailable("no free TCP port on 127.0.0.1 for s3rver");
    Subprocess::Options options;
    if (IsNodeScript(s3rver)) options.argv.push_back("node");
    options.argv.insert(options.argv.end(),
                        {s3rver, "-d", data_dir_, "-a", "127.0.0.1", "-p", std::to_string(port), "--silent"});
    for (const std::string& b : buckets) options.argv.insert(options.argv.end(), {"--configure-bucket", b});
    // Without the legacy provider, every truncated ListObjectsV2 page fails: s3rver encrypts its
    // continuation tokens with DES.
    options.env["NODE_OPTIONS"] = "--openssl-legacy-provider";
    options.stdout_path = log_path_;
    options.stderr_path = log_path_ + ".err";
    Result<Subprocess> process = Subprocess::Spawn(std::move(options));
    if (!process.ok()) {
      return Status::FailedPrecondition(process.status().message() +
                                        "; the local S3 server needs Node.js and s3rver: run scripts/setup");
    }
    process_ = std::make_unique<Subprocess>(std::move(process).value());
    if (WaitForTcpPort(port, std::chrono::seconds(30), process_.get())) {
      port_ = port;
      endpoint_ = "http://127.0.0.1:" + std::to_string(port);
      return Status::Ok();
    }
    process_.reset();  // stops it if it is still running
    last_log = Tail(log_path_ + ".err", 2000) + Tail(log_path_, 2000);
    if (last_log.find("EADDRINUSE") == std::string::npos) break;
  }
  return Status::Unavailable("s3rver (" + s3rver + ") did not start; its output:\n" + last_log);
}

LocalS3Server::~LocalS3Server() {
  process_.reset();
  if (!root_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(root_dir_, ec);
  }
}

std::map<std::string, std::string> LocalS3Server::AwsEnvironment() const {
  return {{"AWS_ACCESS_KEY_ID", kAccessKeyId},
          {"AWS_SECRET_ACCESS_KEY", kSecretAccessKey},
          {"AWS_REGION", kRegion},
          {"AWS_ENDPOINT_URL_S3", endpoint_}};
}

std::vector<std::string> LocalS3Server::ConflictingAwsVariables() {
  return {"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "LOADSTAR_S3_ANONYMOUS"};
}

void LocalS3Server::ExportAwsEnvironment() const {
  for (const std::string& name : ConflictingAwsVariables()) ::unsetenv(name.c_str());
  for (const auto& [name, value] : AwsEnvironment()) ::setenv(name.c_str(), value.c_str(), 1);
}

}  // namespace loadstar::testing
