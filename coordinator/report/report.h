// `loadstar report`: the analysts' standing questions, answered from the star schema.
//
// Every statement of the catalog under "report/" (sql/<dialect>/report/ and sql/common/report/)
// is one section: a single SELECT whose first line is a "--" comment giving the section's title.
// Adding a question is adding a file to sql/common/report/ (or a dialect's own folder); no C++
// changes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/warehouse/warehouse.h"

namespace loadstar::coordinator {

enum class ReportFormat {
  kText,  // aligned tables for people
  kJson,  // one JSON object for programs
};

// Catalog names of report sections start with this.
inline constexpr std::string_view kReportPrefix = "report/";

// The catalog names of every report section in this build, sorted (the order they are shown in).
std::vector<std::string> ReportSectionNames(Dialect dialect = Dialect::kPostgres);

// Runs every section against the tables `wh`'s search path points at and renders them:
//   kText: for each section its title, then its rows as an aligned table (numbers right-aligned);
//   kJson: one object on one line, section name (the file name below report/) -> array of row
//          objects (column -> value), numeric columns as JSON numbers, NULL as null.
// Sections are read in one read-only snapshot, so their figures agree with each other (inside a
// transaction of the caller's, that transaction is used instead). Errors: whatever the warehouse
// reports, e.g. FailedPrecondition when the schema has no star tables yet.
[[nodiscard]] Result<std::string> RenderReport(Warehouse* wh, ReportFormat format);

}  // namespace loadstar::coordinator
