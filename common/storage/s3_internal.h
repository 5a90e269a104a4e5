// Pieces of the S3 client with no I/O, kept apart so unit tests can reach them: where a request
// for bucket/key goes, the XML S3 answers with, and what an error response means.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/storage/aws_config.h"
#include "common/storage/http_client.h"
#include "common/storage/s3_client.h"
#include "common/storage/sigv4.h"
#include "common/core/status.h"

namespace loadstar::s3_internal {

// Where the requests for a bucket and key go.
struct Location {
  std::string host;  // the Host header: "b.s3.us-east-1.amazonaws.com", "127.0.0.1:9000"
  std::string path;  // decoded: "/key" (virtual-hosted) or "/bucket/key" (path-style)
};

// Turns buckets and keys into URLs. AWS itself is addressed virtual-hosted style
// (https://bucket.s3.REGION.amazonaws.com/key), except for bucket names with dots, which would not
// match the wildcard certificate and so go path-style; a custom endpoint is always path-style.
class Addressing {
 public:
  // InvalidArgument when the endpoint is not an http(s) URL or the region is not a region name.
  static Result<Addressing> Make(const AwsSettings& settings);

  // `key` may be empty for requests on the bucket itself (listing).
  Location For(std::string_view bucket, std::string_view key) const;
  // The URL to send: the path UriEncode()d once ('/' kept) and the query in canonical order, so
  // the URL carries exactly what the signature covers.
  std::string Url(const Location& location, const std::vector<sigv4::QueryParam>& query) const;
  // For messages: "http://127.0.0.1:9000" or "AWS (region eu-west-1)".
  const std::string& description() const { return description_; }

 private:
  std::string scheme_;     // "http" or "https"
  std::string host_;       // custom endpoint: host[:port] without a default port; AWS: empty
  std::string base_path_;  // custom endpoint mounted under a path: "/s3"; else empty
  std::string region_;
  std::string aws_domain_;  // "amazonaws.com", or "amazonaws.com.cn" in China regions
  std::string description_;
};

// Replaces XML's predefined entities and numeric character references with their text.
std::string DecodeXmlText(std::string_view text);

// Finds the next <name>...</name> (or <name/>) at or after `*pos`; on success stores the element's
// inner text and moves `*pos` past it. Enough for AWS's answers (S3 and the Query APIs), whose
// tags carry no attributes but the root's namespace.
bool NextElement(std::string_view xml, std::string_view name, size_t* pos, std::string_view* inner);

// Parses a ListObjectsV2 response body: keys decoded, ETag quotes stripped, sizes as numbers.
// Parse error when the body is not a ListBucketResult or a size is not a number.
Result<ListPage> ParseListObjectsV2(std::string_view xml);

// The fields of an S3 <Error> body that matter here; empty when absent.
struct ErrorBody {
  std::string code;     // "NoSuchKey", "SlowDown", ...
  std::string message;  // S3's human-readable message
  std::string region;   // <Region>, sent with wrong-region errors
};
ErrorBody ParseErrorBody(std::string_view xml);

// Describes the request an error belongs to, for the message.
struct ErrorContext {
  std::string_view method;  // "GET", "HEAD", "PUT", or "LIST"
  std::string_view bucket;
  std::string_view key;  // object key, or the prefix when listing
  const AwsSettings* settings = nullptr;
  std::string_view endpoint_description;
};

// Maps a non-2xx response to a Status; see s3_client.h for the categories.
Status StatusFromResponse(const HttpResponse& response, const ErrorContext& context);

}  // namespace loadstar::s3_internal
