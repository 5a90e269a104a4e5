// A private PostgreSQL server for tests: initdb into a temporary directory, started on a free
// port on 127.0.0.1, stopped when the test binary exits. Works as root (through runuser, since
// initdb refuses to run as root) and as an ordinary user.
#pragma once

#include <string>

namespace loadstar::testing {

class PostgresServer {
 public:
  // The server of this test binary, started on first use. Fails the calling test (fatally)
  // with what to install or check if it cannot start.
  static PostgresServer& Shared();

  int port() const { return port_; }
  // "postgresql://postgres@127.0.0.1:PORT/DB"
  std::string Uri(const std::string& database = "postgres") const;
  // Creates a database (dropping any of that name first) and returns its URI.
  std::string FreshDatabase(const std::string& name);
  // Runs `sql` through psql against `database`; returns psql's stdout (tuples only, '|'-separated).
  std::string Psql(const std::string& database, const std::string& sql) const;

  // Stops the server the way a crash would (pg_ctl -m immediate: no checkpoint, recovery on the
  // next start) and starts it again on the same port. False if either step fails.
  bool CrashAndRestart();

  ~PostgresServer();

 private:
  PostgresServer() = default;
  bool Start(std::string* error);

  std::string bindir_;
  std::string dir_;
  int port_ = 0;
  bool started_ = false;
  std::string start_command_;
};

}  // namespace loadstar::testing
