#include "coordinator/report/runs_list.h"

#include "coordinator/report/query_render_internal.h"

namespace loadstar::coordinator {

Result<std::string> RenderRunsList(Warehouse* wh, int64_t limit, ReportFormat format) {
  if (limit < 1) return Status::InvalidArgument("the number of runs to list must be at least 1");
  const std::vector<SqlParam> params = {std::to_string(limit)};
  if (format == ReportFormat::kJson) {
    LOADSTAR_ASSIGN_OR_RETURN(std::string json, internal::QueryAsJson(wh, "runs_list", params));
    return json + "\n";
  }
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh->QueryFile("runs_list", params));
  if (rows.empty()) return "no runs in schema " + wh->schema() + " yet\n";
  internal::TextTableOptions options;
  options.indent = "";
  return internal::RenderTextTable(rows, options);
}

}  // namespace loadstar::coordinator
