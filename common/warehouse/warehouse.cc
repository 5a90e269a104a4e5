#include "common/warehouse/warehouse.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "common/core/log.h"
#include "common/core/text.h"
#include "common/warehouse/sql_state.h"

namespace loadstar {

struct Warehouse::Conn {
  PGconn* pg = nullptr;
  PGcancel* cancel = nullptr;  // made once after connecting: PQcancel on it is thread-safe
  ~Conn() {
    if (cancel != nullptr) PQfreeCancel(cancel);
    if (pg != nullptr) PQfinish(pg);
  }
};

namespace {

Status ResultStatus(PGconn* pg, PGresult* res, std::string_view what) {
  ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN || st == PGRES_EMPTY_QUERY) {
    return Status::Ok();
  }
  const char* sqlstate = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res != nullptr ? PQresultErrorMessage(res) : "";
  if (msg.empty()) msg = PQerrorMessage(pg);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string state = sqlstate != nullptr ? sqlstate : "";
  std::string text = std::string(what) + ": " + msg + (state.empty() ? "" : " (SQLSTATE " + state + ")");
  if (PQstatus(pg) != CONNECTION_OK) return Status::Unavailable(text);
  if (state == "42P01" || state == "3F000") text += "; has this schema been loaded by `loadstar run` yet?";
  return Status(CodeForSqlState(state), std::move(text));
}

// libpq's result handle, released on every path.
struct ResultGuard {
  PGresult* res;
  ~ResultGuard() {
    if (res != nullptr) PQclear(res);
  }
};

QueryResult ToQueryResult(PGresult* res) {
  std::vector<std::string> cols;
  std::vector<bool> numeric;
  int ncols = PQnfields(res);
  for (int c = 0; c < ncols; ++c) {
    cols.emplace_back(PQfname(res, c));
    // The built-in type OIDs (the same on Redshift): int8, int2, int4, float4, float8, numeric.
    const Oid t = PQftype(res, c);
    numeric.push_back(t == 20 || t == 21 || t == 23 || t == 700 || t == 701 || t == 1700);
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  int nrows = PQntuples(res);
  rows.reserve(nrows);
  for (int r = 0; r < nrows; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(ncols);
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  return QueryResult(std::move(cols), std::move(rows), std::move(numeric));
}

// CREATE SCHEMA IF NOT EXISTS is not safe against itself: two sessions creating one schema at
// once can both find the name free, and the later one then fails on pg_namespace's unique index.
// A database-wide advisory lock, held by this session around the statement, makes the later one
// wait; its CREATE SCHEMA then runs in a transaction of its own and finds the schema there.
Status CreateSchemaSerialised(Warehouse* wh) {
  // Redshift has no advisory locks; a race there ends in an error that a rerun does not repeat.
  if (wh->dialect() == Dialect::kRedshift) return wh->ExecFile("create_schema");
  LOADSTAR_RETURN_IF_ERROR(wh->ExecFile("create_schema_lock"));
  Status created = wh->ExecFile("create_schema");
  Status unlocked = wh->ExecFile("create_schema_unlock");
  LOADSTAR_RETURN_IF_ERROR(created);
  return unlocked;
}

}  // namespace

Status ValidateSchemaName(std::string_view schema) {
  if (schema.empty()) return Status::InvalidArgument("the schema name is empty; name the schema that holds the tables");
  if (AsciiLower(schema.substr(0, 3)) == "pg_") {
    return Status::InvalidArgument("schema name '" + std::string(schema) + "' starts with pg_, which PostgreSQL (and "
                                   "Redshift) keep for system schemas; choose another --schema");
  }
  if (schema.size() > kMaxSchemaNameBytes) {
    return Status::InvalidArgument(
        "schema name '" + std::string(schema) + "' is " + std::to_string(schema.size()) +
        " bytes long; PostgreSQL keeps only the first " + std::to_string(kMaxSchemaNameBytes) +
        " bytes of a name (NAMEDATALEN - 1), so longer names would silently share one schema. "
        "Use a name of at most " + std::to_string(kMaxSchemaNameBytes) + " bytes");
  }
  return Status::Ok();
}

Status ValidateConninfo(std::string_view conninfo) {
  size_t sep = conninfo.find("://");
  // A URI is "scheme://..." (the scheme may be anything: jdbc:postgresql://, mysql://); key=value
  // text has an '=' or a space before any "://".
  bool is_uri = sep != std::string_view::npos && sep > 0;
  for (size_t i = 0; is_uri && i < sep; ++i) {
    char c = conninfo[i];
    is_uri = c != '=' && c != ' ' && c != '\t' && c != '\n' && c != '\'';
  }
  if (!is_uri) return Status::Ok();
  const std::string_view scheme = conninfo.substr(0, sep);
  if (scheme != "postgresql" && scheme != "postgres") {
    return Status::InvalidArgument(
        "the warehouse " + log::RedactConnectionString(conninfo) + " uses the scheme " + std::string(scheme) +
        "://, which is not supported: the warehouse is PostgreSQL, given as a postgresql:// or postgres:// URI "
        "(postgresql://user@host:5432/db) or as key=value conninfo (host=... port=... dbname=... user=...)");
  }
  // libpq ends the user name and password at the first '@' and the host at the first '/' or '?'.
  // An '@' anywhere else (before the query's values) means a user name or password that holds
  // '@', '/' or '?' unencoded: libpq would take part of the password for a host or port name
  // and show it in its error.
  const std::string_view rest = conninfo.substr(sep + 3);
  const size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  const size_t first_value = std::min(rest.find('='), rest.size());
  const size_t at_after = rest.substr(0, first_value).find('@', authority_end);
  const size_t at_count = static_cast<size_t>(std::count(authority.begin(), authority.end(), '@'));
  if (at_count > 1 || at_after != std::string_view::npos) {
    return Status::InvalidArgument(
        "the warehouse URI " + log::RedactConnectionString(conninfo) +
        " has an '@' where libpq does not expect one: in a user name or password, write '@' as %40, '/' as %2F "
        "and '?' as %3F (postgresql://user:p%40ss@host/db); better, keep the password out of the URI, in "
        "PGPASSWORD or ~/.pgpass");
  }
  return Status::Ok();
}

int64_t QueryResult::integer(size_t row, size_t col, int64_t fallback) const {
  const auto& v = at(row, col);
  if (!v) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc()) return fallback;
  return out;
}

std::optional<size_t> QueryResult::column_index(std::string_view name) const {
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (columns_[c] == name) return c;
  }
  return std::nullopt;
}

namespace {
std::string ColumnList(const std::vector<std::string>& columns) {
  std::string out;
  for (const std::string& c : columns) out += (out.empty() ? "" : ", ") + c;
  return out.empty() ? "none" : out;
}
}  // namespace

Status QueryResult::RequireColumns(std::initializer_list<std::string_view> names) const {
  std::string missing;
  for (std::string_view name : names) {
    if (!column_index(name)) missing += (missing.empty() ? "'" : ", '") + std::string(name) + "'";
  }
  if (missing.empty()) return Status::Ok();
  return Status::Internal("the result has no column " + missing + " (its columns: " + ColumnList(columns_) +
                          "); the SQL file and the code reading it disagree");
}

size_t QueryResult::Column(std::string_view name) const {
  if (auto c = column_index(name)) return *c;
  std::fprintf(stderr, "loadstar: internal error: a query result has no column '%.*s' (its columns: %s)\n",
               static_cast<int>(name.size()), name.data(), ColumnList(columns_).c_str());
  std::abort();
}

std::string ResolveWarehouse(std::string_view flag_value) {
  if (!flag_value.empty()) return std::string(flag_value);
  const char* env = std::getenv("LOADSTAR_WAREHOUSE");
  return env != nullptr ? env : "";
}

Warehouse::Warehouse(WarehouseOptions options, std::unique_ptr<Conn> conn)
    : options_(std::move(options)), conn_(std::move(conn)) {}

Warehouse::~Warehouse() = default;

namespace {

// True when the connection string or PGSSLMODE says which sslmode to use.
bool SslModeGiven(const std::string& conninfo) {
  const char* env = std::getenv("PGSSLMODE");
  if (env != nullptr && *env != '\0') return true;
  if (conninfo.empty()) return false;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return false;
  }
  bool given = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "sslmode" && o->val != nullptr && *o->val != '\0') given = true;
  }
  PQconninfoFree(options);
  return given;
}

std::string TargetText(const WarehouseOptions& options) {
  return options.conninfo.empty() ? std::string("the server named by the PG* environment variables")
                                  : log::RedactConnectionString(options.conninfo);
}

}  // namespace

Result<std::unique_ptr<Warehouse>> Warehouse::Connect(const WarehouseOptions& options, bool create_schema) {
  LOADSTAR_RETURN_IF_ERROR(ValidateConninfo(options.conninfo));
  LOADSTAR_RETURN_IF_ERROR(ValidateSchemaName(options.schema));
  auto conn = std::make_unique<Conn>();
  // Keyword/value arrays with expand_dbname: the conninfo may be a URI or "k=v" text, and the
  // application name is set without string concatenation. Keywords after dbname override what
  // the conninfo says, so sslmode comes first and is only a default.
  const bool ssl_given = SslModeGiven(options.conninfo);
  const bool require_ssl = options.expect_dialect == Dialect::kRedshift && !ssl_given;
  std::vector<const char*> keys, values;
  if (require_ssl) {
    keys.push_back("sslmode");
    values.push_back("require");
  }
  std::string timeout = "10";
  keys.insert(keys.end(), {"dbname", "application_name", "connect_timeout", nullptr});
  values.insert(values.end(), {options.conninfo.empty() ? nullptr : options.conninfo.c_str(),
                               options.application_name.c_str(), timeout.c_str(), nullptr});
  conn->pg = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn->pg == nullptr || PQstatus(conn->pg) != CONNECTION_OK) {
    std::string why = conn->pg != nullptr ? PQerrorMessage(conn->pg) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    std::string hint = require_ssl ? " (loadstar asks Redshift for sslmode=require; name another sslmode in "
                                     "--warehouse or PGSSLMODE to change that)"
                                   : "";
    return Status::Unavailable("cannot connect to the warehouse at " + TargetText(options) + ": " + why + hint +
                               ". Check --warehouse (a postgresql:// URI) or PGHOST/PGPORT/PGUSER/PGDATABASE, "
                               "and that the server is running and reachable");
  }
  conn->cancel = PQgetCancel(conn->pg);
  // Server notices ("relation already exists, skipping") are not for people running loadstar.
  PQsetNoticeProcessor(conn->pg, [](void*, const char* message) { log::Debug(message); }, nullptr);
  const bool ssl_in_use = PQsslInUse(conn->pg) == 1;
  std::unique_ptr<Warehouse> wh(new Warehouse(options, std::move(conn)));
  LOADSTAR_ASSIGN_OR_RETURN(QueryResult version, wh->QueryFile("server_version"));
  LOADSTAR_RETURN_IF_ERROR(version.RequireColumns({"version"}).WithContext(SqlFilePath("server_version", wh->dialect_)));
  const std::string version_text = version.empty() ? "" : version.text(0, "version");
  wh->dialect_ = DialectOfServerVersion(version_text);
  if (options.expect_dialect && *options.expect_dialect != wh->dialect_) {
    return Status::FailedPrecondition(
        "--dialect " + std::string(DialectName(*options.expect_dialect)) + " was given, but the warehouse at " +
        TargetText(options) + " is " + (wh->dialect_ == Dialect::kRedshift ? "Amazon Redshift" : "PostgreSQL") +
        " (" + version_text + "). Leave --dialect at auto, or point --warehouse at the right server");
  }
  if (wh->dialect_ == Dialect::kRedshift && !ssl_in_use) {
    if (!ssl_given) {
      return Status::FailedPrecondition("the connection to Amazon Redshift at " + TargetText(options) +
                                        " is not encrypted. Add sslmode=require (or verify-full with sslrootcert) "
                                        "to --warehouse, or give --dialect redshift, which asks for it");
    }
    log::WarnThrottled("redshift-plaintext", "the connection to Amazon Redshift at " + TargetText(options) +
                                                 " is not encrypted (the sslmode given allows that)");
  }
  if (create_schema) LOADSTAR_RETURN_IF_ERROR(CreateSchemaSerialised(wh.get()));
  LOADSTAR_RETURN_IF_ERROR(wh->ExecFile("session"));
  return wh;
}

SqlVars Warehouse::Vars(const SqlVars& extra) const {
  SqlVars v = extra;
  if (v.schema.empty()) v.schema = options_.schema;
  v.dialect = dialect_;
  return v;
}

Status Warehouse::ExecFile(std::string_view name, const SqlVars& vars) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string sql, SqlText(name, Vars(vars)));
  ResultGuard res{PQexec(conn_->pg, sql.c_str())};
  return ResultStatus(conn_->pg, res.res, SqlFilePath(name, dialect_));
}

Status Warehouse::ExecFileSteps(std::string_view name, const SqlVars& vars,
                                const std::function<void(const std::string& label, double seconds)>& on_step,
                                const std::function<void(const std::string& label)>& on_start) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string sql, SqlText(name, Vars(vars)));
  for (const SqlStatement& st : SplitSqlStatements(sql)) {
    if (on_start) on_start(st.label);
    auto start = std::chrono::steady_clock::now();
    ResultGuard res{PQexec(conn_->pg, st.text.c_str())};
    LOADSTAR_RETURN_IF_ERROR(ResultStatus(conn_->pg, res.res, SqlFilePath(name, dialect_) + ", step '" + st.label + "'"));
    if (on_step) on_step(st.label, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return Status::Ok();
}

Status Warehouse::RequestCancel() {
  if (conn_->cancel == nullptr) return Status::Unavailable("this connection cannot be cancelled");
  char why[256] = {0};
  if (PQcancel(conn_->cancel, why, sizeof why) != 1) {
    return Status::Unavailable(std::string("cannot cancel the running statement: ") + why);
  }
  return Status::Ok();
}

Result<QueryResult> Warehouse::QueryFile(std::string_view name, const std::vector<SqlParam>& params,
                                         const SqlVars& vars) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string sql, SqlText(name, Vars(vars)));
  auto result = QueryText(sql, params);
  if (!result.ok()) return result.status().ok() ? result.status() : Status(result.status().code(),
      SqlFilePath(name, dialect_) + ": " + result.status().message());
  return result;
}

Status Warehouse::QueryFileEach(std::string_view name, const std::vector<SqlParam>& params,
                                const std::function<Status(const QueryResult& row)>& row) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string sql, SqlText(name, Vars({})));
  const std::string what = SqlFilePath(name, dialect_);
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  if (PQsendQueryParams(conn_->pg, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(), nullptr,
                        nullptr, 0) != 1 ||
      PQsetSingleRowMode(conn_->pg) != 1) {
    return Status::Unavailable(what + ": " + PQerrorMessage(conn_->pg));
  }
  Status status;
  while (PGresult* r = PQgetResult(conn_->pg)) {
    ResultGuard res{r};
    if (!status.ok()) continue;  // drain what is left after a failure or a stop
    if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
      status = row(ToQueryResult(r));
    } else {
      status = ResultStatus(conn_->pg, r, what);
    }
  }
  return status;
}

Result<QueryResult> Warehouse::QueryText(std::string_view sql, const std::vector<SqlParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  std::string text(sql);
  ResultGuard res{PQexecParams(conn_->pg, text.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), nullptr, nullptr, 0)};
  LOADSTAR_RETURN_IF_ERROR(ResultStatus(conn_->pg, res.res, "query"));
  return ToQueryResult(res.res);
}

Result<uint64_t> Warehouse::CopyIn(std::string_view name, std::string_view data, const SqlVars& vars) {
  LOADSTAR_RETURN_IF_ERROR(CopyStart(name, vars));
  Status put = CopyPut(data);
  auto rows = CopyEnd();  // always ends the COPY, so the connection is usable again
  LOADSTAR_RETURN_IF_ERROR(put);
  return rows;
}

Status Warehouse::CopyStart(std::string_view name, const SqlVars& vars) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string sql, SqlText(name, Vars(vars)));
  copy_what_ = SqlFilePath(name, dialect_);
  ResultGuard res{PQexec(conn_->pg, sql.c_str())};
  if (res.res == nullptr || PQresultStatus(res.res) != PGRES_COPY_IN) {
    LOADSTAR_RETURN_IF_ERROR(ResultStatus(conn_->pg, res.res, copy_what_));
    return Status::Internal(copy_what_ + " did not start a COPY FROM STDIN");
  }
  return Status::Ok();
}

Status Warehouse::CopyPut(std::string_view data) {
  constexpr size_t kChunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn_->pg, data.data() + off, static_cast<int>(n)) != 1) {
      return Status::Unavailable(copy_what_ + ": sending COPY data failed: " + PQerrorMessage(conn_->pg));
    }
  }
  return Status::Ok();
}

Result<uint64_t> Warehouse::CopyEnd() {
  if (PQputCopyEnd(conn_->pg, nullptr) != 1) {
    return Status::Unavailable(copy_what_ + ": ending COPY failed: " + PQerrorMessage(conn_->pg));
  }
  uint64_t rows = 0;
  Status status;
  while (PGresult* r = PQgetResult(conn_->pg)) {
    ResultGuard res{r};
    Status s = ResultStatus(conn_->pg, r, copy_what_);
    if (!s.ok() && status.ok()) status = s;
    const char* tuples = PQcmdTuples(r);
    if (tuples != nullptr && *tuples != '\0') rows = std::strtoull(tuples, nullptr, 10);
  }
  if (!status.ok()) return status;
  return rows;
}

Status Warehouse::Begin() {
  ResultGuard res{PQexec(conn_->pg, "BEGIN")};
  return ResultStatus(conn_->pg, res.res, "BEGIN");
}

Status Warehouse::Commit() {
  ResultGuard res{PQexec(conn_->pg, "COMMIT")};
  Status s = ResultStatus(conn_->pg, res.res, "COMMIT");
  // A COMMIT in an aborted transaction "succeeds" as ROLLBACK: report that as a failure.
  if (s.ok() && res.res != nullptr && std::string_view(PQcmdStatus(res.res)) == "ROLLBACK") {
    return Status::FailedPrecondition("COMMIT rolled back: an earlier statement of the transaction failed");
  }
  return s;
}

Status Warehouse::Rollback() {
  if (!in_transaction()) return Status::Ok();
  ResultGuard res{PQexec(conn_->pg, "ROLLBACK")};
  return ResultStatus(conn_->pg, res.res, "ROLLBACK");
}

bool Warehouse::in_transaction() const {
  PGTransactionStatusType t = PQtransactionStatus(conn_->pg);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

bool Warehouse::healthy() const { return PQstatus(conn_->pg) == CONNECTION_OK; }

}  // namespace loadstar
