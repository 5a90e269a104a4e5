// ObjectStore: the one interface through which loadstar reads and writes objects, whether they
// live in S3 (or an S3-compatible server) or on a local filesystem. The coordinator lists through
// it, workers fetch through it, the generator writes through it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/core/uri.h"

namespace loadstar {

// Bytes reserved past the end of every fetched body, so parsers that read ahead in wide
// registers (simdjson needs 64) can use the buffer in place without copying it.
inline constexpr size_t kBodyPadding = 64;

struct ObjectInfo {
  std::string key;   // S3: the object key; file: the absolute path
  uint64_t size = 0;
  std::string etag;  // S3: the ETag without quotes; file: "<mtime_ns>-<size>"
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Calls `sink` once per object whose key starts with `prefix`, in key order, following every
  // page of the listing. Stops and returns the sink's Status if the sink returns an error.
  // For file stores `prefix` is an absolute path: a directory is walked recursively.
  virtual Status List(std::string_view prefix, const std::function<Status(ObjectInfo)>& sink) = 0;

  // Returns the whole object. The string has kBodyPadding bytes of spare capacity.
  virtual Result<std::string> Get(std::string_view key) = 0;

  // Fetches `keys` with up to `concurrency` transfers in flight (reusing connections) and calls
  // `done(index_into_keys, result)` as each finishes, from the calling thread. Transient failures
  // are retried inside; the result passed on is final.
  virtual void GetMany(const std::vector<std::string>& keys, size_t concurrency,
                       const std::function<void(size_t, Result<std::string>)>& done) = 0;

  // Bytes [offset, offset + length) of the object (which must lie within it), with kBodyPadding
  // spare capacity. With `etag`, fails rather than mixing versions if the object has changed.
  virtual Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length,
                                       std::string_view etag) = 0;

  virtual Result<ObjectInfo> Head(std::string_view key) = 0;

  // Creates or replaces the object. File stores create missing parent directories.
  virtual Status Put(std::string_view key, std::string_view body) = 0;

  // Removes the object; one that is not there is no error.
  virtual Status Delete(std::string_view key) = 0;

  // The URI that names `key` in this store, e.g. "s3://bucket/key".
  virtual std::string UriFor(std::string_view key) const = 0;
};

// Opens the store that `uri` points into: an S3 bucket (settings from the environment, the AWS
// way) or the local filesystem. A store is not thread-safe; open one per thread.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const Uri& uri);

}  // namespace loadstar
