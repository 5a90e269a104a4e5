// cpp-httplib is wrapped here and nowhere else: the server, and the one GET `loadstar status` makes.
#include "coordinator/monitor/monitor_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "coordinator/monitor/status_encoding.h"

namespace loadstar::coordinator {

std::string HostPort::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not HOST:PORT (" + std::string(why) + ")");
  };
  std::string_view rest = text;
  if (rest.substr(0, 7) == "http://") rest.remove_prefix(7);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  HostPort out;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address needs its closing ']'");
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.empty() || rest.front() != ':') return bad("no port after the IPv6 address");
    port = rest.substr(1);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    out.host = std::string(rest.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return bad("write an IPv6 address in brackets: [::1]:9464");
    port = rest.substr(colon + 1);
  }
  if (out.host.find_first_of("/ ") != std::string::npos) return bad("the host has a '/' or a space");
  int value = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 0 || value > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  out.port = value;
  return out;
}

Result<HttpAnswer> HttpGet(const HostPort& address, const std::string& path, std::chrono::milliseconds timeout) {
  constexpr size_t kMaxBody = 16 << 20;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  auto set = [](std::chrono::milliseconds t, auto setter) {
    setter(static_cast<time_t>(t.count() / 1000), static_cast<time_t>(t.count() % 1000 * 1000));
  };
  httplib::Client client(address.host, address.port);
  set(std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(5)),
      [&](time_t s, time_t us) { client.set_connection_timeout(s, us); });
  set(timeout, [&](time_t s, time_t us) { client.set_read_timeout(s, us); });
  set(timeout, [&](time_t s, time_t us) { client.set_write_timeout(s, us); });
  client.set_keep_alive(false);
  client.set_follow_location(false);
  HttpAnswer answer;
  bool too_big = false, too_slow = false;
  httplib::Result result =
      client.Get(path, httplib::Headers{{"Accept", "application/json"}}, [&](const char* data, size_t n) {
        if (Clock::now() > deadline) {
          too_slow = true;
          return false;
        }
        if (answer.body.size() + n > kMaxBody) {
          too_big = true;
          return false;
        }
        answer.body.append(data, n);
        return true;
      });
  if (too_big) return Status::FailedPrecondition("an answer of more than 16 MiB to GET " + path);
  if (too_slow) {
    return Status::Unavailable("no whole answer within " + std::to_string(timeout.count()) + " ms");
  }
  if (!result) return Status::Unavailable(httplib::to_string(result.error()));
  answer.status = result->status;
  return answer;
}

namespace {

using Clock = std::chrono::steady_clock;

// Limits on one request. httplib answers 413 to a body above its payload limit, set to
// kMaxBodyBytes.
constexpr size_t kMaxHeaderBytes = 16 << 10;
constexpr size_t kMaxBodyBytes = 64 << 10;
// How long a connection is drained of what the client still sends once its response is out,
// so that closing it does not reset the connection before the client has read the response.
constexpr auto kLingerTime = std::chrono::seconds(1);
// Connections accepted per turn of the loop, so a flood of them cannot starve the others.
constexpr int kAcceptsPerTurn = 64;

constexpr std::string_view kHeadersTooLarge =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n"
    "Cache-Control: no-store\r\n\r\n";

bool IsKnownPath(const std::string& path) {
  return path == "/" || path == "/metrics" || path == "/healthz" || path == "/status";
}

// httplib's request parsing, routing and response writing, applied to a request that has been
// received in full (so it never waits on a client).
class Router : public httplib::Server {
 public:
  void Answer(httplib::Stream& stream) {
    bool connection_closed = false;
    process_request(stream, /*close_connection=*/true, connection_closed, nullptr);
  }
};

// The numeric address and port of a socket's own end (`local`) or of its peer.
std::pair<std::string, int> SocketAddress(int fd, bool local) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int rc = local ? getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                 : getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  char host[NI_MAXHOST] = "";
  char port[NI_MAXSERV] = "";
  if (rc != 0 || getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, port, sizeof port,
                             NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return {"", 0};
  }
  return {host, std::atoi(port)};
}

// A request already received, as httplib's input; the response httplib writes is kept.
class BufferStream final : public httplib::Stream {
 public:
  BufferStream(std::string_view in, int fd) : in_(in), fd_(fd) {}

  bool is_readable() const override { return pos_ < in_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    std::tie(ip, port) = SocketAddress(fd_, /*local=*/false);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    std::tie(ip, port) = SocketAddress(fd_, /*local=*/true);
  }
  socket_t socket() const override { return fd_; }

  std::string TakeOutput() { return std::move(out_); }

 private:
  const std::string_view in_;
  size_t pos_ = 0;
  const int fd_;
  std::string out_;
};

// Where the request at the start of `in` ends once it has arrived in full: its headers and,
// with a Content-Length, its body. 0 while more is to come; npos when the headers are too large.
size_t RequestEnd(std::string_view in) {
  constexpr size_t npos = std::string_view::npos;
  size_t crlf = in.find("\r\n\r\n");
  size_t lf = in.find("\n\n");
  size_t header_end = std::min(crlf == npos ? npos : crlf + 4, lf == npos ? npos : lf + 2);
  if (header_end == npos) return in.size() > kMaxHeaderBytes ? npos : 0;
  if (header_end > kMaxHeaderBytes) return npos;
  // A client that waits for "100 Continue" before sending its body, and one whose body is too
  // large to take, are answered on their headers.
  uint64_t body = 0;
  std::string_view headers = in.substr(0, header_end);
  for (size_t eol = headers.find('\n'); eol != npos && eol + 1 < headers.size();) {
    std::string_view line = headers.substr(eol + 1);
    line = line.substr(0, line.find('\n'));
    eol = headers.find('\n', eol + 1);
    size_t colon = line.find(':');
    if (colon == npos) continue;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    if (name == "expect") return header_end;
    if (name == "content-length") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), body);
      if (ec != std::errc()) return header_end;  // httplib says what is wrong with it
    }
  }
  if (body > kMaxBodyBytes) return header_end;
  return in.size() >= header_end + body ? header_end + body : 0;
}

// A listening socket on `listen`, non-blocking, close-on-exec (worker processes started later
// must not inherit it) and without SO_REUSEPORT (which would let a second process bind the
// same port silently and take half the requests); -1 when it cannot be had.
int Listen(const HostPort& listen, int* port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(listen.host.c_str(), std::to_string(listen.port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return -1;
  int bound = SocketAddress(fd, /*local=*/true).second;
  if (bound <= 0) {
    close(fd);
    return -1;
  }
  *port = bound;
  return fd;
}

}  // namespace

// One thread polls the listening socket and every connection; a request is answered (from a
// snapshot of the board, in microseconds) only once it has arrived in full, so a client that
// is slow, idle or gone holds a socket and a buffer but never the thread.
struct MonitorServer::Impl {
  Impl(const StatusBoard& b, MonitorServerOptions o) : board(b), options(std::move(o)) {}
  ~Impl() {
    for (int fd : {listen_fd, wake_read, wake_write}) {
      if (fd >= 0) close(fd);
    }
  }

  struct Connection {
    enum class State { kReading, kWriting, kLingering };
    int fd = -1;  // -1 once closed
    State state = State::kReading;
    std::string in;   // kReading: the request so far
    std::string out;  // kWriting: the response
    size_t written = 0;
    Clock::time_point accepted;
    Clock::time_point deadline;  // closed then, whatever its state
  };

  void Route() {
    router.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(RenderPrometheusMetrics(board.Read()), std::string(kPrometheusContentType));
    });
    router.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      StatusSnapshot s = board.Read();
      if (s.phase() == StatusSnapshot::FAILED) {
        res.status = 503;
        res.set_content("failed: " + (s.error().empty() ? std::string("the run failed") : s.error()) + "\n",
                        "text/plain; charset=utf-8");
      } else {
        res.set_content("ok\n", "text/plain; charset=utf-8");
      }
    });
    router.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(EncodeStatusJson(board.Read()) + "\n", "application/json");
    });
    router.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          "loadstar coordinator\n"
          "  /metrics  Prometheus metrics (text format 0.0.4)\n"
          "  /healthz  200 ok, or 503 once the run has failed\n"
          "  /status   the run's progress as JSON (what `loadstar status` shows)\n",
          "text/plain; charset=utf-8");
    });
    // Every path here is read-only: other methods are not allowed on them (rather than not found).
    router.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.method == "GET" || req.method == "HEAD" || !IsKnownPath(req.path)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content(req.method + " is not allowed on " + req.path + ": use GET\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
    router.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
    });
    router.set_payload_max_length(kMaxBodyBytes);
  }

  // The server's thread.
  void Loop() {
    std::vector<pollfd> fds;
    while (!stopping) {
      const Clock::time_point now = Clock::now();
      for (Connection& c : connections) {
        if (now >= c.deadline) Close(c);
      }
      Sweep();

      fds.clear();
      fds.push_back({wake_read, POLLIN, 0});
      fds.push_back({listen_fd, static_cast<short>(now >= accept_paused_until ? POLLIN : 0), 0});
      Clock::time_point wake_at = now + std::chrono::seconds(1);
      for (const Connection& c : connections) {
        fds.push_back({c.fd, static_cast<short>(c.state == Connection::State::kWriting ? POLLOUT : POLLIN), 0});
        wake_at = std::min(wake_at, c.deadline);
      }
      if (now < accept_paused_until) wake_at = std::min(wake_at, accept_paused_until);
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - now).count();
      int ready = poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(wait, 0)));
      if (ready < 0) {
        if (errno == EINTR) continue;
        break;  // only with a bad descriptor, which would not get better
      }
      if (fds[0].revents != 0) {
        char buf[64];
        while (::read(wake_read, buf, sizeof buf) > 0) {
        }
      }
      // fds[2 + i] is connections[i]; Accept() appends to `connections`, so it comes last.
      for (size_t i = 0; i + 2 < fds.size(); ++i) {
        if (fds[2 + i].revents != 0) Serve(connections[i]);
      }
      Sweep();
      if (fds[1].revents != 0) Accept();
    }
    for (Connection& c : connections) Close(c);
    connections.clear();
  }

  void Accept() {
    for (int i = 0; i < kAcceptsPerTurn; ++i) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: make room if a connection is only waiting, else pause accepting
          // a little (the listening socket would stay readable and spin the loop).
          if (!EvictOldestReading()) accept_paused_until = Clock::now() + std::chrono::milliseconds(100);
        }
        return;  // EAGAIN: none left
      }
      if (connections.size() >= static_cast<size_t>(std::max(options.max_connections, 1)) &&
          !EvictOldestReading()) {
        close(fd);  // every slot is sending a response: refuse rather than queue
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      Connection c;
      c.fd = fd;
      c.accepted = Clock::now();
      c.deadline = c.accepted + options.request_timeout;
      connections.push_back(std::move(c));
    }
  }

  // Closes the connection that has waited longest for its request; false when none waits.
  bool EvictOldestReading() {
    Connection* oldest = nullptr;
    for (Connection& c : connections) {
      if (c.fd >= 0 && c.state == Connection::State::kReading &&
          (oldest == nullptr || c.accepted < oldest->accepted)) {
        oldest = &c;
      }
    }
    if (oldest == nullptr) return false;
    Close(*oldest);
    Sweep();
    return true;
  }

  void Serve(Connection& c) {
    if (c.state == Connection::State::kWriting) {
      Flush(c);
      return;
    }
    char buf[8192];
    while (c.fd >= 0) {
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {  // the client is gone, or has closed its end
        Close(c);
        return;
      }
      if (c.state == Connection::State::kLingering) continue;  // answered already: dropped
      c.in.append(buf, static_cast<size_t>(n));
      const size_t end = RequestEnd(c.in);
      if (end == 0) continue;
      if (end == std::string_view::npos) {
        c.out = std::string(kHeadersTooLarge);
      } else {
        BufferStream stream(std::string_view(c.in).substr(0, end), c.fd);
        router.Answer(stream);
        c.out = stream.TakeOutput();
      }
      std::string().swap(c.in);
      c.state = Connection::State::kWriting;
      c.deadline = Clock::now() + options.write_timeout;
      Flush(c);
      return;
    }
  }

  // Sends what is left of the response; once all of it is out, the connection lingers.
  void Flush(Connection& c) {
    while (c.written < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0) {
        Close(c);
        return;
      }
      c.written += static_cast<size_t>(n);
    }
    std::string().swap(c.out);
    shutdown(c.fd, SHUT_WR);
    c.state = Connection::State::kLingering;
    c.deadline = Clock::now() + kLingerTime;
  }

  static void Close(Connection& c) {
    if (c.fd < 0) return;
    close(c.fd);
    c.fd = -1;
  }
  // Forgets the connections closed.
  void Sweep() {
    connections.erase(
        std::remove_if(connections.begin(), connections.end(), [](const Connection& c) { return c.fd < 0; }),
        connections.end());
  }

  const StatusBoard& board;
  const MonitorServerOptions options;
  Router router;
  int listen_fd = -1;
  int wake_read = -1, wake_write = -1;  // a pipe: a byte written to it wakes the loop
  std::atomic<bool> stopping{false};
  std::thread thread;
  bool stopped = false;  // only touched by the owner's thread
  // Only touched by the server's thread.
  std::vector<Connection> connections;
  Clock::time_point accept_paused_until;
};

Result<std::unique_ptr<MonitorServer>> MonitorServer::Start(const StatusBoard& board, MonitorServerOptions options) {
  HostPort listen = options.listen;
  if (listen.host.empty()) listen.host = "127.0.0.1";
  if (listen.port < 0 || listen.port > 65535) {
    return Status::InvalidArgument("monitor port " + std::to_string(listen.port) + " is not in 0..65535");
  }
  auto impl = std::make_unique<Impl>(board, options);
  impl->Route();
  int port = 0;
  impl->listen_fd = Listen(listen, &port);
  if (impl->listen_fd < 0) {
    return Status::Unavailable("cannot listen on " + listen.ToString() +
                               " for metrics and status: the port is in use, or the host is not an address of "
                               "this machine");
  }
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Status::Unavailable(std::string("the metrics and status server cannot make a pipe: ") +
                               std::strerror(errno));
  }
  impl->wake_read = wake[0];
  impl->wake_write = wake[1];
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Loop(); });
  return std::unique_ptr<MonitorServer>(new MonitorServer(std::move(impl), listen.host, port));
}

MonitorServer::MonitorServer(std::unique_ptr<Impl> impl, std::string host, int port)
    : impl_(std::move(impl)), host_(std::move(host)), port_(port) {}

MonitorServer::~MonitorServer() { Stop(); }

void MonitorServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping = true;
  char wake = 1;
  (void)!::write(impl_->wake_write, &wake, 1);
  if (impl_->thread.joinable()) impl_->thread.join();
  // Refused from now on, rather than left in the backlog.
  close(impl_->listen_fd);
  impl_->listen_fd = -1;
}

std::string MonitorServer::url() const {
  HostPort hp{host_, port_};
  if (hp.host == "0.0.0.0") hp.host = "127.0.0.1";
  if (hp.host == "::") hp.host = "::1";
  return "http://" + hp.ToString();
}

}  // namespace loadstar::coordinator
