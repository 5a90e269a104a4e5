#include "common/transport/transport.h"

#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

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

struct Router::Impl {
  zmq::socket_t socket{Context(), zmq::socket_type::router};
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

Result<std::unique_ptr<Router>> Router::Bind(const std::string& endpoint) {
  auto impl = std::make_unique<Impl>();
  try {
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
  std::unique_ptr<zmq::socket_t> socket;

  Status Open() {
    try {
      socket = std::make_unique<zmq::socket_t>(Context(), zmq::socket_type::dealer);
      socket->set(zmq::sockopt::linger, 0);
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
Dealer::~Dealer() = default;

Result<std::unique_ptr<Dealer>> Dealer::Connect(const std::string& endpoint, const std::string& identity) {
  auto impl = std::make_unique<Impl>();
  impl->endpoint = endpoint;
  impl->identity = identity;
  LOADSTAR_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<Dealer>(new Dealer(std::move(impl)));
}

Status Dealer::Reconnect() {
  impl_->socket.reset();
  return impl_->Open();
}

Result<Wait> Dealer::Receive(std::chrono::milliseconds timeout, int wake_fd) {
  Wait wait;
  try {
    zmq::pollitem_t items[2] = {{impl_->socket->handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wake_fd, ZMQ_POLLIN, 0}};
    zmq::poll(items, wake_fd >= 0 ? 2 : 1, timeout);
    wait.woken = wake_fd >= 0 && (items[1].revents & ZMQ_POLLIN) != 0;
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
