// The S3 client over HTTPS: the local S3 server behind a TLS front whose certificate a private
// test CA signed. Trusted through AWS_CA_BUNDLE (or a profile's ca_bundle) it works like any
// endpoint; untrusted, or for another host name, it is refused at once with a message that says
// what to do, and never retried.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/core/uri.h"
#include "common/storage/aws_config.h"
#include "common/storage/object_store.h"
#include "common/storage/s3_client.h"
#include "tests/support/s3_server.h"
#include "tests/support/test_env.h"
#include "tests/support/tls_front.h"
#include "tests/support/wait_until.h"

namespace loadstar {
namespace {

using testing::LocalS3Server;
using testing::TestCertificates;
using testing::TlsFrontProcess;

constexpr const char* kBucket = "sparkify";
constexpr const char* kRefusal = "TLS certificate of 127.0.0.1 could not be verified";
constexpr const char* kAdvice = "if the endpoint uses a private CA, set AWS_CA_BUNDLE to its certificate file";

class S3TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new LocalS3Server({kBucket});
    certs_ = new TestCertificates();
    if (!server_->ok() || !certs_->ok()) return;
    // Objects go in over plain HTTP, straight to the server.
    S3ClientOptions o = PlainOptions();
    auto plain = S3Client::Create(o);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    for (int i = 0; i < 3; ++i) {
      Status put = (*plain)->PutObject(kBucket, "log_data/part-" + std::to_string(i) + ".json",
                                       "{\"n\":" + std::to_string(i) + "}\n");
      ASSERT_TRUE(put.ok()) << put.ToString();
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete certs_;
  }
  void SetUp() override {
    ASSERT_TRUE(server_->ok()) << server_->status().ToString();
    ASSERT_TRUE(certs_->ok());
    front_ = TlsFrontProcess::Start(server_->port(), certs_->server_cert(), certs_->server_key());
    ASSERT_NE(front_, nullptr);
  }

  static S3ClientOptions PlainOptions() {
    S3ClientOptions o;
    o.aws.credentials = {LocalS3Server::kAccessKeyId, LocalS3Server::kSecretAccessKey, ""};
    o.aws.credentials_source = "test";
    o.aws.region = LocalS3Server::kRegion;
    o.aws.endpoint_url = server_->endpoint();
    o.retry.base_delay = std::chrono::milliseconds(1);
    o.retry.max_delay = std::chrono::milliseconds(5);
    return o;
  }
  // Options for `endpoint` over HTTPS, trusting the CAs in `ca_bundle` (empty: the system's).
  static S3ClientOptions TlsOptions(const std::string& endpoint, const std::string& ca_bundle) {
    S3ClientOptions o = PlainOptions();
    o.aws.endpoint_url = endpoint;
    o.aws.ca_bundle = ca_bundle;
    o.aws.ca_bundle_source = ca_bundle.empty() ? "" : "AWS_CA_BUNDLE";
    return o;
  }
  static std::unique_ptr<S3Client> Client(S3ClientOptions o) {
    auto c = S3Client::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static Status List(S3Client& client, size_t* count = nullptr) {
    size_t n = 0;
    Status s = client.ListObjects(kBucket, "log_data/", [&](ObjectInfo) {
      ++n;
      return Status::Ok();
    });
    if (count != nullptr) *count = n;
    return s;
  }

  // The front's counts once anything more that was coming (a retry, say) has had time to
  // arrive. A connection is counted as it is accepted, before the client can fail it.
  static std::map<std::string, uint64_t> CountsAfterRefusals(const TlsFrontProcess& front) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // retries would come in well under this
    return front.Stats();
  }

  // Checks that `s` is the final refusal of an untrusted certificate.
  static void ExpectRefused(const Status& s) {
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
    EXPECT_FALSE(IsRetryable(s));
    EXPECT_NE(s.message().find(kRefusal), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(kAdvice), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("attempts"), std::string::npos) << "retried: " << s.message();
  }

  static LocalS3Server* server_;
  static TestCertificates* certs_;
  std::unique_ptr<TlsFrontProcess> front_;
};

LocalS3Server* S3TlsTest::server_ = nullptr;
TestCertificates* S3TlsTest::certs_ = nullptr;

TEST_F(S3TlsTest, TrustingTheTestCaListGetHeadAndPutWork) {
  auto client = Client(TlsOptions(front_->endpoint(), certs_->ca()));
  ASSERT_NE(client, nullptr);
  size_t listed = 0;
  Status listing = List(*client, &listed);
  ASSERT_TRUE(listing.ok()) << listing.ToString() << "\n" << front_->Log();
  EXPECT_EQ(listed, 3u);

  auto body = client->GetObject(kBucket, "log_data/part-1.json");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "{\"n\":1}\n");
  auto head = client->HeadObject(kBucket, "log_data/part-2.json");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 8u);
  ASSERT_TRUE(client->PutObject(kBucket, "tls/written.json", "{}").ok());

  std::vector<std::string> keys = {"log_data/part-0.json", "log_data/part-1.json", "log_data/part-2.json",
                                   "tls/written.json"};
  std::vector<std::string> got(keys.size());
  client->GetObjects(kBucket, keys, 4, [&](size_t i, Result<std::string> r) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    got[i] = std::move(*r);
  });
  EXPECT_EQ(got[0], "{\"n\":0}\n");
  EXPECT_EQ(got[3], "{}");

  // Every request went through the front, over a few kept-alive connections.
  auto stats = front_->Stats();
  EXPECT_EQ(stats["handshake_failed"], 0u) << front_->Log();
  EXPECT_GE(stats["handshakes"], 1u);
  EXPECT_LE(stats["handshakes"], 5u);
}

TEST_F(S3TlsTest, WithoutABundleThePrivateCaIsRefusedOnceWithAdvice) {
  // Nothing names the test CA: the system's CAs do not know it.
  auto client = Client(TlsOptions(front_->endpoint(), ""));
  ASSERT_NE(client, nullptr);
  Status s = List(*client);
  ExpectRefused(s);
  EXPECT_NE(s.message().find("trusting the system's CAs"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("LIST s3://sparkify/log_data/"), std::string::npos) << s.message();
  auto counts = CountsAfterRefusals(*front_);
  EXPECT_EQ(counts["accepted"], 1u) << "the refusal was retried";
  EXPECT_EQ(counts["handshakes"], 0u);
  EXPECT_EQ(client->http_stats().requests, 1u);
}

TEST_F(S3TlsTest, ABundleOfAnotherCaIsRefusedAndNamed) {
  auto client = Client(TlsOptions(front_->endpoint(), certs_->other_ca()));
  ASSERT_NE(client, nullptr);
  auto got = client->GetObject(kBucket, "log_data/part-0.json");
  ASSERT_FALSE(got.ok());
  ExpectRefused(got.status());
  EXPECT_NE(got.status().message().find("trusting only the CAs in " + certs_->other_ca() + " (from AWS_CA_BUNDLE)"),
            std::string::npos)
      << got.status().message();

  // Concurrent fetches are not retried either: one connection per key, each refused once.
  std::vector<std::string> keys = {"log_data/part-0.json", "log_data/part-1.json", "log_data/part-2.json"};
  int refused = 0;
  client->GetObjects(kBucket, keys, 3, [&](size_t, Result<std::string> r) {
    ASSERT_FALSE(r.ok());
    ExpectRefused(r.status());
    ++refused;
  });
  EXPECT_EQ(refused, 3);
  auto counts = CountsAfterRefusals(*front_);
  EXPECT_EQ(counts["accepted"], 4u) << "a refusal was retried";
  EXPECT_EQ(counts["handshakes"], 0u);
}

TEST_F(S3TlsTest, ACertificateForAnotherHostIsRefused) {
  // Signed by the trusted CA, but for elsewhere.example: the name is what is wrong.
  auto other = TlsFrontProcess::Start(server_->port(), certs_->other_host_cert(), certs_->other_host_key());
  ASSERT_NE(other, nullptr);
  auto client = Client(TlsOptions(other->endpoint(), certs_->ca()));
  ASSERT_NE(client, nullptr);
  Status s = List(*client);
  ExpectRefused(s);
  // curl's own words for it.
  EXPECT_NE(s.message().find("no alternative certificate subject name matches target host name '127.0.0.1'"),
            std::string::npos)
      << s.message();
  auto counts = CountsAfterRefusals(*other);
  EXPECT_EQ(counts["accepted"], 1u) << "the refusal was retried";
  EXPECT_EQ(client->http_stats().requests, 1u);

  // The same CA and the right name: accepted.
  auto right = Client(TlsOptions(front_->endpoint(), certs_->ca()));
  ASSERT_NE(right, nullptr);
  EXPECT_TRUE(List(*right).ok());
}

TEST_F(S3TlsTest, AMissingBundleIsAnErrorBeforeAnyRequest) {
  auto c = S3Client::Create(TlsOptions(front_->endpoint(), certs_->dir() + "/no-such-ca.pem"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(certs_->dir() + "/no-such-ca.pem (from AWS_CA_BUNDLE) cannot be read"),
            std::string::npos)
      << c.status().message();
  EXPECT_EQ(front_->Stats()["accepted"], 0u);
}

TEST_F(S3TlsTest, ABundleThatHoldsNoCertificateIsAFinalError) {
  const std::string junk = certs_->dir() + "/junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  auto client = Client(TlsOptions(front_->endpoint(), junk));
  ASSERT_NE(client, nullptr);
  Status s = List(*client);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("the CA bundle " + junk + " (from AWS_CA_BUNDLE) could not be used"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find("attempts"), std::string::npos) << "retried: " << s.message();
  EXPECT_EQ(client->http_stats().requests, 1u);
}

// The whole path from the settings: the profile's ca_bundle and endpoint_url in a config file,
// then AWS_CA_BUNDLE, which wins over it, through OpenObjectStore as loadstar itself opens it.
TEST_F(S3TlsTest, SettingsFromTheConfigFileAndTheEnvironment) {
  const std::string dir = testing::TempDir("tls-aws-config");
  std::ofstream(dir + "/config") << "[default]\nregion = us-east-1\nendpoint_url = " << front_->endpoint()
                                 << "\nca_bundle = " << certs_->ca() << "\n";
  std::map<std::string, std::string> env = {{"HOME", dir},
                                            {"AWS_CONFIG_FILE", dir + "/config"},
                                            {"AWS_ACCESS_KEY_ID", LocalS3Server::kAccessKeyId},
                                            {"AWS_SECRET_ACCESS_KEY", LocalS3Server::kSecretAccessKey}};
  auto lookup = [&](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto settings = LoadAwsSettings(lookup);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  S3ClientOptions o;
  o.aws = *settings;
  auto from_config = Client(o);
  ASSERT_NE(from_config, nullptr);
  Status listed = List(*from_config);
  EXPECT_TRUE(listed.ok()) << listed.ToString();

  env["AWS_CA_BUNDLE"] = certs_->other_ca();
  settings = LoadAwsSettings(lookup);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  o.aws = *settings;
  auto from_env = Client(o);
  ASSERT_NE(from_env, nullptr);
  ExpectRefused(List(*from_env));

  // OpenObjectStore reads this process's environment, as `loadstar` does.
  for (const std::string& name : LocalS3Server::ConflictingAwsVariables()) ::unsetenv(name.c_str());
  ::setenv("AWS_ENDPOINT_URL_S3", front_->endpoint().c_str(), 1);
  ::setenv("AWS_ACCESS_KEY_ID", LocalS3Server::kAccessKeyId, 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", LocalS3Server::kSecretAccessKey, 1);
  ::setenv("AWS_CA_BUNDLE", certs_->ca().c_str(), 1);
  ::setenv("AWS_CONFIG_FILE", (dir + "/none").c_str(), 1);  // nothing of this machine's own settings
  auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, kBucket, ""});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto body = (*store)->Get("log_data/part-2.json");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "{\"n\":2}\n");
  ::unsetenv("AWS_CA_BUNDLE");
  auto untrusted = OpenObjectStore(Uri{Uri::Scheme::kS3, kBucket, ""});
  ASSERT_TRUE(untrusted.ok()) << untrusted.status().ToString();
  auto refused = (*untrusted)->Get("log_data/part-2.json");
  ASSERT_FALSE(refused.ok());
  ExpectRefused(refused.status());
}

}  // namespace
}  // namespace loadstar
