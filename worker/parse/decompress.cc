#include "worker/parse/decompress.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/storage/object_store.h"

namespace loadstar::worker {
namespace {

// zlib counts in uInt; feed and drain it in pieces no larger than this.
constexpr size_t kMaxZlibChunk = size_t{1} << 30;
constexpr size_t kMinOutputBytes = size_t{64} << 10;

// Owns an inflate stream set up for gzip framing.
class Inflater {
 public:
  Inflater() = default;
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() {
    if (initialized_) inflateEnd(&stream_);
  }

  Status Init() {
    // 16 + MAX_WBITS: expect a gzip header and trailer (and check the CRC-32 and length).
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
      return Status::Internal(std::string("cannot start zlib inflate: ") + (stream_.msg ? stream_.msg : "no memory"));
    }
    initialized_ = true;
    return Status::Ok();
  }

  z_stream* stream() { return &stream_; }

 private:
  z_stream stream_{};
  bool initialized_ = false;
};

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '\0'; });
}

// How many bytes to make room for first. A whole single-member file ends with the size it
// inflates to (ISIZE, modulo 2^32); a truncated or multi-member one ends with anything, so that
// is believed only where it is plausible for JSON, and room grows by doubling from there.
uint64_t InitialRoom(std::string_view data) {
  constexpr uint64_t kPlausibleRatio = 32;
  const uint64_t fallback = 4 * static_cast<uint64_t>(data.size());
  if (data.size() < 18) return fallback;
  const auto* tail = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
  const uint64_t isize = uint64_t{tail[0]} | uint64_t{tail[1]} << 8 | uint64_t{tail[2]} << 16 | uint64_t{tail[3]} << 24;
  return isize <= kPlausibleRatio * data.size() ? isize : fallback;
}

}  // namespace

bool IsGzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

Result<std::string> Gunzip(std::string_view data, uint64_t max_output_bytes) {
  if (!IsGzip(data)) return Status::Parse("not gzip data (it does not start with the bytes 1f 8b)");

  Inflater inflater;
  LOADSTAR_RETURN_IF_ERROR(inflater.Init());
  z_stream* zs = inflater.stream();

  // `out` always holds `room` writable bytes plus kBodyPadding more, so that shrinking it to
  // the produced size leaves the padding as spare capacity without another copy. zlib may write
  // one byte past the limit so that exceeding it is detected.
  const uint64_t limit = max_output_bytes == UINT64_MAX ? max_output_bytes : max_output_bytes + 1;
  uint64_t room = std::min<uint64_t>(std::max<uint64_t>(InitialRoom(data), kMinOutputBytes), limit);
  std::string out;
  out.resize(room + kBodyPadding);
  uint64_t produced = 0;
  uint64_t consumed = 0;  // input bytes handed to zlib and used by it

  zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs->avail_in = 0;
  for (;;) {
    if (zs->avail_in == 0 && consumed < data.size()) {
      zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + consumed));
      zs->avail_in = static_cast<uInt>(std::min<uint64_t>(data.size() - consumed, kMaxZlibChunk));
    }
    if (produced == room) {
      if (room >= limit) {
        return Status::InvalidArgument("gzip data inflates to more than " + std::to_string(max_output_bytes) +
                                       " bytes, the limit");
      }
      room = std::min<uint64_t>(2 * room, limit);
      out.resize(room + kBodyPadding);
    }
    zs->next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs->avail_out = static_cast<uInt>(std::min<uint64_t>(room - produced, kMaxZlibChunk));

    const uInt avail_in_before = zs->avail_in;
    const uInt avail_out_before = zs->avail_out;
    const int rc = inflate(zs, Z_NO_FLUSH);
    consumed += avail_in_before - zs->avail_in;
    produced += avail_out_before - zs->avail_out;

    if (rc == Z_STREAM_END) {
      // One member done. What follows must be another member, zero padding, or nothing.
      const std::string_view rest = data.substr(consumed);
      if (rest.empty() || AllZero(rest)) break;
      if (!IsGzip(rest)) {
        return Status::Parse("gzip data is followed by " + std::to_string(rest.size()) +
                             " bytes that are not gzip, at offset " + std::to_string(consumed));
      }
      if (inflateReset(zs) != Z_OK) return Status::Internal("cannot reset zlib inflate");
      zs->avail_in = 0;  // refilled from `consumed` at the top of the loop
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Status::Parse("gzip data is corrupt near compressed byte " + std::to_string(consumed) + ": " +
                           (zs->msg ? zs->msg : "zlib error " + std::to_string(rc)));
    }
    if (zs->avail_out == 0) continue;  // out of room: grow and go on
    if (zs->avail_in == 0 && consumed == data.size()) {
      return Status::Parse("gzip data is truncated: it ends after " + std::to_string(data.size()) +
                           " bytes, before the end of the compressed stream");
    }
  }

  if (produced > max_output_bytes) {
    return Status::InvalidArgument("gzip data inflates to more than " + std::to_string(max_output_bytes) +
                                   " bytes, the limit");
  }
  out.resize(produced);  // capacity stays >= produced + kBodyPadding
  return out;
}

Status InflateIfGzip(std::string* body, uint64_t max_output_bytes) {
  if (!IsGzip(*body)) return Status::Ok();
  LOADSTAR_ASSIGN_OR_RETURN(std::string inflated, Gunzip(*body, max_output_bytes));
  *body = std::move(inflated);
  return Status::Ok();
}

struct GzipWriter::Stream {
  z_stream z{};
};

GzipWriter::GzipWriter(int level) : stream_(new Stream), level_(level) { Reset(); }

GzipWriter::~GzipWriter() {
  deflateEnd(&stream_->z);
  delete stream_;
}

void GzipWriter::Reset() {
  stream_->z = z_stream{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate data.
  if (deflateInit2(&stream_->z, level_, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    std::abort();  // only for a bad level or out of memory
  }
}

void GzipWriter::Deflate(std::string_view data, int flush) {
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc;
  do {
    size_t have = out_.size();
    size_t room = std::max<size_t>(deflateBound(&z, z.avail_in), 64 << 10);
    out_.resize(have + room);
    z.next_out = reinterpret_cast<Bytef*>(out_.data() + have);
    z.avail_out = static_cast<uInt>(room);
    rc = deflate(&z, flush);
    out_.resize(have + room - z.avail_out);
  } while (z.avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
}

void GzipWriter::Append(std::string_view data) {
  raw_bytes_ += data.size();
  // zlib takes at most 4 GiB at a time.
  constexpr size_t kChunk = 1u << 30;
  while (data.size() > kChunk) {
    Deflate(data.substr(0, kChunk), Z_NO_FLUSH);
    data.remove_prefix(kChunk);
  }
  Deflate(data, Z_NO_FLUSH);
}

std::string GzipWriter::Finish() {
  Deflate({}, Z_FINISH);
  deflateEnd(&stream_->z);
  std::string member = std::move(out_);
  out_.clear();
  raw_bytes_ = 0;
  Reset();
  return member;
}

}  // namespace loadstar::worker
