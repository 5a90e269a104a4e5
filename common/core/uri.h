// Source and destination locations: `s3://bucket/prefix/` and `file:///absolute/path/`.
#pragma once

#include <string>
#include <string_view>

#include "common/core/status.h"

namespace loadstar {

struct Uri {
  enum class Scheme { kS3, kFile };
  Scheme scheme = Scheme::kFile;
  std::string bucket;  // S3 only
  // S3: the key or key prefix inside the bucket, no leading '/'.
  // file: the absolute path, always starting with '/'.
  std::string path;

  // Canonical text form: "s3://bucket/key" or "file:///abs/path".
  std::string ToString() const;
  bool is_s3() const { return scheme == Scheme::kS3; }
  bool is_file() const { return scheme == Scheme::kFile; }
};

// Parses "s3://bucket/prefix", "file:///abs/path" and, for convenience, a plain absolute path.
// Returns InvalidArgument with a message that shows an accepted form when the text is not one.
Result<Uri> ParseUri(std::string_view text);

// The URI of one object found under `root`: same scheme and bucket, `key` as its path.
Uri ObjectUri(const Uri& root, std::string_view key);

}  // namespace loadstar
