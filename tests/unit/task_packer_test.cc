#include "coordinator/scheduler/task_packer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace loadstar::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kMiB = 1 << 20;

PackInput Song(uint64_t index, uint64_t size) { return {index, size, FileKind::kSong}; }
PackInput Event(uint64_t index, uint64_t size) { return {index, size, FileKind::kEvent}; }

std::vector<std::vector<uint64_t>> FilesOf(const std::vector<PackedTask>& tasks) {
  std::vector<std::vector<uint64_t>> out;
  for (const PackedTask& t : tasks) out.push_back(t.files);
  return out;
}

TEST(TaskPackerTest, EmptyInputGivesNoTasks) {
  EXPECT_THAT(PackTasks({}), IsEmpty());
}

TEST(TaskPackerTest, DefaultsAreEightMebibytesAndAThousandFiles) {
  PackOptions o;
  EXPECT_EQ(o.byte_budget, 8 * kMiB);
  EXPECT_EQ(o.max_files, 1000u);
}

TEST(TaskPackerTest, SmallFilesShareATask) {
  std::vector<PackedTask> tasks = PackTasks({Song(0, 300), Song(1, 310), Song(2, 290)});
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].kind, FileKind::kSong);
  EXPECT_EQ(tasks[0].bytes, 900u);
  EXPECT_THAT(tasks[0].files, ElementsAre(0, 1, 2));
}

TEST(TaskPackerTest, ByteBudgetClosesATask) {
  PackOptions o;
  o.byte_budget = 1000;
  std::vector<PackedTask> tasks =
      PackTasks({Event(0, 400), Event(1, 600), Event(2, 1), Event(3, 999), Event(4, 500)}, o);
  // 400+600 = 1000 fits exactly; +1 would exceed. 1+999 fits; +500 would exceed.
  EXPECT_THAT(FilesOf(tasks), ElementsAre(ElementsAre(0, 1), ElementsAre(2, 3), ElementsAre(4)));
  EXPECT_EQ(tasks[0].bytes, 1000u);
  EXPECT_EQ(tasks[1].bytes, 1000u);
  EXPECT_EQ(tasks[2].bytes, 500u);
  for (const PackedTask& t : tasks) EXPECT_LE(t.bytes, o.byte_budget);
}

TEST(TaskPackerTest, MaxFilesClosesATask) {
  PackOptions o;
  o.max_files = 3;
  std::vector<PackInput> files;
  for (uint64_t i = 0; i < 7; ++i) files.push_back(Song(i, 1));
  std::vector<PackedTask> tasks = PackTasks(files, o);
  EXPECT_THAT(FilesOf(tasks), ElementsAre(ElementsAre(0, 1, 2), ElementsAre(3, 4, 5), ElementsAre(6)));
}

TEST(TaskPackerTest, ThousandSongFilesPerTaskByDefault) {
  std::vector<PackInput> files;
  for (uint64_t i = 0; i < 2500; ++i) files.push_back(Song(i, 300));
  std::vector<PackedTask> tasks = PackTasks(files);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].files.size(), 1000u);
  EXPECT_EQ(tasks[1].files.size(), 1000u);
  EXPECT_EQ(tasks[2].files.size(), 500u);
  EXPECT_EQ(tasks[2].files.front(), 2000u);
}

TEST(TaskPackerTest, FileLargerThanTheBudgetGoesAlone) {
  PackOptions o;
  o.byte_budget = 8 * kMiB;
  std::vector<PackedTask> tasks =
      PackTasks({Event(0, kMiB), Event(1, 20 * kMiB), Event(2, kMiB), Event(3, 9 * kMiB), Event(4, 9 * kMiB)}, o);
  EXPECT_THAT(FilesOf(tasks),
              ElementsAre(ElementsAre(0), ElementsAre(1), ElementsAre(2), ElementsAre(3), ElementsAre(4)));
  EXPECT_EQ(tasks[1].bytes, 20 * kMiB);
}

TEST(TaskPackerTest, FileOfExactlyTheBudgetFitsAnEmptyTask) {
  PackOptions o;
  o.byte_budget = 100;
  EXPECT_THAT(FilesOf(PackTasks({Song(0, 100), Song(1, 0), Song(2, 1)}, o)),
              ElementsAre(ElementsAre(0, 1), ElementsAre(2)));
}

TEST(TaskPackerTest, KindsAreNeverMixed) {
  std::vector<PackedTask> tasks =
      PackTasks({Event(0, 10), Song(1, 10), Event(2, 10), Song(3, 10), Song(4, 10), Event(5, 10)});
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].kind, FileKind::kSong);
  EXPECT_THAT(tasks[0].files, ElementsAre(1, 3, 4));  // order as given within a kind
  EXPECT_EQ(tasks[1].kind, FileKind::kEvent);
  EXPECT_THAT(tasks[1].files, ElementsAre(0, 2, 5));
}

TEST(TaskPackerTest, KindChangeClosesEvenWithRoomLeft) {
  PackOptions o;
  o.byte_budget = 1000;
  std::vector<PackedTask> tasks = PackTasks({Song(0, 10), Event(1, 10)}, o);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_NE(tasks[0].kind, tasks[1].kind);
}

TEST(TaskPackerTest, DeterministicForTheSameInput) {
  std::vector<PackInput> files;
  uint64_t x = 88172645463325252ull;
  for (uint64_t i = 0; i < 5000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    files.push_back({i, x % (3 * kMiB), (x & 1) ? FileKind::kSong : FileKind::kEvent});
  }
  std::vector<PackedTask> a = PackTasks(files);
  std::vector<PackedTask> b = PackTasks(files);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].kind, b[i].kind);
    EXPECT_EQ(a[i].bytes, b[i].bytes);
    EXPECT_EQ(a[i].files, b[i].files);
  }
  // Every file exactly once, every task within its bounds.
  std::vector<int> seen(files.size());
  for (const PackedTask& t : a) {
    ASSERT_FALSE(t.files.empty());
    EXPECT_LE(t.files.size(), 1000u);
    uint64_t bytes = 0;
    for (uint64_t f : t.files) {
      ++seen[f];
      EXPECT_EQ(files[f].kind, t.kind);
      bytes += files[f].size;
    }
    EXPECT_EQ(bytes, t.bytes);
    if (t.files.size() > 1) {
      EXPECT_LE(t.bytes, 8 * kMiB);
    }
  }
  for (int n : seen) EXPECT_EQ(n, 1);
}

TEST(TaskPackerTest, DegenerateOptions) {
  PackOptions o;
  o.max_files = 0;  // treated as 1
  EXPECT_EQ(PackTasks({Song(0, 1), Song(1, 1)}, o).size(), 2u);
  o.max_files = 1000;
  o.byte_budget = 0;  // every non-empty file alone; empty files still share
  EXPECT_THAT(FilesOf(PackTasks({Song(0, 1), Song(1, 0), Song(2, 0), Song(3, 5)}, o)),
              ElementsAre(ElementsAre(0), ElementsAre(1, 2), ElementsAre(3)));
}

}  // namespace
}  // namespace loadstar::coordinator
