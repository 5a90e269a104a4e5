#include "tests/support/redshift_standin.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/test_env.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::unique_ptr<RedshiftStandin> RedshiftStandin::Start(int postgres_port, const std::string& s3_endpoint,
                                                        const StandinOptions& options) {
  std::unique_ptr<RedshiftStandin> s(new RedshiftStandin());
  s->dir_ = TempDir("redshift-standin");
  Subprocess::Options o;
  o.argv = {"/usr/bin/python3", SourceDir() + "/tests/tools/redshift_standin/standin.py", "--listen", "127.0.0.1:0",
            "--upstream", "127.0.0.1:" + std::to_string(postgres_port), "--s3-endpoint", s3_endpoint,
            "--slices", std::to_string(options.slices)};
  if (!options.hold_commit_file.empty()) {
    o.argv.push_back("--hold-commit-file");
    o.argv.push_back(options.hold_commit_file);
  }
  if (!options.tls_cert.empty()) {
    o.argv.insert(o.argv.end(), {"--tls-cert", options.tls_cert, "--tls-key", options.tls_key});
  }
  o.stdout_path = s->dir_ + "/stdout";
  o.stderr_path = s->dir_ + "/stderr";
  auto spawned = Subprocess::Spawn(o);
  if (!spawned.ok()) {
    ADD_FAILURE() << "cannot start the Redshift stand-in: " << spawned.status().ToString();
    return nullptr;
  }
  s->process_ = std::make_unique<Subprocess>(std::move(spawned).value());
  const std::string prefix = "ready 127.0.0.1:";
  bool ready = WaitUntil(
      [&] {
        std::string out = ReadAll(s->dir_ + "/stdout");
        size_t at = out.find(prefix);
        if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
          s->port_ = std::atoi(out.c_str() + at + prefix.size());
        }
        return s->port_ > 0 || !s->process_->Running();
      },
      std::chrono::seconds(20));
  if (!ready || s->port_ <= 0) {
    ADD_FAILURE() << "the Redshift stand-in did not start: " << s->Log();
    return nullptr;
  }
  return s;
}

RedshiftStandin::~RedshiftStandin() = default;

std::string RedshiftStandin::Conninfo(const std::string& database, const std::string& sslmode) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + database + " user=postgres" +
         (sslmode.empty() ? "" : " sslmode=" + sslmode);
}

std::string RedshiftStandin::Log() const { return ReadAll(dir_ + "/stderr"); }

}  // namespace loadstar::testing
