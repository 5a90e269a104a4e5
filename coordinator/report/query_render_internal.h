// What the checks, the report and the runs list share: putting a catalog SELECT inside a catalog
// wrapper, reading a file's leading comment, and rendering rows as an aligned text table or as
// JSON. Private to the loadstar_quality library.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/warehouse/sql_catalog.h"
#include "common/core/status.h"
#include "common/warehouse/warehouse.h"

namespace loadstar::coordinator::internal {

// The line a wrapper file holds where the wrapped SELECT goes (see sql/postgres/check_sample.sql).
inline constexpr std::string_view kQueryMarker = "/*@query@*/";

// The text of catalog file `wrapper` with its marker line replaced by the SELECT in catalog file
// `query`, both with `vars` substituted. The SELECT's trailing ';' is dropped, so any file that
// holds one SELECT (with comments anywhere) can be wrapped. NotFound if either file is missing;
// Internal if `wrapper` does not hold the marker exactly once.
[[nodiscard]] Result<std::string> WrapQuery(std::string_view wrapper, std::string_view query, const SqlVars& vars = {});

// The text of the first "--" comment line of `sql`, without the dashes and surrounding spaces;
// "" if the file does not start with a comment.
std::string LeadingComment(std::string_view sql);

// Runs catalog file `query` through postgres/rows_as_json and returns its rows as one JSON
// array of objects, on one line, with PostgreSQL's types deciding what is a number.
[[nodiscard]] Result<std::string> QueryAsJson(Warehouse* wh, std::string_view query,
                                              const std::vector<SqlParam>& params = {}, const SqlVars& vars = {});

// Opens a read-only transaction on one snapshot (postgres/read_snapshot) unless `wh` is already
// in a transaction, in which case the caller's transaction is used as it is. End() closes only a
// transaction this object opened.
class ReadScope {
 public:
  explicit ReadScope(Warehouse* wh) : wh_(wh) {}
  ~ReadScope() { (void)End(); }
  ReadScope(const ReadScope&) = delete;
  ReadScope& operator=(const ReadScope&) = delete;

  Status Begin();
  Status End();

 private:
  Warehouse* const wh_;
  bool owned_ = false;
};

struct TextTableOptions {
  std::string indent = "  ";     // put in front of every line
  size_t max_cell_width = 60;    // in characters; longer values are cut and end in "..."
  std::string null_text;         // shown for NULL
};

// `rows` as an aligned table: a header, a rule, one line per row; columns whose every value is a
// number are right-aligned. Line breaks and tabs inside values become spaces; widths count UTF-8
// characters, not bytes. Ends in a newline.
std::string RenderTextTable(const QueryResult& rows, const TextTableOptions& options = {});

// `s` as a JSON string literal, quotes included.
std::string JsonString(std::string_view s);

// True if `s` is a decimal number as PostgreSQL prints one ("-12", "3.5", "1e-07").
bool LooksNumeric(std::string_view s);

}  // namespace loadstar::coordinator::internal
