// Warehouse: one connection to PostgreSQL (libpq is wrapped here and nowhere else).
//
// Statements come from the SQL catalog (common/warehouse/sql_catalog.h) by name. Errors are mapped
// to Status by their SQLSTATE (common/warehouse/sql_state.h): a lost connection, a serialization
// failure, a deadlock or a server shutting down is Unavailable (the caller may retry the whole
// transaction); everything else is final, with a code that says whose fault it is.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/warehouse/sql_catalog.h"
#include "common/core/status.h"

namespace loadstar {

// A query's rows, as text (NULL is std::nullopt).
//
// Columns are read by name where the caller knows what the statement returns (text(r, "etag")),
// so that a reader does not depend on the order of a SELECT list; by position only where the
// caller renders any result set. Reading a column the result does not have is a bug (the SQL
// file and its reader disagree): call RequireColumns first to get that as an error; the
// accessors themselves abort with the column's name and the ones there are.
class QueryResult {
 public:
  QueryResult() = default;
  QueryResult(std::vector<std::string> columns, std::vector<std::vector<std::optional<std::string>>> rows,
              std::vector<bool> numeric = {})
      : columns_(std::move(columns)), rows_(std::move(rows)), numeric_(std::move(numeric)) {}

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::optional<std::string>& at(size_t row, size_t col) const { return rows_.at(row).at(col); }
  // The value as text, "" for NULL.
  std::string text(size_t row, size_t col) const { return at(row, col).value_or(""); }
  // The value as an integer, `fallback` for NULL or non-numeric text.
  int64_t integer(size_t row, size_t col, int64_t fallback = 0) const;

  // True when the server typed column `col` as a number (integer, floating point, numeric).
  bool numeric(size_t col) const { return col < numeric_.size() && numeric_[col]; }

  // The position of the column called `name`, if there is one.
  std::optional<size_t> column_index(std::string_view name) const;
  // Internal, naming the missing ones and those there are, unless every column of `names` is
  // in the result.
  Status RequireColumns(std::initializer_list<std::string_view> names) const;
  // The same accessors, by column name.
  const std::optional<std::string>& at(size_t row, std::string_view column) const { return at(row, Column(column)); }
  std::string text(size_t row, std::string_view column) const { return text(row, Column(column)); }
  int64_t integer(size_t row, std::string_view column, int64_t fallback = 0) const {
    return integer(row, Column(column), fallback);
  }

 private:
  size_t Column(std::string_view name) const;  // aborts when there is no such column

  std::vector<std::string> columns_;
  std::vector<std::vector<std::optional<std::string>>> rows_;
  std::vector<bool> numeric_;
};

using SqlParam = std::optional<std::string>;  // std::nullopt binds NULL

struct WarehouseOptions {
  // libpq connection string or URI; empty means the PG* environment variables alone.
  std::string conninfo;
  std::string schema = "public";
  std::string application_name = "loadstar";
  // The engine the caller expects (--dialect); unset means whatever the server's version() says.
  // Connecting to another engine than the one expected is an error. Expecting Redshift also
  // makes sslmode=require the default.
  std::optional<Dialect> expect_dialect;
};

class Warehouse {
 public:
  // Connects, sets the application name and points the search path at the schema (which must
  // exist unless `create_schema`). Unavailable when the server cannot be reached, with the
  // redacted connection string and what to check. FailedPrecondition when the server is not the
  // engine `options.expect_dialect` names, or is Redshift over an unencrypted connection that no
  // sslmode setting asked for.
  static Result<std::unique_ptr<Warehouse>> Connect(const WarehouseOptions& options, bool create_schema = false);

  ~Warehouse();
  Warehouse(const Warehouse&) = delete;
  Warehouse& operator=(const Warehouse&) = delete;

  const std::string& schema() const { return options_.schema; }
  // What this connection was opened with: Connect(options()) opens another like it.
  const WarehouseOptions& options() const { return options_; }
  // The engine on the other end, from its version text; statements are resolved for it.
  Dialect dialect() const { return dialect_; }

  // Runs the catalog file `name` (may hold several statements, no bound parameters).
  Status ExecFile(std::string_view name, const SqlVars& vars = {});
  // Runs the statements of catalog file `name` one at a time, reporting how long each took
  // (label, seconds) to `on_step`, and each one's label to `on_start` (if set) as it begins.
  // Stops at the first failure, naming the step.
  Status ExecFileSteps(std::string_view name, const SqlVars& vars,
                       const std::function<void(const std::string& label, double seconds)>& on_step,
                       const std::function<void(const std::string& label)>& on_start = {});
  // Runs the single statement in catalog file `name` with bound parameters and returns its rows.
  Result<QueryResult> QueryFile(std::string_view name, const std::vector<SqlParam>& params = {},
                                const SqlVars& vars = {});
  // Runs the single statement in catalog file `name` and hands its rows to `row` one at a time,
  // without holding the whole result (for results of millions of rows). `row` sees a one-row
  // QueryResult; returning an error stops the query.
  Status QueryFileEach(std::string_view name, const std::vector<SqlParam>& params,
                       const std::function<Status(const QueryResult& row)>& row);
  // Runs the COPY ... FROM STDIN statement in catalog file `name`, sending `data` (COPY text
  // format, one row per line) in chunks. Returns the number of rows copied.
  Result<uint64_t> CopyIn(std::string_view name, std::string_view data, const SqlVars& vars = {});

  // The same, a piece at a time, for data too large to hold at once: CopyStart, any number of
  // CopyPut, then CopyEnd (which returns the rows copied). Nothing else may run in between.
  Status CopyStart(std::string_view name, const SqlVars& vars = {});
  Status CopyPut(std::string_view data);
  Result<uint64_t> CopyEnd();

  Status Begin();
  Status Commit();
  Status Rollback();  // safe to call when no transaction is open
  bool in_transaction() const;

  // Asks the server to cancel the statement running on this connection, if any (it then fails
  // with SQLSTATE 57014). Safe to call from another thread while this one waits on the server;
  // the only call that is.
  Status RequestCancel();
  // False once the connection has been lost.
  bool healthy() const;

  // Raw SQL, for tests and tools that inspect tables (loadstar's own statements live in sql/).
  Result<QueryResult> QueryText(std::string_view sql, const std::vector<SqlParam>& params = {});

 private:
  struct Conn;
  Warehouse(WarehouseOptions options, std::unique_ptr<Conn> conn);
  SqlVars Vars(const SqlVars& extra) const;

  const WarehouseOptions options_;
  std::unique_ptr<Conn> conn_;
  Dialect dialect_ = Dialect::kPostgres;
  std::string copy_what_;  // the COPY in progress, for messages
};

// The longest schema name PostgreSQL keeps whole (NAMEDATALEN - 1 bytes); it cuts longer ones.
inline constexpr size_t kMaxSchemaNameBytes = 63;

// InvalidArgument, saying why, unless `schema` is a usable schema name: not empty and at most
// kMaxSchemaNameBytes bytes (two longer names that share their first 63 bytes would name one
// schema). Connect checks this too.
Status ValidateSchemaName(std::string_view schema);

// InvalidArgument, saying why and what is accepted, when `conninfo` cannot be a PostgreSQL
// connection string: a URI with another scheme (mysql://...), or a postgresql:// URI with an '@'
// libpq would misread (an unencoded '@', '/' or '?' in the user name or password). Key=value
// text and empty strings pass. Connect checks this too.
Status ValidateConninfo(std::string_view conninfo);

// The connection string from a --warehouse value or, when that is empty, LOADSTAR_WAREHOUSE;
// empty means libpq's PG* variables.
std::string ResolveWarehouse(std::string_view flag_value);

}  // namespace loadstar
