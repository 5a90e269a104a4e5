// The Redshift stand-in (tests/tools/redshift_standin, see docs/REDSHIFT_STANDIN.md) as a child
// process in front of the test binary's private PostgreSQL and a local S3 server.
#pragma once

#include <memory>
#include <string>

#include "tests/support/process.h"

namespace loadstar::testing {

struct StandinOptions {
  int slices = 2;
  // While this file exists, a COMMIT after a COPY from S3 is held (see the stand-in's
  // --hold-commit-file); empty: never.
  std::string hold_commit_file;
  // A certificate and key (PEM) to answer clients that ask for TLS; empty: TLS is refused.
  std::string tls_cert, tls_key;
};

class RedshiftStandin {
 public:
  // Starts it on a free loopback port and waits until it listens; the stand-in reads S3 at
  // `s3_endpoint` with the AWS_* credentials of this process. Fails the current test and returns
  // nullptr when it cannot.
  static std::unique_ptr<RedshiftStandin> Start(int postgres_port, const std::string& s3_endpoint,
                                                const StandinOptions& options = {});
  ~RedshiftStandin();

  int port() const { return port_; }
  // A libpq connection string for `database` through the stand-in, with `sslmode` (none when
  // empty: libpq's default, or what the caller's environment says).
  std::string Conninfo(const std::string& database, const std::string& sslmode = "disable") const;
  std::string Log() const;  // its stderr: every rewrite, refusal and load

 private:
  RedshiftStandin() = default;
  std::unique_ptr<Subprocess> process_;
  std::string dir_;
  int port_ = 0;
};

}  // namespace loadstar::testing
