// fault_proxy: an HTTP/1.1 proxy for tests that sits between an S3 client and a local S3 server
// and breaks a share of the requests on purpose, the ways real S3 and real networks do:
//
//   slowdown      answers 503 SlowDown with an S3 XML error body (the request never reaches S3)
//   error500      answers 500 InternalError with an S3 XML error body
//   reset_before  reads the request, then resets the connection (RST) without answering
//   reset_mid     forwards the request, sends the headers and part of the body, then resets
//   truncate      forwards the request, sends the headers and fewer body bytes than
//                 Content-Length says, then closes the connection normally (FIN)
//   delay         forwards the request and answers in full, but holds the body back for
//                 --delay-ms after the headers (a slow response; the client must not give up)
//
// Which request gets which fault is decided by the request's sequence number and --seed alone,
// so a given seed always injects the same sequence of faults (which request of a concurrent
// client gets number n depends on timing; the sequence does not).
//
// Everything else is forwarded as is over a keep-alive connection to the upstream server, one
// upstream connection per client connection. Requests carry their body with Content-Length
// (GET, HEAD, PUT, DELETE, POST); chunked request bodies are refused with 501. Responses may be
// framed by Content-Length, chunked, or the end of the connection.
//
// On SIGTERM or SIGINT it writes what it did to --summary (one "name: count" per line) and to
// stdout, and exits 0. SIGUSR1 writes the summary without stopping. A fault is counted once it
// has been delivered to the client; a request whose upstream fails is answered 502 and counted
// under upstream_errors, whatever fault had been picked for it.
//
//   fault_proxy --upstream 127.0.0.1:4569 [--port 0] [--port-file F] [--summary F] [--seed N]
//               [--slowdown R] [--error500 R] [--reset-before R] [--reset-mid R] [--truncate R]
//               [--delay R] [--delay-ms MS] [--max-connections N] [--verbose]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

// ---- Options and counters -----------------------------------------------------------------

enum Fault : size_t { kSlowdown, kError500, kResetBefore, kResetMid, kTruncate, kDelay, kFaultCount };
constexpr std::array<const char*, kFaultCount> kFaultNames = {
    "slowdown_503", "error_500", "reset_before_response", "reset_mid_response", "truncated_body", "delayed"};

struct Options {
  std::string upstream_host = "127.0.0.1";
  int upstream_port = 0;
  int port = 0;
  std::string port_file;
  std::string summary_file;
  uint64_t seed = 1;
  std::array<double, kFaultCount> rates{};
  int delay_ms = 1500;
  int max_connections = 256;
  bool verbose = false;
};

Options g_options;  // set once in main before any thread starts

struct Counters {
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> forwarded{0};  // answered in full from upstream (delayed ones included)
  std::atomic<uint64_t> upstream_errors{0};
  std::array<std::atomic<uint64_t>, kFaultCount> faults{};
};
Counters g_counters;

std::atomic<int> g_active_connections{0};
std::atomic<bool> g_stop{false};
std::atomic<bool> g_dump{false};
std::mutex g_log_mu;

void OnStop(int) { g_stop = true; }
void OnDump(int) { g_dump = true; }

void Log(const std::string& line) {
  if (!g_options.verbose) return;
  std::lock_guard lock(g_log_mu);
  std::fprintf(stderr, "fault_proxy: %s\n", line.c_str());
}

std::string Summary() {
  std::string out;
  auto line = [&](const char* name, uint64_t v) { out += std::string(name) + ": " + std::to_string(v) + "\n"; };
  line("connections", g_counters.connections);
  line("requests", g_counters.requests);
  line("forwarded", g_counters.forwarded);
  line("upstream_errors", g_counters.upstream_errors);
  for (size_t k = 0; k < kFaultCount; ++k) line(kFaultNames[k], g_counters.faults[k]);
  return out;
}

void WriteSummary() {
  std::string text = Summary();
  if (!g_options.summary_file.empty()) {
    // Write then rename, so a reader never sees half a summary.
    std::string tmp = g_options.summary_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
    }
    std::rename(tmp.c_str(), g_options.summary_file.c_str());
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// The fault for request number `n` (0-based), from the seed alone: splitmix64 of (seed, n)
// mapped to [0, 1), against the cumulative rates.
std::optional<Fault> FaultFor(uint64_t n) {
  uint64_t z = g_options.seed * 0x9E3779B97F4A7C15ull + (n + 1) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  double u = static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);
  double acc = 0;
  for (size_t k = 0; k < kFaultCount; ++k) {
    acc += g_options.rates[k];
    if (u < acc) return static_cast<Fault>(k);
  }
  return std::nullopt;
}

// ---- Sockets --------------------------------------------------------------------------------

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    if (this != &o) {
      Close();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { Close(); }

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes with SO_LINGER 0: the peer gets a RST instead of a FIN.
  void Reset() {
    if (fd_ < 0) return;
    linger lg{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    Close();
  }

  bool SendAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Appends what arrives to `buf`; returns bytes read, 0 at EOF, -1 on error.
  ssize_t ReadSome(std::string* buf) {
    char tmp[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) buf->append(tmp, static_cast<size_t>(n));
      return n;
    }
  }

 private:
  int fd_ = -1;
};

Socket ConnectUpstream() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Socket();
  Socket s(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_options.upstream_port));
  if (inet_pton(AF_INET, g_options.upstream_host.c_str(), &addr.sin_addr) != 1) return Socket();
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return Socket();
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

// ---- HTTP/1.1 framing -------------------------------------------------------------------------

constexpr size_t kMaxHeaderBytes = 64 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The value of header `name` (lower case) in a header block, if present.
std::optional<std::string> Header(std::string_view head, std::string_view name) {
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    size_t start = pos + 2;
    size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(start, end - start);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && Lower(Trim(line.substr(0, colon))) == name) {
      return std::string(Trim(line.substr(colon + 1)));
    }
    pos = end;
  }
  return std::nullopt;
}

// Reads from `s` into `buf` until it holds a full header block. Returns the block's length
// (through "\r\n\r\n"), 0 at a clean EOF before any byte, -1 on error or garbage.
ssize_t ReadHead(Socket& s, std::string* buf) {
  for (;;) {
    size_t end = buf->find("\r\n\r\n");
    if (end != std::string::npos) return static_cast<ssize_t>(end + 4);
    if (buf->size() > kMaxHeaderBytes) return -1;
    ssize_t n = s.ReadSome(buf);
    if (n == 0) return buf->empty() ? 0 : -1;
    if (n < 0) return -1;
  }
}

// Reads until `buf` holds at least `size` bytes. False on EOF or error first.
bool ReadAtLeast(Socket& s, std::string* buf, size_t size) {
  while (buf->size() < size) {
    if (s.ReadSome(buf) <= 0) return false;
  }
  return true;
}

struct Request {
  std::string method;
  std::string target;
  std::string bytes;  // head and body, exactly as received
  bool keep_alive = true;
};

enum class ReadResult { kOk, kClosed, kBad, kUnsupported };

// Reads one request from the client. `pending` holds bytes already read past the last request.
ReadResult ReadRequest(Socket& client, std::string* pending, Request* req) {
  ssize_t head_len = ReadHead(client, pending);
  if (head_len == 0) return ReadResult::kClosed;
  if (head_len < 0) return ReadResult::kBad;
  std::string_view head(pending->data(), static_cast<size_t>(head_len));
  size_t sp1 = head.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : head.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return ReadResult::kBad;
  req->method = std::string(head.substr(0, sp1));
  req->target = std::string(head.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string version(Trim(head.substr(sp2 + 1, head.find("\r\n") - sp2 - 1)));
  auto connection = Header(head, "connection");
  req->keep_alive = connection ? Lower(*connection) != "close" : version == "HTTP/1.1";
  if (auto te = Header(head, "transfer-encoding"); te && Lower(*te) != "identity") return ReadResult::kUnsupported;
  size_t body_len = 0;
  if (auto cl = Header(head, "content-length")) body_len = std::strtoull(cl->c_str(), nullptr, 10);
  size_t total = static_cast<size_t>(head_len) + body_len;
  if (!ReadAtLeast(client, pending, total)) return ReadResult::kBad;
  req->bytes = pending->substr(0, total);
  pending->erase(0, total);
  return ReadResult::kOk;
}

struct Response {
  int status = 0;
  std::string bytes;         // head and body exactly as the upstream sent them
  size_t head_len = 0;       // where the body starts in `bytes`
  bool close_after = false;  // framed by EOF, or the upstream said Connection: close
};

// Reads the rest of a chunked body (raw, framing included) into `buf`, starting at `from`.
bool ReadChunked(Socket& s, std::string* buf, size_t from) {
  size_t pos = from;
  for (;;) {
    size_t eol;
    while ((eol = buf->find("\r\n", pos)) == std::string::npos) {
      if (s.ReadSome(buf) <= 0) return false;
    }
    uint64_t size = std::strtoull(buf->c_str() + pos, nullptr, 16);
    pos = eol + 2;
    if (size == 0) {
      // Trailers, if any, then an empty line.
      for (;;) {
        while ((eol = buf->find("\r\n", pos)) == std::string::npos) {
          if (s.ReadSome(buf) <= 0) return false;
        }
        bool empty = eol == pos;
        pos = eol + 2;
        if (empty) {
          buf->resize(pos);
          return true;
        }
      }
    }
    if (!ReadAtLeast(s, buf, pos + size + 2)) return false;
    pos += size + 2;
  }
}

// Reads one full response to a request of `method`. `got_any` says whether any byte arrived
// (a keep-alive connection the upstream closed while idle gives none, and is safe to retry).
bool ReadResponse(Socket& up, const std::string& method, Response* resp, bool* got_any) {
  std::string buf;
  *got_any = false;
  for (;;) {
    ssize_t head_len = ReadHead(up, &buf);
    *got_any = !buf.empty();
    if (head_len <= 0) return false;
    std::string_view head(buf.data(), static_cast<size_t>(head_len));
    resp->status = std::atoi(std::string(head.substr(head.find(' ') + 1, 3)).c_str());
    if (resp->status >= 100 && resp->status < 200) {  // interim (100 Continue): skip it
      buf.erase(0, static_cast<size_t>(head_len));
      continue;
    }
    resp->head_len = static_cast<size_t>(head_len);
    auto connection = Header(head, "connection");
    resp->close_after = connection && Lower(*connection) == "close";
    if (method == "HEAD" || resp->status == 204 || resp->status == 304) {
      buf.resize(resp->head_len);
    } else if (auto te = Header(head, "transfer-encoding"); te && Lower(*te).find("chunked") != std::string::npos) {
      if (!ReadChunked(up, &buf, resp->head_len)) return false;
    } else if (auto cl = Header(head, "content-length")) {
      size_t total = resp->head_len + std::strtoull(cl->c_str(), nullptr, 10);
      if (!ReadAtLeast(up, &buf, total)) return false;
      buf.resize(total);
    } else {
      while (up.ReadSome(&buf) > 0) {
      }
      resp->close_after = true;
    }
    resp->bytes = std::move(buf);
    return true;
  }
}

std::string S3Error(int status, const char* reason, const char* code, const char* message,
                    const std::string& resource) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
                     "</Code><Message>" + message + "</Message><Resource>" + resource +
                     "</Resource><RequestId>FAULTPROXY</RequestId></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: keep-alive\r\n\r\n" + body;
}

// ---- One client connection ----------------------------------------------------------------------

class Connection {
 public:
  explicit Connection(Socket client) : client_(std::move(client)) {}

  void Serve() {
    std::string pending;
    for (;;) {
      Request req;
      ReadResult read = ReadRequest(client_, &pending, &req);
      if (read == ReadResult::kClosed || read == ReadResult::kBad) return;
      if (read == ReadResult::kUnsupported) {
        (void)client_.SendAll("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      }
      uint64_t n = g_counters.requests.fetch_add(1);
      std::optional<Fault> fault = FaultFor(n);
      if (!Handle(req, n, fault)) return;
      if (!req.keep_alive) return;
    }
  }

 private:
  // Counts (and logs) a fault once it is sure to reach the client: after what it sends has been
  // sent, before the connection is closed or reset (which cannot fail, and which the client may
  // act on at once). A fault picked for a request that then could not be delivered (the upstream
  // failed, the client went away) was not injected.
  void Delivered(uint64_t n, const Request& req, Fault fault) {
    ++g_counters.faults[fault];
    Log("request " + std::to_string(n) + " " + req.method + " " + req.target + ": " + kFaultNames[fault]);
  }

  // Answers request number `n`. False when the client connection is finished (closed or reset).
  bool Handle(const Request& req, uint64_t n, std::optional<Fault> fault) {
    if (fault == kSlowdown || fault == kError500) {
      const std::string answer =
          fault == kSlowdown
              ? S3Error(503, "Slow Down", "SlowDown", "Please reduce your request rate.", req.target)
              : S3Error(500, "Internal Server Error", "InternalError",
                        "We encountered an internal error. Please try again.", req.target);
      if (!client_.SendAll(answer)) return false;
      Delivered(n, req, *fault);
      return true;
    }
    if (fault == kResetBefore) {
      Delivered(n, req, *fault);  // counted first: the client may act on the reset at once
      client_.Reset();
      return false;
    }

    Response resp;
    if (!Forward(req, &resp)) {
      // The client gets a 502, not the fault picked for this request: that fault is not counted.
      ++g_counters.upstream_errors;
      Log("request " + std::to_string(n) + " " + req.method + " " + req.target + ": upstream failed, answered 502");
      (void)client_.SendAll(
          S3Error(502, "Bad Gateway", "InternalError", "fault_proxy: the upstream failed", req.target));
      return false;
    }
    const std::string_view all = resp.bytes;
    const size_t body_len = all.size() - resp.head_len;
    if (fault == kResetMid || fault == kTruncate) {
      // Some of the body when there is one; else part of the head, so the response is cut either way.
      size_t cut = body_len > 0 ? resp.head_len + body_len / 2 : resp.head_len / 2;
      if (client_.SendAll(all.substr(0, cut))) Delivered(n, req, *fault);
      if (fault == kResetMid) {
        client_.Reset();
      } else {
        shutdown(client_.fd(), SHUT_WR);
        client_.Close();
      }
      return false;
    }
    if (fault == kDelay) {
      if (!client_.SendAll(all.substr(0, resp.head_len))) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(g_options.delay_ms));
      if (!client_.SendAll(all.substr(resp.head_len))) return false;
      Delivered(n, req, *fault);
    } else if (!client_.SendAll(all)) {
      return false;
    }
    ++g_counters.forwarded;
    return !resp.close_after;
  }

  // Sends the request upstream and reads the whole response. An idle keep-alive connection the
  // upstream has closed is replaced once (nothing was answered on it, so resending is safe).
  bool Forward(const Request& req, Response* resp) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!upstream_.valid()) upstream_ = ConnectUpstream();
      if (!upstream_.valid()) return false;
      bool got_any = false;
      if (upstream_.SendAll(req.bytes) && ReadResponse(upstream_, req.method, resp, &got_any)) {
        if (resp->close_after) upstream_.Close();
        return true;
      }
      upstream_.Close();
      if (got_any) return false;
    }
    return false;
  }

  Socket client_;
  Socket upstream_;
};

// ---- main -------------------------------------------------------------------------------------

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "fault_proxy: %s\n"
               "usage: fault_proxy --upstream HOST:PORT [--port N] [--port-file F] [--summary F] [--seed N]\n"
               "         [--slowdown R] [--error500 R] [--reset-before R] [--reset-mid R] [--truncate R]\n"
               "         [--delay R] [--delay-ms MS] [--max-connections N] [--verbose]\n",
               why);
  std::exit(2);
}

void ParseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose") {
      g_options.verbose = true;
      continue;
    }
    if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    auto rate = [&](Fault f) {
      double r = std::strtod(v.c_str(), nullptr);
      if (r < 0 || r > 1) Usage(("rate out of [0, 1] for " + a).c_str());
      g_options.rates[f] = r;
    };
    if (a == "--upstream") {
      size_t colon = v.rfind(':');
      if (colon == std::string::npos) Usage("--upstream wants HOST:PORT");
      g_options.upstream_host = v.substr(0, colon);
      if (g_options.upstream_host == "localhost") g_options.upstream_host = "127.0.0.1";
      g_options.upstream_port = std::atoi(v.c_str() + colon + 1);
    } else if (a == "--port") {
      g_options.port = std::atoi(v.c_str());
    } else if (a == "--port-file") {
      g_options.port_file = v;
    } else if (a == "--summary") {
      g_options.summary_file = v;
    } else if (a == "--seed") {
      g_options.seed = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--slowdown") {
      rate(kSlowdown);
    } else if (a == "--error500") {
      rate(kError500);
    } else if (a == "--reset-before") {
      rate(kResetBefore);
    } else if (a == "--reset-mid") {
      rate(kResetMid);
    } else if (a == "--truncate") {
      rate(kTruncate);
    } else if (a == "--delay") {
      rate(kDelay);
    } else if (a == "--delay-ms") {
      g_options.delay_ms = std::atoi(v.c_str());
    } else if (a == "--max-connections") {
      g_options.max_connections = std::max(1, std::atoi(v.c_str()));
    } else {
      Usage(("unknown option " + a).c_str());
    }
  }
  if (g_options.upstream_port <= 0) Usage("--upstream HOST:PORT is required");
  double total = 0;
  for (double r : g_options.rates) total += r;
  if (total > 1.0) Usage("the fault rates add up to more than 1");
}

}  // namespace

int main(int argc, char** argv) {
  ParseArgs(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = OnDump;
  sigaction(SIGUSR1, &sa, nullptr);

  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_options.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 512) != 0) {
    std::fprintf(stderr, "fault_proxy: cannot listen on 127.0.0.1:%d: %s\n", g_options.port, std::strerror(errno));
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  if (!g_options.port_file.empty()) {
    std::string tmp = g_options.port_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << port << "\n";
    }
    std::rename(tmp.c_str(), g_options.port_file.c_str());
  }
  std::fprintf(stderr, "fault_proxy: listening on 127.0.0.1:%d, forwarding to %s:%d\n", port,
               g_options.upstream_host.c_str(), g_options.upstream_port);

  while (!g_stop) {
    if (g_dump.exchange(false)) WriteSummary();
    // Bounded: while max_connections are being served, new ones wait in the listen backlog.
    if (g_active_connections.load() >= g_options.max_connections) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    pollfd pfd{lfd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 100);
    if (ready <= 0) continue;
    int cfd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (cfd < 0) continue;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++g_counters.connections;
    ++g_active_connections;
    std::thread([cfd] {
      Connection(Socket(cfd)).Serve();
      --g_active_connections;
    }).detach();
  }
  WriteSummary();
  // Connection threads may be blocked in reads; the process ends without waiting for them.
  std::_Exit(0);
}
