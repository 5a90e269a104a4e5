// The signer against AWS's published Signature Version 4 examples:
//  - the generic test suite (aws-sig-v4-test-suite: AKIDEXAMPLE, 2015-08-30, service "service"),
//    including the "unnormalized" variants that S3 uses and aws-c-auth publishes;
//  - the S3 API reference's header-signing examples (AKIAIOSFODNN7EXAMPLE, examplebucket, 2013-05-24).
// Expected values are copied from those documents, never computed here.
#include "common/storage/sigv4.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loadstar::sigv4 {
namespace {

using std::chrono::system_clock;

system_clock::time_point At(std::string_view amz_date) {
  system_clock::time_point t;
  EXPECT_TRUE(ParseAmzDate(amz_date, &t)) << amz_date;
  return t;
}

// ---------------------------------------------------------------- generic test suite

const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

Options SuiteOptions() {
  Options o;
  o.region = "us-east-1";
  o.service = "service";
  o.send_content_sha256 = false;  // the generic suite predates S3's header
  return o;
}

Request SuiteRequest(std::string method, std::string path, std::vector<QueryParam> query = {},
                     std::vector<Header> headers = {}) {
  Request r;
  r.method = std::move(method);
  r.host = "example.amazonaws.com";
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = std::move(headers);
  r.payload_hash = std::string(kEmptyPayloadSha256);
  return r;
}

std::string SuiteAuthorization(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

Signature SignSuite(const Request& r, const Credentials& c = kSuiteCredentials) {
  return Sign(r, c, SuiteOptions(), At("20150830T123600Z"));
}

TEST(SigV4SuiteTest, GetVanillaIntermediateStepsAndHeader) {
  Signature s = SignSuite(SuiteRequest("GET", "/"));
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            SuiteAuthorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  // The headers to send: the date and the Authorization header, nothing secret.
  ASSERT_EQ(s.headers.size(), 2u);
  EXPECT_EQ(s.headers[0].name, "x-amz-date");
  EXPECT_EQ(s.headers[0].value, "20150830T123600Z");
  EXPECT_EQ(s.headers[1].name, "Authorization");
  EXPECT_EQ(s.headers[1].value, s.authorization);
  for (const Header& h : s.headers) EXPECT_EQ(h.value.find("wJalrXUtnFEMI"), std::string::npos);
}

struct SuiteVector {
  const char* name;
  Request request;
  const char* signed_headers;
  const char* signature;
};

TEST(SigV4SuiteTest, PublishedVectors) {
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const std::vector<SuiteVector> vectors = {
      {"get-vanilla-empty-query-key", SuiteRequest("GET", "/", {{"Param1", "value1"}}), "host;x-amz-date",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-order-key-case", SuiteRequest("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}),
       "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      // Repeated names sort by value, byte-wise ('V' < 'v').
      {"?Param1=value2&Param1=Value1", SuiteRequest("GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}}),
       "host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
      {"?Param1=value2&Param1=value1", SuiteRequest("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}),
       "host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
      {"get-vanilla-query-unreserved", SuiteRequest("GET", "/", {{unreserved, unreserved}}), "host;x-amz-date",
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", SuiteRequest("GET", "/", {{"\xE1\x88\xB4", "bar"}}), "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      // Sorted by the *encoded* names: "%E1..." < "Param" < "Param-3".
      {"get-vanilla-query-order-encoded",
       SuiteRequest("GET", "/", {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xE1\x88\xB4", "Value1"}}),
       "host;x-amz-date", "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"},
      {"get-unreserved", SuiteRequest("GET", "/" + unreserved), "host;x-amz-date",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8", SuiteRequest("GET", "/\xE1\x88\xB4"), "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      // S3 keys are not normalized: spaces are encoded, and "//" and ".." stay as they are.
      {"get-space-unnormalized", SuiteRequest("GET", "/example space/"), "host;x-amz-date",
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-slashes-unnormalized", SuiteRequest("GET", "//example//"), "host;x-amz-date",
       "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"},
      {"get-relative-relative-unnormalized", SuiteRequest("GET", "/example1/example2/../.."), "host;x-amz-date",
       "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b"},
      {"get-header-key-duplicate",
       SuiteRequest("GET", "/", {}, {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
       "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order",
       SuiteRequest(
           "GET", "/", {},
           {{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"}, {"My-Header1", "value2"}}),
       "host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim",
       SuiteRequest("GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
       "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-vanilla", SuiteRequest("POST", "/"), "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-vanilla-query", SuiteRequest("POST", "/", {{"Param1", "value1"}}), "host;x-amz-date",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-header-key-sort", SuiteRequest("POST", "/", {}, {{"My-Header1", "value1"}}), "host;my-header1;x-amz-date",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case", SuiteRequest("POST", "/", {}, {{"My-Header1", "VALUE1"}}),
       "host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
  };
  for (const SuiteVector& v : vectors) {
    EXPECT_EQ(SignSuite(v.request).authorization, SuiteAuthorization(v.signed_headers, v.signature)) << v.name;
  }
}

TEST(SigV4SuiteTest, CanonicalFormsOfEncodedPathAndQuery) {
  Signature p = SignSuite(SuiteRequest("GET", "/\xE1\x88\xB4"));
  EXPECT_EQ(p.canonical_request.rfind("GET\n/%E1%88%B4\n\n", 0), 0u) << p.canonical_request;
  Signature q =
      SignSuite(SuiteRequest("GET", "/", {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xE1\x88\xB4", "Value1"}}));
  EXPECT_NE(q.canonical_request.find("\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\n"), std::string::npos)
      << q.canonical_request;
}

TEST(SigV4SuiteTest, SessionTokenIsSentAndSigned) {
  const Credentials temporary{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"};
  Signature s = SignSuite(SuiteRequest("GET", "/"), temporary);
  EXPECT_EQ(s.authorization, SuiteAuthorization("host;x-amz-date;x-amz-security-token",
                                                "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"));
  bool sent = false;
  for (const Header& h : s.headers) {
    if (h.name == "x-amz-security-token") sent = h.value == temporary.session_token;
  }
  EXPECT_TRUE(sent);
}

// ---------------------------------------------------------------- S3 API reference examples

const Credentials kS3Credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};

Request S3Request(std::string method, std::string path, std::vector<QueryParam> query = {},
                  std::vector<Header> headers = {}, std::string payload_hash = std::string(kEmptyPayloadSha256)) {
  Request r;
  r.method = std::move(method);
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = std::move(headers);
  r.payload_hash = std::move(payload_hash);
  return r;
}

Signature SignS3(const Request& r) {
  Options o;
  o.region = "us-east-1";
  o.service = "s3";
  return Sign(r, kS3Credentials, o, At("20130524T000000Z"));
}

std::string S3Authorization(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

TEST(SigV4S3Test, GetObjectWithRange) {
  Signature s = SignS3(S3Request("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}}));
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.authorization, S3Authorization("host;range;x-amz-content-sha256;x-amz-date",
                                             "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
  // S3 needs the payload hash as a header too.
  ASSERT_GE(s.headers.size(), 2u);
  EXPECT_EQ(s.headers[1].name, "x-amz-content-sha256");
  EXPECT_EQ(s.headers[1].value, kEmptyPayloadSha256);
}

TEST(SigV4S3Test, PutObjectWithReservedCharacterInKey) {
  const std::string body = "Welcome to Amazon S3.";
  EXPECT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Signature s = SignS3(S3Request(
      "PUT", "/test$file.text", {},
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}}, Sha256Hex(body)));
  EXPECT_EQ(s.canonical_request.rfind("PUT\n/test%24file.text\n", 0), 0u) << s.canonical_request;
  EXPECT_EQ(s.authorization, S3Authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                                             "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

TEST(SigV4S3Test, GetBucketLifecycleValuelessParameter) {
  Signature s = SignS3(S3Request("GET", "/", {{"lifecycle", ""}}));
  EXPECT_EQ(s.canonical_request.rfind("GET\n/\nlifecycle=\n", 0), 0u) << s.canonical_request;
  EXPECT_EQ(s.authorization, S3Authorization("host;x-amz-content-sha256;x-amz-date",
                                             "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
}

TEST(SigV4S3Test, ListObjectsQueryIsSorted) {
  Signature s = SignS3(S3Request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}));
  EXPECT_EQ(s.canonical_request.rfind("GET\n/\nmax-keys=2&prefix=J\n", 0), 0u) << s.canonical_request;
  EXPECT_EQ(s.authorization, S3Authorization("host;x-amz-content-sha256;x-amz-date",
                                             "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
}

TEST(SigV4S3Test, DifferentSecretGivesDifferentSignature) {
  Options o;
  Credentials other = kS3Credentials;
  other.secret_access_key[0] = 'X';
  Request r = S3Request("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}});
  EXPECT_NE(Sign(r, other, o, At("20130524T000000Z")).authorization, SignS3(r).authorization);
}

// ---------------------------------------------------------------- building blocks

TEST(SigV4EncodingTest, UriEncodeKeysAndQueryValues) {
  EXPECT_EQ(UriEncode("a b+c=d/e~f", /*keep_slash=*/true), "a%20b%2Bc%3Dd/e~f");
  EXPECT_EQ(UriEncode("a b+c=d/e~f", /*keep_slash=*/false), "a%20b%2Bc%3Dd%2Fe~f");
  EXPECT_EQ(UriEncode("caf\xC3\xA9", true), "caf%C3%A9");  // UTF-8 bytes, upper-case hex
  EXPECT_EQ(UriEncode("*!'()&%", false), "%2A%21%27%28%29%26%25");
  EXPECT_EQ(UriEncode("", false), "");
}

TEST(SigV4EncodingTest, ContinuationTokenSurvivesTheQueryString) {
  // Tokens are base64: '+', '/' and '=' must all be escaped or S3 reads a different token.
  EXPECT_EQ(CanonicalQueryString({{"list-type", "2"}, {"continuation-token", "1a+b/c=="}, {"prefix", "x y/"}}),
            "continuation-token=1a%2Bb%2Fc%3D%3D&list-type=2&prefix=x%20y%2F");
  EXPECT_EQ(CanonicalQueryString({}), "");
}

TEST(SigV4EncodingTest, AmzDateRoundTrip) {
  system_clock::time_point t;
  ASSERT_TRUE(ParseAmzDate("20150830T123600Z", &t));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(), 1440938160);
  EXPECT_EQ(FormatAmzDate(t), "20150830T123600Z");
  EXPECT_FALSE(ParseAmzDate("2015-08-30T12:36:00Z", &t));
  EXPECT_FALSE(ParseAmzDate("20150830T1236000", &t));
}

TEST(SigV4EncodingTest, Sha256OfEmptyInput) { EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256); }

}  // namespace
}  // namespace loadstar::sigv4
