#include "common/transport/transport.h"

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/core/log.h"
#include "common/transport/curve.h"

namespace loadstar::transport {
namespace {

// One context per process: sockets of the coordinator and of in-process tests share it.
zmq::context_t& Context() {
  static zmq::context_t* ctx = new zmq::context_t(1);  // never destroyed: sockets may outlive statics
  return *ctx;
}

Status Decode(const zmq::message_t& frame, wire::Envelope* out) {
  if (!out->ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return Status::InvalidArgument("a message that is not a loadstar envelope (" + std::to_string(frame.size()) +
                                   " bytes)");
  }
  if (out->protocol_version() != kProtocolVersion) {
    return Status::InvalidArgument("peer speaks protocol version " + std::to_string(out->protocol_version()) +
                                   ", this build speaks " + std::to_string(kProtocolVersion) +
                                   "; run the same loadstar version on the coordinator and the workers");
  }
  return Status::Ok();
}

// ZAP (ZeroMQ RFC 27): libzmq asks whoever serves inproc://zeromq.zap.01 in the socket's context
// whether to admit each new peer, and admits everyone when nobody serves it. One handler per
// context, so one per process; each Router gets a ZAP domain of its own naming its policy.
class ZapHandler {
 public:
  struct Policy {
    bool curve = false;
    std::set<std::string> keys;  // admitted public keys, 32 bytes each
  };

  // The process's handler, started (and bound) on first use.
  static Result<ZapHandler*> Get() {
    static std::mutex mu;
    static ZapHandler* handler = nullptr;  // never destroyed, like the context
    std::lock_guard<std::mutex> lock(mu);
    if (handler != nullptr) return handler;
    auto h = std::make_unique<ZapHandler>();
    try {
      h->socket_.set(zmq::sockopt::linger, 0);
      h->socket_.bind("inproc://zeromq.zap.01");
    } catch (const zmq::error_t& e) {
      return Status::Internal(std::string("cannot start the ZeroMQ authentication handler: ") + e.what());
    }
    handler = h.release();
    std::thread([] { handler->Run(); }).detach();
    return handler;
  }

  std::string Register(Policy policy) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string domain = "loadstar-" + std::to_string(++next_);
    domains_[domain] = std::make_shared<const Policy>(std::move(policy));
    return domain;
  }
  void Unregister(const std::string& domain) {
    std::lock_guard<std::mutex> lock(mu_);
    domains_.erase(domain);
  }

 private:
  std::shared_ptr<const Policy> Find(const std::string& domain) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = domains_.find(domain);
    return it == domains_.end() ? nullptr : it->second;
  }

  void Run() {
    for (;;) {
      std::vector<zmq::message_t> frames;
      try {
        if (!zmq::recv_multipart(socket_, std::back_inserter(frames))) continue;
      } catch (const zmq::error_t& e) {
        if (e.num() == ETERM) return;
        continue;  // EINTR; the request (if any) is still there
      }
      // version, request id, domain, address, routing id, mechanism, credentials...
      std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
      std::string status = "400", text = "refused", user;
      if (frames.size() >= 6 && frames[0].to_string() == "1.0") {
        Decide(frames, &status, &text, &user);
      }
      std::vector<zmq::message_t> reply;
      reply.emplace_back(std::string("1.0"));
      reply.emplace_back(request_id);
      reply.emplace_back(status);
      reply.emplace_back(text);
      reply.emplace_back(user);
      reply.emplace_back();  // no metadata
      try {
        zmq::send_multipart(socket_, reply);
      } catch (const zmq::error_t&) {
      }
    }
  }

  void Decide(const std::vector<zmq::message_t>& frames, std::string* status, std::string* text, std::string* user) {
    std::shared_ptr<const Policy> policy = Find(frames[2].to_string());
    if (policy == nullptr) return;  // a socket closing as a peer arrives
    const std::string address = frames[3].to_string(), mechanism = frames[5].to_string();
    if (mechanism == "NULL") {
      if (!policy->curve) *status = "200", *text = "OK";
      return;
    }
    if (mechanism != "CURVE" || !policy->curve) return;
    if (frames.size() < 7 || frames[6].size() != 32) return;
    char z85[kZ85KeyChars + 1];
    zmq_z85_encode(z85, static_cast<const uint8_t*>(frames[6].data()), 32);
    const std::string fingerprint = Fingerprint(std::string_view(z85, kZ85KeyChars));
    if (policy->keys.count(frames[6].to_string()) != 0) {
      *status = "200", *text = "OK", *user = fingerprint;
      return;
    }
    // Keyed by address: a peer trying key after key still gets one line a second.
    log::WarnThrottled("curve-refused:" + address,
                       "refused a connection from " + address + " with key " + fingerprint +
                           "...: that key is not among the coordinator's authorized keys (to admit it, add its "
                           ".pub file's line to --authorized-keys)");
    *text = "key not authorized";
  }

  zmq::socket_t socket_{Context(), zmq::socket_type::rep};
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Policy>> domains_;
  uint64_t next_ = 0;
};

Mechanism MechanismOf(const zmq::socket_t& socket) {
  try {
    switch (socket.get(zmq::sockopt::mechanism)) {
      case ZMQ_NULL: return Mechanism::kNull;
      case ZMQ_PLAIN: return Mechanism::kPlain;
      case ZMQ_CURVE: return Mechanism::kCurve;
      default: return Mechanism::kOther;
    }
  } catch (const zmq::error_t&) {
    return Mechanism::kOther;
  }
}

Status RequireLoopbackForPlaintext(const std::string& endpoint) {
  if (IsLoopbackEndpoint(endpoint)) return Status::Ok();
  return Status::InvalidArgument("plaintext (no CURVE keys) is allowed only on a loopback address, not on " + endpoint +
                                 ": give keys (see `loadstar keygen`)");
}

zmq::message_t Encode(wire::Envelope& env) {
  env.set_protocol_version(kProtocolVersion);
  zmq::message_t msg(env.ByteSizeLong());
  env.SerializeToArray(msg.data(), static_cast<int>(msg.size()));
  return msg;
}

}  // namespace

wire::FileKind ToWire(FileKind kind) {
  return kind == FileKind::kSong ? wire::FILE_KIND_SONG : wire::FILE_KIND_EVENT;
}

Result<FileKind> FromWire(wire::FileKind kind) {
  switch (kind) {
    case wire::FILE_KIND_SONG: return FileKind::kSong;
    case wire::FILE_KIND_EVENT: return FileKind::kEvent;
    default: break;
  }
  return Status::InvalidArgument("a file of kind " + std::to_string(static_cast<int>(kind)) +
                                 " on the wire, which is neither song nor event");
}

const char* MechanismName(Mechanism m) {
  switch (m) {
    case Mechanism::kNull: return "NULL";
    case Mechanism::kPlain: return "PLAIN";
    case Mechanism::kCurve: return "CURVE";
    case Mechanism::kOther: break;
  }
  return "other";
}

bool IsLoopbackEndpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  std::string rest = endpoint.substr(6);
  if (rest.find(';') != std::string::npos) return false;  // a source address: not worth the trouble
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = rest.substr(0, colon);
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  // 127.0.0.0/8, written as four decimal parts.
  if (host.rfind("127.", 0) != 0) return false;
  int parts = 2, digits = 0;
  for (size_t i = 4; i < host.size(); ++i) {
    if (host[i] == '.') {
      if (digits == 0) return false;
      ++parts, digits = 0;
    } else if (host[i] >= '0' && host[i] <= '9' && digits < 3) {
      ++digits;
    } else {
      return false;
    }
  }
  return parts == 4 && digits > 0;
}

struct Router::Impl {
  zmq::socket_t socket{Context(), zmq::socket_type::router};
  ZapHandler* zap = nullptr;
  std::string zap_domain;
  ~Impl() {
    if (zap != nullptr) zap->Unregister(zap_domain);
  }
};

Router::Router(std::unique_ptr<Impl> impl, std::string endpoint) : impl_(std::move(impl)), endpoint_(std::move(endpoint)) {}
Router::~Router() {
  // Give what was just sent (the Shutdown that tells workers the run is over) a moment to leave;
  // the context is never terminated, so closing does not wait for it.
  try {
    impl_->socket.set(zmq::sockopt::linger, 1000);
  } catch (const zmq::error_t&) {
  }
}

Result<std::unique_ptr<Router>> Router::Bind(const std::string& endpoint, std::optional<CurveServer> curve) {
  ZapHandler::Policy policy;
  if (curve.has_value()) {
    LOADSTAR_RETURN_IF_ERROR(CheckZ85Key(curve->secret_key).WithContext("the coordinator's secret key"));
    policy.curve = true;
    for (const std::string& key : curve->authorized_keys) {
      LOADSTAR_RETURN_IF_ERROR(CheckZ85Key(key).WithContext("an authorized key"));
      uint8_t binary[32];
      zmq_z85_decode(binary, key.c_str());
      policy.keys.insert(std::string(reinterpret_cast<const char*>(binary), sizeof binary));
    }
  } else {
    LOADSTAR_RETURN_IF_ERROR(RequireLoopbackForPlaintext(endpoint));
  }
  // The handler is in place before the socket binds, so no peer ever meets a socket without it.
  LOADSTAR_ASSIGN_OR_RETURN(ZapHandler * zap, ZapHandler::Get());
  auto impl = std::make_unique<Impl>();
  impl->zap = zap;
  impl->zap_domain = zap->Register(std::move(policy));
  try {
    impl->socket.set(zmq::sockopt::zap_domain, impl->zap_domain);
    if (curve.has_value()) {
      impl->socket.set(zmq::sockopt::curve_server, 1);
      impl->socket.set(zmq::sockopt::curve_secretkey, curve->secret_key);
    }
    impl->socket.set(zmq::sockopt::linger, 0);
    impl->socket.set(zmq::sockopt::router_handover, 1);  // a reconnecting worker keeps its identity
    impl->socket.set(zmq::sockopt::sndhwm, 0);
    impl->socket.set(zmq::sockopt::rcvhwm, 0);
    impl->socket.set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
    impl->socket.bind(endpoint);
    std::string bound = impl->socket.get(zmq::sockopt::last_endpoint);
    return std::unique_ptr<Router>(new Router(std::move(impl), bound));
  } catch (const zmq::error_t& e) {
    if (e.num() == EADDRINUSE) {
      // Not the caller's mistake: the port is taken (for now).
      return Status::FailedPrecondition("cannot listen on " + endpoint + ": " + e.what() +
                                        " (is another coordinator using that port? pick another with --listen)");
    }
    return Status::InvalidArgument("cannot listen on " + endpoint + ": " + e.what() +
                                   " (expected tcp://HOST:PORT with an address of this machine, or tcp://*:PORT)");
  }
}

Mechanism Router::mechanism() const { return MechanismOf(impl_->socket); }

Result<Wait> Router::Receive(std::chrono::milliseconds timeout, std::string* bad_peer) {
  Wait wait;
  try {
    zmq::pollitem_t items[] = {{impl_->socket.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, timeout);
    if ((items[0].revents & ZMQ_POLLIN) == 0) return wait;
    std::vector<zmq::message_t> frames;
    auto got = zmq::recv_multipart(impl_->socket, std::back_inserter(frames), zmq::recv_flags::dontwait);
    if (!got || frames.size() < 2) return wait;
    Incoming in;
    in.peer = frames.front().to_string();
    Status s = Decode(frames.back(), &in.envelope);
    if (!s.ok()) {
      if (bad_peer != nullptr) *bad_peer = in.peer;
      return s;
    }
    wait.message = std::move(in);
    return wait;
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return wait;
    return Status::Internal(std::string("receiving on the coordinator socket: ") + e.what());
  }
}

Status Router::Send(const std::string& peer, wire::Envelope envelope) {
  try {
    std::vector<zmq::message_t> frames;
    frames.emplace_back(peer.data(), peer.size());
    frames.push_back(Encode(envelope));
    zmq::send_multipart(impl_->socket, frames, zmq::send_flags::dontwait);
    return Status::Ok();
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH || e.num() == EAGAIN) return Status::Ok();
    return Status::Internal(std::string("sending on the coordinator socket: ") + e.what());
  }
}

struct Dealer::Impl {
  std::string endpoint;
  std::string identity;
  std::optional<CurveClient> curve;
  std::string public_key;  // curve's, derived from its secret key
  std::unique_ptr<zmq::socket_t> socket;
  // Handshake failures of `socket`, from its monitor: the only way a worker the coordinator's
  // ZAP handler refuses can learn of it (the coordinator cannot send it anything).
  std::unique_ptr<zmq::socket_t> monitor;

  void Close() {
    if (socket && monitor) (void)zmq_socket_monitor(socket->handle(), nullptr, 0);
    monitor.reset();
    socket.reset();
  }

  Status Open() {
    try {
      socket = std::make_unique<zmq::socket_t>(Context(), zmq::socket_type::dealer);
      static std::atomic<uint64_t> monitors{0};
      const std::string address = "inproc://loadstar-dealer-monitor-" + std::to_string(monitors++);
      if (zmq_socket_monitor(socket->handle(), address.c_str(),
                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0) {
        monitor = std::make_unique<zmq::socket_t>(Context(), zmq::socket_type::pair);
        monitor->set(zmq::sockopt::linger, 0);
        monitor->connect(address);
      }
      socket->set(zmq::sockopt::linger, 0);
      if (curve.has_value()) {
        socket->set(zmq::sockopt::curve_serverkey, curve->server_key);
        socket->set(zmq::sockopt::curve_publickey, public_key);
        socket->set(zmq::sockopt::curve_secretkey, curve->secret_key);
      }
      socket->set(zmq::sockopt::routing_id, identity);
      socket->set(zmq::sockopt::sndhwm, 0);
      socket->set(zmq::sockopt::rcvhwm, 0);
      socket->set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
      socket->set(zmq::sockopt::reconnect_ivl, 100);
      socket->set(zmq::sockopt::reconnect_ivl_max, 5000);
      socket->connect(endpoint);
      return Status::Ok();
    } catch (const zmq::error_t& e) {
      return Status::InvalidArgument("cannot connect to coordinator " + endpoint + ": " + e.what() +
                                     " (expected tcp://HOST:PORT)");
    }
  }
};

Dealer::Dealer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dealer::~Dealer() { impl_->Close(); }

namespace {

// One event of a socket monitor (two frames: event and value, then the endpoint), as a sentence
// for the worker's log; "" for events that are not handshake failures.
std::string DescribeHandshakeFailure(zmq::socket_t& monitor, const std::string& endpoint, bool curve,
                                     const std::string& public_key) {
  zmq::message_t event, address;
  if (!monitor.recv(event, zmq::recv_flags::dontwait)) return "";
  if (event.more()) (void)monitor.recv(address, zmq::recv_flags::dontwait);
  if (event.size() < 6) return "";
  uint16_t id;
  uint32_t value;
  std::memcpy(&id, event.data(), 2);
  std::memcpy(&value, static_cast<const char*>(event.data()) + 2, 4);
  if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
    return "the coordinator at " + endpoint + " refused this worker's key (fingerprint " + Fingerprint(public_key) +
           ", ZAP status " + std::to_string(value) + "): add the line of this worker's .pub file to the file the "
           "coordinator reads with --authorized-keys, and start the coordinator again";
  }
  if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    return std::string("the handshake with the coordinator at ") + endpoint + " failed: " +
           (curve ? "is --coordinator-key the coordinator's public key, and does the coordinator use CURVE (not "
                    "--insecure-plaintext)?"
                  : "this worker speaks plaintext (--insecure-plaintext); the coordinator probably expects CURVE keys");
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<Dealer>> Dealer::Connect(const std::string& endpoint, const std::string& identity,
                                                std::optional<CurveClient> curve) {
  auto impl = std::make_unique<Impl>();
  impl->endpoint = endpoint;
  impl->identity = identity;
  if (curve.has_value()) {
    LOADSTAR_RETURN_IF_ERROR(CheckZ85Key(curve->server_key).WithContext("the coordinator's public key"));
    auto public_key = PublicKeyOf(curve->secret_key);
    if (!public_key.ok()) return public_key.status().WithContext("this worker's secret key");
    impl->public_key = *public_key;
    impl->curve = std::move(curve);
  } else {
    LOADSTAR_RETURN_IF_ERROR(RequireLoopbackForPlaintext(endpoint));
  }
  LOADSTAR_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<Dealer>(new Dealer(std::move(impl)));
}

Status Dealer::Reconnect() {
  impl_->Close();
  return impl_->Open();
}

Mechanism Dealer::mechanism() const { return MechanismOf(*impl_->socket); }

Result<Wait> Dealer::Receive(std::chrono::milliseconds timeout, int wake_fd) {
  Wait wait;
  try {
    std::vector<zmq::pollitem_t> items = {{impl_->socket->handle(), 0, ZMQ_POLLIN, 0}};
    const size_t monitor_index = impl_->monitor ? items.size() : 0;
    if (impl_->monitor) items.push_back({impl_->monitor->handle(), 0, ZMQ_POLLIN, 0});
    const size_t wake_index = wake_fd >= 0 ? items.size() : 0;
    if (wake_fd >= 0) items.push_back({nullptr, wake_fd, ZMQ_POLLIN, 0});
    zmq::poll(items.data(), items.size(), timeout);
    wait.woken = wake_index > 0 && (items[wake_index].revents & ZMQ_POLLIN) != 0;
    if (monitor_index > 0 && (items[monitor_index].revents & ZMQ_POLLIN) != 0) {
      wait.refused = DescribeHandshakeFailure(*impl_->monitor, impl_->endpoint, impl_->curve.has_value(),
                                              impl_->public_key);
    }
    if ((items[0].revents & ZMQ_POLLIN) == 0) return wait;
    zmq::message_t frame;
    if (!impl_->socket->recv(frame, zmq::recv_flags::dontwait)) return wait;
    Incoming in;
    LOADSTAR_RETURN_IF_ERROR(Decode(frame, &in.envelope));
    wait.message = std::move(in);
    return wait;
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return wait;
    return Status::Internal(std::string("receiving on the worker socket: ") + e.what());
  }
}

Status Dealer::Send(wire::Envelope envelope) {
  try {
    impl_->socket->send(Encode(envelope), zmq::send_flags::dontwait);
    return Status::Ok();
  } catch (const zmq::error_t& e) {
    if (e.num() == EAGAIN) return Status::Unavailable("the coordinator is not accepting messages");
    return Status::Internal(std::string("sending on the worker socket: ") + e.what());
  }
}

}  // namespace loadstar::transport
