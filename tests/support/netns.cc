#include "tests/support/netns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/support/s3_server.h"
#include "tests/support/wait_until.h"

namespace loadstar::testing {
namespace {

namespace fs = std::filesystem;

std::string Tool() { return SourceDir() + "/tests/tools/netns_lab"; }

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Tail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string all = buffer.str();
  return all.size() > max_bytes ? "..." + all.substr(all.size() - max_bytes) : all;
}

std::string FindPostgresBindir() {
  if (const char* env = std::getenv("PG_BINDIR"); env != nullptr && fs::exists(std::string(env) + "/initdb")) {
    return env;
  }
  std::string best;
  std::error_code ec;
  if (fs::is_directory("/usr/lib/postgresql", ec)) {
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      std::string bin = e.path().string() + "/bin";
      if (fs::exists(bin + "/initdb") && bin > best) best = bin;
    }
  }
  return best;
}

std::string S3rverPath() {
  if (const char* explicit_path = std::getenv("LOADSTAR_S3RVER"); explicit_path != nullptr && *explicit_path) {
    return explicit_path;
  }
  return SourceDir() + "/.tools/node_modules/.bin/s3rver";
}

bool IsNodeScript(const std::string& path) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  if (!ec && real.extension() == ".js") return true;
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  return first.rfind("#!", 0) == 0 && first.find("node") != std::string::npos;
}

}  // namespace

NetnsLab::NetnsLab(std::string prefix, int workers) : prefix_(std::move(prefix)), workers_(workers) {
  EXPECT_EQ(prefix_.rfind(kFamily, 0), 0u) << "a multi-host test's prefix starts with " << kFamily;
  CommandResult r = RunCommand({Tool(), "up", prefix_, std::to_string(workers)}, {}, 60);
  ok_ = r.exit_code == 0;
  if (!ok_) ADD_FAILURE() << "cannot build the network " << prefix_ << ": " << r.output;
}

NetnsLab::~NetnsLab() {
  CommandResult r = RunCommand({Tool(), "down", prefix_}, {}, 60);
  if (r.exit_code != 0) ADD_FAILURE() << "cannot remove the network " << prefix_ << ": " << r.output;
}

void NetnsLab::RemoveLeftovers() {
  CommandResult list = RunCommand({"ip", "netns", "list"}, {}, 30);
  std::set<std::string> prefixes;
  std::istringstream in(list.output);
  std::string line;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find(' '));
    const size_t dash = name.rfind('-');
    if (name.rfind(kFamily, 0) == 0 && dash != std::string::npos) prefixes.insert(name.substr(0, dash));
  }
  for (const std::string& p : prefixes) {
    CommandResult r = RunCommand({Tool(), "down", p}, {}, 60);
    EXPECT_EQ(r.exit_code, 0) << "cannot remove the leftovers of " << p << ": " << r.output;
  }
}

bool NetnsLab::Available(std::string* why) {
  if (geteuid() != 0) {
    *why = "building network namespaces needs root (ip netns)";
    return false;
  }
  CommandResult r = RunCommand({"ip", "netns", "list"}, {}, 30);
  if (r.exit_code != 0) {
    *why = "`ip netns list` failed: " + r.output;
    return false;
  }
  return true;
}

std::string NetnsLab::Address(const std::string& host) {
  // The plan of tests/tools/netns_lab (`netns_lab addr HOST`), without a process per lookup.
  if (host == "coord") return "10.213.0.10";
  if (host == "wh") return "10.213.0.2";
  if (host == "s3") return "10.213.0.3";
  if (host.size() >= 2 && host[0] == 'w' && host.find_first_not_of("0123456789", 1) == std::string::npos) {
    return "10.213.0." + std::to_string(10 + std::stoi(host.substr(1)));
  }
  ADD_FAILURE() << "no such host in the network: " << host;
  return "10.213.0.255";
}

std::vector<std::string> NetnsLab::On(const std::string& host, const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", Namespace(host)};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

CommandResult NetnsLab::Run(const std::string& host, const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& env, int timeout_s) const {
  return RunCommand(On(host, argv), env, timeout_s);
}

namespace {
bool Ip(const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip"};
  full.insert(full.end(), argv.begin(), argv.end());
  CommandResult r = RunCommand(full, {}, 30);
  EXPECT_EQ(r.exit_code, 0) << "ip failed: " << r.output;
  return r.exit_code == 0;
}
}  // namespace

bool NetnsLab::SetLink(const std::string& host, bool up) const {
  return Ip({"-n", Namespace(host), "link", "set", "eth0", up ? "up" : "down"});
}

bool NetnsLab::Block(const std::string& host, const std::string& to) const {
  return Ip({"-n", Namespace(host), "route", "add", "unreachable", Address(to) + "/32"});
}

bool NetnsLab::Allow(const std::string& host, const std::string& to) const {
  return Ip({"-n", Namespace(host), "route", "del", "unreachable", Address(to) + "/32"});
}

bool NetnsLab::Throttle(const std::string& host, int kbit) const {
  CommandResult r = Run(host, {"tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate",
                               std::to_string(kbit) + "kbit", "burst", "16kb", "latency", "2s"});
  EXPECT_EQ(r.exit_code, 0) << "tc failed: " << r.output;
  return r.exit_code == 0;
}

bool NetnsLab::Unthrottle(const std::string& host) const {
  CommandResult r = Run(host, {"tc", "qdisc", "del", "dev", "eth0", "root"});
  EXPECT_EQ(r.exit_code, 0) << "tc failed: " << r.output;
  return r.exit_code == 0;
}

bool NetnsLab::CanConnect(const std::string& from, const std::string& to, int port) const {
  return Run(from, {"timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/" + Address(to) + "/" + std::to_string(port)}, {},
             10)
             .exit_code == 0;
}

bool NetnsLab::WaitForTcp(const std::string& from, const std::string& to, int port, std::chrono::milliseconds timeout,
                          Subprocess* process) const {
  bool up = false;
  (void)WaitUntil(
      [&] {
        up = CanConnect(from, to, port);
        return up || (process != nullptr && !process->Running());
      },
      timeout, std::chrono::milliseconds(100));
  return up;
}

NetnsPostgres::NetnsPostgres(const NetnsLab& lab, std::string host) : lab_(lab), host_(std::move(host)) {
  bindir_ = FindPostgresBindir();
  if (bindir_.empty()) {
    ADD_FAILURE() << "no initdb under /usr/lib/postgresql/*/bin; run scripts/setup (it installs postgresql)";
    return;
  }
  dir_ = TempDir("netns-pg");
  // initdb and pg_ctl refuse to run as root: as the postgres user (the lab needs root anyway).
  const std::string as_pg = "runuser -u postgres -- ";
  const std::string setup = "chown postgres: '" + dir_ + "' && chmod 755 '" + dir_ + "' && " + as_pg + bindir_ +
                            "/initdb -D '" + dir_ + "/data' -U postgres --auth=trust -E UTF8 --no-locale >'" + dir_ +
                            "/initdb.log' 2>&1";
  if (std::system(setup.c_str()) != 0) {
    ADD_FAILURE() << "initdb failed; see " << dir_ << "/initdb.log";
    return;
  }
  {
    std::ofstream hba(dir_ + "/data/pg_hba.conf", std::ios::app);
    hba << "host all all 10.213.0.0/24 trust\n";
  }
  const std::string start = "ip netns exec '" + lab_.Namespace(host_) + "' " + as_pg + bindir_ + "/pg_ctl -D '" + dir_ +
                            "/data' -l '" + dir_ + "/pg.log' -w -t 30 -o \"-c listen_addresses=" +
                            NetnsLab::Address(host_) + " -p " + std::to_string(kPort) + " -k " + dir_ +
                            " -c fsync=off -c max_connections=200\" start >/dev/null 2>&1";
  ok_ = std::system(start.c_str()) == 0;
  if (!ok_) ADD_FAILURE() << "PostgreSQL did not start on " << host_ << ":\n" << Tail(dir_ + "/pg.log", 2000);
}

NetnsPostgres::~NetnsPostgres() {
  if (!ok_) return;
  const std::string stop =
      "runuser -u postgres -- " + bindir_ + "/pg_ctl -D '" + dir_ + "/data' -m immediate -w stop >/dev/null 2>&1";
  (void)std::system(stop.c_str());
}

std::string NetnsPostgres::Uri(const std::string& database) const {
  return "postgresql://postgres@" + NetnsLab::Address(host_) + ":" + std::to_string(kPort) + "/" + database;
}

std::string NetnsPostgres::FreshDatabase(const std::string& name) {
  Psql("postgres", "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
  Psql("postgres", "CREATE DATABASE \"" + name + "\"");
  return Uri(name);
}

std::string NetnsPostgres::Psql(const std::string& database, const std::string& sql) const {
  CommandResult r = lab_.Run(
      host_, {bindir_ + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", Uri(database), "-c", sql}, {}, 120);
  EXPECT_EQ(r.exit_code, 0) << "psql failed on: " << sql << "\n" << r.output;
  return Trimmed(r.output);
}

std::string NetnsPostgres::StarFingerprint(const std::string& database, const std::string& schema) const {
  std::string sql;
  int position = 0;
  for (const char* table : {"songplays", "users", "songs", "artists", "time"}) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT " + std::to_string(++position) + " AS position, '" + table + "=' || count(*) || ':' || " +
           "coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS line FROM \"" + schema + "\"." + table +
           " t";
  }
  return Psql(database, "SELECT line FROM (" + sql + ") f ORDER BY position") + "\n";
}

NetnsS3Server::NetnsS3Server(const NetnsLab& lab, const std::vector<std::string>& buckets, std::string host)
    : host_(std::move(host)) {
  const std::string s3rver = S3rverPath();
  std::error_code ec;
  if (!fs::exists(s3rver, ec)) {
    ADD_FAILURE() << "the local S3 server (s3rver) is not installed at " << s3rver << ": run scripts/setup";
    return;
  }
  dir_ = TempDir("netns-s3");
  fs::create_directories(dir_ + "/data", ec);
  Subprocess::Options o;
  std::vector<std::string> argv;
  if (IsNodeScript(s3rver)) argv.push_back("node");
  argv.insert(argv.end(), {s3rver, "-d", dir_ + "/data", "-a", NetnsLab::Address(host_), "-p", std::to_string(kPort),
                           "--silent"});
  for (const std::string& b : buckets) argv.insert(argv.end(), {"--configure-bucket", b});
  o.argv = lab.On(host_, argv);
  // s3rver encrypts ListObjectsV2 continuation tokens with DES.
  o.env["NODE_OPTIONS"] = "--openssl-legacy-provider";
  o.stdout_path = dir_ + "/s3rver.log";
  o.stderr_path = dir_ + "/s3rver.log";
  auto spawned = Subprocess::Spawn(std::move(o));
  if (!spawned.ok()) {
    ADD_FAILURE() << "cannot start s3rver: " << spawned.status().ToString();
    return;
  }
  process_ = std::make_unique<Subprocess>(std::move(spawned).value());
  ok_ = lab.WaitForTcp(host_, host_, kPort, std::chrono::seconds(30), process_.get());
  if (!ok_) ADD_FAILURE() << "s3rver did not start on " << host_ << ":\n" << Tail(dir_ + "/s3rver.log", 2000);
}

NetnsS3Server::~NetnsS3Server() { process_.reset(); }

std::string NetnsS3Server::endpoint() const {
  return "http://" + NetnsLab::Address(host_) + ":" + std::to_string(kPort);
}

std::map<std::string, std::string> NetnsS3Server::AwsEnvironment() const {
  return {{"AWS_ACCESS_KEY_ID", LocalS3Server::kAccessKeyId},
          {"AWS_SECRET_ACCESS_KEY", LocalS3Server::kSecretAccessKey},
          {"AWS_REGION", LocalS3Server::kRegion},
          {"AWS_ENDPOINT_URL_S3", endpoint()}};
}

}  // namespace loadstar::testing
