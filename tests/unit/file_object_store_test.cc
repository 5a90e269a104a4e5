// The local-filesystem ObjectStore, through OpenObjectStore() as its users see it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/storage/object_store.h"
#include "common/core/uri.h"

namespace loadstar {
namespace {

namespace fs = std::filesystem;

class FileObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() / ("loadstar-file-store-" + std::to_string(::getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    fs::create_directories(root_);
    auto uri = ParseUri("file://" + root_ + "/");
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    auto store = OpenObjectStore(*uri);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& relative, const std::string& body) {
    fs::path p = fs::path(root_) / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << body;
  }

  std::vector<ObjectInfo> List(const std::string& prefix, Status* status = nullptr) {
    std::vector<ObjectInfo> out;
    Status s = store_->List(prefix, [&](ObjectInfo info) {
      out.push_back(std::move(info));
      return Status::Ok();
    });
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    return out;
  }

  static std::vector<std::string> Keys(const std::vector<ObjectInfo>& infos) {
    std::vector<std::string> keys;
    for (const ObjectInfo& i : infos) keys.push_back(i.key);
    return keys;
  }

  std::string root_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(FileObjectStoreTest, ListsADirectoryRecursivelyInKeyOrderWithAbsoluteKeys) {
  Write("song_data/B/b.json", "bb");
  Write("song_data/A/z.json", "z");
  Write("song_data/A/a.json", "aaaa");
  Write("song_data/A/sub/deeper/c.json", "c");
  Write("log_data/x.json", "x");
  auto infos = List(root_ + "/song_data");
  EXPECT_EQ(Keys(infos),
            (std::vector<std::string>{root_ + "/song_data/A/a.json", root_ + "/song_data/A/sub/deeper/c.json",
                                      root_ + "/song_data/A/z.json", root_ + "/song_data/B/b.json"}));
  ASSERT_EQ(infos.size(), 4u);
  EXPECT_EQ(infos[0].size, 4u);
  // The ETag is "<mtime_ns>-<size>".
  struct stat st {};
  ASSERT_EQ(::stat(infos[0].key.c_str(), &st), 0);
  EXPECT_EQ(infos[0].etag,
            std::to_string(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec) + "-4");
  // A trailing slash means the same directory.
  EXPECT_EQ(Keys(List(root_ + "/song_data/")), Keys(infos));
}

TEST_F(FileObjectStoreTest, ListsByPathPrefix) {
  Write("data/part-1.json", "1");
  Write("data/part-2.json", "2");
  Write("data/partition/x.json", "x");
  Write("data/other.json", "o");
  EXPECT_EQ(Keys(List(root_ + "/data/part-")),
            (std::vector<std::string>{root_ + "/data/part-1.json", root_ + "/data/part-2.json"}));
  EXPECT_EQ(Keys(List(root_ + "/data/part")),
            (std::vector<std::string>{root_ + "/data/part-1.json", root_ + "/data/part-2.json",
                                      root_ + "/data/partition/x.json"}));
  EXPECT_TRUE(List(root_ + "/data/nothing-matches").empty());
}

TEST_F(FileObjectStoreTest, MissingDirectoryIsNotFoundAndNamed) {
  Status s;
  List(root_ + "/no/such/dir/", &s);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find(root_ + "/no/such/dir"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("does not exist"), std::string::npos) << s.message();

  List(root_ + "/no/such/prefix", &s);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST_F(FileObjectStoreTest, SinkErrorStopsTheListing) {
  Write("d/1", "1");
  Write("d/2", "2");
  Write("d/3", "3");
  int calls = 0;
  Status s = store_->List(root_ + "/d", [&](ObjectInfo) {
    ++calls;
    return calls == 2 ? Status::Cancelled("enough") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
}

TEST_F(FileObjectStoreTest, GetReturnsTheBytesWithPadding) {
  std::string body = "{\"song_id\": \"SOABC\"}\n";
  body.push_back('\0');  // binary-safe
  body += "tail";
  Write("x/song.json", body);
  auto got = store_->Get(root_ + "/x/song.json");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, body);
  EXPECT_GE(got->capacity(), got->size() + kBodyPadding);

  Write("x/empty.json", "");
  auto empty = store_->Get(root_ + "/x/empty.json");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  EXPECT_GE(empty->capacity(), kBodyPadding);
}

TEST_F(FileObjectStoreTest, GetOfMissingFileIsNotFound) {
  auto got = store_->Get(root_ + "/missing.json");
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find(root_ + "/missing.json"), std::string::npos);
  EXPECT_EQ(store_->Get(root_).status().code(), StatusCode::kInvalidArgument);  // a directory
  EXPECT_EQ(store_->Get("relative/path").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FileObjectStoreTest, PutCreatesDirectoriesReplacesAtomicallyAndHeadAgrees) {
  const std::string key = root_ + "/new/deep/dir/out.json";
  ASSERT_TRUE(store_->Put(key, "first version").ok());
  ASSERT_TRUE(store_->Put(key, "second").ok());
  auto got = store_->Get(key);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "second");
  // No temporary files are left beside it.
  EXPECT_EQ(Keys(List(root_ + "/new")), std::vector<std::string>{key});

  auto head = store_->Head(key);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->key, key);
  EXPECT_EQ(head->size, 6u);
  EXPECT_EQ(head->etag, List(key).at(0).etag);
  EXPECT_EQ(store_->Head(root_ + "/nope").status().code(), StatusCode::kNotFound);
}

TEST_F(FileObjectStoreTest, PutIntoAnUnwritablePlaceFails) {
  Write("file-not-dir", "x");
  Status s = store_->Put(root_ + "/file-not-dir/child.json", "y");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("file-not-dir"), std::string::npos) << s.message();
}

TEST_F(FileObjectStoreTest, GetManyDeliversEveryKeyOnce) {
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    Write("many/" + std::to_string(i), std::string(static_cast<size_t>(i), 'x'));
    keys.push_back(root_ + "/many/" + std::to_string(i));
  }
  keys.push_back(root_ + "/many/missing");
  std::vector<int> seen(keys.size(), 0);
  store_->GetMany(keys, 4, [&](size_t i, Result<std::string> r) {
    ++seen.at(i);
    if (i + 1 == keys.size()) {
      EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    } else {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->size(), i);
    }
  });
  EXPECT_EQ(seen, std::vector<int>(keys.size(), 1));
}

TEST_F(FileObjectStoreTest, UriFor) { EXPECT_EQ(store_->UriFor("/data/a b.json"), "file:///data/a b.json"); }

}  // namespace
}  // namespace loadstar
