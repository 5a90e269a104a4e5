// The SQL catalog: every statement loadstar runs comes from a file in sql/, compiled into the
// binary. A statement is named without its folder ("transform", "checks/songs_primary_key"):
// sql/<dialect>/<name>.sql where the dialect has its own text, else sql/common/<name>.sql (plain
// SQL every engine runs unchanged). A name that starts with its folder ("postgres/transform",
// "common/star_counts") names that one file, for tools and tests.
//
// Files may hold placeholders for values loadstar itself controls, substituted as text:
//   {{schema}}  the target schema, quoted as an identifier
//   {{run_id}}  the run's integer id
//   {{NAME}}    any key of SqlVars::literals, quoted as a string literal: for the few values
//               that must be written into a statement that takes no parameters (Redshift's COPY:
//               the manifest's URI, the IAM role, the region)
// Anything that comes from outside (URIs, ETags, error text) is passed as a bound parameter
// ($1, $2, ...) instead.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/warehouse/dialect.h"

namespace loadstar {

struct SqlVars {
  std::string schema;   // raw name; quoted on substitution
  int64_t run_id = -1;  // substituted only where the file uses {{run_id}}
  Dialect dialect = Dialect::kPostgres;  // whose text of each statement
  std::map<std::string, std::string> literals = {};  // NAME -> value, substituted as 'value'
};

// A set of SQL files, keyed "<folder>/<name>" ("postgres/transform", "common/star_counts").
class SqlCatalog {
 public:
  // `files` must outlive the catalog.
  explicit SqlCatalog(const std::map<std::string, std::string>* files) : files_(files) {}
  // The files compiled into this binary from sql/ (all but sql/bench/).
  static const SqlCatalog& Embedded();

  // The key of the file statement `name` resolves to for `dialect` (see above); NotFound naming
  // both places looked in when there is none.
  Result<std::string> Resolve(std::string_view name, Dialect dialect) const;
  // The text of statement `name` for vars.dialect with placeholders substituted. NotFound if
  // there is no such file; InvalidArgument if it uses a placeholder that `vars` does not provide.
  Result<std::string> Text(std::string_view name, const SqlVars& vars = {}) const;
  // The statement names (without folder) under `folder` ("checks/") for `dialect`: the dialect's
  // files and the common ones, each name once (the dialect's file wins), sorted.
  std::vector<std::string> NamesUnder(std::string_view folder, Dialect dialect) const;
  // Every key, sorted.
  std::vector<std::string> Keys() const;

 private:
  const std::map<std::string, std::string>* files_;
};

// The same, from the embedded catalog.
Result<std::string> SqlText(std::string_view name, const SqlVars& vars = {});
std::vector<std::string> SqlNamesUnder(std::string_view folder, Dialect dialect = Dialect::kPostgres);
// "sql/<key>.sql" of the file statement `name` resolves to, for messages ("sql/<name>.sql" if none).
std::string SqlFilePath(std::string_view name, Dialect dialect = Dialect::kPostgres);

// The keys of every embedded file, sorted.
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

// Quotes `value` as a SQL string literal ('it''s'); InvalidArgument for a value holding a
// backslash or a control character, which the engines' literals do not read alike.
Result<std::string> QuoteLiteral(std::string_view value);

// Quotes `name` as a PostgreSQL identifier: "my""schema".
std::string QuoteIdentifier(std::string_view name);

}  // namespace loadstar
