// Test instrumentation of a loadstar schema in the private PostgreSQL (PostgresServer::Shared()):
// creating its tables before the first run, so that a test can add triggers to them.
#pragma once

#include <string>

namespace loadstar::testing {

// Creates `schema` in `database` with loadstar's tables, from sql/postgres/schema.sql under
// SourceDir(), as a coordinator would on its first run (the coordinator's own run of the same
// idempotent DDL then changes nothing).
void CreateLoadstarSchema(const std::string& database, const std::string& schema);

// Records every staging row that commits as (tbl, run_id, file_id, line, key) in
// `schema.staging_audit`, through statement triggers on staging_plays, staging_users,
// staging_time and staging_songs. `key` identifies the row among its file's rows of that table:
// the line for plays and songs, the user_id for users (one row per user and file), the ts for
// time (one row per distinct play time and file; `line` is NULL). Staging rows are deleted once
// their run is transformed; the audit keeps them, and it rolls back with any staging transaction
// that rolls back, so it holds exactly what was ever staged for good. A row staged twice shows as
// a repeated (tbl, file_id, key).
void AuditStaging(const std::string& database, const std::string& schema);

}  // namespace loadstar::testing
