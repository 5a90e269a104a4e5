// The coordinator/worker transport over real ZeroMQ sockets on loopback.
#include "common/transport/transport.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace loadstar::transport {
namespace {

using namespace std::chrono_literals;

std::optional<Incoming> ReceiveOne(Router* router, std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    auto wait = router->Receive(50ms);
    if (wait.ok() && wait->message) return wait->message;
  }
  return std::nullopt;
}

TEST(TransportTest, AnEnvelopeGoesBothWays) {
  auto router = Router::Bind("tcp://127.0.0.1:*");
  ASSERT_TRUE(router.ok()) << router.status().ToString();
  auto dealer = Dealer::Connect((*router)->endpoint(), "w-1");
  ASSERT_TRUE(dealer.ok());
  wire::Envelope ready;
  ready.mutable_ready()->set_worker_name("worker-1");
  ready.mutable_ready()->set_credit(2);
  ASSERT_TRUE((*dealer)->Send(ready).ok());
  auto in = ReceiveOne(router->get(), 5s);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->peer, "w-1");
  EXPECT_EQ(in->envelope.ready().worker_name(), "worker-1");
  EXPECT_EQ(in->envelope.protocol_version(), kProtocolVersion);
}

TEST(TransportTest, APortInUseIsNotTheCallersMistakeButABadEndpointIs) {
  auto first = Router::Bind("tcp://127.0.0.1:*");
  ASSERT_TRUE(first.ok());
  auto second = Router::Bind((*first)->endpoint());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
  EXPECT_NE(second.status().message().find("another coordinator"), std::string::npos);

  auto bogus = Router::Bind("bogus");
  ASSERT_FALSE(bogus.ok());
  EXPECT_EQ(bogus.status().code(), StatusCode::kInvalidArgument) << bogus.status().ToString();
}

TEST(TransportTest, AMessageOverTheCapNeverArrives) {
  auto router = Router::Bind("tcp://127.0.0.1:*");
  ASSERT_TRUE(router.ok());
  auto big = Dealer::Connect((*router)->endpoint(), "w-big");
  ASSERT_TRUE(big.ok());
  wire::Envelope env;
  env.mutable_ready()->set_worker_name(std::string(kMaxMessageBytes, 'x'));
  ASSERT_TRUE((*big)->Send(env).ok());
  EXPECT_FALSE(ReceiveOne(router->get(), 1500ms).has_value());

  // The socket still serves everyone else.
  auto small = Dealer::Connect((*router)->endpoint(), "w-small");
  ASSERT_TRUE(small.ok());
  env.mutable_ready()->set_worker_name("small");
  ASSERT_TRUE((*small)->Send(env).ok());
  auto in = ReceiveOne(router->get(), 5s);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->peer, "w-small");
}

}  // namespace
}  // namespace loadstar::transport
