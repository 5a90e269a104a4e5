// MonitorServer: a small HTTP server on its own thread that shows a running coordinator to
// machines and to `loadstar status`. It only reads a StatusBoard, taking one snapshot per
// request; it never blocks the coordinator's loop beyond the board's own short lock.
//
//   GET /metrics  the snapshot in the Prometheus text exposition format, version 0.0.4
//                 (see RenderPrometheusMetrics in status_encoding.h)
//   GET /healthz  200 "ok" unless the run has failed; 503 with the run's error when it has
//   GET /status   the snapshot as JSON (see EncodeStatusJson in status_encoding.h)
//   GET /         a short text index of the above
// HEAD is GET without the body. Other methods on these paths get 405 with "Allow: GET, HEAD";
// other paths get 404. Every response closes its connection (Connection: close), so no client
// holds one open between requests. Responses are never cached (Cache-Control: no-store).
//
// The server holds no secrets and offers no authentication: listen on a loopback address, or
// on a network where the run's figures, worker names and error text may be seen.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/core/status.h"
#include "coordinator/monitor/status_board.h"

namespace loadstar::coordinator {

// A TCP address as people write it: "HOST:PORT", "[IPv6]:PORT", or ":PORT" (host left empty).
struct HostPort {
  std::string host;  // without brackets; empty when the text gave none
  int port = 0;

  // "host:port", with brackets around an IPv6 host.
  std::string ToString() const;
};

// Parses "HOST:PORT", "[::1]:PORT" or ":PORT"; PORT is 0..65535. An "http://" prefix and one
// trailing "/" are accepted and dropped, so a URL copied from a browser works too.
// InvalidArgument (naming the text) otherwise.
Result<HostPort> ParseHostPort(std::string_view text);

// The client side, for `loadstar status`: one GET of http://`address``path` (Connection: close,
// no redirects followed), the whole exchange within `timeout`. The answer's status code and
// body, whatever the status; a body over 16 MiB is refused.
// Errors: Unavailable when nothing answered in time or the exchange broke off (the message
// says how); FailedPrecondition for a body too big.
struct HttpAnswer {
  int status = 0;
  std::string body;
};
Result<HttpAnswer> HttpGet(const HostPort& address, const std::string& path, std::chrono::milliseconds timeout);

struct MonitorServerOptions {
  // Where to listen. Host: an address or name of this machine ("0.0.0.0" for every IPv4
  // interface, "::" for every IPv6 one); empty means "127.0.0.1". Port 0 picks a free port;
  // port() tells which.
  HostPort listen{"127.0.0.1", 0};
  // Connections open at once. One thread serves them all, waiting on none: a connection costs
  // a socket and its buffer until its request is complete. When every slot is taken a new
  // connection takes the slot of the one that has waited longest for its request, so clients
  // that connect and send nothing cannot lock the others out.
  int max_connections = 256;
  // Time a connection has from being accepted to having sent its whole request (headers of
  // at most 16 KiB and a body of at most 64 KiB), however slowly it trickles in; after that
  // it is closed.
  std::chrono::milliseconds request_timeout{5000};
  // Time a client has to take its response; after that the connection is closed.
  std::chrono::milliseconds write_timeout{5000};
};

class MonitorServer {
 public:
  // Binds the address and starts serving on a thread of its own before returning, so a client
  // may connect as soon as this returns. `board` must outlive the server.
  // Errors: Unavailable when the address cannot be bound (in use, or not an address of this
  // machine; the message names it), InvalidArgument for a port outside 0..65535.
  [[nodiscard]] static Result<std::unique_ptr<MonitorServer>> Start(const StatusBoard& board,
                                                                    MonitorServerOptions options);

  // Stop()s the server.
  ~MonitorServer();

  MonitorServer(const MonitorServer&) = delete;
  MonitorServer& operator=(const MonitorServer&) = delete;

  // Stops accepting connections, closes the ones open and joins the server's thread. Idempotent; the destructor calls it.
  void Stop();

  // The port bound (the real one when the options asked for 0).
  int port() const { return port_; }
  // The host as given in the options ("127.0.0.1" when it was empty).
  const std::string& host() const { return host_; }
  // "http://HOST:PORT" with HOST a name clients can use: a wildcard host ("0.0.0.0", "::")
  // becomes the loopback address of its family.
  std::string url() const;

 private:
  struct Impl;
  MonitorServer(std::unique_ptr<Impl> impl, std::string host, int port);

  std::unique_ptr<Impl> impl_;
  // Never change after construction.
  const std::string host_;
  const int port_;
};

}  // namespace loadstar::coordinator
