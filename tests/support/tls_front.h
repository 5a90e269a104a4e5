// TLS for tests: a private CA and certificates made with the `openssl` command, and the TLS
// front (tests/tools/tls_front.py) in front of a plain-HTTP server such as the local S3 server.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "tests/support/process.h"

namespace loadstar::testing {

// PEM files in a temporary directory, made once per object:
//  - ca: a self-signed CA ("loadstar test CA");
//  - server_cert/server_key: signed by `ca` for IP 127.0.0.1;
//  - other_host_cert/other_host_key: signed by `ca` for elsewhere.example (and IP 127.0.0.2), not
//    127.0.0.1;
//  - other_ca: a second self-signed CA that signed none of them.
// When `openssl` fails, the current test fails with its output and ok() is false.
class TestCertificates {
 public:
  TestCertificates();
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }
  std::string ca() const { return dir_ + "/ca.pem"; }
  std::string other_ca() const { return dir_ + "/other-ca.pem"; }
  std::string server_cert() const { return dir_ + "/server.pem"; }
  std::string server_key() const { return dir_ + "/server.key"; }
  std::string other_host_cert() const { return dir_ + "/other-host.pem"; }
  std::string other_host_key() const { return dir_ + "/other-host.key"; }

 private:
  bool Run(const std::string& what, const std::vector<std::string>& argv);
  std::string dir_;
  bool ok_ = false;
};

// tests/tools/tls_front.py as a child process: TLS on 127.0.0.1:port() with the given
// certificate, forwarding to 127.0.0.1:upstream_port.
class TlsFrontProcess {
 public:
  // Starts it and waits until it listens. Fails the current test and returns nullptr when it
  // cannot.
  static std::unique_ptr<TlsFrontProcess> Start(int upstream_port, const std::string& cert, const std::string& key);
  ~TlsFrontProcess();

  int port() const { return port_; }
  std::string endpoint() const { return "https://127.0.0.1:" + std::to_string(port_); }

  // What it has counted so far: "accepted" (TCP connections), "handshakes" (completed),
  // "handshake_failed".
  std::map<std::string, uint64_t> Stats() const;
  std::string Log() const;  // its stderr: one line per failed handshake

 private:
  TlsFrontProcess() = default;
  std::unique_ptr<Subprocess> process_;
  std::string dir_;
  int port_ = 0;
};

}  // namespace loadstar::testing
