// AWS Signature Version 4 for requests that carry the signature in the Authorization header.
//
// Signing is a pure function: a description of the request, the credentials and the time go in,
// the headers to add come out. Nothing here does I/O, so it is tested against AWS's published
// examples (tests/unit/sigv4_test.cc) and against an independent signer
// (tests/integration/sigv4_curl_test.cc).
//
// Paths are encoded once, the way S3 wants them (other AWS services encode twice); '/' separates
// segments and is kept, and "." / ".." segments and repeated slashes are NOT normalized away,
// because S3 keys may contain them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace loadstar::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless the credentials are temporary (STS)

  bool empty() const { return access_key_id.empty(); }
};

struct Header {
  std::string name;
  std::string value;
};

struct QueryParam {
  std::string name;   // decoded, e.g. "continuation-token"
  std::string value;  // decoded, e.g. "1a+b/c=="; empty for a valueless parameter such as "?lifecycle"
};

// The x-amz-content-sha256 value that tells S3 the body is not part of the signature.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of zero bytes, in lower-case hex.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Request {
  std::string method;             // "GET", "PUT", "HEAD", ...
  std::string host;               // the Host header as sent: "bucket.s3.us-east-1.amazonaws.com",
                                  // "127.0.0.1:9000" (a port only when it is not the scheme's default)
  std::string path = "/";         // decoded, starting with '/': "/bucket/my key.json"
  std::vector<QueryParam> query;  // any order; signed in canonical order
  std::vector<Header> headers;    // further headers to sign (Range, Date, ...), any case; not Host
  std::string payload_hash = std::string(kUnsignedPayload);  // hex SHA-256 of the body, or kUnsignedPayload
};

struct Options {
  std::string region = "us-east-1";
  std::string service = "s3";
  // Add and sign x-amz-content-sha256 (S3 requires it on every request; other services do not
  // use it, and AWS's generic test suite does not expect it).
  bool send_content_sha256 = true;
};

struct Signature {
  // The headers to send in addition to Host and Request::headers: x-amz-date,
  // x-amz-content-sha256 (when Options::send_content_sha256), x-amz-security-token (when the
  // credentials have a session token) and Authorization.
  std::vector<Header> headers;
  std::string authorization;      // the Authorization header's value
  std::string canonical_request;  // intermediate steps, for tests and for debugging a mismatch
  std::string string_to_sign;
};

// Signs `request` as of `now`. The secret key only enters the HMAC; it appears in no output.
Signature Sign(const Request& request, const Credentials& credentials, const Options& options,
               std::chrono::system_clock::time_point now);

// "20150830T123600Z" (UTC), the x-amz-date format.
std::string FormatAmzDate(std::chrono::system_clock::time_point time);
// Parses the x-amz-date format; returns false if `text` is not in it.
bool ParseAmzDate(std::string_view text, std::chrono::system_clock::time_point* time);

// Percent-encodes every byte except the unreserved characters A-Z a-z 0-9 - _ . ~ (and '/' when
// `keep_slash`), with upper-case hex: AWS's UriEncode(). Use keep_slash for object paths.
std::string UriEncode(std::string_view text, bool keep_slash);

// "name=value&..." with names and values UriEncode()d and sorted by name, then value. This is both
// the canonical query string and the query to put in the URL, so that what is sent is what was
// signed.
std::string CanonicalQueryString(const std::vector<QueryParam>& query);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace loadstar::sigv4
