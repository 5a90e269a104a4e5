// A one-thread HTTP/1.1 server on 127.0.0.1 that records each request and answers with canned
// replies, for tests that need faults a real S3 server will not produce on demand (503s,
// truncated bodies, hangs) or need to see exactly what a client sent.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loadstar::testing {

class ScriptedHttpServer {
 public:
  struct Reply {
    std::string raw;     // bytes sent as the response: status line, headers, body
    bool close = false;  // close the connection after sending
    bool hang = false;   // after sending, say nothing more until the server stops
  };

  // Reply i answers request i; the last reply answers all later requests.
  explicit ScriptedHttpServer(std::vector<Reply> replies);
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Each request received so far: head (request line and headers, CRLF-separated) and body.
  std::vector<std::string> requests() const;
  size_t request_count() const;

  // A reply with `status`, `body` and a correct Content-Length, plus `extra_headers` lines.
  static Reply Respond(int status, const std::string& body, const std::string& extra_headers = "");

 private:
  void Serve();
  bool ServeConnection(int fd);  // false when the server is stopping

  const std::vector<Reply> replies_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;  // guarded by mu_
  std::thread thread_;
};

// The value of header `name` (case-insensitive) in a recorded request head, or "".
std::string HeaderOf(const std::string& request, const std::string& name);

}  // namespace loadstar::testing
