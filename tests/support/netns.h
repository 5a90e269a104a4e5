// Several "hosts" on one machine for end-to-end tests: each host a network namespace with an
// address of its own in 10.213.0.0/24, cabled to a bridge in a namespace of its own, built and
// removed by tests/tools/netns_lab (which describes the addresses). Nothing of it touches the
// machine's own namespace, and no host has a route out.
//
// Hosts are named coord, wh (the warehouse), s3 and w1..wN. A test that builds a network holds
// the ctest RESOURCE_LOCK netns, and needs root.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"

namespace loadstar::testing {

class NetnsLab {
 public:
  // Every multi-host test's prefix starts with this; RemoveLeftovers() clears them all.
  static constexpr const char* kFamily = "lsmh";

  // Removes whatever is left of `prefix` (a test that died before its destructor ran), then
  // builds the network: coord, wh, s3 and `workers` worker hosts. On failure the current test
  // fails with the tool's output and ok() is false.
  NetnsLab(std::string prefix, int workers);
  // Ends every process still inside the network's namespaces and removes them.
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  bool ok() const { return ok_; }
  int workers() const { return workers_; }

  // Every namespace whose prefix starts with kFamily (what crashed tests left). Safe only under
  // the netns resource lock.
  static void RemoveLeftovers();
  // True when this process may build namespaces (it runs as root and `ip netns` works).
  static bool Available(std::string* why);

  static std::string Address(const std::string& host);  // "10.213.0.10" for coord, ...
  std::string Namespace(const std::string& host) const { return prefix_ + "-" + host; }

  // `argv` run on `host`: ip netns exec NAMESPACE argv...
  std::vector<std::string> On(const std::string& host, const std::vector<std::string>& argv) const;
  CommandResult Run(const std::string& host, const std::vector<std::string>& argv,
                    const std::map<std::string, std::string>& env = {}, int timeout_s = 120) const;

  // The host's cable (eth0 on its side) down or up, as if its link were unplugged.
  bool SetLink(const std::string& host, bool up) const;
  // `host` can no longer reach `to`: an unreachable route for `to`'s address (connections fail
  // at once with "No route to host"). Allow() removes it.
  bool Block(const std::string& host, const std::string& to) const;
  bool Allow(const std::string& host, const std::string& to) const;
  // What `host` sends is limited to `kbit` kilobits/s (a token bucket on its eth0); Unthrottle()
  // lifts it.
  bool Throttle(const std::string& host, int kbit) const;
  bool Unthrottle(const std::string& host) const;

  // Whether `from` can open a TCP connection to `to`:`port` now.
  bool CanConnect(const std::string& from, const std::string& to, int port) const;
  // Waits until it can; false on timeout, or early when `process` is given and ends.
  bool WaitForTcp(const std::string& from, const std::string& to, int port, std::chrono::milliseconds timeout,
                  Subprocess* process = nullptr) const;

 private:
  std::string prefix_;
  int workers_ = 0;
  bool ok_ = false;
};

// A private PostgreSQL on a host of the network, listening on that host's address only, taking
// connections from every host of 10.213.0.0/24 (trust: the network is this machine's own).
class NetnsPostgres {
 public:
  static constexpr int kPort = 5432;
  NetnsPostgres(const NetnsLab& lab, std::string host = "wh");
  ~NetnsPostgres();
  NetnsPostgres(const NetnsPostgres&) = delete;
  NetnsPostgres& operator=(const NetnsPostgres&) = delete;

  bool ok() const { return ok_; }
  // "postgresql://postgres@10.213.0.2:5432/DB"
  std::string Uri(const std::string& database = "postgres") const;
  std::string FreshDatabase(const std::string& name);
  // psql on the warehouse host; stdout, tuples only, '|'-separated. A failure fails the test.
  std::string Psql(const std::string& database, const std::string& sql) const;
  // The same fingerprint as StarFingerprint() (tests/support/star_fingerprint.h), read here.
  std::string StarFingerprint(const std::string& database, const std::string& schema) const;

 private:
  const NetnsLab& lab_;
  std::string host_;
  std::string bindir_;
  std::string dir_;
  bool ok_ = false;
};

// s3rver on a host of the network, bound to that host's address.
class NetnsS3Server {
 public:
  static constexpr int kPort = 4569;
  NetnsS3Server(const NetnsLab& lab, const std::vector<std::string>& buckets, std::string host = "s3");
  ~NetnsS3Server();
  NetnsS3Server(const NetnsS3Server&) = delete;
  NetnsS3Server& operator=(const NetnsS3Server&) = delete;

  bool ok() const { return ok_; }
  std::string endpoint() const;  // "http://10.213.0.3:4569"
  // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL_S3 for this server.
  std::map<std::string, std::string> AwsEnvironment() const;

 private:
  std::string host_;
  std::string dir_;
  std::unique_ptr<Subprocess> process_;
  bool ok_ = false;
};

}  // namespace loadstar::testing
