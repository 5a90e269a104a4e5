#include "worker/parse/decompress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "common/storage/object_store.h"

namespace loadstar::worker {
namespace {

using ::testing::HasSubstr;

// Compresses `data` as one gzip member with zlib.
std::string GzipWithZlib(std::string_view data, int level = Z_DEFAULT_COMPRESSION) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Events(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += R"({"artist":"Des'ree","page":"NextSong","ts":)" + std::to_string(1541106106796 + i) + "}";
    if (i + 1 < n) s += '\n';
  }
  return s;
}

TEST(DecompressTest, DetectsGzipByMagicBytes) {
  EXPECT_TRUE(IsGzip(GzipWithZlib("x")));
  EXPECT_TRUE(IsGzip("\x1f\x8b"));
  EXPECT_FALSE(IsGzip(""));
  EXPECT_FALSE(IsGzip("\x1f"));
  EXPECT_FALSE(IsGzip("{\"ts\":1}"));
  EXPECT_FALSE(IsGzip("\x8b\x1f"));
}

TEST(DecompressTest, RoundTripsAndLeavesPadding) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{200000}}) {
    const std::string plain = Events(n);
    auto inflated = Gunzip(GzipWithZlib(plain));
    ASSERT_TRUE(inflated.ok()) << inflated.status().ToString();
    EXPECT_EQ(*inflated, plain);
    EXPECT_GE(inflated->capacity(), inflated->size() + kBodyPadding);
  }
}

TEST(DecompressTest, IncompressibleDataRoundTrips) {
  std::mt19937 rng(7);
  std::string plain(300000, '\0');
  for (char& c : plain) c = static_cast<char>(rng());
  auto inflated = Gunzip(GzipWithZlib(plain, Z_NO_COMPRESSION));
  ASSERT_TRUE(inflated.ok()) << inflated.status().ToString();
  EXPECT_EQ(*inflated, plain);
}

TEST(DecompressTest, ConcatenatedMembersAndZeroPadding) {
  const std::string a = Events(10), b = Events(20);
  auto inflated = Gunzip(GzipWithZlib(a) + GzipWithZlib(b) + std::string(16, '\0'));
  ASSERT_TRUE(inflated.ok()) << inflated.status().ToString();
  EXPECT_EQ(*inflated, a + b);
}

TEST(DecompressTest, TruncatedGzipIsAnError) {
  const std::string gz = GzipWithZlib(Events(1000));
  for (size_t cut : {size_t{2}, size_t{10}, gz.size() / 2, gz.size() - 4, gz.size() - 1}) {
    auto inflated = Gunzip(gz.substr(0, cut));
    ASSERT_FALSE(inflated.ok()) << cut;
    EXPECT_EQ(inflated.status().code(), StatusCode::kParse);
    EXPECT_FALSE(IsRetryable(inflated.status()));
  }
  auto inflated = Gunzip(gz.substr(0, gz.size() / 2));
  EXPECT_THAT(inflated.status().message(), HasSubstr("truncated"));
}

TEST(DecompressTest, CorruptGzipIsAnError) {
  std::string gz = GzipWithZlib(Events(1000));
  gz[gz.size() / 2] = static_cast<char>(gz[gz.size() / 2] ^ 0x55);
  auto inflated = Gunzip(gz);
  ASSERT_FALSE(inflated.ok());
  EXPECT_EQ(inflated.status().code(), StatusCode::kParse);

  std::string bad_crc = GzipWithZlib(Events(10));
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 1);
  inflated = Gunzip(bad_crc);
  ASSERT_FALSE(inflated.ok());
  EXPECT_THAT(inflated.status().message(), HasSubstr("corrupt"));

  inflated = Gunzip(GzipWithZlib(Events(10)) + "garbage");
  ASSERT_FALSE(inflated.ok());
  EXPECT_THAT(inflated.status().message(), HasSubstr("not gzip"));

  inflated = Gunzip("{\"ts\":1}");
  ASSERT_FALSE(inflated.ok());
  EXPECT_EQ(inflated.status().code(), StatusCode::kParse);
}

TEST(DecompressTest, OutputIsCapped) {
  const std::string plain(1 << 20, 'a');  // compresses about 1000:1
  const std::string gz = GzipWithZlib(plain);
  auto inflated = Gunzip(gz, plain.size() - 1);
  ASSERT_FALSE(inflated.ok());
  EXPECT_EQ(inflated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(inflated.status().message(), HasSubstr("limit"));

  inflated = Gunzip(gz, plain.size());  // exactly at the cap is fine
  ASSERT_TRUE(inflated.ok()) << inflated.status().ToString();
  EXPECT_EQ(inflated->size(), plain.size());
}

TEST(DecompressTest, InflateIfGzipLeavesOtherDataUntouched) {
  const std::string plain = Events(50);
  std::string body = plain;
  ASSERT_TRUE(InflateIfGzip(&body).ok());
  EXPECT_EQ(body, plain);

  body = GzipWithZlib(plain);
  ASSERT_TRUE(InflateIfGzip(&body).ok());
  EXPECT_EQ(body, plain);
  EXPECT_GE(body.capacity(), body.size() + kBodyPadding);

  const std::string truncated = GzipWithZlib(plain).substr(0, 20);
  body = truncated;
  EXPECT_FALSE(InflateIfGzip(&body).ok());
  EXPECT_EQ(body, truncated) << "unchanged on error";
}

}  // namespace
}  // namespace loadstar::worker
