// A small HTTP/1.1 client for S3: one request at a time or many at once with bounded
// concurrency, over kept-alive connections. libcurl does the work; nothing of it shows here.
//
// The client reports only transport failures as errors. Any HTTP status, 500 included, is a
// successful exchange whose meaning is for the caller to decide.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace loadstar {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  // Absolute and already percent-encoded. Sent exactly as given: "." and ".." segments are not
  // removed (S3 keys may contain them), so what is signed is what goes on the wire.
  std::string url;
  std::vector<HttpHeader> headers;  // sent as given; a Host header replaces the one derived from url
  std::string_view body;            // PUT/POST body; must stay valid until the response is handed over
};

struct HttpResponse {
  long status = 0;
  std::vector<HttpHeader> headers;  // of the final response; names lower-cased, in arrival order
  std::string body;                 // with HttpOptions::body_padding bytes of spare capacity

  // The first header called `lower_case_name`, or null.
  const std::string* FindHeader(std::string_view lower_case_name) const;
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer that moves fewer than low_speed_limit bytes/s for low_speed_time is abandoned as
  // stalled (Unavailable). This bounds a hung server without capping large, healthy downloads.
  long low_speed_limit = 1024;
  std::chrono::seconds low_speed_time{30};
  std::chrono::milliseconds total_timeout{0};  // 0: no limit beyond the stall detection above
  // https:// servers must always present a certificate that a trusted CA signed for the host
  // name in the URL; there is no way to turn that off.
  std::string ca_bundle;         // PEM file of the only CAs trusted; empty: the system's
  std::string ca_bundle_source;  // where ca_bundle was set, for messages: "AWS_CA_BUNDLE"
  // The setting that chooses ca_bundle, named in the advice of certificate errors
  // ("AWS_CA_BUNDLE"); empty: no advice.
  std::string ca_bundle_setting;
  size_t body_padding = 0;  // spare capacity left after every response body
};

// Counters since the client was made, for tests and benchmarks.
struct HttpStats {
  uint64_t requests = 0;            // exchanges attempted (retries count again)
  uint64_t connections_opened = 0;  // new TCP connections; far below `requests` when keep-alive works
  uint64_t bytes_received = 0;      // response body bytes
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one exchange. Errors are transport failures only:
  //  Unavailable: could not resolve or connect, reset, timed out or stalled (worth a retry);
  //  DataLoss: the body ended before its Content-Length (worth a retry);
  //  FailedPrecondition: the server's TLS certificate could not be verified (untrusted issuer,
  //    another host's name, expired), or ca_bundle could not be used; never worth a retry;
  //  InvalidArgument: the URL is malformed or not http(s).
  // Messages name the method and URL; header values (which may hold signatures) never appear.
  Result<HttpResponse> Send(const HttpRequest& request);

  // Builds request `index` just before it starts (so a signature is fresh on every attempt).
  using BuildFn = std::function<HttpRequest(size_t index)>;
  // Receives the outcome of request `index`. Returns nullopt when `index` is finished, or a delay
  // after which the request is built and sent again.
  using DoneFn = std::function<std::optional<std::chrono::milliseconds>(size_t index, Result<HttpResponse> result)>;

  // Performs requests 0..count-1 with at most `concurrency` in flight, reusing connections, and
  // returns when every index is finished. Both callbacks run on the calling thread.
  void SendMany(size_t count, size_t concurrency, const BuildFn& build, const DoneFn& done);

  const HttpStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loadstar
