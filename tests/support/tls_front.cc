#include "tests/support/tls_front.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

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

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

bool TestCertificates::Run(const std::string& what, const std::vector<std::string>& argv) {
  CommandResult r = RunCommand(argv, {}, 60);
  if (r.exit_code != 0) ADD_FAILURE() << "openssl could not make " << what << ":\n" << r.output;
  return r.exit_code == 0;
}

TestCertificates::TestCertificates() : dir_(TempDir("tls-certs")) {
  const std::string d = dir_ + "/";
  // P-256 keys: quick to make, and every TLS library takes them.
  auto new_key = [&](const std::string& name) {
    return std::vector<std::string>{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                    "-keyout", d + name};
  };
  auto make_ca = [&](const std::string& name, const std::string& cn) {
    std::vector<std::string> argv = {"openssl", "req", "-x509", "-days", "3", "-subj", "/CN=" + cn,
                                     "-addext", "basicConstraints=critical,CA:TRUE",
                                     "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                                     "-out", d + name + ".pem"};
    for (const std::string& a : new_key(name + ".key")) argv.push_back(a);
    return Run(name, argv);
  };
  auto make_server = [&](const std::string& name, const std::string& cn, const std::string& san) {
    WriteFile(d + name + ".ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                 "extendedKeyUsage=serverAuth\nsubjectAltName=" + san + "\n");
    std::vector<std::string> req = {"openssl", "req", "-new", "-subj", "/CN=" + cn, "-out", d + name + ".csr"};
    for (const std::string& a : new_key(name + ".key")) req.push_back(a);
    return Run(name + " (request)", req) &&
           Run(name, {"openssl", "x509", "-req", "-in", d + name + ".csr", "-CA", d + "ca.pem", "-CAkey",
                      d + "ca.key", "-CAcreateserial", "-days", "3", "-extfile", d + name + ".ext", "-out",
                      d + name + ".pem"});
  };
  ok_ = make_ca("ca", "loadstar test CA") && make_ca("other-ca", "another test CA") &&
        make_server("server", "127.0.0.1", "IP:127.0.0.1") &&
        make_server("other-host", "elsewhere.example", "DNS:elsewhere.example,IP:127.0.0.2");
}

std::unique_ptr<TlsFrontProcess> TlsFrontProcess::Start(int upstream_port, const std::string& cert,
                                                         const std::string& key) {
  std::unique_ptr<TlsFrontProcess> front(new TlsFrontProcess());
  front->dir_ = TempDir("tls-front");
  Subprocess::Options o;
  o.argv = {"/usr/bin/python3", SourceDir() + "/tests/tools/tls_front.py", "--cert", cert, "--key", key,
            "--upstream-port", std::to_string(upstream_port), "--stats", front->dir_ + "/stats", "--verbose"};
  o.stdout_path = front->dir_ + "/stdout";
  o.stderr_path = front->dir_ + "/stderr";
  auto spawned = Subprocess::Spawn(o);
  if (!spawned.ok()) {
    ADD_FAILURE() << "cannot start the TLS front: " << spawned.status().ToString();
    return nullptr;
  }
  front->process_ = std::make_unique<Subprocess>(std::move(spawned).value());
  // It prints its port once it listens; connecting to find out would count as a connection.
  const std::string prefix = "listening on 127.0.0.1:";
  bool listening = WaitUntil(
      [&] {
        std::string out = ReadAll(front->dir_ + "/stdout");
        size_t at = out.find(prefix);
        if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
          front->port_ = std::atoi(out.c_str() + at + prefix.size());
        }
        return front->port_ > 0 || !front->process_->Running();
      },
      std::chrono::seconds(10));
  if (!listening || front->port_ <= 0) {
    ADD_FAILURE() << "the TLS front did not start listening: " << front->Log();
    return nullptr;
  }
  return front;
}

TlsFrontProcess::~TlsFrontProcess() = default;

std::string TlsFrontProcess::Log() const { return ReadAll(dir_ + "/stderr"); }

std::map<std::string, uint64_t> TlsFrontProcess::Stats() const {
  std::map<std::string, uint64_t> counts;
  std::istringstream in(ReadAll(dir_ + "/stats"));
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) counts[line.substr(0, eq)] = std::strtoull(line.c_str() + eq + 1, nullptr, 10);
  }
  return counts;
}

}  // namespace loadstar::testing
