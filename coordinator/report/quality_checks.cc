#include "coordinator/report/quality_checks.h"

#include <algorithm>

#include "common/warehouse/sql_catalog.h"
#include "coordinator/report/query_render_internal.h"

namespace loadstar::coordinator {
namespace {

constexpr std::string_view kDescriptionTag = "check:";
// The line of a check that reads only the staging tables, rejects and the ledger.
constexpr std::string_view kStagingAndLedgerLine = "\n-- reads: staging and ledger\n";
// The column check_sample.sql adds after the check's own.
constexpr std::string_view kCountColumn = "loadstar_offending_rows";
// Sample rows a failure message shows per check.
constexpr size_t kMessageSampleRows = 3;

std::string Plural(uint64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// The "-- check: ..." line of a check file.
Result<std::string> Description(const std::string& name, const SqlVars& vars) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string text, SqlText(name, vars));
  std::string comment = internal::LeadingComment(text);
  if (comment.compare(0, kDescriptionTag.size(), kDescriptionTag) != 0 ||
      comment.size() == kDescriptionTag.size()) {
    return Status::InvalidArgument(SqlFilePath(name, vars.dialect) + " must start with a line '-- check: <what the rule is>'");
  }
  std::string description = comment.substr(kDescriptionTag.size());
  description.erase(0, description.find_first_not_of(' '));
  return description;
}

// Runs one check through postgres/check_sample. The sample query's last column is the count of
// offending rows; the others are the check's own.
Result<CheckResult> RunCheck(Warehouse* wh, const std::string& name, const SqlVars& vars) {
  CheckResult result;
  result.name = name.substr(kQualityCheckPrefix.size());
  LOADSTAR_ASSIGN_OR_RETURN(result.description, Description(name, vars));
  LOADSTAR_ASSIGN_OR_RETURN(std::string sql, internal::WrapQuery("check_sample", name, vars));
  auto rows = wh->QueryText(sql, {std::to_string(kCheckSampleRows)});
  if (!rows.ok()) return rows.status().WithContext("data-quality check " + SqlFilePath(name, wh->dialect()));
  const size_t ncols = rows->columns().size();
  if (ncols < 2 || rows->columns().back() != kCountColumn) {
    return Status::Internal(SqlFilePath("check_sample", wh->dialect()) + " returned no last column " + std::string(kCountColumn) +
                            " for " + name);
  }
  result.passed = rows->empty();
  result.offending_rows = rows->empty() ? 0 : static_cast<uint64_t>(rows->integer(0, kCountColumn));
  for (size_t r = 0; r < rows->size(); ++r) {
    std::string sample;
    for (size_t c = 0; c + 1 < ncols; ++c) {
      if (c > 0) sample += ", ";
      const auto& v = rows->at(r, c);
      sample += rows->columns()[c] + "=" + (v ? *v : "NULL");
    }
    result.samples.push_back(std::move(sample));
  }
  return result;
}

// Whether check `name` is one `which` selects.
Result<bool> Selected(const std::string& name, CheckSelection which, const SqlVars& vars) {
  if (which == CheckSelection::kAll) return true;
  LOADSTAR_ASSIGN_OR_RETURN(std::string text, SqlText(name, vars));
  // Only the leading comment counts: the check's SELECT begins at its first line that is not one.
  size_t body = 0;
  while (body < text.size() && text.compare(body, 2, "--") == 0) {
    size_t nl = text.find('\n', body);
    body = nl == std::string::npos ? text.size() : nl + 1;
  }
  const bool staging_and_ledger =
      ("\n" + text.substr(0, body)).find(kStagingAndLedgerLine) != std::string::npos;
  return staging_and_ledger == (which == CheckSelection::kStagingAndLedger);
}

}  // namespace

std::vector<std::string> QualityCheckNames(Dialect dialect) { return SqlNamesUnder(kQualityCheckPrefix, dialect); }

Result<std::vector<CheckResult>> RunQualityChecks(Warehouse* wh, int64_t run_id, CheckSelection which) {
  if (run_id < 0) return Status::InvalidArgument("data-quality checks need the run id (>= 0) of the load they check");
  SqlVars vars;
  vars.schema = wh->schema();
  vars.run_id = run_id;
  vars.dialect = wh->dialect();
  internal::ReadScope scope(wh);
  LOADSTAR_RETURN_IF_ERROR(scope.Begin());
  std::vector<CheckResult> results;
  for (const std::string& name : QualityCheckNames(wh->dialect())) {
    LOADSTAR_ASSIGN_OR_RETURN(bool selected, Selected(name, which, vars));
    if (!selected) continue;
    LOADSTAR_ASSIGN_OR_RETURN(CheckResult result, RunCheck(wh, name, vars));
    results.push_back(std::move(result));
  }
  LOADSTAR_RETURN_IF_ERROR(scope.End());
  return results;
}

Status ChecksToStatus(const std::vector<CheckResult>& results) {
  std::string message;
  size_t failed = 0;
  for (const CheckResult& r : results) {
    if (r.passed) continue;
    ++failed;
    message += "\n  " + r.name + " (" + r.description + "): " + Plural(r.offending_rows, "offending row");
    const size_t shown = std::min(r.samples.size(), kMessageSampleRows);
    for (size_t i = 0; i < shown; ++i) message += "\n    " + r.samples[i];
    if (r.offending_rows > shown) message += "\n    ... and " + std::to_string(r.offending_rows - shown) + " more";
  }
  if (failed == 0) return Status::Ok();
  return Status::FailedPrecondition(std::to_string(failed) + " of " + Plural(results.size(), "data-quality check") +
                                    " failed:" + message);
}

}  // namespace loadstar::coordinator
