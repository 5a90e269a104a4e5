#include "tests/support/postgres_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tests/support/test_env.h"

namespace loadstar::testing {
namespace fs = std::filesystem;

namespace {

int PickPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string FindBindir() {
  if (const char* env = std::getenv("PG_BINDIR"); env != nullptr && fs::exists(std::string(env) + "/initdb")) {
    return env;
  }
  std::string best;
  if (fs::is_directory("/usr/lib/postgresql")) {
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql")) {
      std::string bin = e.path().string() + "/bin";
      if (fs::exists(bin + "/initdb") && bin > best) best = bin;
    }
  }
  return best;
}

}  // namespace

PostgresServer& PostgresServer::Shared() {
  static PostgresServer* server = [] {
    auto* s = new PostgresServer();
    std::string error;
    if (!s->Start(&error)) ADD_FAILURE() << "cannot start a private PostgreSQL: " << error;
    std::atexit([] { delete server; });
    return s;
  }();
  return *server;
}

bool PostgresServer::Start(std::string* error) {
  bindir_ = FindBindir();
  if (bindir_.empty()) {
    *error = "no initdb under /usr/lib/postgresql/*/bin; run scripts/setup (it installs postgresql)";
    return false;
  }
  dir_ = TempDir("pg");
  const bool root = geteuid() == 0;
  std::string as_pg = root ? "runuser -u postgres -- " : "";
  if (root) {
    if (getpwnam("postgres") == nullptr) {
      *error = "running as root but there is no 'postgres' user to run the server as";
      return false;
    }
    std::string chown = "chown postgres: '" + dir_ + "' && chmod 755 '" + dir_ + "'";
    if (std::system(chown.c_str()) != 0) {
      *error = "cannot hand " + dir_ + " to the postgres user";
      return false;
    }
  }
  for (int attempt = 0; attempt < 3 && !started_; ++attempt) {
    port_ = PickPort();
    std::string initdb = as_pg + bindir_ + "/initdb -D '" + dir_ + "/data' -U postgres --auth=trust -E UTF8 --no-locale >'" +
                         dir_ + "/initdb.log' 2>&1";
    if (attempt == 0 && std::system(initdb.c_str()) != 0) {
      *error = "initdb failed; see " + dir_ + "/initdb.log";
      return false;
    }
    start_command_ = as_pg + bindir_ + "/pg_ctl -D '" + dir_ + "/data' -l '" + dir_ + "/pg.log' -w -t 30 -o \"-c listen_addresses=127.0.0.1 -p " +
                     std::to_string(port_) + " -k " + dir_ + " -c fsync=off -c max_connections=200\" start >/dev/null 2>&1";
    started_ = std::system(start_command_.c_str()) == 0;
  }
  if (!started_) *error = "pg_ctl start failed; see " + dir_ + "/pg.log";
  return started_;
}

bool PostgresServer::CrashAndRestart() {
  std::string as_pg = geteuid() == 0 ? "runuser -u postgres -- " : "";
  std::string crash = as_pg + bindir_ + "/pg_ctl -D '" + dir_ + "/data' -m immediate -w stop >/dev/null 2>&1";
  if (std::system(crash.c_str()) != 0) return false;
  return std::system(start_command_.c_str()) == 0;
}

PostgresServer::~PostgresServer() {
  if (!started_) return;
  std::string as_pg = geteuid() == 0 ? "runuser -u postgres -- " : "";
  std::string stop = as_pg + bindir_ + "/pg_ctl -D '" + dir_ + "/data' -m immediate -w stop >/dev/null 2>&1";
  (void)std::system(stop.c_str());
}

std::string PostgresServer::Uri(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::FreshDatabase(const std::string& name) {
  Psql("postgres", "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
  Psql("postgres", "CREATE DATABASE \"" + name + "\"");
  return Uri(name);
}

std::string PostgresServer::Psql(const std::string& database, const std::string& sql) const {
  CommandResult r = RunCommand({bindir_ + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", Uri(database),
                                "-c", sql});
  EXPECT_EQ(r.exit_code, 0) << "psql failed on: " << sql << "\n" << r.output;
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return r.output;
}

}  // namespace loadstar::testing
