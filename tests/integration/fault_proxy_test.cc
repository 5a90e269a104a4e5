// The fault proxy (tests/tools/fault_proxy.cc) itself, between a raw HTTP client and a scripted
// upstream: each kind of fault reaches the client as described, and the summary counts exactly
// the faults the client was given. The fault tests read that summary as evidence that loadstar
// met every kind of fault, so it must not count a fault the client never saw.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/scripted_http_server.h"
#include "tests/support/fault_proxy_process.h"
#include "tests/support/process.h"

namespace loadstar::testing {
namespace {

using Clock = std::chrono::steady_clock;

// What the client saw of one request on a connection of its own.
struct Exchange {
  enum class End { kFin, kReset, kTimeout, kNoConnection };
  std::string received;
  End end = End::kNoConnection;
  double head_to_body_s = 0;  // from the end of the response head to the last byte

  std::string StatusLine() const { return received.substr(0, received.find("\r\n")); }
};

const char* EndName(Exchange::End e) {
  switch (e) {
    case Exchange::End::kFin: return "closed (FIN)";
    case Exchange::End::kReset: return "reset (RST)";
    case Exchange::End::kTimeout: return "still open after 10 s";
    case Exchange::End::kNoConnection: return "no connection";
  }
  return "?";
}

constexpr const char* kRequest = "GET /sparkify/log_data/day.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

// Sends kRequest to 127.0.0.1:`port` and reads until the proxy closes or resets the connection.
Exchange Send(int port) {
  Exchange x;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return x;
  }
  const std::string request = kRequest;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return x;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  Clock::time_point head_at{}, last_at{};
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      x.end = Exchange::End::kTimeout;
      break;
    }
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      x.received.append(buf, static_cast<size_t>(n));
      last_at = Clock::now();
      if (head_at == Clock::time_point{} && x.received.find("\r\n\r\n") != std::string::npos) head_at = last_at;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    x.end = n == 0 ? Exchange::End::kFin : errno == ECONNRESET ? Exchange::End::kReset : Exchange::End::kTimeout;
    break;
  }
  if (head_at != Clock::time_point{}) x.head_to_body_s = std::chrono::duration<double>(last_at - head_at).count();
  ::close(fd);
  return x;
}

// The upstream's one answer: a 200 with a 4,000-byte body.
const std::string& UpstreamBody() {
  static const std::string body = [] {
    std::string b;
    for (int i = 0; b.size() < 4000; ++i) b += "{\"line\":" + std::to_string(i) + "}\n";
    b.resize(4000);
    return b;
  }();
  return body;
}
ScriptedHttpServer::Reply UpstreamReply() {
  return ScriptedHttpServer::Respond(200, UpstreamBody(), "ETag: \"0123456789abcdef\"\r\n");
}
size_t HeadLength(const std::string& raw) { return raw.find("\r\n\r\n") + 4; }

// Every counter of the summary that a test does not name must be 0.
void ExpectCounts(std::map<std::string, uint64_t> got, const std::map<std::string, uint64_t>& want) {
  for (const auto& [name, value] : want) {
    EXPECT_EQ(got[name], value) << name;
    got.erase(name);
  }
  got.erase("connections");
  for (const auto& [name, value] : got) EXPECT_EQ(value, 0u) << name;
}

constexpr int kRequests = 3;

class FaultProxyTest : public ::testing::Test {
 protected:
  // Starts the proxy in front of `upstream_port`, every request given the fault `rate` names
  // (none when null).
  static std::unique_ptr<FaultProxyProcess> Proxy(int upstream_port, double FaultProxyProcess::Options::*rate,
                                                  int delay_ms = 1500) {
    FaultProxyProcess::Options o;
    o.upstream_port = upstream_port;
    o.seed = 7;
    if (rate != nullptr) o.*rate = 1.0;
    o.delay_ms = delay_ms;
    return FaultProxyProcess::Start(o);
  }
  static int Port(const FaultProxyProcess& p) {
    const std::string e = p.endpoint();
    return std::stoi(e.substr(e.rfind(':') + 1));
  }
};

TEST_F(FaultProxyTest, WithoutFaultsEveryResponseIsForwardedAsTheUpstreamSentIt) {
  ScriptedHttpServer upstream({UpstreamReply()});
  auto proxy = Proxy(upstream.port(), nullptr);
  ASSERT_NE(proxy, nullptr);
  for (int i = 0; i < kRequests; ++i) {
    Exchange x = Send(Port(*proxy));
    EXPECT_EQ(x.received, UpstreamReply().raw);
    EXPECT_EQ(x.end, Exchange::End::kFin) << EndName(x.end);
  }
  EXPECT_EQ(upstream.request_count(), static_cast<size_t>(kRequests));
  ExpectCounts(proxy->Stop(), {{"requests", kRequests}, {"forwarded", kRequests}});
}

TEST_F(FaultProxyTest, SlowdownAnswers503SlowDownWithoutAskingTheUpstream) {
  ScriptedHttpServer upstream({UpstreamReply()});
  auto proxy = Proxy(upstream.port(), &FaultProxyProcess::Options::slowdown);
  ASSERT_NE(proxy, nullptr);
  for (int i = 0; i < kRequests; ++i) {
    Exchange x = Send(Port(*proxy));
    EXPECT_EQ(x.StatusLine(), "HTTP/1.1 503 Slow Down") << x.received;
    EXPECT_NE(x.received.find("<Code>SlowDown</Code>"), std::string::npos) << x.received;
    EXPECT_NE(x.received.find("<Resource>/sparkify/log_data/day.json</Resource>"), std::string::npos) << x.received;
    const size_t head = HeadLength(x.received);
    EXPECT_NE(x.received.find("Content-Length: " + std::to_string(x.received.size() - head) + "\r\n"),
              std::string::npos)
        << x.received;
  }
  EXPECT_EQ(upstream.request_count(), 0u);
  ExpectCounts(proxy->Stop(), {{"requests", kRequests}, {"slowdown_503", kRequests}});
}

TEST_F(FaultProxyTest, Error500AnswersInternalErrorWithoutAskingTheUpstream) {
  ScriptedHttpServer upstream({UpstreamReply()});
  auto proxy = Proxy(upstream.port(), &FaultProxyProcess::Options::error500);
  ASSERT_NE(proxy, nullptr);
  for (int i = 0; i < kRequests; ++i) {
    Exchange x = Send(Port(*proxy));
    EXPECT_EQ(x.StatusLine(), "HTTP/1.1 500 Internal Server Error") << x.received;
    EXPECT_NE(x.received.find("<Code>InternalError</Code>"), std::string::npos) << x.received;
  }
  EXPECT_EQ(upstream.request_count(), 0u);
  ExpectCounts(proxy->Stop(), {{"requests", kRequests}, {"error_500", kRequests}});
}

TEST_F(FaultProxyTest, ResetBeforeResetsTheConnectionWithoutAByte) {
  ScriptedHttpServer upstream({UpstreamReply()});
  auto proxy = Proxy(upstream.port(), &FaultProxyProcess::Options::reset_before);
  ASSERT_NE(proxy, nullptr);
  for (int i = 0; i < kRequests; ++i) {
    Exchange x = Send(Port(*proxy));
    EXPECT_EQ(x.received, "");
    EXPECT_EQ(x.end, Exchange::End::kReset) << EndName(x.end);
  }
  EXPECT_EQ(upstream.request_count(), 0u);
  ExpectCounts(proxy->Stop(), {{"requests", kRequests}, {"reset_before_response", kRequests}});
}

TEST_F(FaultProxyTest, ResetMidSendsTheHeadAndHalfTheBodyThenResets) {
  ScriptedHttpServer upstream({UpstreamReply()});
  auto proxy = Proxy(upstream.port(), &FaultProxyProcess::Options::reset_mid);
  ASSERT_NE(proxy, nullptr);
  const std::string raw = UpstreamReply().raw;
  for (int i = 0; i < kRequests; ++i) {
    Exchange x = Send(Port(*proxy));
    EXPECT_EQ(x.received, raw.substr(0, HeadLength(raw) + UpstreamBody().size() / 2));
    EXPECT_EQ(x.end, Exchange::End::kReset) << EndName(x.end);
  }
  EXPECT_EQ(upstream.request_count(), static_cast<size_t>(kRequests));
  ExpectCounts(proxy->Stop(), {{"requests", kRequests}, {"reset_mid_response", kRequests}});
}

TEST_F(FaultProxyTest, TruncateSendsFewerBytesThanContentLengthThenClosesNormally) {
  ScriptedHttpServer upstream({UpstreamReply()});
  auto proxy = Proxy(upstream.port(), &FaultProxyProcess::Options::truncate);
  ASSERT_NE(proxy, nullptr);
  const std::string raw = UpstreamReply().raw;
  for (int i = 0; i < kRequests; ++i) {
    Exchange x = Send(Port(*proxy));
    EXPECT_EQ(x.received, raw.substr(0, HeadLength(raw) + UpstreamBody().size() / 2));
    EXPECT_NE(x.received.find("Content-Length: 4000\r\n"), std::string::npos) << x.received;
    EXPECT_EQ(x.end, Exchange::End::kFin) << EndName(x.end);
  }
  EXPECT_EQ(upstream.request_count(), static_cast<size_t>(kRequests));
  ExpectCounts(proxy->Stop(), {{"requests", kRequests}, {"truncated_body", kRequests}});
}

TEST_F(FaultProxyTest, DelayHoldsTheBodyBackThenSendsItInFull) {
  ScriptedHttpServer upstream({UpstreamReply()});
  auto proxy = Proxy(upstream.port(), &FaultProxyProcess::Options::delay, /*delay_ms=*/400);
  ASSERT_NE(proxy, nullptr);
  for (int i = 0; i < kRequests; ++i) {
    Exchange x = Send(Port(*proxy));
    EXPECT_EQ(x.received, UpstreamReply().raw);
    EXPECT_EQ(x.end, Exchange::End::kFin) << EndName(x.end);
    EXPECT_GE(x.head_to_body_s, 0.35);
  }
  ExpectCounts(proxy->Stop(), {{"requests", kRequests}, {"delayed", kRequests}, {"forwarded", kRequests}});
}

// When the upstream cannot answer, the client gets a 502 instead of the fault picked for the
// request: the fault was not delivered and must not be counted.
TEST_F(FaultProxyTest, AFaultThatNeedsTheUpstreamIsNotCountedWhenTheUpstreamFails) {
  const int nobody = FreeTcpPort();  // nothing listens there
  ASSERT_GT(nobody, 0);
  for (auto [rate, name] : std::vector<std::pair<double FaultProxyProcess::Options::*, const char*>>{
           {&FaultProxyProcess::Options::reset_mid, "reset_mid_response"},
           {&FaultProxyProcess::Options::truncate, "truncated_body"},
           {&FaultProxyProcess::Options::delay, "delayed"}}) {
    SCOPED_TRACE(name);
    auto proxy = Proxy(nobody, rate, /*delay_ms=*/100);
    ASSERT_NE(proxy, nullptr);
    for (int i = 0; i < kRequests; ++i) {
      Exchange x = Send(Port(*proxy));
      EXPECT_EQ(x.StatusLine(), "HTTP/1.1 502 Bad Gateway") << x.received;
    }
    ExpectCounts(proxy->Stop(), {{"requests", kRequests}, {"upstream_errors", kRequests}});
  }
}

// Every kind at once, from one seed: classified by what the client saw, the faults delivered are
// exactly the ones the summary counts.
TEST_F(FaultProxyTest, MixedFaultsAreCountedExactlyAsTheClientSawThem) {
  ScriptedHttpServer upstream({UpstreamReply()});
  FaultProxyProcess::Options o;
  o.upstream_port = upstream.port();
  o.seed = 20181101;
  o.slowdown = o.error500 = o.reset_before = o.reset_mid = o.truncate = o.delay = 0.12;
  o.delay_ms = 300;
  auto proxy = FaultProxyProcess::Start(o);
  ASSERT_NE(proxy, nullptr);
  const std::string raw = UpstreamReply().raw;
  const std::string half = raw.substr(0, HeadLength(raw) + UpstreamBody().size() / 2);
  constexpr int kMixed = 60;
  std::map<std::string, uint64_t> seen;
  for (int i = 0; i < kMixed; ++i) {
    Exchange x = Send(Port(*proxy));
    std::string kind;
    if (x.StatusLine() == "HTTP/1.1 503 Slow Down") {
      kind = "slowdown_503";
    } else if (x.StatusLine() == "HTTP/1.1 500 Internal Server Error") {
      kind = "error_500";
    } else if (x.received.empty() && x.end == Exchange::End::kReset) {
      kind = "reset_before_response";
    } else if (x.received == half && x.end == Exchange::End::kReset) {
      kind = "reset_mid_response";
    } else if (x.received == half && x.end == Exchange::End::kFin) {
      kind = "truncated_body";
    } else if (x.received == raw && x.end == Exchange::End::kFin) {
      kind = x.head_to_body_s >= 0.25 ? "delayed" : "none";
      ++seen["forwarded"];
    } else {
      ADD_FAILURE() << "request " << i << ": unexpected answer, " << EndName(x.end) << ":\n" << x.received;
      continue;
    }
    ++seen[kind];
  }
  const uint64_t clean = seen["none"];
  seen.erase("none");
  // Every kind came up at least once, so each count below was tested.
  for (const char* kind :
       {"slowdown_503", "error_500", "reset_before_response", "reset_mid_response", "truncated_body", "delayed"}) {
    EXPECT_GE(seen[kind], 1u) << kind;
  }
  EXPECT_GE(clean, 1u);
  seen["requests"] = kMixed;
  ExpectCounts(proxy->Stop(), seen);
}

}  // namespace
}  // namespace loadstar::testing
