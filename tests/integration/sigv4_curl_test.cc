// The signer against an independent implementation: curl's --aws-sigv4.
//
// curl signs a request to a local server that records it; the same request is then signed here
// with the x-amz-date curl used, and the Authorization headers must agree byte for byte. The URLs
// are built by the S3 client's own addressing, so this also checks that what the client sends is
// what it signs. (curl 7.88 signs the path and query as given, unsorted and not re-encoded, so
// the URL must already be canonical, which is exactly what the client produces.)
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/storage/aws_config.h"
#include "common/storage/s3_internal.h"
#include "common/storage/sigv4.h"
#include "tests/integration/scripted_http_server.h"
#include "tests/support/process.h"

namespace loadstar {
namespace {

using testing::HeaderOf;
using testing::ScriptedHttpServer;
using testing::Subprocess;

constexpr const char* kKeyId = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class SigV4CurlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("loadstar-sigv4-curl-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // curl gained --aws-sigv4 in 7.75; without it there is nothing to compare against.
    Subprocess::Options o;
    o.argv = {"curl", "--version"};
    o.stdout_path = (dir_ / "version.txt").string();
    auto curl = Subprocess::Spawn(o);
    if (!curl.ok()) GTEST_SKIP() << "curl is not installed: " << curl.status().ToString();
    ASSERT_TRUE(curl->Wait(std::chrono::seconds(10)).has_value());
    std::smatch m;
    std::string version = ReadFile(o.stdout_path);
    ASSERT_TRUE(std::regex_search(version, m, std::regex(R"(curl (\d+)\.(\d+))"))) << version;
    int major = std::stoi(m[1]), minor = std::stoi(m[2]);
    if (major < 7 || (major == 7 && minor < 75)) GTEST_SKIP() << "curl " << m[0] << " has no --aws-sigv4";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  struct Case {
    std::string method = "GET";
    std::string bucket = "sparkify";
    std::string key{};
    std::vector<sigv4::QueryParam> query{};
    std::string body{};
    std::string session_token{};
  };

  // Sends `c` with curl to a recording server and checks our signature of the same request.
  void Check(const Case& c) {
    SCOPED_TRACE(c.method + " key='" + c.key + "'");
    ScriptedHttpServer server({ScriptedHttpServer::Respond(200, "")});
    AwsSettings settings;
    settings.endpoint_url = server.endpoint();
    auto addressing = s3_internal::Addressing::Make(settings);
    ASSERT_TRUE(addressing.ok()) << addressing.status().ToString();
    s3_internal::Location loc = addressing->For(c.bucket, c.key);
    const std::string url = addressing->Url(loc, c.query);
    const std::string payload_hash =
        c.method == "PUT" ? sigv4::Sha256Hex(c.body) : std::string(sigv4::kUnsignedPayload);

    Subprocess::Options o;
    o.argv = {"curl",        "-sS",
              "-o",          "/dev/null",
              "--max-time",  "20",
              "--aws-sigv4", "aws:amz:us-east-1:s3",
              "--user",      std::string(kKeyId) + ":" + kSecret,
              "-H",          "x-amz-content-sha256: " + payload_hash};
    if (!c.session_token.empty()) o.argv.insert(o.argv.end(), {"-H", "x-amz-security-token: " + c.session_token});
    if (c.method == "HEAD") o.argv.push_back("-I");
    if (c.method == "PUT") {
      std::string body_path = (dir_ / "body").string();
      std::ofstream(body_path, std::ios::binary) << c.body;
      o.argv.insert(o.argv.end(), {"-T", body_path});
    }
    o.argv.push_back(url);
    o.stderr_path = (dir_ / "curl.err").string();
    auto curl = Subprocess::Spawn(o);
    ASSERT_TRUE(curl.ok()) << curl.status().ToString();
    auto exit = curl->Wait(std::chrono::seconds(30));
    ASSERT_TRUE(exit.has_value()) << "curl did not finish";
    ASSERT_TRUE(exit->success()) << "curl: " << exit->ToString() << ": " << ReadFile(o.stderr_path);
    ASSERT_EQ(server.request_count(), 1u);
    const std::string request = server.requests()[0];

    // curl sent the URL the client built, unchanged.
    std::string target = url.substr(url.find('/', url.find("://") + 3));
    ASSERT_EQ(request.substr(0, request.find("\r\n")), c.method + " " + target + " HTTP/1.1");

    const std::string theirs = HeaderOf(request, "Authorization");
    const std::string amz_date = HeaderOf(request, "X-Amz-Date");
    ASSERT_FALSE(theirs.empty()) << request;
    std::chrono::system_clock::time_point when;
    ASSERT_TRUE(sigv4::ParseAmzDate(amz_date, &when)) << amz_date;

    // Every header curl signed besides the ones our signer adds itself is passed on as is.
    sigv4::Request ours;
    ours.method = c.method;
    ours.host = HeaderOf(request, "Host");
    ours.path = loc.path;
    ours.query = c.query;
    ours.payload_hash = payload_hash;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(theirs, m, std::regex("SignedHeaders=([^,]+)"))) << theirs;
    std::string signed_list = m[1];
    for (size_t start = 0; start <= signed_list.size();) {
      size_t end = signed_list.find(';', start);
      std::string name = signed_list.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (name != "host" && name != "x-amz-date" && name != "x-amz-content-sha256" && name != "x-amz-security-token") {
        ours.headers.push_back({name, HeaderOf(request, name)});
      }
      if (end == std::string::npos) break;
      start = end + 1;
    }
    sigv4::Options options;
    options.region = "us-east-1";
    options.service = "s3";
    sigv4::Signature sig = sigv4::Sign(ours, {kKeyId, kSecret, c.session_token}, options, when);
    EXPECT_EQ(sig.authorization, theirs) << "our canonical request:\n" << sig.canonical_request;
    EXPECT_NE(theirs.find("x-amz-content-sha256"), std::string::npos) << "S3 needs the payload hash signed";
  }

  std::filesystem::path dir_;
};

TEST_F(SigV4CurlTest, GetPlainKey) { Check({.key = "song_data/A/B/C/TRABCEI128F424C983.json"}); }

TEST_F(SigV4CurlTest, GetKeyWithSpacesPlusEqualsAndUnicode) {
  Check({.key = "dir with space/a+b=c/caf\xC3\xA9 \xE2\x98\x95.json"});
}

TEST_F(SigV4CurlTest, GetKeyWithSubDelimiters) { Check({.key = "odd/!$&'()*,;:@[]~_-.json"}); }

TEST_F(SigV4CurlTest, ListWithContinuationToken) {
  Check({.key = "",
         .query = {{"list-type", "2"},
                   {"prefix", "dir with space/"},
                   {"max-keys", "7"},
                   {"continuation-token", "1/bA+c==/x+y="}}});
}

TEST_F(SigV4CurlTest, HeadObject) { Check({.method = "HEAD", .key = "log_data/2018/11/2018-11-01-events.json"}); }

TEST_F(SigV4CurlTest, PutObjectWithSignedPayload) {
  Check({.method = "PUT", .key = "out/part 1.json", .body = "{\"a\": 1}\n{\"a\": 2}\n"});
}

TEST_F(SigV4CurlTest, SessionTokenIsSigned) {
  Check({.key = "data/x.json", .session_token = "FwoGZXIvYXdzEXAMPLE+token/with=chars"});
}

}  // namespace
}  // namespace loadstar
