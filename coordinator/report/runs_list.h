// `loadstar runs`: the latest runs of a schema with their state, timings and the ledger's counts.
#pragma once

#include <cstdint>
#include <string>

#include "common/core/status.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/report/report.h"

namespace loadstar::coordinator {

// The last `limit` (>= 1) runs in `wh`'s schema, newest first (sql/postgres/runs_list.sql):
// run_id, state, started, finished (UTC, ISO 8601), duration_s (the time so far for a run still
// going), files_listed, files_skipped, and records, staged, rejected summed over the run's
// ledger rows, then error.
//   kText: an aligned table (long errors cut short), or a line saying there are no runs;
//   kJson: one JSON array on one line, a row object per run, counts as numbers, NULL as null.
// Errors: InvalidArgument for a limit below 1; whatever the warehouse reports otherwise.
[[nodiscard]] Result<std::string> RenderRunsList(Warehouse* wh, int64_t limit, ReportFormat format);

}  // namespace loadstar::coordinator
