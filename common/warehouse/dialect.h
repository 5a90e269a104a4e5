// Which SQL engine a warehouse connection talks to. The SQL catalog picks each statement's text
// by it (sql/<dialect>/ first, then sql/common/), and the worker its way of staging rows.
#pragma once

#include <string_view>

namespace loadstar {

enum class Dialect {
  kPostgres,  // PostgreSQL: rows staged by COPY FROM STDIN, transforms by INSERT ... ON CONFLICT
  kRedshift,  // Amazon Redshift: rows staged as gzip CSV parts in S3 and COPYed by manifest, transforms by MERGE
};

// The dialect's folder under sql/: "postgres", "redshift".
inline std::string_view DialectName(Dialect dialect) { return dialect == Dialect::kRedshift ? "redshift" : "postgres"; }

// The dialect of a server that answers `SELECT version()` with `version`: Redshift's says so
// ("PostgreSQL 8.0.2 on i686-pc-linux-gnu, ..., Redshift 1.0.12103"); anything else is PostgreSQL.
inline Dialect DialectOfServerVersion(std::string_view version) {
  return version.find("Redshift") != std::string_view::npos ? Dialect::kRedshift : Dialect::kPostgres;
}

}  // namespace loadstar
