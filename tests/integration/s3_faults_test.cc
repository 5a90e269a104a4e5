// The S3 client against a server that misbehaves on cue: throttling, 5xx, truncated bodies,
// hangs, refusals, wrong regions, and nothing listening at all.
#include <gtest/gtest.h>

#include "common/storage/s3_client.h"
#include "tests/integration/scripted_http_server.h"
#include "tests/support/process.h"

namespace loadstar {
namespace {

using testing::HeaderOf;
using testing::ScriptedHttpServer;
using Reply = ScriptedHttpServer::Reply;

std::string ErrorXml(const std::string& code) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>scripted " + code +
         "</Message></Error>";
}

std::unique_ptr<S3Client> ClientFor(const std::string& endpoint, int max_attempts = 4) {
  S3ClientOptions o;
  o.aws.credentials = {"AKIDEXAMPLE", "scripted-secret-never-shown", ""};
  o.aws.credentials_source = "test";
  o.aws.endpoint_url = endpoint;
  o.retry.max_attempts = max_attempts;
  o.retry.base_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(5);
  o.http.connect_timeout = std::chrono::milliseconds(2000);
  auto client = S3Client::Create(o);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return std::move(client).value();
}

TEST(S3FaultsTest, ThrottlingIsRetriedUntilItSucceeds) {
  ScriptedHttpServer server({ScriptedHttpServer::Respond(503, ErrorXml("SlowDown")),
                             ScriptedHttpServer::Respond(500, ErrorXml("InternalError")),
                             ScriptedHttpServer::Respond(200, "{\"ok\": true}", "ETag: \"e\"\r\n")});
  auto client = ClientFor(server.endpoint());
  auto body = client->GetObject("bucket", "dir/a b.json");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "{\"ok\": true}");
  EXPECT_GE(body->capacity(), body->size() + kBodyPadding);
  ASSERT_EQ(server.request_count(), 3u);
  // Every attempt is signed afresh and carries the payload header s3rver and S3 require.
  for (const std::string& r : server.requests()) {
    EXPECT_EQ(r.rfind("GET /bucket/dir/a%20b.json HTTP/1.1\r\n", 0), 0u) << r;
    EXPECT_EQ(HeaderOf(r, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
    EXPECT_EQ(HeaderOf(r, "Authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u);
    EXPECT_EQ(r.find("scripted-secret-never-shown"), std::string::npos);
  }
}

TEST(S3FaultsTest, PersistentServerErrorsGiveUpAfterTheAttemptBound) {
  ScriptedHttpServer server({ScriptedHttpServer::Respond(503, ErrorXml("SlowDown"))});
  auto client = ClientFor(server.endpoint(), 3);
  auto body = client->GetObject("bucket", "k");
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(body.status().message().find("SlowDown"), std::string::npos) << body.status().message();
  EXPECT_NE(body.status().message().find("after 3 attempts"), std::string::npos) << body.status().message();
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(S3FaultsTest, TruncatedBodyIsDataLossAndRetried) {
  Reply truncated{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", /*close=*/true, false};
  {
    ScriptedHttpServer server({truncated, ScriptedHttpServer::Respond(200, "complete")});
    auto client = ClientFor(server.endpoint());
    auto body = client->GetObject("bucket", "k");
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    EXPECT_EQ(*body, "complete");
    EXPECT_EQ(server.request_count(), 2u);
  }
  ScriptedHttpServer always({truncated});
  auto client = ClientFor(always.endpoint(), 2);
  auto body = client->GetObject("bucket", "k");
  EXPECT_EQ(body.status().code(), StatusCode::kDataLoss) << body.status().ToString();
  EXPECT_NE(body.status().message().find("s3://bucket/k"), std::string::npos) << body.status().message();
  EXPECT_EQ(always.request_count(), 2u);
}

TEST(S3FaultsTest, RefusalsAndMissingObjectsAreNotRetried) {
  ScriptedHttpServer server({ScriptedHttpServer::Respond(403, ErrorXml("SignatureDoesNotMatch")),
                             ScriptedHttpServer::Respond(404, ErrorXml("NoSuchKey")),
                             ScriptedHttpServer::Respond(404, ErrorXml("NoSuchBucket"))});
  auto client = ClientFor(server.endpoint());
  auto denied = client->GetObject("bucket", "secret/plans.json");
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("s3://bucket/secret/plans.json"), std::string::npos);
  EXPECT_NE(denied.status().message().find("credentials"), std::string::npos);
  EXPECT_EQ(denied.status().message().find("scripted-secret-never-shown"), std::string::npos);
  EXPECT_EQ(server.request_count(), 1u);

  auto missing = client->GetObject("bucket", "gone.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(server.request_count(), 2u);

  Status listing = client->ListObjects("nobucket", "p/", [](ObjectInfo) { return Status::Ok(); });
  EXPECT_EQ(listing.code(), StatusCode::kNotFound);
  EXPECT_NE(listing.message().find("LIST s3://nobucket/p/"), std::string::npos) << listing.message();
  EXPECT_NE(listing.message().find("bucket 'nobucket' does not exist"), std::string::npos) << listing.message();
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(S3FaultsTest, WrongRegionNamesTheRightOne) {
  ScriptedHttpServer server(
      {ScriptedHttpServer::Respond(301, ErrorXml("PermanentRedirect"), "x-amz-bucket-region: eu-west-1\r\n")});
  auto client = ClientFor(server.endpoint());
  auto head = client->HeadObject("bucket", "k");
  EXPECT_EQ(head.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(head.status().message().find("AWS_REGION=eu-west-1"), std::string::npos) << head.status().ToString();
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(S3FaultsTest, HungServerTimesOutAsUnavailable) {
  ScriptedHttpServer server({Reply{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, /*hang=*/true}});
  S3ClientOptions o;
  o.aws.endpoint_url = server.endpoint();
  o.retry.max_attempts = 1;
  o.http.total_timeout = std::chrono::milliseconds(300);
  auto client = S3Client::Create(o);
  ASSERT_TRUE(client.ok());
  auto start = std::chrono::steady_clock::now();
  auto body = (*client)->GetObject("bucket", "k");
  EXPECT_EQ(body.status().code(), StatusCode::kUnavailable) << body.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(S3FaultsTest, NothingListeningIsUnavailable) {
  int port = testing::FreeTcpPort();
  ASSERT_GT(port, 0);
  auto client = ClientFor("http://127.0.0.1:" + std::to_string(port), 2);
  auto body = client->GetObject("bucket", "k");
  EXPECT_EQ(body.status().code(), StatusCode::kUnavailable) << body.status().ToString();
  EXPECT_NE(body.status().message().find("GET s3://bucket/k"), std::string::npos) << body.status().message();
  EXPECT_NE(body.status().message().find("after 2 attempts"), std::string::npos) << body.status().message();
}

TEST(S3FaultsTest, GetObjectsRetriesEachKeyAndReportsEachOnce) {
  // One connection at a time: request 0 is throttled, then everything succeeds.
  ScriptedHttpServer server(
      {ScriptedHttpServer::Respond(503, ErrorXml("SlowDown")), ScriptedHttpServer::Respond(200, "same")});
  auto client = ClientFor(server.endpoint());
  std::vector<std::string> keys = {"a", "b", "c"};
  std::vector<int> calls(keys.size(), 0);
  client->GetObjects("bucket", keys, 1, [&](size_t i, Result<std::string> r) {
    ++calls.at(i);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, "same");
    EXPECT_GE(r->capacity(), r->size() + kBodyPadding);
  });
  EXPECT_EQ(calls, (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(server.request_count(), 4u);
  // One connection served all four requests.
  EXPECT_EQ(client->http_stats().connections_opened, 1u);
  EXPECT_EQ(client->http_stats().requests, 4u);
}

TEST(S3FaultsTest, ListFollowsContinuationTokensVerbatim) {
  const std::string token = "1/bA+c==/x+y=";
  ScriptedHttpServer server(
      {ScriptedHttpServer::Respond(200,
                                   "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/1</Key>"
                                   "<Size>1</Size><ETag>&quot;e1&quot;</ETag></Contents><NextContinuationToken>" +
                                       token + "</NextContinuationToken></ListBucketResult>"),
       ScriptedHttpServer::Respond(200,
                                   "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>p/2 &amp; 3"
                                   "</Key><Size>22</Size></Contents></ListBucketResult>")});
  auto client = ClientFor(server.endpoint());
  std::vector<ObjectInfo> seen;
  Status s = client->ListObjects("bucket", "p/", [&](ObjectInfo info) {
    seen.push_back(std::move(info));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].etag, "e1");
  EXPECT_EQ(seen[1].key, "p/2 & 3");
  EXPECT_EQ(seen[1].size, 22u);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].rfind("GET /bucket?list-type=2&max-keys=1000&prefix=p%2F HTTP/1.1", 0), 0u) << requests[0];
  EXPECT_EQ(requests[1].rfind("GET /bucket?continuation-token=1%2FbA%2Bc%3D%3D%2Fx%2By%3D&list-type=2&max-keys=1000"
                              "&prefix=p%2F HTTP/1.1",
                              0),
            0u)
      << requests[1];
}

TEST(S3FaultsTest, PutSignsThePayload) {
  ScriptedHttpServer server({ScriptedHttpServer::Respond(200, "", "ETag: \"x\"\r\n")});
  auto client = ClientFor(server.endpoint());
  std::string body(100000, 'j');
  ASSERT_TRUE(client->PutObject("bucket", "out/big.json", body).ok());
  ASSERT_EQ(server.request_count(), 1u);
  std::string r = server.requests()[0];
  EXPECT_EQ(r.rfind("PUT /bucket/out/big.json HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(HeaderOf(r, "Content-Length"), "100000");
  EXPECT_EQ(HeaderOf(r, "x-amz-content-sha256").size(), 64u);  // a real hash, not UNSIGNED-PAYLOAD
  EXPECT_EQ(HeaderOf(r, "Expect"), "");                        // no 100-continue round trip
  EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), body);
}

TEST(S3FaultsTest, AnonymousRequestsAreUnsignedButCarryThePayloadHeader) {
  ScriptedHttpServer server({ScriptedHttpServer::Respond(200, "public")});
  S3ClientOptions o;
  o.aws.endpoint_url = server.endpoint();
  auto client = S3Client::Create(o);
  ASSERT_TRUE(client.ok());
  auto body = (*client)->GetObject("bucket", "k");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  std::string r = server.requests().at(0);
  EXPECT_EQ(HeaderOf(r, "Authorization"), "");
  EXPECT_EQ(HeaderOf(r, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
}

TEST(S3FaultsTest, EmptyKeysAreRejectedWithoutARequest) {
  ScriptedHttpServer server({ScriptedHttpServer::Respond(200, "body")});
  auto client = ClientFor(server.endpoint());
  EXPECT_EQ(client->GetObject("bucket", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->HeadObject("", "k").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->PutObject("bucket", "", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.request_count(), 0u);

  std::vector<StatusCode> codes(3, StatusCode::kInternal);
  // Concurrency 1: the scripted server serves one connection at a time.
  client->GetObjects("bucket", {"a", "", "c"}, 1,
                     [&](size_t i, Result<std::string> r) { codes.at(i) = r.status().code(); });
  EXPECT_EQ(codes, (std::vector<StatusCode>{StatusCode::kOk, StatusCode::kInvalidArgument, StatusCode::kOk}));
  EXPECT_EQ(server.request_count(), 2u);
}

}  // namespace
}  // namespace loadstar
