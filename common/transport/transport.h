// Transport: the coordinator's ROUTER and the workers' DEALER sockets, carrying one protobuf
// Envelope per message (ZeroMQ and protobuf framing are wrapped here and nowhere else).
//
// Every envelope sent carries kProtocolVersion; a received envelope of another version is
// reported as InvalidArgument so the caller can refuse the peer instead of misreading it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/file_kind.h"
#include "common/core/status.h"
#include "loadstar.pb.h"

namespace loadstar::transport {

inline constexpr uint32_t kProtocolVersion = 1;

// The wire's name for a file's kind, and back: the one place the two enums meet. A kind the wire
// does not name (FILE_KIND_UNSPECIFIED, or a value from a newer peer) is InvalidArgument.
wire::FileKind ToWire(FileKind kind);
Result<FileKind> FromWire(wire::FileKind kind);

// The largest message either side accepts (ZMQ_MAXMSGSIZE on every socket). A peer that sends a
// larger one is disconnected by ZeroMQ before the message is read into memory. The largest real
// message, a task of a few thousand file names or its result, is far below this.
inline constexpr int64_t kMaxMessageBytes = 16ll << 20;

// How a socket's peers are authenticated and its traffic protected (ZMQ_MECHANISM).
enum class Mechanism { kNull, kPlain, kCurve, kOther };
const char* MechanismName(Mechanism m);  // "NULL", "PLAIN", "CURVE", "other"

// The coordinator's side of CURVE: its own key pair and the workers it admits. Keys are Z85
// text (common/transport/curve.h reads them from files). A peer whose public key is not listed
// is refused during the handshake (by the ZAP handler every Router installs), before a single
// message of it is read, and the refusal is logged (throttled) with the key's fingerprint and
// the peer's address.
struct CurveServer {
  std::string secret_key;
  std::vector<std::string> authorized_keys;
};

// A worker's side of CURVE: its own secret key (the public key follows from it) and the
// coordinator's public key.
struct CurveClient {
  std::string secret_key;
  std::string server_key;
};

// True for endpoints whose traffic stays on this machine: tcp:// on 127.0.0.0/8, [::1] or
// localhost, and ipc:// and inproc://. Plaintext is allowed only on these.
bool IsLoopbackEndpoint(const std::string& endpoint);

struct Incoming {
  std::string peer;  // ROUTER only: the sender's routing id
  wire::Envelope envelope;
};

// What a wait returned: a message, a wake-up on the extra file descriptor, or neither (timeout).
struct Wait {
  std::optional<Incoming> message;
  bool woken = false;
  // Worker side: the coordinator turned this connection away during the handshake (its ZAP
  // handler refused this worker's key, or the two ends disagree on CURVE): what happened and
  // what to check. The socket keeps trying.
  std::string refused;
};

class Router {
 public:
  // Binds e.g. "tcp://*:5570", or "tcp://127.0.0.1:*" for an ephemeral port. With `curve`,
  // every connection is encrypted and only its authorized keys get in; without it the socket
  // speaks plaintext (ZeroMQ's NULL mechanism) to anyone, which is InvalidArgument unless the
  // endpoint is a loopback one (IsLoopbackEndpoint).
  static Result<std::unique_ptr<Router>> Bind(const std::string& endpoint,
                                              std::optional<CurveServer> curve = std::nullopt);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // The endpoint actually bound, with the port resolved: "tcp://127.0.0.1:41234".
  const std::string& endpoint() const { return endpoint_; }
  // The security mechanism the socket speaks (kCurve unless bound without CURVE).
  Mechanism mechanism() const;

  // Waits up to `timeout` for one message. InvalidArgument (with `peer` set in *bad_peer) when a
  // peer spoke another protocol version or sent bytes that are not an envelope.
  Result<Wait> Receive(std::chrono::milliseconds timeout, std::string* bad_peer = nullptr);
  // Sends to `peer`; a peer that has gone away is not an error (heartbeats find that out).
  Status Send(const std::string& peer, wire::Envelope envelope);

 private:
  struct Impl;
  explicit Router(std::unique_ptr<Impl> impl, std::string endpoint);
  std::unique_ptr<Impl> impl_;
  std::string endpoint_;
};

class Dealer {
 public:
  // Connects to e.g. "tcp://coordinator:5570". ZeroMQ connects in the background; messages
  // queue until the connection is up. `identity` stays the same across Reconnect(). With
  // `curve` the connection is encrypted and the coordinator must hold `curve->server_key`'s
  // secret; without it, plaintext, which is InvalidArgument unless the endpoint is loopback.
  static Result<std::unique_ptr<Dealer>> Connect(const std::string& endpoint, const std::string& identity,
                                                 std::optional<CurveClient> curve = std::nullopt);
  ~Dealer();
  Dealer(const Dealer&) = delete;
  Dealer& operator=(const Dealer&) = delete;

  // Drops the socket (and anything queued on it) and connects again.
  Status Reconnect();
  Mechanism mechanism() const;

  // Waits up to `timeout` for a message, or for `wake_fd` (if >= 0) to become readable.
  Result<Wait> Receive(std::chrono::milliseconds timeout, int wake_fd = -1);
  Status Send(wire::Envelope envelope);

 private:
  struct Impl;
  explicit Dealer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace loadstar::transport
