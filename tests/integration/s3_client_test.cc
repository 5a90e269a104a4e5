// The S3 client and the S3 ObjectStore against a real S3-compatible server (s3rver).
// s3rver does not verify signatures; sigv4_test and sigv4_curl_test cover signing.
#include "common/storage/s3_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/storage/object_store.h"
#include "common/core/uri.h"
#include "tests/support/s3_server.h"

namespace loadstar {
namespace {

using testing::LocalS3Server;

constexpr const char* kBucket = "sparkify";
constexpr const char* kOtherBucket = "udacity-dend";

class S3ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new LocalS3Server({kBucket, kOtherBucket}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_->ok()) << server_->status().ToString(); }

  static S3ClientOptions Options() {
    S3ClientOptions o;
    o.aws.credentials = {LocalS3Server::kAccessKeyId, LocalS3Server::kSecretAccessKey, ""};
    o.aws.credentials_source = "test";
    o.aws.region = LocalS3Server::kRegion;
    o.aws.endpoint_url = server_->endpoint();
    return o;
  }

  static std::unique_ptr<S3Client> Client(S3ClientOptions o = Options()) {
    auto c = S3Client::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }

  static std::vector<ObjectInfo> ListAll(S3Client& client, const std::string& bucket, const std::string& prefix) {
    std::vector<ObjectInfo> out;
    Status s = client.ListObjects(bucket, prefix, [&](ObjectInfo info) {
      out.push_back(std::move(info));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  static LocalS3Server* server_;
};

LocalS3Server* S3ClientTest::server_ = nullptr;

TEST_F(S3ClientTest, PutGetHeadRoundTrip) {
  auto client = Client();
  const std::string body = "{\"song_id\": \"SOUPIRU12A6D4FA1E1\", \"duration\": 245.21}\n";
  ASSERT_TRUE(client->PutObject(kBucket, "roundtrip/song.json", body).ok());

  auto got = client->GetObject(kBucket, "roundtrip/song.json");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, body);
  EXPECT_GE(got->capacity(), got->size() + kBodyPadding);

  auto head = client->HeadObject(kBucket, "roundtrip/song.json");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->key, "roundtrip/song.json");
  EXPECT_EQ(head->size, body.size());
  ASSERT_FALSE(head->etag.empty());
  EXPECT_EQ(head->etag.find('"'), std::string::npos);

  auto listed = ListAll(*client, kBucket, "roundtrip/");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "roundtrip/song.json");
  EXPECT_EQ(listed[0].size, body.size());
  EXPECT_EQ(listed[0].etag, head->etag);

  // Replacing changes the content and the ETag.
  ASSERT_TRUE(client->PutObject(kBucket, "roundtrip/song.json", "{}").ok());
  auto replaced = client->HeadObject(kBucket, "roundtrip/song.json");
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->size, 2u);
  EXPECT_NE(replaced->etag, head->etag);
}

TEST_F(S3ClientTest, EmptyAndBinaryObjects) {
  auto client = Client();
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  ASSERT_TRUE(client->PutObject(kBucket, "bin/all-bytes", binary).ok());
  ASSERT_TRUE(client->PutObject(kBucket, "bin/empty", "").ok());
  auto b = client->GetObject(kBucket, "bin/all-bytes");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*b, binary);
  auto e = client->GetObject(kBucket, "bin/empty");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(*e, "");
  EXPECT_GE(e->capacity(), kBodyPadding);
}

TEST_F(S3ClientTest, KeysWithSpacesUnicodeAndReservedCharacters) {
  auto client = Client();
  const std::vector<std::string> keys = {
      "odd/with space/a+b=c.json",        "odd/caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC \xE2\x98\x95.json",
      "odd/xml&entities<in>'key'\".json", "odd/percent%20not-decoded.json",
      "odd/sub-delims!$()*,;:@~.json",
  };
  for (const std::string& k : keys) {
    Status put = client->PutObject(kBucket, k, "body of " + k);
    ASSERT_TRUE(put.ok()) << k << ": " << put.ToString();
  }
  for (const std::string& k : keys) {
    auto got = client->GetObject(kBucket, k);
    ASSERT_TRUE(got.ok()) << k << ": " << got.status().ToString();
    EXPECT_EQ(*got, "body of " + k);
  }
  std::set<std::string> listed;
  for (const ObjectInfo& info : ListAll(*client, kBucket, "odd/")) listed.insert(info.key);
  EXPECT_EQ(listed, std::set<std::string>(keys.begin(), keys.end()));
  // A prefix with a space and a '+' is encoded in the query string, not mangled.
  auto narrowed = ListAll(*client, kBucket, "odd/with space/a+");
  ASSERT_EQ(narrowed.size(), 1u);
  EXPECT_EQ(narrowed[0].key, keys[0]);
}

TEST_F(S3ClientTest, ListingFollowsPages) {
  auto writer = Client();
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "paged/part-%03d.json", i);
    ASSERT_TRUE(writer->PutObject(kBucket, key, std::to_string(i)).ok());
    expected.push_back(key);
  }
  ASSERT_TRUE(writer->PutObject(kBucket, "paged-not-this/x.json", "x").ok());

  S3ClientOptions o = Options();
  o.list_page_size = 7;
  auto client = Client(o);
  // Page by page: 7 + 7 + 7 + 4, each continuation token accepted by the server.
  std::vector<size_t> page_sizes;
  std::string token;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = client->ListObjectsPage(kBucket, "paged/", token);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    page_sizes.push_back(page->objects.size());
    if (!page->truncated) break;
    ASSERT_FALSE(page->next_continuation_token.empty());
    token = page->next_continuation_token;
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{7, 7, 7, 4}));

  std::vector<std::string> keys;
  for (const ObjectInfo& info : ListAll(*client, kBucket, "paged/")) keys.push_back(info.key);
  EXPECT_EQ(keys, expected);
}

TEST_F(S3ClientTest, ListingMoreThanOneDefaultPage) {
  auto client = Client();
  const int n = 1100;  // s3rver's pages hold 1000 keys, like S3's
  for (int i = 0; i < n; ++i) {
    Status s = client->PutObject(kOtherBucket, "many/" + std::to_string(100000 + i), "x");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto first = client->ListObjectsPage(kOtherBucket, "many/", "");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->objects.size(), 1000u);
  EXPECT_TRUE(first->truncated);
  auto all = ListAll(*client, kOtherBucket, "many/");
  ASSERT_EQ(all.size(), static_cast<size_t>(n));
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.key < b.key; }));
  EXPECT_EQ(all.front().key, "many/100000");
  EXPECT_EQ(all.back().key, "many/" + std::to_string(100000 + n - 1));
}

TEST_F(S3ClientTest, SinkErrorStopsTheListing) {
  auto client = Client();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->PutObject(kBucket, "stop/" + std::to_string(i), "x").ok());
  int calls = 0;
  Status s = client->ListObjects(kBucket, "stop/", [&](ObjectInfo) {
    ++calls;
    return Status::Cancelled("stop here");
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST_F(S3ClientTest, GetObjectsFetchesManyOverFewConnections) {
  auto client = Client();
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back("fanout/" + std::to_string(i) + ".json");
    ASSERT_TRUE(client->PutObject(kBucket, keys.back(), "{\"n\": " + std::to_string(i) + "}").ok());
  }
  keys.push_back("fanout/missing.json");

  const uint64_t connections_before = client->http_stats().connections_opened;
  std::vector<int> calls(keys.size(), 0);
  size_t ok = 0;
  client->GetObjects(kBucket, keys, 16, [&](size_t i, Result<std::string> r) {
    ++calls.at(i);
    if (i + 1 == keys.size()) {
      EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
      return;
    }
    ASSERT_TRUE(r.ok()) << keys[i] << ": " << r.status().ToString();
    EXPECT_EQ(*r, "{\"n\": " + std::to_string(i) + "}");
    EXPECT_GE(r->capacity(), r->size() + kBodyPadding);
    ++ok;
  });
  EXPECT_EQ(ok, 200u);
  EXPECT_EQ(calls, std::vector<int>(keys.size(), 1));
  // Connections are kept alive and reused: at most one per concurrent transfer, with some slack
  // for a server that closes idle ones. Without reuse this would be 201.
  const uint64_t opened = client->http_stats().connections_opened - connections_before;
  RecordProperty("connections_opened", static_cast<int>(opened));
  EXPECT_LE(opened, 24u) << "connections opened for 201 requests";
  EXPECT_GE(opened, 1u);

  // A second batch reuses the same connections.
  const uint64_t before_second = client->http_stats().connections_opened;
  client->GetObjects(kBucket, std::vector<std::string>(keys.begin(), keys.begin() + 50), 16,
                     [&](size_t, Result<std::string> r) { EXPECT_TRUE(r.ok()) << r.status().ToString(); });
  EXPECT_LE(client->http_stats().connections_opened - before_second, 4u);
}

TEST_F(S3ClientTest, MissingKeyIsNotFound) {
  auto client = Client();
  auto got = client->GetObject(kBucket, "no/such/key.json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("no/such/key.json"), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find(kBucket), std::string::npos) << got.status().message();

  auto head = client->HeadObject(kBucket, "no/such/key.json");
  EXPECT_EQ(head.status().code(), StatusCode::kNotFound) << head.status().ToString();

  EXPECT_TRUE(ListAll(*client, kBucket, "no/such/").empty());  // an empty listing is not an error
}

TEST_F(S3ClientTest, MissingBucketIsNotFoundAndNamed) {
  auto client = Client();
  auto got = client->GetObject("no-such-bucket", "k.json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("bucket 'no-such-bucket' does not exist"), std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find(server_->endpoint()), std::string::npos) << got.status().message();

  Status list = client->ListObjects("no-such-bucket", "", [](ObjectInfo) { return Status::Ok(); });
  EXPECT_EQ(list.code(), StatusCode::kNotFound);
  EXPECT_NE(list.message().find("no-such-bucket"), std::string::npos) << list.message();

  Status put = client->PutObject("no-such-bucket", "k.json", "x");
  EXPECT_EQ(put.code(), StatusCode::kNotFound) << put.ToString();
}

TEST_F(S3ClientTest, UnknownAccessKeyIsPermissionDeniedWithoutLeakingTheSecret) {
  S3ClientOptions o = Options();
  o.aws.credentials = {"AKIDNOTKNOWNHERE", "do-not-print-this-secret", ""};
  o.aws.credentials_source = "environment";
  auto client = Client(o);
  auto got = client->GetObject(kBucket, "roundtrip/song.json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kPermissionDenied);
  const std::string& msg = got.status().message();
  EXPECT_NE(msg.find("s3://sparkify/roundtrip/song.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("InvalidAccessKeyId"), std::string::npos) << msg;
  EXPECT_NE(msg.find("check the credentials (from environment)"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("do-not-print-this-secret"), std::string::npos) << msg;
  EXPECT_EQ(client->http_stats().requests, 1u);  // not retried
}

TEST_F(S3ClientTest, AnonymousAccessWorksWhereTheServerAllowsIt) {
  auto writer = Client();
  ASSERT_TRUE(writer->PutObject(kBucket, "public/a.json", "open").ok());
  S3ClientOptions o = Options();
  o.aws.credentials = {};
  auto client = Client(o);
  auto got = client->GetObject(kBucket, "public/a.json");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "open");
}

TEST_F(S3ClientTest, ObjectStoreFromTheEnvironment) {
  server_->ExportAwsEnvironment();
  auto uri = ParseUri(std::string("s3://") + kBucket + "/store/");
  ASSERT_TRUE(uri.ok());
  auto opened = OpenObjectStore(*uri);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ObjectStore& store = **opened;

  ASSERT_TRUE(store.Put("store/a.json", "A").ok());
  ASSERT_TRUE(store.Put("store/b c.json", "BC").ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(store
                  .List("store/",
                        [&](ObjectInfo info) {
                          keys.push_back(info.key);
                          return Status::Ok();
                        })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"store/a.json", "store/b c.json"}));
  auto b = store.Get("store/b c.json");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "BC");
  auto head = store.Head("store/a.json");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 1u);
  std::vector<std::string> bodies(2);
  store.GetMany(keys, 4, [&](size_t i, Result<std::string> r) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    bodies.at(i) = *r;
  });
  EXPECT_EQ(bodies, (std::vector<std::string>{"A", "BC"}));
  EXPECT_EQ(store.UriFor("store/a.json"), "s3://sparkify/store/a.json");
  EXPECT_EQ(store.Get("store/missing").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace loadstar
