#include "common/core/uri.h"

#include <gtest/gtest.h>

namespace loadstar {
namespace {

TEST(UriTest, S3BucketAndPrefix) {
  auto u = ParseUri("s3://udacity-dend/song_data/A/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->is_s3());
  EXPECT_FALSE(u->is_file());
  EXPECT_EQ(u->bucket, "udacity-dend");
  EXPECT_EQ(u->path, "song_data/A/");
  EXPECT_EQ(u->ToString(), "s3://udacity-dend/song_data/A/");
}

TEST(UriTest, S3BucketAlone) {
  for (const char* text : {"s3://bucket", "s3://bucket/"}) {
    auto u = ParseUri(text);
    ASSERT_TRUE(u.ok()) << text << ": " << u.status().ToString();
    EXPECT_EQ(u->bucket, "bucket") << text;
    EXPECT_EQ(u->path, "") << text;
    EXPECT_EQ(u->ToString(), "s3://bucket/") << text;
  }
}

TEST(UriTest, S3KeyKeepsSpacesAndUnicode) {
  auto u = ParseUri("s3://my.bucket-1/dir with space/caf\xC3\xA9+x=y.json");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->bucket, "my.bucket-1");
  EXPECT_EQ(u->path, "dir with space/caf\xC3\xA9+x=y.json");
}

TEST(UriTest, S3RejectsMissingOrBadBucket) {
  for (const char* text : {"s3://", "s3:///key", "s3://Upper/key", "s3://bad bucket/key", "s3://b@d/key"}) {
    auto u = ParseUri(text);
    ASSERT_FALSE(u.ok()) << text;
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(u.status().message().find(text), std::string::npos) << u.status().message();
    EXPECT_NE(u.status().message().find("s3://bucket/prefix/"), std::string::npos) << "shows an accepted form";
  }
}

TEST(UriTest, FileUriAndPlainAbsolutePath) {
  auto f = ParseUri("file:///data/songs/");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->is_file());
  EXPECT_EQ(f->path, "/data/songs/");
  EXPECT_EQ(f->bucket, "");
  EXPECT_EQ(f->ToString(), "file:///data/songs/");

  auto p = ParseUri("/data/songs");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->is_file());
  EXPECT_EQ(p->path, "/data/songs");
  EXPECT_EQ(p->ToString(), "file:///data/songs");
}

TEST(UriTest, RejectsRelativePathsAndOtherSchemes) {
  for (const char* text : {"data/songs", "", "file://relative/path", "file://", "gs://bucket/x", "https://x/y"}) {
    auto u = ParseUri(text);
    ASSERT_FALSE(u.ok()) << "'" << text << "' was accepted";
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << text;
  }
  EXPECT_NE(ParseUri("gs://bucket/x").status().message().find("unsupported scheme"), std::string::npos);
  EXPECT_NE(ParseUri("data/x").status().message().find("relative"), std::string::npos);
}

TEST(UriTest, ObjectUriKeepsSchemeAndBucket) {
  auto root = ParseUri("s3://bucket/prefix/");
  ASSERT_TRUE(root.ok());
  Uri obj = ObjectUri(*root, "prefix/a b.json");
  EXPECT_TRUE(obj.is_s3());
  EXPECT_EQ(obj.bucket, "bucket");
  EXPECT_EQ(obj.ToString(), "s3://bucket/prefix/a b.json");

  auto dir = ParseUri("/data/");
  ASSERT_TRUE(dir.ok());
  Uri file = ObjectUri(*dir, "/data/x/y.json");
  EXPECT_TRUE(file.is_file());
  EXPECT_EQ(file.ToString(), "file:///data/x/y.json");
}

}  // namespace
}  // namespace loadstar
