// Planning with PlanOptions::task_multiple (Redshift's slices), against a real PostgreSQL for the
// ledger and file:// sources in a temporary directory: each kind's tasks are a multiple of the
// slices where the data allows, every file is in exactly one task, in order, songs and events
// never share a task, and a plan that needs fewer tasks than the multiple is packed as usual.
#include "coordinator/planner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/warehouse/warehouse.h"
#include "coordinator/scheduler/task_packer.h"
#include "tests/support/postgres_server.h"
#include "tests/support/test_env.h"

namespace loadstar::coordinator {
namespace {

using testing::PostgresServer;

class PlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    auto& pg = PostgresServer::Shared();
    WarehouseOptions wo;
    wo.conninfo = pg.Uri();
    wo.schema = "planner_" + std::to_string(++n);
    auto wh = Warehouse::Connect(wo, /*create_schema=*/true);
    ASSERT_TRUE(wh.ok()) << wh.status().ToString();
    wh_ = std::move(wh).value();
    Status schema = wh_->ExecFile("schema");
    ASSERT_TRUE(schema.ok()) << schema.ToString();
    root_ = testing::TempDir("planner_" + std::to_string(n));
  }

  // Writes `sizes.size()` JSON files of those sizes under `dir` (named so that key order is the
  // order given) and returns the source for them.
  SourceSpec Files(const std::string& dir, FileKind kind, const std::vector<uint64_t>& sizes) {
    std::filesystem::create_directories(root_ + "/" + dir);
    for (size_t i = 0; i < sizes.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "/f%05zu.json", i);
      std::ofstream(root_ + "/" + dir + name, std::ios::binary) << std::string(sizes[i], 'x');
    }
    return SourceSpec{"file://" + root_ + "/" + dir + "/", kind};
  }

  Plan MustPlan(const std::vector<SourceSpec>& sources, const PlanOptions& options) {
    auto plan = BuildPlan(sources, wh_.get(), /*run_id=*/1, options);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    return plan.ok() ? std::move(plan).value() : Plan{};
  }

  std::unique_ptr<Warehouse> wh_;
  std::string root_;
};

PlanOptions Options(uint64_t byte_budget, size_t max_files, uint32_t multiple) {
  PlanOptions o;
  o.pack.byte_budget = byte_budget;
  o.pack.max_files = max_files;
  o.task_multiple = multiple;
  return o;
}

// Tasks of `kind`, in plan order.
std::vector<const PackedTask*> TasksOf(const Plan& plan, FileKind kind) {
  std::vector<const PackedTask*> out;
  for (const PackedTask& t : plan.tasks) {
    if (t.kind == kind) out.push_back(&t);
  }
  return out;
}

// What must hold of any plan: no empty task, no task mixing kinds, a task's bytes the sum of its
// files, every planned file in exactly one task, each kind's files in their listed order.
void ExpectWellFormed(const Plan& plan) {
  std::vector<int> seen(plan.files.size(), 0);
  std::map<FileKind, int64_t> last;  // the last file index of each kind so far
  for (size_t t = 0; t < plan.tasks.size(); ++t) {
    const PackedTask& task = plan.tasks[t];
    SCOPED_TRACE("task " + std::to_string(t));
    ASSERT_FALSE(task.files.empty());
    uint64_t bytes = 0;
    for (uint64_t i : task.files) {
      ASSERT_LT(i, plan.files.size());
      EXPECT_EQ(plan.files[i].kind, task.kind) << "songs and events never share a task";
      ++seen[i];
      bytes += plan.files[i].size;
      auto it = last.find(task.kind);
      if (it != last.end()) {
        EXPECT_GT(static_cast<int64_t>(i), it->second) << "files keep their order";
      }
      last[task.kind] = static_cast<int64_t>(i);
    }
    EXPECT_EQ(task.bytes, bytes);
  }
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << plan.uri(plan.files[i]);
}

// The tasks PackTasks makes of the same files (the ordinary packing), as lists of file indexes.
std::vector<std::vector<uint64_t>> Ordinary(const Plan& plan, const PackOptions& pack) {
  std::vector<PackInput> in;
  for (size_t i = 0; i < plan.files.size(); ++i) in.push_back(PackInput{i, plan.files[i].size, plan.files[i].kind});
  std::vector<std::vector<uint64_t>> out;
  for (const PackedTask& t : PackTasks(in, pack)) out.push_back(t.files);
  return out;
}

std::vector<std::vector<uint64_t>> FileLists(const Plan& plan) {
  std::vector<std::vector<uint64_t>> out;
  for (const PackedTask& t : plan.tasks) out.push_back(t.files);
  return out;
}

TEST_F(PlannerTest, EachKindsTasksAreAMultipleOfTheSlices) {
  // 60 song files of 100 bytes (6,000 bytes: 4 tasks by the budget) and 10 event files of 1,000
  // bytes (10,000: 7 tasks by the budget), rounded up to the multiple.
  const std::vector<SourceSpec> sources = {Files("songs", FileKind::kSong, std::vector<uint64_t>(60, 100)),
                                           Files("events", FileKind::kEvent, std::vector<uint64_t>(10, 1000))};
  for (uint32_t multiple : {2u, 3u, 4u}) {
    SCOPED_TRACE("multiple " + std::to_string(multiple));
    const Plan plan = MustPlan(sources, Options(1500, 1000, multiple));
    ASSERT_EQ(plan.files.size(), 70u);
    ExpectWellFormed(plan);
    const size_t songs = TasksOf(plan, FileKind::kSong).size();
    const size_t events = TasksOf(plan, FileKind::kEvent).size();
    EXPECT_EQ(songs % multiple, 0u) << songs << " song tasks";
    EXPECT_EQ(events % multiple, 0u) << events << " event tasks";
    EXPECT_GE(songs, 4u) << "at least as many as the budget asks for";
    EXPECT_GE(events, 7u);
    EXPECT_EQ(songs + events, plan.tasks.size());
  }
  // Songs first, then events, as in the ordinary packing.
  const Plan plan = MustPlan(sources, Options(1500, 1000, 4));
  ASSERT_FALSE(plan.tasks.empty());
  EXPECT_EQ(plan.tasks.front().kind, FileKind::kSong);
  EXPECT_EQ(plan.tasks.back().kind, FileKind::kEvent);
}

// The file budget counts too: 1,000 song files of 1 byte, at most 100 a task, are 10 tasks, so 12
// with a multiple of 4 or 6, and 16 with 8 — each then of fewer files than the budget allows.
TEST_F(PlannerTest, TheFileBudgetAlsoDecidesTheCount) {
  const std::vector<SourceSpec> sources = {Files("songs", FileKind::kSong, std::vector<uint64_t>(1000, 1))};
  for (auto [multiple, expected] : {std::pair{4u, 12u}, std::pair{6u, 12u}, std::pair{8u, 16u}, std::pair{10u, 10u}}) {
    SCOPED_TRACE("multiple " + std::to_string(multiple));
    const Plan plan = MustPlan(sources, Options(1 << 20, 100, multiple));
    ExpectWellFormed(plan);
    EXPECT_EQ(plan.tasks.size(), expected);
    for (const PackedTask& t : plan.tasks) EXPECT_LE(t.files.size(), 100u);
  }
}

// Where the budget asks for fewer tasks than the multiple, the plan is the ordinary packing's:
// 3 tasks' worth of songs stay 3 tasks with 4 slices rather than being cut finer.
TEST_F(PlannerTest, FewerTasksThanTheMultipleArePackedAsUsual) {
  const std::vector<SourceSpec> sources = {Files("songs", FileKind::kSong, std::vector<uint64_t>(30, 100)),
                                           Files("events", FileKind::kEvent, {400, 900, 100, 1000, 50})};
  const PlanOptions options = Options(1000, 1000, 4);
  const Plan plan = MustPlan(sources, options);
  ExpectWellFormed(plan);
  EXPECT_EQ(TasksOf(plan, FileKind::kSong).size(), 3u);
  EXPECT_EQ(FileLists(plan), Ordinary(plan, options.pack));
  EXPECT_EQ(FileLists(plan), FileLists(MustPlan(sources, Options(1000, 1000, 0))));
}

// A multiple of 0 or 1 is the ordinary packing, whatever the data.
TEST_F(PlannerTest, AMultipleOfOneIsTheOrdinaryPacking) {
  const std::vector<SourceSpec> sources = {Files("songs", FileKind::kSong, std::vector<uint64_t>(57, 130)),
                                           Files("events", FileKind::kEvent, {5000, 10, 10, 2500, 7000, 1, 300})};
  for (uint32_t multiple : {0u, 1u}) {
    const PlanOptions options = Options(1000, 10, multiple);
    const Plan plan = MustPlan(sources, options);
    ExpectWellFormed(plan);
    EXPECT_EQ(FileLists(plan), Ordinary(plan, options.pack)) << "multiple " << multiple;
  }
}

// Only one kind of file: the other kind has no tasks, and the one there is still comes in a
// multiple.
TEST_F(PlannerTest, OneKindAlone) {
  const Plan plan = MustPlan({Files("events", FileKind::kEvent, std::vector<uint64_t>(24, 500))},
                             Options(1000, 1000, 4));
  ExpectWellFormed(plan);
  EXPECT_TRUE(TasksOf(plan, FileKind::kSong).empty());
  EXPECT_EQ(TasksOf(plan, FileKind::kEvent).size(), 12u);
}

// Many plans of evenly sized files (the shape of song data): the count is a multiple whenever the
// budget asks for at least the multiple and there are files enough to fill every task.
TEST_F(PlannerTest, EvenlySizedFilesAlwaysComeInAMultiple) {
  const std::vector<SourceSpec> sources = {Files("songs", FileKind::kSong, std::vector<uint64_t>(97, 250))};
  int checked = 0;
  for (uint64_t budget : {700u, 1000u, 2500u, 4000u, 6000u}) {
    for (uint32_t multiple : {2u, 3u, 4u, 5u, 8u, 16u}) {
      SCOPED_TRACE("budget " + std::to_string(budget) + ", multiple " + std::to_string(multiple));
      const PlanOptions options = Options(budget, 1000, multiple);
      const Plan plan = MustPlan(sources, options);
      ExpectWellFormed(plan);
      const uint64_t needed = (97 * 250 + budget - 1) / budget;
      if (needed < multiple) {
        EXPECT_EQ(FileLists(plan), Ordinary(plan, options.pack));
        continue;
      }
      const uint64_t rounded = (needed + multiple - 1) / multiple * multiple;
      if (rounded > 97) continue;  // more tasks than files: the data does not allow it
      EXPECT_EQ(plan.tasks.size(), rounded);
      ++checked;
    }
  }
  EXPECT_GE(checked, 15);
}

// One event file far larger than the rest. The data allows a multiple of 4 (31 files; the
// ordinary packing makes 4 tasks of them: the big file, then 10 small ones three times), but the
// spreading leaves the tasks before the big file empty and drops them: 5 tasks.
TEST_F(PlannerTest, OneLargeFileAmongSmallOnesStillGivesAMultiple) {
  std::vector<uint64_t> sizes = {3000};
  sizes.insert(sizes.end(), 30, 100);
  const PlanOptions options = Options(1000, 1000, 4);
  const Plan plan = MustPlan({Files("events", FileKind::kEvent, sizes)}, options);
  ExpectWellFormed(plan);
  ASSERT_EQ(Ordinary(plan, options.pack).size(), 4u);
  EXPECT_EQ(plan.tasks.size() % 4, 0u) << plan.tasks.size() << " tasks";
}

// The file budget is a hard bound in the ordinary packing; with a multiple, files sized
// [10, 1, 1, 1] at most 1 a task end up as two tasks, the second of three files.
TEST_F(PlannerTest, AMultipleKeepsTheFileBudget) {
  const PlanOptions options = Options(1000, 1, 4);
  const Plan plan = MustPlan({Files("events", FileKind::kEvent, {10, 1, 1, 1})}, options);
  ExpectWellFormed(plan);
  for (const PackedTask& t : plan.tasks) EXPECT_LE(t.files.size(), 1u);
  EXPECT_EQ(plan.tasks.size(), 4u);
}

// The ledger still decides what is planned: a file loaded with the same ETag is skipped, one
// whose ETag changed is planned with its ledger id, and the highest id is reported.
TEST_F(PlannerTest, TheLedgerDecidesWhatIsPlannedWithAMultiple) {
  const SourceSpec songs = Files("songs", FileKind::kSong, std::vector<uint64_t>(8, 100));
  Plan first = MustPlan({songs}, Options(200, 1000, 2));
  ASSERT_EQ(first.files.size(), 8u);
  const std::string same(first.uri(first.files[0]));
  const std::string changed(first.uri(first.files[1]));
  auto ins = wh_->QueryText(
      "INSERT INTO load_files (file_id, uri, kind, etag, size, run_id, state) VALUES "
      "(70, $1, 'song', $2, 100, 0, 'loaded'), (71, $3, 'song', 'old-etag', 100, 0, 'loaded')",
      {same, std::string(first.etag(first.files[0])), changed});
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  const Plan plan = MustPlan({songs}, Options(200, 1000, 2));
  ExpectWellFormed(plan);
  EXPECT_EQ(plan.skipped_loaded, 1u);
  ASSERT_EQ(plan.files.size(), 7u);
  EXPECT_EQ(plan.uri(plan.files[0]), changed);
  EXPECT_EQ(plan.files[0].file_id, 71);
  EXPECT_EQ(plan.files[1].file_id, 0) << "a new file has no id yet";
  EXPECT_EQ(plan.max_file_id, 71);
  EXPECT_EQ(plan.tasks.size() % 2, 0u);
}

}  // namespace
}  // namespace loadstar::coordinator
