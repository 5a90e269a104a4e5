#include "coordinator/report/report.h"

#include "common/warehouse/sql_catalog.h"
#include "coordinator/report/query_render_internal.h"

namespace loadstar::coordinator {
namespace {

std::string SectionKey(const std::string& name) { return name.substr(kReportPrefix.size()); }

Result<std::string> TextSection(Warehouse* wh, const std::string& name) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string text, SqlText(name, SqlVars{wh->schema(), -1, wh->dialect()}));
  std::string title = internal::LeadingComment(text);
  if (title.empty()) title = SectionKey(name);
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult rows, wh->QueryFile(name));
  std::string out = title + "\n";
  out += rows.empty() ? "  (no rows)\n" : internal::RenderTextTable(rows);
  return out;
}

}  // namespace

std::vector<std::string> ReportSectionNames(Dialect dialect) { return SqlNamesUnder(kReportPrefix, dialect); }

Result<std::string> RenderReport(Warehouse* wh, ReportFormat format) {
  internal::ReadScope scope(wh);
  LOADSTAR_RETURN_IF_ERROR(scope.Begin());
  std::string out;
  if (format == ReportFormat::kJson) {
    out = "{";
    bool first = true;
    for (const std::string& name : ReportSectionNames(wh->dialect())) {
      LOADSTAR_ASSIGN_OR_RETURN(std::string rows, internal::QueryAsJson(wh, name));
      out += (first ? "" : ",") + internal::JsonString(SectionKey(name)) + ":" + rows;
      first = false;
    }
    out += "}\n";
  } else {
    out = "Listening report for schema " + wh->schema() + "\n";
    for (const std::string& name : ReportSectionNames(wh->dialect())) {
      LOADSTAR_ASSIGN_OR_RETURN(std::string section, TextSection(wh, name));
      out += "\n" + section;
    }
  }
  LOADSTAR_RETURN_IF_ERROR(scope.End());
  return out;
}

}  // namespace loadstar::coordinator
