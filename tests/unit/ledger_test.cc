// The ledger's rules: what its states are called, what planning skips, what staging does with a
// file, and when a worker's account is borne out. And the run states as the runs table spells them.
#include "common/warehouse/ledger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/run_store.h"

namespace loadstar {
namespace {

using ::testing::HasSubstr;

TEST(LedgerTest, StatesAreSpelledAsTheLedgerKeepsThem) {
  for (FileState s : {FileState::kNew, FileState::kStaged, FileState::kLoaded}) {
    auto parsed = ParseFileState(FileStateText(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(FileStateText(FileState::kNew), "new");
  EXPECT_EQ(FileStateText(FileState::kStaged), "staged");
  EXPECT_EQ(FileStateText(FileState::kLoaded), "loaded");
  EXPECT_EQ(ParseFileState("Loaded").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFileState("").status().code(), StatusCode::kInvalidArgument);
}

TEST(LedgerTest, EntriesAreReadByColumnName) {
  // The columns in an order of their own: only the names matter.
  QueryResult rows({"state", "run_id", "uri", "rejected", "etag", "file_id", "staged", "records"},
                   {{"staged", "4", "s3://b/a.json", "1", "e1", "12", "9", "10"}});
  auto entries = LedgerEntriesFrom(rows);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 1u);
  const LedgerEntry& e = entries->front();
  EXPECT_EQ(e.uri, "s3://b/a.json");
  EXPECT_EQ(e.etag, "e1");
  EXPECT_EQ(e.file_id, 12);
  EXPECT_EQ(e.run_id, 4);
  EXPECT_EQ(e.state, FileState::kStaged);
  EXPECT_EQ(e.records, 10u);
  EXPECT_EQ(e.staged, 9u);
  EXPECT_EQ(e.rejected, 1u);

  QueryResult planning({"uri", "etag", "state", "run_id"}, {{"s3://b/a.json", "e1", "loaded", "3"}});
  auto planned = LedgerEntriesFrom(planning);
  ASSERT_TRUE(planned.ok());
  EXPECT_EQ(planned->front().state, FileState::kLoaded);
  EXPECT_EQ(planned->front().records, 0u);

  QueryResult odd({"uri", "etag", "state", "run_id"}, {{"s3://b/a.json", "e1", "half-done", "3"}});
  auto bad = LedgerEntriesFrom(odd);
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(bad.status().message(), HasSubstr("s3://b/a.json"));
  EXPECT_THAT(bad.status().message(), HasSubstr("'half-done'"));

  QueryResult missing({"uri", "etag", "run_id"}, {});
  EXPECT_EQ(LedgerEntriesFrom(missing).status().code(), StatusCode::kInternal);
}

constexpr int64_t kRun = 7;

TEST(LedgerTest, PlanningSkipsOnlyFilesLoadedOrStagedByThisRunFromTheSameBytes) {
  EXPECT_EQ(Decide(std::nullopt, kRun, false), PlanDecision::kStage) << "never seen";
  EXPECT_EQ(Decide(LedgerFacts{FileState::kLoaded, 3, true}, kRun, false), PlanDecision::kSkipLoaded);
  EXPECT_EQ(Decide(LedgerFacts{FileState::kLoaded, 3, false}, kRun, false), PlanDecision::kStage) << "changed since";
  EXPECT_EQ(Decide(LedgerFacts{FileState::kStaged, kRun, true}, kRun, false), PlanDecision::kSkipStaged) << "resumed";
  EXPECT_EQ(Decide(LedgerFacts{FileState::kStaged, kRun, false}, kRun, false), PlanDecision::kStage);
  EXPECT_EQ(Decide(LedgerFacts{FileState::kStaged, 3, true}, kRun, false), PlanDecision::kStage)
      << "staged by an abandoned run: this run stages it for itself";
  EXPECT_EQ(Decide(LedgerFacts{FileState::kNew, kRun, true}, kRun, false), PlanDecision::kStage)
      << "a row whose staging never committed";
  for (FileState s : {FileState::kNew, FileState::kStaged, FileState::kLoaded}) {
    EXPECT_EQ(Decide(LedgerFacts{s, kRun, true}, kRun, true), PlanDecision::kStage) << "a full refresh stages all";
  }
}

LedgerEntry Entry(FileState state, int64_t run_id, std::string etag) {
  LedgerEntry e;
  e.uri = "s3://b/a.json";
  e.file_id = 5;
  e.state = state;
  e.run_id = run_id;
  e.etag = std::move(etag);
  e.records = 10;
  e.staged = 8;
  e.rejected = 2;
  return e;
}

TEST(LedgerTest, StagingReplacesOnlyWhatIsStagedAndReportsWhatThisRunStagedAlready) {
  EXPECT_EQ(DecideStage(Entry(FileState::kNew, kRun, "e"), "e", kRun), StageDecision::kStage);
  EXPECT_EQ(DecideStage(Entry(FileState::kLoaded, 3, "e"), "e", kRun), StageDecision::kStage)
      << "a loaded file has no staging rows left";
  EXPECT_EQ(DecideStage(Entry(FileState::kStaged, kRun, "e"), "e", kRun), StageDecision::kAlreadyStaged);
  EXPECT_EQ(DecideStage(Entry(FileState::kStaged, kRun, "old"), "e", kRun), StageDecision::kReplace)
      << "other bytes";
  EXPECT_EQ(DecideStage(Entry(FileState::kStaged, 3, "e"), "e", kRun), StageDecision::kReplace) << "an earlier run";
  // Late attempts, committing after their lease was lost, touch nothing.
  EXPECT_EQ(DecideStage(Entry(FileState::kLoaded, kRun, "e"), "e", kRun), StageDecision::kLeaveAlone)
      << "this run already published it";
  EXPECT_EQ(DecideStage(Entry(FileState::kStaged, kRun + 1, "e2"), "e", kRun), StageDecision::kLeaveAlone)
      << "a later run is staging it";
  EXPECT_EQ(DecideStage(Entry(FileState::kLoaded, kRun + 1, "e"), "e", kRun), StageDecision::kLeaveAlone)
      << "a later run loaded it";
}

TEST(LedgerTest, AWorkersAccountIsConfirmedOnlyByTheLedgersOwn) {
  const FileAccount right{10, 8, 2};
  EXPECT_TRUE(ConfirmStaged(Entry(FileState::kStaged, kRun, "e"), "e", kRun, right).ok());

  Status other_run = ConfirmStaged(Entry(FileState::kStaged, 3, "e"), "e", kRun, right);
  EXPECT_EQ(other_run.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other_run.message(), "the ledger has s3://b/a.json staged by run 3, not staged by run 7");
  EXPECT_EQ(ConfirmStaged(Entry(FileState::kLoaded, kRun, "e"), "e", kRun, right).message(),
            "the ledger has s3://b/a.json loaded by run 7, not staged by run 7");
  EXPECT_FALSE(ConfirmStaged(Entry(FileState::kNew, kRun, "e"), "e", kRun, right).ok());
  EXPECT_EQ(ConfirmStaged(Entry(FileState::kStaged, kRun, "old"), "e", kRun, right).message(),
            "the ledger has another ETag for s3://b/a.json");
  EXPECT_EQ(ConfirmStaged(Entry(FileState::kStaged, kRun, "e"), "e", kRun, FileAccount{10, 9, 1}).message(),
            "its account of s3://b/a.json (10 records, 9 staged, 1 rejected) is not the ledger's (10, 8, 2)");
  // An account that does not balance is refused even where the ledger holds the same numbers.
  LedgerEntry unbalanced = Entry(FileState::kStaged, kRun, "e");
  unbalanced.records = 11;
  EXPECT_FALSE(ConfirmStaged(unbalanced, "e", kRun, FileAccount{11, 8, 2}).ok());
}

TEST(RunStateTest, StatesAreSpelledAsTheRunsTableKeepsThem) {
  using coordinator::RunState;
  EXPECT_EQ(coordinator::RunStateText(RunState::kStaging), "staging");
  EXPECT_EQ(coordinator::RunStateText(RunState::kTransforming), "transforming");
  EXPECT_EQ(coordinator::RunStateText(RunState::kDone), "done");
  EXPECT_EQ(coordinator::RunStateText(RunState::kFailed), "failed");
  for (RunState s : {RunState::kStaging, RunState::kTransforming, RunState::kDone, RunState::kFailed}) {
    auto parsed = coordinator::ParseRunState(coordinator::RunStateText(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(coordinator::ParseRunState("running").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loadstar
