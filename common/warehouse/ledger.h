// The ledger (the load_files table): one row per source file, saying what has become of it. This
// is the one place that says what its states mean and what follows from them, for the planner
// (what to list for staging), the stager (what to do with a file it is handed) and the
// coordinator (whether a worker's account of a task is borne out).
//
// A file's life:  new  --staged by a run-->  staged  --that run's transform commits-->  loaded
//   new     a row exists (the stager made it) but nothing of the file has committed;
//   staged  the file's rows, rejects and account are in staging for the row's run_id;
//   loaded  its rows went into the star tables (its staging rows are gone).
// The row's etag is the ETag of the bytes staged or loaded; another ETag means other bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/warehouse/warehouse.h"

namespace loadstar {

enum class FileState { kNew, kStaged, kLoaded };

// The ledger's text for a state: "new", "staged", "loaded".
std::string_view FileStateText(FileState state);
// The state a ledger's text names; InvalidArgument for any other text.
Result<FileState> ParseFileState(std::string_view text);

// One ledger row, as far as the statement read returns it.
struct LedgerEntry {
  int64_t file_id = 0;
  std::string uri;
  std::string etag;
  int64_t run_id = 0;
  FileState state = FileState::kNew;
  uint64_t records = 0, staged = 0, rejected = 0;
};

// The ledger rows of `rows`, which must have the columns uri, etag, state and run_id; file_id,
// records, staged and rejected are read where the statement returns them (0 otherwise). An
// unknown state is FailedPrecondition naming the file.
Result<std::vector<LedgerEntry>> LedgerEntriesFrom(const QueryResult& rows);

// --- Planning: which listed files a run stages. ---

enum class PlanDecision {
  kStage,         // list it for staging
  kSkipLoaded,    // loaded by an earlier run from the same bytes
  kSkipStaged,    // staged by this very run from the same bytes (the run is being resumed)
};

// What planning keeps of a ledger row (it holds one per file in the schema).
struct LedgerFacts {
  FileState state = FileState::kNew;
  int64_t run_id = 0;
  bool same_etag = false;  // the row's ETag is the listed file's
};

// The decision for a listed file, given its ledger row (none: never seen) and the run planning.
// A full refresh stages everything.
PlanDecision Decide(const std::optional<LedgerFacts>& ledger, int64_t run_id, bool full_refresh);

// --- Staging: what the stager does with a file of a task. ---

enum class StageDecision {
  kStage,          // stage it (new, or loaded before and handed out again)
  kAlreadyStaged,  // an earlier attempt of this run staged the same bytes: report the ledger's account
  kReplace,        // staged by an earlier run or from other bytes: delete those staging rows, stage again
  kLeaveAlone,     // a late attempt: this run already published the file, or a later run owns it now.
                   // Nothing is touched; the ledger's account is reported (the result is stale anyway)
};

// The decision for a file of ETag `etag` that run `run_id` is staging, given its (locked) row.
StageDecision DecideStage(const LedgerEntry& ledger, std::string_view etag, int64_t run_id);

// --- Confirmation: a worker's account of a file checked against the ledger. ---

struct FileAccount {
  uint64_t records = 0, staged = 0, rejected = 0;
};

// OK when the ledger bears out that run `run_id` staged the file from the planned ETag with the
// account the worker reports (which must balance: records = staged + rejected); otherwise
// FailedPrecondition saying what does not check out.
Status ConfirmStaged(const LedgerEntry& ledger, std::string_view planned_etag, int64_t run_id,
                     const FileAccount& reported);

}  // namespace loadstar
