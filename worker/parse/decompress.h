// Gzip detection and inflation for fetched files, and gzip compression for the parts written to
// S3 staging (zlib is wrapped here and nowhere else).
//
// A file is gzip when it starts with the gzip magic bytes, 1f 8b; its content type and key are
// not consulted, so a .json key holding gzip data is inflated and a .gz key holding plain JSON
// is parsed as it is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/core/status.h"

namespace loadstar::worker {

// The default bound on an inflated file: generous for any real log or song file, small enough
// that a decompression bomb fails cleanly instead of exhausting memory.
inline constexpr uint64_t kDefaultMaxInflatedBytes = 4ull << 30;

// True if `data` starts with the gzip magic bytes. Says nothing about whether the rest is valid.
bool IsGzip(std::string_view data);

// Inflates `data`, a gzip file: one member, or several concatenated (`cat a.gz b.gz`, RFC 1952),
// optionally followed by zero bytes (some writers pad). The result has kBodyPadding bytes of spare
// capacity, as a fetched body does, so it can go straight to RecordParser::Parse.
//
// Errors, none worth retrying (the same bytes fail the same way):
//   kParse            `data` is not gzip, is truncated (ends before a member's end marker), is
//                     corrupt (bad header, bad deflate data, CRC or length mismatch), or has
//                     bytes other than another member or zero padding after a member.
//   kInvalidArgument  the content inflates to more than `max_output_bytes`.
Result<std::string> Gunzip(std::string_view data, uint64_t max_output_bytes = kDefaultMaxInflatedBytes);

// If `*body` is gzip, replaces it with its inflated content (see Gunzip); anything else is left
// untouched, byte for byte. On error `*body` is unchanged.
Status InflateIfGzip(std::string* body, uint64_t max_output_bytes = kDefaultMaxInflatedBytes);

// Compresses a stream of bytes into one gzip member, held in memory.
class GzipWriter {
 public:
  explicit GzipWriter(int level = 6);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  // Compresses `data` onto the output.
  void Append(std::string_view data);
  // Ends the member and returns it; the writer then starts a new, empty member.
  std::string Finish();
  // Bytes of output so far (compressed; what has not been flushed out of zlib is not counted)
  // and of input.
  uint64_t compressed_bytes() const { return out_.size(); }
  uint64_t raw_bytes() const { return raw_bytes_; }

 private:
  void Deflate(std::string_view data, int flush);
  void Reset();

  struct Stream;
  Stream* stream_;
  const int level_;
  std::string out_;
  uint64_t raw_bytes_ = 0;
};

}  // namespace loadstar::worker
