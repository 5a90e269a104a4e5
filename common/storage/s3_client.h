// S3Client: the five S3 operations loadstar needs (ListObjectsV2, GetObject, HeadObject,
// PutObject, DeleteObject) against AWS or an S3-compatible server, with SigV4 signing, connection reuse,
// bounded-concurrency fetches and retries of transient failures.
//
// Errors follow loadstar's Status policy:
//   Unavailable   5xx, 429/SlowDown, RequestTimeout, connect failures, resets, timeouts (retried)
//   DataLoss      a body shorter than its Content-Length (retried)
//   PermissionDenied  403 (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, ...) and
//                 expired tokens; the message names the bucket/key and says what to check
//   NotFound      404 NoSuchKey / NoSuchBucket, naming the key or the bucket
//   InvalidArgument   the bucket is in another region (the message says which), other 4xx
//   FailedPrecondition  this machine's clock is too far off (RequestTimeTooSkewed), unexpected
//                 redirects, 409/412/416, TLS certificates that do not verify (never retried: the
//                 message names the host and says to set AWS_CA_BUNDLE for a private CA)
// Messages never contain credentials or signatures.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/storage/aws_config.h"
#include "common/storage/http_client.h"
#include "common/storage/object_store.h"
#include "common/core/status.h"

namespace loadstar {

namespace s3_internal {
class Addressing;
}  // namespace s3_internal

// How retryable failures are retried: up to max_attempts tries in all, waiting a jittered,
// exponentially growing, capped delay between them.
struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{5000};

  // The wait before retry number `retry` (1 for the first retry): with d = min(max_delay,
  // base_delay * 2^(retry-1)), a value in [d/2, d) chosen by `unit_random` in [0, 1).
  std::chrono::milliseconds Backoff(int retry, double unit_random) const;
};

struct S3ClientOptions {
  AwsSettings aws;  // credentials, region, endpoint
  RetryPolicy retry;
  HttpOptions http;  // timeouts; body_padding is always kBodyPadding, ca_bundle comes from `aws`
  // Keys per ListObjectsV2 page (S3 returns at most 1000 whatever is asked).
  int list_page_size = 1000;
};

// One page of a ListObjectsV2 listing.
struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_continuation_token;  // set when `truncated`
};

// Not thread-safe: use one client per thread (connections are per client).
class S3Client {
 public:
  // Returns InvalidArgument when the endpoint URL or the region cannot be used, or the CA bundle
  // (AwsSettings::ca_bundle) cannot be read.
  [[nodiscard]] static Result<std::unique_ptr<S3Client>> Create(S3ClientOptions options);

  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;
  ~S3Client();

  // Calls `sink` for every object under `prefix`, page after page, in the order S3 lists them
  // (UTF-8 byte order on AWS). Stops at, and returns, the first error of S3 or of the sink.
  [[nodiscard]] Status ListObjects(std::string_view bucket, std::string_view prefix,
                                   const std::function<Status(ObjectInfo)>& sink);

  // One page; `continuation_token` is empty for the first page.
  [[nodiscard]] Result<ListPage> ListObjectsPage(std::string_view bucket, std::string_view prefix,
                                                 std::string_view continuation_token);

  // The whole object, with kBodyPadding bytes of spare capacity.
  [[nodiscard]] Result<std::string> GetObject(std::string_view bucket, std::string_view key);
  // Bytes [offset, offset + length) of the object, which must lie within it. With `if_match`
  // (an ETag), fails instead of mixing versions if the object has changed since.
  [[nodiscard]] Result<std::string> GetObjectRange(std::string_view bucket, std::string_view key, uint64_t offset,
                                                   uint64_t length, std::string_view if_match = {});

  // Fetches `keys` with up to `concurrency` requests in flight over reused connections, retrying
  // transient failures, and calls `done(index, result)` once per key as each finishes, on the
  // calling thread.
  void GetObjects(std::string_view bucket, const std::vector<std::string>& keys, size_t concurrency,
                  const std::function<void(size_t, Result<std::string>)>& done);

  // Size and ETag. A missing key or bucket is NotFound (HEAD responses carry no error code, so
  // the message cannot say which of the two is missing).
  [[nodiscard]] Result<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key);

  // Creates or replaces the object. The body's SHA-256 is signed, so S3 rejects corrupted uploads.
  [[nodiscard]] Status PutObject(std::string_view bucket, std::string_view key, std::string_view body);

  // Removes the object; removing one that is not there succeeds (as S3 itself answers).
  [[nodiscard]] Status DeleteObject(std::string_view bucket, std::string_view key);

  const AwsSettings& settings() const { return options_.aws; }
  const HttpStats& http_stats() const { return http_.stats(); }

 private:
  struct Call;
  S3Client(S3ClientOptions options, std::unique_ptr<const s3_internal::Addressing> addressing);

  HttpRequest BuildRequest(const Call& call) const;
  // The Status for a completed exchange: OK for 2xx, otherwise the mapped S3 error.
  Status Check(const Call& call, const Result<HttpResponse>& result) const;
  // Sends `call`, retrying retryable failures per the policy.
  Result<HttpResponse> Execute(const Call& call);
  std::chrono::milliseconds NextBackoff(int retry);
  static Status ValidateObjectName(std::string_view method, std::string_view bucket, std::string_view key);
  static Status WithAttempts(const Status& status, int attempts);

  const S3ClientOptions options_;
  const std::unique_ptr<const s3_internal::Addressing> addressing_;  // where requests go
  HttpClient http_;
  std::minstd_rand rng_;  // jitter only
};

}  // namespace loadstar
