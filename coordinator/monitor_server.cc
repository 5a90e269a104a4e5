// cpp-httplib is wrapped here and nowhere else.
#include "coordinator/monitor_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <thread>

#include "coordinator/status_encoding.h"

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

struct MonitorServer::Impl {
  explicit Impl(const StatusBoard& b) : board(b) {}

  void Route() {
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(RenderPrometheusMetrics(board.Read()), std::string(kPrometheusContentType));
    });
    server.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      StatusSnapshot s = board.Read();
      if (s.phase == "failed") {
        res.status = 503;
        res.set_content("failed: " + (s.error.empty() ? std::string("the run failed") : s.error) + "\n",
                        "text/plain; charset=utf-8");
      } else {
        res.set_content("ok\n", "text/plain; charset=utf-8");
      }
    });
    server.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(EncodeStatusJson(board.Read()) + "\n", "application/json");
    });
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          "loadstar coordinator\n"
          "  /metrics  Prometheus metrics (text format 0.0.4)\n"
          "  /healthz  200 ok, or 503 once the run has failed\n"
          "  /status   the run's progress as JSON (what `loadstar status` shows)\n",
          "text/plain; charset=utf-8");
    });
    server.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
    });
  }

  const StatusBoard& board;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> thread_done{false};
  bool stopped = false;  // only touched by the owner's thread
};

Result<std::unique_ptr<MonitorServer>> MonitorServer::Start(const StatusBoard& board, MonitorServerOptions options) {
  HostPort listen = options.listen;
  if (listen.host.empty()) listen.host = "127.0.0.1";
  if (listen.port < 0 || listen.port > 65535) {
    return Status::InvalidArgument("monitor port " + std::to_string(listen.port) + " is not in 0..65535");
  }
  auto impl = std::make_unique<Impl>(board);
  impl->Route();
  const int threads = options.threads > 0 ? options.threads : 1;
  impl->server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // Idle keep-alive connections hold a thread: let them go soon.
  impl->server.set_keep_alive_timeout(2);
  impl->server.set_read_timeout(5);
  impl->server.set_write_timeout(5);
  impl->server.set_payload_max_length(64 << 10);
  // Not httplib's default, which adds SO_REUSEPORT and so lets a second process bind the same
  // port silently and take half the scrapes. Close-on-exec: worker processes started later
  // must not inherit the listening socket (it would outlive this process in them).
  impl->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    fcntl(sock, F_SETFD, fcntl(sock, F_GETFD) | FD_CLOEXEC);
  });

  int port = listen.port;
  if (port == 0) {
    port = impl->server.bind_to_any_port(listen.host);
  } else if (!impl->server.bind_to_port(listen.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return Status::Unavailable("cannot listen on " + listen.ToString() +
                               " for metrics and status: the port is in use, or the host is not an address of "
                               "this machine");
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->thread_done = true;
  });
  // Stop() must not race the thread's start: httplib's stop() does nothing until the server
  // runs. listen_after_bind only returns early on an error, which ends the wait too.
  while (!raw->server.is_running() && !raw->thread_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (raw->thread_done) {
    raw->thread.join();
    return Status::Unavailable("the metrics and status server on " + listen.ToString() + " stopped as it started");
  }
  return std::unique_ptr<MonitorServer>(new MonitorServer(std::move(impl), listen.host, port));
}

MonitorServer::MonitorServer(std::unique_ptr<Impl> impl, std::string host, int port)
    : impl_(std::move(impl)), host_(std::move(host)), port_(port) {}

MonitorServer::~MonitorServer() { Stop(); }

void MonitorServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string MonitorServer::url() const {
  HostPort hp{host_, port_};
  if (hp.host == "0.0.0.0") hp.host = "127.0.0.1";
  if (hp.host == "::") hp.host = "::1";
  return "http://" + hp.ToString();
}

}  // namespace loadstar::coordinator
