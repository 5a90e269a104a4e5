// The S3 client's pure parts: addressing, XML, error mapping, backoff.
#include "common/storage/s3_internal.h"

#include <gtest/gtest.h>

namespace loadstar::s3_internal {
namespace {

// ---------------------------------------------------------------- XML

TEST(S3XmlTest, DecodesPredefinedAndNumericEntities) {
  EXPECT_EQ(DecodeXmlText("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"), "a & b <c> \"d\" 'e'");
  EXPECT_EQ(DecodeXmlText("cr&#13;lf&#xA;caf&#xE9;&#x2615;"), "cr\rlf\ncaf\xC3\xA9\xE2\x98\x95");
  EXPECT_EQ(DecodeXmlText("&amp;amp;"), "&amp;");                              // decoded once, not twice
  EXPECT_EQ(DecodeXmlText("AT&T & &bogus; &#xZZ;"), "AT&T & &bogus; &#xZZ;");  // unknown forms kept
}

constexpr const char* kPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>sparkify</Name><Prefix>data/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>data/a &amp; b.json</Key><LastModified>2019-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>data/&lt;tag&gt; caf&#xE9;.json</Key>
    <ETag>"d41d8cd98f00b204e9800998ecf8427e-2"</ETag><Size>0</Size></Contents>
  <Contents><Key>data/big.json</Key><ETag>abc</ETag><Size>5368709120</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <ContinuationToken>previous+token=</ContinuationToken>
</ListBucketResult>)";

TEST(S3XmlTest, ParsesListObjectsV2Page) {
  auto page = ParseListObjectsV2(kPage);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].key, "data/a & b.json");
  EXPECT_EQ(page->objects[0].size, 1234u);
  EXPECT_EQ(page->objects[0].etag, "9b2cf535f27731c974343645a3985328");  // quotes stripped
  EXPECT_EQ(page->objects[1].key, "data/<tag> caf\xC3\xA9.json");
  EXPECT_EQ(page->objects[1].size, 0u);
  EXPECT_EQ(page->objects[1].etag, "d41d8cd98f00b204e9800998ecf8427e-2");
  EXPECT_EQ(page->objects[2].size, 5368709120u);  // beyond 32 bits
  EXPECT_EQ(page->objects[2].etag, "abc");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3XmlTest, LastPageAndEmptyListing) {
  auto last = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_FALSE(last->truncated);
  EXPECT_EQ(last->next_continuation_token, "");
  ASSERT_EQ(last->objects.size(), 1u);
  EXPECT_EQ(last->objects[0].etag, "");

  auto empty = ParseListObjectsV2(
      "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
      "<Prefix/></ListBucketResult>");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->objects.empty());
}

TEST(S3XmlTest, KeyThatLooksLikeAFieldDoesNotConfuseTheParser) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><Contents><Key>&lt;IsTruncated&gt;true&lt;/IsTruncated&gt;</Key><Size>2</Size></Contents>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_FALSE(page->truncated);
  EXPECT_EQ(page->objects.at(0).key, "<IsTruncated>true</IsTruncated>");
}

TEST(S3XmlTest, RejectsMalformedListings) {
  auto not_a_listing = ParseListObjectsV2("<Error><Code>InternalError</Code></Error>");
  EXPECT_EQ(not_a_listing.status().code(), StatusCode::kParse);
  auto bad_size = ParseListObjectsV2(
      "<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents>"
      "</ListBucketResult>");
  EXPECT_EQ(bad_size.status().code(), StatusCode::kParse);
  EXPECT_NE(bad_size.status().message().find("12x"), std::string::npos);
  auto no_token = ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  EXPECT_EQ(no_token.status().code(), StatusCode::kParse);
}

TEST(S3XmlTest, ParsesErrorBody) {
  ErrorBody e = ParseErrorBody(
      "<?xml version=\"1.0\"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>The region "
      "&apos;us-east-1&apos; "
      "is wrong</Message><Region>eu-west-1</Region><RequestId>X</RequestId></Error>");
  EXPECT_EQ(e.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(e.message, "The region 'us-east-1' is wrong");
  EXPECT_EQ(e.region, "eu-west-1");
  EXPECT_EQ(ParseErrorBody("").code, "");
  EXPECT_EQ(ParseErrorBody("<html>bad gateway</html>").code, "");
}

// ---------------------------------------------------------------- error mapping

HttpResponse Response(long status, std::string body, std::vector<HttpHeader> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

std::string ErrorXml(const std::string& code, const std::string& message = "m") {
  return "<Error><Code>" + code + "</Code><Message>" + message + "</Message></Error>";
}

class S3ErrorMappingTest : public ::testing::Test {
 protected:
  S3ErrorMappingTest() {
    settings_.credentials = {"AKIDEXAMPLE", "super-secret-value", ""};
    settings_.credentials_source = "environment";
    settings_.region = "us-east-1";
    context_.method = "GET";
    context_.bucket = "sparkify";
    context_.key = "song_data/a.json";
    context_.settings = &settings_;
    context_.endpoint_description = "http://127.0.0.1:9000";
  }
  Status Map(const HttpResponse& r) { return StatusFromResponse(r, context_); }

  AwsSettings settings_;
  ErrorContext context_;
};

TEST_F(S3ErrorMappingTest, TransientFailuresAreUnavailable) {
  for (auto [status, code] : std::vector<std::pair<long, std::string>>{
           {503, "SlowDown"}, {500, "InternalError"}, {502, ""}, {429, ""}, {400, "RequestTimeout"}}) {
    Status s = Map(Response(status, code.empty() ? "" : ErrorXml(code)));
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << status << " " << code << ": " << s.ToString();
    EXPECT_TRUE(IsRetryable(s));
    EXPECT_NE(s.message().find("s3://sparkify/song_data/a.json"), std::string::npos) << s.message();
  }
  EXPECT_NE(Map(Response(503, ErrorXml("SlowDown", "Please reduce your request rate."))).message().find("SlowDown"),
            std::string::npos);
}

TEST_F(S3ErrorMappingTest, RefusedCredentialsArePermissionDeniedAndSayWhatToCheck) {
  for (const char* code : {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}) {
    Status s = Map(Response(403, ErrorXml(code)));
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << code;
    EXPECT_FALSE(IsRetryable(s));
    for (const char* needle : {"s3://sparkify/song_data/a.json", code, "credentials", "environment",
                               "region (us-east-1)", "endpoint (http://127.0.0.1:9000)"}) {
      EXPECT_NE(s.message().find(needle), std::string::npos) << "missing '" << needle << "' in: " << s.message();
    }
    EXPECT_EQ(s.message().find("super-secret-value"), std::string::npos);
    EXPECT_EQ(s.message().find("AKIDEXAMPLE"), std::string::npos);
  }
  Status expired = Map(Response(400, ErrorXml("ExpiredToken")));
  EXPECT_EQ(expired.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(expired.message().find("AWS_SESSION_TOKEN"), std::string::npos) << expired.message();
}

TEST_F(S3ErrorMappingTest, AnonymousRequestsSayHowToSign) {
  settings_.credentials = {};
  settings_.credentials_source = "none (anonymous)";
  Status s = Map(Response(403, ErrorXml("AccessDenied")));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("unsigned"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << s.message();
}

TEST_F(S3ErrorMappingTest, MissingKeyAndMissingBucketAreNotFoundAndNamed) {
  Status key = Map(Response(404, ErrorXml("NoSuchKey")));
  EXPECT_EQ(key.code(), StatusCode::kNotFound);
  EXPECT_NE(key.message().find("song_data/a.json"), std::string::npos) << key.message();
  EXPECT_NE(key.message().find("NoSuchKey"), std::string::npos);

  Status bucket = Map(Response(404, ErrorXml("NoSuchBucket")));
  EXPECT_EQ(bucket.code(), StatusCode::kNotFound);
  EXPECT_NE(bucket.message().find("bucket 'sparkify' does not exist"), std::string::npos) << bucket.message();

  context_.method = "HEAD";  // no body: cannot tell which
  Status head = Map(Response(404, ""));
  EXPECT_EQ(head.code(), StatusCode::kNotFound);
  EXPECT_NE(head.message().find("'sparkify'"), std::string::npos) << head.message();
  EXPECT_NE(head.message().find("'song_data/a.json'"), std::string::npos) << head.message();
}

TEST_F(S3ErrorMappingTest, WrongRegionSaysWhichRegion) {
  Status redirect = Map(Response(301, ErrorXml("PermanentRedirect"), {{"x-amz-bucket-region", "eu-west-1"}}));
  EXPECT_EQ(redirect.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(redirect.message().find("AWS_REGION=eu-west-1"), std::string::npos) << redirect.message();

  Status malformed = Map(Response(
      400, "<Error><Code>AuthorizationHeaderMalformed</Code><Message>x</Message><Region>ap-south-1</Region></Error>"));
  EXPECT_EQ(malformed.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(malformed.message().find("AWS_REGION=ap-south-1"), std::string::npos) << malformed.message();
}

TEST_F(S3ErrorMappingTest, OtherClientErrors) {
  EXPECT_EQ(Map(Response(400, ErrorXml("InvalidArgument"))).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Map(Response(409, ErrorXml("OperationAborted"))).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Map(Response(302, "")).code(), StatusCode::kFailedPrecondition);
  Status skewed = Map(Response(403, ErrorXml("RequestTimeTooSkewed")));
  EXPECT_EQ(skewed.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(skewed.message().find("clock"), std::string::npos) << skewed.message();
}

// ---------------------------------------------------------------- addressing

TEST(S3AddressingTest, AwsIsVirtualHosted) {
  AwsSettings s;
  s.region = "eu-west-1";
  auto a = Addressing::Make(s);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  Location loc = a->For("sparkify", "song data/a+b.json");
  EXPECT_EQ(loc.host, "sparkify.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(loc.path, "/song data/a+b.json");
  EXPECT_EQ(a->Url(loc, {}), "https://sparkify.s3.eu-west-1.amazonaws.com/song%20data/a%2Bb.json");
  Location bucket = a->For("sparkify", "");
  EXPECT_EQ(bucket.path, "/");
  EXPECT_EQ(a->Url(bucket, {{"prefix", "a b/"}, {"list-type", "2"}}),
            "https://sparkify.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=a%20b%2F");
}

TEST(S3AddressingTest, DottedBucketsAndChinaRegions) {
  AwsSettings s;
  s.region = "us-east-1";
  auto a = Addressing::Make(s);
  ASSERT_TRUE(a.ok());
  Location dotted = a->For("my.bucket", "k");
  EXPECT_EQ(dotted.host, "s3.us-east-1.amazonaws.com");
  EXPECT_EQ(dotted.path, "/my.bucket/k");

  s.region = "cn-north-1";
  auto cn = Addressing::Make(s);
  ASSERT_TRUE(cn.ok());
  EXPECT_EQ(cn->For("b", "k").host, "b.s3.cn-north-1.amazonaws.com.cn");
}

TEST(S3AddressingTest, CustomEndpointIsPathStyle) {
  AwsSettings s;
  s.endpoint_url = "http://127.0.0.1:4569/";
  auto a = Addressing::Make(s);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  Location loc = a->For("sparkify", "dir/x y.json");
  EXPECT_EQ(loc.host, "127.0.0.1:4569");
  EXPECT_EQ(loc.path, "/sparkify/dir/x y.json");
  EXPECT_EQ(a->Url(loc, {}), "http://127.0.0.1:4569/sparkify/dir/x%20y.json");
  EXPECT_EQ(a->For("sparkify", "").path, "/sparkify");
  EXPECT_EQ(a->description(), "http://127.0.0.1:4569");

  s.endpoint_url = "HTTPS://storage.example.com:443/s3";
  auto mounted = Addressing::Make(s);
  ASSERT_TRUE(mounted.ok()) << mounted.status().ToString();
  Location m = mounted->For("b", "k");
  EXPECT_EQ(m.host, "storage.example.com");  // the default port is not part of Host
  EXPECT_EQ(m.path, "/s3/b/k");
  EXPECT_EQ(mounted->Url(m, {}), "https://storage.example.com/s3/b/k");
}

TEST(S3AddressingTest, RejectsUnusableEndpointsAndRegions) {
  for (const char* url : {"127.0.0.1:9000", "ftp://host/", "http://", "http://user:pw@host/", "http://h/?x=1"}) {
    AwsSettings s;
    s.endpoint_url = url;
    auto a = Addressing::Make(s);
    ASSERT_FALSE(a.ok()) << url;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_NE(a.status().message().find("AWS_ENDPOINT_URL_S3"), std::string::npos) << a.status().message();
  }
  AwsSettings bad_region;
  bad_region.region = "us-east-1/evil";
  EXPECT_EQ(Addressing::Make(bad_region).status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- retries

TEST(RetryPolicyTest, BackoffGrowsJittersAndIsCapped) {
  RetryPolicy p;  // 100 ms base, 5 s cap
  EXPECT_EQ(p.Backoff(1, 0.0).count(), 50);
  EXPECT_EQ(p.Backoff(1, 0.999).count(), 99);
  EXPECT_EQ(p.Backoff(2, 0.0).count(), 100);
  EXPECT_EQ(p.Backoff(3, 0.5).count(), 300);
  EXPECT_EQ(p.Backoff(7, 0.0).count(), 2500);  // 6.4 s capped at 5 s, then halved
  EXPECT_LT(p.Backoff(7, 0.999).count(), 5000);
  EXPECT_EQ(p.Backoff(1000, 0.0).count(), 2500);  // no overflow for absurd retry numbers
}

}  // namespace
}  // namespace loadstar::s3_internal
