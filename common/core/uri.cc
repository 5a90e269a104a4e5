#include "common/core/uri.h"

namespace loadstar {

std::string Uri::ToString() const {
  if (scheme == Scheme::kS3) return "s3://" + bucket + "/" + path;
  return "file://" + path;
}

Result<Uri> ParseUri(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a usable location (" + std::string(why) +
                                   "); use s3://bucket/prefix/ or file:///absolute/path/");
  };
  Uri uri;
  if (text.rfind("s3://", 0) == 0) {
    std::string_view rest = text.substr(5);
    size_t slash = rest.find('/');
    std::string_view bucket = rest.substr(0, slash);
    if (bucket.empty()) return bad("no bucket name");
    for (char c : bucket) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
      if (!ok) return bad("bucket names hold lower-case letters, digits, '-', '.' and '_' only");
    }
    uri.scheme = Uri::Scheme::kS3;
    uri.bucket = std::string(bucket);
    uri.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    return uri;
  }
  std::string_view path;
  if (text.rfind("file://", 0) == 0) {
    path = text.substr(7);
    if (path.empty() || path[0] != '/') return bad("file URIs need an absolute path: file:///data/songs/");
  } else if (!text.empty() && text[0] == '/') {
    path = text;
  } else if (text.find("://") != std::string_view::npos) {
    return bad("unsupported scheme");
  } else {
    return bad("relative paths are ambiguous across machines");
  }
  uri.scheme = Uri::Scheme::kFile;
  uri.path = std::string(path);
  return uri;
}

Uri ObjectUri(const Uri& root, std::string_view key) {
  Uri out = root;
  out.path = std::string(key);
  return out;
}

}  // namespace loadstar
