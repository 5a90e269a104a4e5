// CURVE on the coordinator/worker transport over real ZeroMQ sockets on loopback: who gets in,
// what is logged about those who do not, the message cap, plaintext's limits, and key files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "common/core/log.h"
#include "common/transport/curve.h"
#include "common/transport/transport.h"
#include "tests/support/test_env.h"

namespace loadstar::transport {
namespace {

using namespace std::chrono_literals;

KeyPair Keys() {
  auto k = GenerateKeyPair();
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  return k.ok() ? *k : KeyPair{};
}

std::optional<Incoming> ReceiveOne(Router* router, std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    auto wait = router->Receive(50ms);
    if (wait.ok() && wait->message) return wait->message;
  }
  return std::nullopt;
}

wire::Envelope Ready(const std::string& name) {
  wire::Envelope env;
  env.mutable_ready()->set_worker_name(name);
  env.mutable_ready()->set_credit(1);
  return env;
}

// Every log line written while it lives.
class LogCapture {
 public:
  LogCapture() {
    log::SetSink([this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      text_.append(line);
    });
  }
  ~LogCapture() { log::SetSink(nullptr); }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  std::mutex mu_;
  std::string text_;
};

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct CurveSetup {
  KeyPair coordinator = Keys(), worker = Keys(), stranger = Keys();
  std::unique_ptr<Router> router;

  CurveSetup() {
    auto r = Router::Bind("tcp://127.0.0.1:*", CurveServer{coordinator.secret_key, {worker.public_key}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) router = std::move(r).value();
  }
  std::unique_ptr<Dealer> Connect(const std::string& identity, const KeyPair& as) {
    auto d = Dealer::Connect(router->endpoint(), identity, CurveClient{as.secret_key, coordinator.public_key});
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? std::move(d).value() : nullptr;
  }
};

TEST(CurveTest, AnAuthorizedWorkerTalksBothWaysOverCurve) {
  CurveSetup s;
  ASSERT_NE(s.router, nullptr);
  EXPECT_EQ(s.router->mechanism(), Mechanism::kCurve);
  auto dealer = s.Connect("w-1", s.worker);
  ASSERT_NE(dealer, nullptr);
  EXPECT_EQ(dealer->mechanism(), Mechanism::kCurve);
  ASSERT_TRUE(dealer->Send(Ready("worker-1")).ok());
  auto in = ReceiveOne(s.router.get(), 5s);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->peer, "w-1");
  EXPECT_EQ(in->envelope.ready().worker_name(), "worker-1");

  wire::Envelope back;
  back.mutable_heartbeat();
  ASSERT_TRUE(s.router->Send(in->peer, back).ok());
  bool heard = false;
  for (auto until = std::chrono::steady_clock::now() + 5s; !heard && std::chrono::steady_clock::now() < until;) {
    auto w = dealer->Receive(50ms);
    heard = w.ok() && w->message && w->message->envelope.has_heartbeat();
  }
  EXPECT_TRUE(heard);
}

TEST(CurveTest, AnUnlistedKeyGetsNothingThroughAndIsLoggedWithItsFingerprintAndAddress) {
  LogCapture logged;
  CurveSetup s;
  ASSERT_NE(s.router, nullptr);
  auto stranger = s.Connect("w-stranger", s.stranger);
  ASSERT_NE(stranger, nullptr);
  ASSERT_TRUE(stranger->Send(Ready("stranger")).ok());
  EXPECT_FALSE(ReceiveOne(s.router.get(), 1500ms).has_value());
  const std::string text = logged.text();
  EXPECT_NE(text.find("refused a connection from 127.0.0.1 with key " + Fingerprint(s.stranger.public_key)),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find(s.stranger.secret_key), std::string::npos);
  EXPECT_EQ(text.find(s.coordinator.secret_key), std::string::npos);

  // The listed worker still gets in.
  auto worker = s.Connect("w-listed", s.worker);
  ASSERT_TRUE(worker->Send(Ready("listed")).ok());
  auto in = ReceiveOne(s.router.get(), 5s);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->peer, "w-listed");
}

TEST(CurveTest, APlaintextPeerOrAWrongCoordinatorKeyGetsNothingThrough) {
  CurveSetup s;
  ASSERT_NE(s.router, nullptr);
  auto plain = Dealer::Connect(s.router->endpoint(), "w-plain");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ((*plain)->mechanism(), Mechanism::kNull);
  ASSERT_TRUE((*plain)->Send(Ready("plain")).ok());
  // A listed worker that was told another coordinator's key.
  auto misled = Dealer::Connect(s.router->endpoint(), "w-misled", CurveClient{s.worker.secret_key, Keys().public_key});
  ASSERT_TRUE(misled.ok());
  ASSERT_TRUE((*misled)->Send(Ready("misled")).ok());
  EXPECT_FALSE(ReceiveOne(s.router.get(), 1500ms).has_value());
}

TEST(CurveTest, ACurveWorkerCannotTalkToAPlaintextCoordinator) {
  KeyPair worker = Keys();
  auto router = Router::Bind("tcp://127.0.0.1:*");
  ASSERT_TRUE(router.ok());
  EXPECT_EQ((*router)->mechanism(), Mechanism::kNull);
  auto dealer = Dealer::Connect((*router)->endpoint(), "w-curve", CurveClient{worker.secret_key, Keys().public_key});
  ASSERT_TRUE(dealer.ok());
  ASSERT_TRUE((*dealer)->Send(Ready("curve")).ok());
  EXPECT_FALSE(ReceiveOne(router->get(), 1000ms).has_value());
}

TEST(CurveTest, EachRouterAdmitsOnlyItsOwnKeys) {
  CurveSetup a, b;
  ASSERT_NE(a.router, nullptr);
  ASSERT_NE(b.router, nullptr);
  // a's worker, with b's coordinator key, at b: b does not list it.
  auto d = Dealer::Connect(b.router->endpoint(), "w-a", CurveClient{a.worker.secret_key, b.coordinator.public_key});
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->Send(Ready("a")).ok());
  EXPECT_FALSE(ReceiveOne(b.router.get(), 1000ms).has_value());
  auto ok = b.Connect("w-b", b.worker);
  ASSERT_TRUE(ok->Send(Ready("b")).ok());
  auto in = ReceiveOne(b.router.get(), 5s);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->peer, "w-b");
}

TEST(CurveTest, TheMessageCapHoldsOverCurve) {
  CurveSetup s;
  ASSERT_NE(s.router, nullptr);
  auto big = s.Connect("w-big", s.worker);
  ASSERT_TRUE(big->Send(Ready(std::string(kMaxMessageBytes, 'x'))).ok());
  EXPECT_FALSE(ReceiveOne(s.router.get(), 2000ms).has_value());
  auto small = s.Connect("w-small", s.worker);
  ASSERT_TRUE(small->Send(Ready("small")).ok());
  auto in = ReceiveOne(s.router.get(), 5s);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->peer, "w-small");
}

TEST(CurveTest, AFloodOfStrangersIsLoggedBrieflyAndTheWorkerStillGetsIn) {
  LogCapture logged;
  CurveSetup s;
  ASSERT_NE(s.router, nullptr);
  const auto started = std::chrono::steady_clock::now();
  {
    std::vector<std::unique_ptr<Dealer>> strangers;
    for (int i = 0; i < 100; ++i) {
      strangers.push_back(s.Connect("stranger-" + std::to_string(i), Keys()));
      for (int j = 0; j < 10; ++j) ASSERT_TRUE(strangers.back()->Send(Ready("stranger")).ok());
    }
    EXPECT_FALSE(ReceiveOne(s.router.get(), 1000ms).has_value());
  }
  auto worker = s.Connect("w-listed", s.worker);
  ASSERT_TRUE(worker->Send(Ready("listed")).ok());
  auto in = ReceiveOne(s.router.get(), 5s);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->peer, "w-listed");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const size_t lines = Occurrences(logged.text(), "refused a connection");
  EXPECT_GE(lines, 1u);
  // One line a second per address (all of them are 127.0.0.1), whatever the number of keys.
  EXPECT_LE(lines, static_cast<size_t>(seconds) + 2) << logged.text();
}

TEST(CurveTest, PlaintextIsAllowedOnlyOnLoopback) {
  auto wide = Router::Bind("tcp://*:0");
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wide.status().message().find("loopback"), std::string::npos) << wide.status().ToString();
  auto remote = Dealer::Connect("tcp://192.0.2.1:5570", "w");
  ASSERT_FALSE(remote.ok());
  EXPECT_EQ(remote.status().code(), StatusCode::kInvalidArgument);
  // With keys, any address will do.
  KeyPair k = Keys();
  auto wide_curve = Router::Bind("tcp://*:*", CurveServer{k.secret_key, {Keys().public_key}});
  ASSERT_TRUE(wide_curve.ok()) << wide_curve.status().ToString();
  EXPECT_EQ((*wide_curve)->mechanism(), Mechanism::kCurve);

  for (const char* yes : {"tcp://127.0.0.1:5570", "tcp://127.1.2.3:*", "tcp://localhost:1", "tcp://[::1]:5570",
                          "ipc:///tmp/x", "inproc://x"}) {
    EXPECT_TRUE(IsLoopbackEndpoint(yes)) << yes;
  }
  for (const char* no : {"tcp://*:5570", "tcp://0.0.0.0:5570", "tcp://10.0.0.1:5570", "tcp://127.0.0.1.evil.com:1",
                         "tcp://127.0.0:1", "tcp://localhost.example:1", "tcp://eth0;127.0.0.1:1", "bogus"}) {
    EXPECT_FALSE(IsLoopbackEndpoint(no)) << no;
  }
}

TEST(CurveKeysTest, KeyPairsAreWrittenPrivatelyReadBackAndNeverOverwritten) {
  const std::string dir = testing::TempDir("curve-keys");
  KeyPair k = Keys();
  ASSERT_TRUE(WriteKeyPair(dir + "/w", k).ok());
  struct stat st {};
  ASSERT_EQ(stat((dir + "/w.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto secret = ReadSecretKeyFile(dir + "/w.key");
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(*secret, k.secret_key);
  auto pub = ReadPublicKey(dir + "/w.pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, k.public_key);
  EXPECT_EQ(*PublicKeyOf(k.secret_key), k.public_key);

  Status again = WriteKeyPair(dir + "/w", Keys());
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition) << again.ToString();
  EXPECT_EQ(*ReadSecretKeyFile(dir + "/w.key"), k.secret_key);
}

TEST(CurveKeysTest, AuthorizedKeysTakeCommentsAndNoKeyStartsWithAHash) {
  const std::string dir = testing::TempDir("curve-authorized");
  // '#' is a Z85 character but can never come first, so '#' lines are always comments.
  for (int i = 0; i < 2000; ++i) ASSERT_NE(Keys().public_key[0], '#');
  const std::string plain = Keys().public_key, other = Keys().public_key;
  {
    std::ofstream f(dir + "/authorized");
    f << "# workers of host-b\n\n" << plain << "  worker-1 on host-b\n" << other << "\n   # indented comment\n";
  }
  auto keys = ReadAuthorizedKeys(dir + "/authorized");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, (std::vector<std::string>{plain, other}));

  // A broken line is named by its number, and its text (a secret pasted by mistake?) is not echoed.
  const std::string secret = Keys().secret_key;
  {
    std::ofstream f(dir + "/broken");
    f << plain << "\n" << secret.substr(0, 39) << "\n";
  }
  auto broken = ReadAuthorizedKeys(dir + "/broken");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("line 2"), std::string::npos) << broken.status().ToString();
  EXPECT_EQ(broken.status().message().find(secret.substr(0, 39)), std::string::npos);

  std::ofstream(dir + "/empty") << "# nobody yet\n";
  EXPECT_FALSE(ReadAuthorizedKeys(dir + "/empty").ok());
}

}  // namespace
}  // namespace loadstar::transport
