// The SQL catalog: every statement loadstar runs comes from a file in sql/, compiled into the
// binary. Files are named "<dialect>/<name>" (e.g. "postgres/transform").
//
// Files may hold placeholders for values loadstar itself controls, substituted as text:
//   {{schema}}  the target schema, quoted as an identifier
//   {{run_id}}  the run's integer id
// Anything that comes from outside (URIs, ETags, error text) is passed as a bound parameter
// ($1, $2, ...) instead.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace loadstar {

struct SqlVars {
  std::string schema;   // raw name; quoted on substitution
  int64_t run_id = -1;  // substituted only where the file uses {{run_id}}
};

// Returns the text of sql/<name>.sql with placeholders substituted. NotFound if there is no such
// file; InvalidArgument if the file uses a placeholder that `vars` does not provide.
Result<std::string> SqlText(std::string_view name, const SqlVars& vars = {});

// The names of every embedded file, sorted.
std::vector<std::string> SqlFileNames();

struct SqlStatement {
  // For logs and messages: the first sentence of the comment right above it (however many lines
  // it spans), else the first line of its code.
  std::string label;
  std::string text;
};

// Splits a script into its statements at semicolons that are not inside quotes, dollar quotes
// or comments. Empty statements are dropped.
std::vector<SqlStatement> SplitSqlStatements(std::string_view script);

// Quotes `name` as a PostgreSQL identifier: "my""schema".
std::string QuoteIdentifier(std::string_view name);

}  // namespace loadstar
