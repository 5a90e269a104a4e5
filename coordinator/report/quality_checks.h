// Data-quality checks over the star schema.
//
// Every statement of the catalog under "checks/" (sql/<dialect>/checks/ and sql/common/checks/)
// is one check: a single SELECT that returns the rows breaking one rule (no rows: the rule holds),
// whose first line is "-- check: <what the rule is>". Adding a check is adding a file to
// sql/common/checks/ (or a dialect's own folder); no C++ changes. A check may use {{run_id}} for
// the run being loaded (see sql/postgres/checks/songplays_of_the_run.sql, which reads the run's staging rows and so
// belongs inside the transform's transaction, after the star tables are written and before the
// run's staging rows are deleted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/warehouse/warehouse.h"

namespace loadstar::coordinator {

// Catalog names of checks start with this.
inline constexpr std::string_view kQualityCheckPrefix = "checks/";
// Offending rows kept per check, as examples.
inline constexpr size_t kCheckSampleRows = 5;

struct CheckResult {
  std::string name;          // the file's name below checks/: "songplays_user_in_users"
  std::string description;   // from its "-- check:" line
  bool passed = false;       // no offending rows
  uint64_t offending_rows = 0;
  // The first offending rows (at most kCheckSampleRows), each as "column=value, ..." with NULL
  // shown as NULL.
  std::vector<std::string> samples;
};

// The catalog names of every check in this build, sorted.
std::vector<std::string> QualityCheckNames(Dialect dialect = Dialect::kPostgres);

// Which checks to run. A check whose file has the line "-- reads: staging and ledger" in its
// leading comment reads only what the workers committed before the transform (the staging
// tables, rejects and the ledger), nothing the transform writes: where staging is committed
// before the transform (PostgreSQL), it may run on another connection while the transform does.
enum class CheckSelection { kAll, kStagingAndLedger, kStar };

// Runs every check, in name order, against the tables `wh`'s search path points at, and returns
// one result per check (a failed check is a result, not an error).
//
// Inside a transaction of the caller's (e.g. the transform's, before it commits) the checks see
// that transaction's uncommitted rows and leave it open; otherwise they run in a read-only
// transaction of their own on one snapshot, so all see the same data.
//
// `run_id` (>= 0) is substituted where a check uses {{run_id}}. Errors: InvalidArgument for a
// negative run id or a check file without its "-- check:" line; whatever the warehouse reports
// if a check cannot run (in the caller's transaction, that transaction is then aborted).
// `which` picks the checks run; their results come in name order.
[[nodiscard]] Result<std::vector<CheckResult>> RunQualityChecks(Warehouse* wh, int64_t run_id,
                                                                CheckSelection which = CheckSelection::kAll);

// OK if every check passed. Otherwise FailedPrecondition whose message names each failed check
// with its description, its offending row count and up to three of its sample rows.
[[nodiscard]] Status ChecksToStatus(const std::vector<CheckResult>& results);

}  // namespace loadstar::coordinator
