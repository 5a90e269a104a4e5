#include "tests/integration/scripted_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace loadstar::testing {
namespace {

// Waits up to 50 ms for `fd` to become readable; false on timeout.
bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 50) > 0;
}

void SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace

std::string HeaderOf(const std::string& request, const std::string& name) {
  size_t head_end = request.find("\r\n\r\n");
  std::string head = request.substr(0, head_end);
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    size_t start = pos + 2;
    size_t end = head.find("\r\n", start);
    std::string line = head.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t colon = line.find(':');
    if (colon != std::string::npos && colon == name.size() && ::strncasecmp(line.c_str(), name.c_str(), colon) == 0) {
      size_t v = line.find_first_not_of(' ', colon + 1);
      return v == std::string::npos ? "" : line.substr(v);
    }
    pos = end;
  }
  return "";
}

ScriptedHttpServer::Reply ScriptedHttpServer::Respond(int status, const std::string& body,
                                                      const std::string& extra_headers) {
  std::string raw = "HTTP/1.1 " + std::to_string(status) +
                    " Scripted\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" +
                    body;
  return Reply{raw, false, false};
}

ScriptedHttpServer::ScriptedHttpServer(std::vector<Reply> replies) : replies_(std::move(replies)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();  // a test machine without loopback TCP cannot run these tests at all
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<std::string> ScriptedHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t ScriptedHttpServer::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

void ScriptedHttpServer::Serve() {
  while (!stop_) {
    if (!Readable(listen_fd_)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    bool go_on = ServeConnection(fd);
    ::close(fd);
    if (!go_on) return;
  }
}

bool ScriptedHttpServer::ServeConnection(int fd) {
  std::string buffer;
  for (;;) {
    // Read one request: the head, then Content-Length bytes of body.
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (stop_) return false;
      if (!Readable(fd)) continue;
      char chunk[8192];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return true;  // the client closed the connection
      buffer.append(chunk, static_cast<size_t>(n));
    }
    std::string head = buffer.substr(0, head_end + 4);
    size_t body_size = std::strtoul(HeaderOf(head, "Content-Length").c_str(), nullptr, 10);
    while (buffer.size() < head.size() + body_size) {
      if (stop_) return false;
      if (!Readable(fd)) continue;
      char chunk[8192];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return true;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    std::string request = buffer.substr(0, head.size() + body_size);
    buffer.erase(0, request.size());

    size_t index;
    {
      std::lock_guard lock(mu_);
      index = requests_.size();
      requests_.push_back(request);
    }
    const Reply& reply = replies_.at(std::min(index, replies_.size() - 1));
    SendAll(fd, reply.raw);
    if (reply.hang) {  // keep the connection open and silent until the client gives up
      while (!stop_) {
        char c;
        if (Readable(fd) && ::recv(fd, &c, 1, 0) <= 0) return true;
      }
      return false;
    }
    if (reply.close) return true;
  }
}

}  // namespace loadstar::testing
