// RunStore: the run table and the transforms, through the coordinator's warehouse connection.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/s3_staging.h"

namespace loadstar::coordinator {

// A run's state, as the runs table keeps it (as text: "staging", "transforming", "done", "failed").
enum class RunState {
  kStaging,       // planned and being staged (also a resumed run, until staged again)
  kTransforming,  // every file staged; the transform is running
  kDone,          // transformed and checked; its files are loaded
  kFailed,        // stopped with an error; a rerun over the same sources resumes it
};

// The runs table's text for a state.
std::string_view RunStateText(RunState state);
// The state the runs table's text names; InvalidArgument for any other text.
Result<RunState> ParseRunState(std::string_view text);

struct SourceAccount {
  std::string kind;  // "song" or "event"
  uint64_t files = 0, bytes = 0, records = 0, staged = 0, rejected = 0;
};

// How Redshift's COPY may read the staging bucket.
struct CopyAuthorization {
  std::string iam_role;  // arn:aws:iam::<account>:role/<name>
  std::string region;    // the staging bucket's region
};

struct TableCount {
  std::string table;
  uint64_t rows = 0;
};

class RunStore {
 public:
  explicit RunStore(Warehouse* wh) : wh_(wh) {}

  // Creates the tables if needed and takes the schema's run lock (held until the connection
  // closes). FailedPrecondition if another coordinator holds it.
  Status Prepare();

  // The unfinished run over the same sources (resumed) or a new one. `*resumed` says which.
  Result<int64_t> StartRun(const std::string& sources, bool* resumed);
  // `error` (NULL when empty) is what a failed run failed of. kDone is set by Transform itself, in
  // its transaction.
  Status SetState(int64_t run_id, RunState state, const std::string& error = "");
  Status RecordListing(int64_t run_id, uint64_t files, uint64_t skipped, uint64_t bytes);

  // Runs the transforms and the data-quality checks (sql/postgres/checks/) and marks the run
  // done, in one transaction: a failed check rolls everything back and names itself.
  // `on_step` (if set) hears each step's label as it begins.
  // `stop_requested` (if set) is asked before the commit: where it says so, the transaction rolls
  // back (Cancelled) rather than commit a run its caller was told to stop.
  Status Transform(int64_t run_id, const std::function<void(const std::string& step)>& on_step = {},
                   const std::function<bool()>& stop_requested = {});

  // Redshift: in one transaction, under LOCK, COPYs every manifest into its staging table (each
  // COPY's row count checked against what the manifest's parts hold), then runs the transforms,
  // the checks and the finish like Transform. A failed COPY is explained from stl_load_errors.
  // FailedPrecondition when another coordinator committed the run meanwhile.
  Status LoadFromS3AndTransform(int64_t run_id, const std::vector<TableManifest>& manifests,
                                const CopyAuthorization& auth,
                                const std::function<void(const std::string& step)>& on_step = {});

  Result<std::vector<SourceAccount>> Account(int64_t run_id);
  Result<std::vector<TableCount>> StarCounts();

 private:
  // The transforms, the checks and transform_finish, in the caller's transaction. Where
  // `staging_committed` (the workers committed the staging rows before), the checks that read
  // only staging and the ledger run on a second connection while the transform does.
  Status TransformSteps(int64_t run_id, bool staging_committed,
                        const std::function<void(const std::string& step)>& on_step,
                        const std::function<bool()>& stop_requested);
  // The last COPY's rows in stl_load_errors, one line each (file, line, column, reason).
  Result<std::string> ExplainLoadErrors();

  Warehouse* const wh_;
};

}  // namespace loadstar::coordinator
