// GzipWriter, the compressor of the parts staged for Redshift: whatever goes in comes back out of
// Gunzip (and so out of any gzip reader), one independent member per Finish().
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "worker/parse/decompress.h"

namespace loadstar::worker {
namespace {

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// CSV-like text that compresses well.
std::string Compressible(size_t n) {
  std::string s;
  s.reserve(n);
  for (uint64_t i = 0; s.size() < n; ++i) {
    s += "\"42\",\"7\",\"" + std::to_string(i) + "\",\"Artist\",\"Logged In\",,\"NextSong\"\n";
  }
  s.resize(n);
  return s;
}

std::string RoundTrip(const std::string& member) {
  EXPECT_TRUE(IsGzip(member));
  auto plain = Gunzip(member);
  EXPECT_TRUE(plain.ok()) << plain.status().ToString();
  return plain.ok() ? *plain : std::string("<not gzip>");
}

TEST(GzipWriterTest, EmptyInputIsAnEmptyMember) {
  GzipWriter w;
  EXPECT_EQ(w.raw_bytes(), 0u);
  const std::string member = w.Finish();
  EXPECT_GE(member.size(), 18u) << "a gzip header and trailer even around nothing";
  EXPECT_EQ(RoundTrip(member), "");
  // Empty appends change nothing.
  w.Append("");
  w.Append({});
  EXPECT_EQ(w.raw_bytes(), 0u);
  EXPECT_EQ(RoundTrip(w.Finish()), "");
}

TEST(GzipWriterTest, SmallInputRoundTrips) {
  GzipWriter w;
  w.Append("\"a\",\"b\"\n");
  w.Append(",\"c\"\n");
  EXPECT_EQ(w.raw_bytes(), 13u);
  EXPECT_EQ(RoundTrip(w.Finish()), "\"a\",\"b\"\n,\"c\"\n");
}

TEST(GzipWriterTest, LargeRandomInputRoundTrips) {
  const std::string data = Random((4u << 20) + 12345, 7);
  GzipWriter w;
  // In uneven pieces, as rows come.
  size_t at = 0;
  for (size_t piece = 1; at < data.size(); piece = piece * 3 + 1) {
    const size_t n = std::min(piece % 1'000'003, data.size() - at);
    w.Append(std::string_view(data).substr(at, n));
    at += n;
  }
  EXPECT_EQ(w.raw_bytes(), data.size());
  const std::string member = w.Finish();
  EXPECT_GT(member.size(), data.size() * 99 / 100) << "random bytes do not compress";
  EXPECT_EQ(RoundTrip(member), data);
}

TEST(GzipWriterTest, LargeCompressibleInputRoundTripsAndShrinks) {
  const std::string data = Compressible((5u << 20) + 7);
  GzipWriter w;
  w.Append(data);
  EXPECT_EQ(w.raw_bytes(), data.size());
  const std::string member = w.Finish();
  EXPECT_LT(member.size(), data.size() / 4);
  EXPECT_EQ(RoundTrip(member), data);
}

// Each Finish() ends one member and starts a fresh one: each decompresses on its own to just what
// was appended since the last, and the counters start again.
TEST(GzipWriterTest, EachFinishIsAnIndependentMember) {
  GzipWriter w;
  const std::vector<std::string> inputs = {Compressible(100000), "", "x", Random(70000, 3), Compressible(3 << 20)};
  std::vector<std::string> members;
  for (const std::string& in : inputs) {
    w.Append(in);
    EXPECT_EQ(w.raw_bytes(), in.size());
    members.push_back(w.Finish());
    EXPECT_EQ(w.raw_bytes(), 0u);
    EXPECT_EQ(w.compressed_bytes(), 0u);
  }
  std::string all_members, all_inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(RoundTrip(members[i]), inputs[i]) << "member " << i;
    all_members += members[i];
    all_inputs += inputs[i];
  }
  // Back to back they are one multi-member gzip file.
  EXPECT_EQ(RoundTrip(all_members), all_inputs);
}

// compressed_bytes grows as output leaves zlib and is exactly the member's size once finished
// (what a part's size is decided by); raw_bytes is the input so far.
TEST(GzipWriterTest, CountersFollowInputAndOutput) {
  GzipWriter w(1);
  const std::string data = Random(1 << 20, 11);
  uint64_t last = 0;
  for (size_t at = 0; at < data.size(); at += 65536) {
    w.Append(std::string_view(data).substr(at, 65536));
    EXPECT_GE(w.compressed_bytes(), last);
    last = w.compressed_bytes();
    EXPECT_EQ(w.raw_bytes(), at + 65536);
  }
  EXPECT_GT(w.compressed_bytes(), data.size() / 2) << "most of 1 MiB of random bytes has left zlib";
  const uint64_t before_finish = w.compressed_bytes();
  const std::string member = w.Finish();
  EXPECT_GE(member.size(), before_finish);
  EXPECT_EQ(RoundTrip(member), data);
}

TEST(GzipWriterTest, EveryLevelRoundTrips) {
  const std::string data = Compressible(300000) + Random(5000, 5);
  for (int level : {0, 1, 6, 9}) {
    GzipWriter w(level);
    w.Append(data);
    EXPECT_EQ(RoundTrip(w.Finish()), data) << "level " << level;
  }
}

}  // namespace
}  // namespace loadstar::worker
