#include "tests/support/loadstar_schema.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "tests/support/postgres_server.h"
#include "tests/support/test_env.h"

namespace loadstar::testing {

void CreateLoadstarSchema(const std::string& database, const std::string& schema) {
  std::ifstream in(SourceDir() + "/sql/postgres/schema.sql");
  std::stringstream ddl;
  ddl << in.rdbuf();
  ASSERT_FALSE(ddl.str().empty()) << "cannot read sql/postgres/schema.sql under " << SourceDir();
  PostgresServer::Shared().Psql(
      database, "CREATE SCHEMA IF NOT EXISTS \"" + schema + "\"; SET search_path TO \"" + schema + "\";\n" + ddl.str());
}

void AuditStaging(const std::string& database, const std::string& schema) {
  const std::string s = "\"" + schema + "\"";
  std::string sql =
      "CREATE TABLE " + s + ".staging_audit (tbl text, run_id bigint, file_id bigint, line bigint, key text);";
  // What identifies a row among its file's rows of the same table (docs/STAGING_ROWS.md).
  const std::pair<const char*, const char*> tables[] = {{"staging_plays", "line, line::text"},
                                                        {"staging_users", "line, user_id"},
                                                        {"staging_time", "NULL::bigint, ts::text"},
                                                        {"staging_songs", "line, line::text"}};
  for (const auto& [table, columns] : tables) {
    std::string fn = s + ".audit_" + table;
    sql += "CREATE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " + s +
           ".staging_audit SELECT '" + table + "', run_id, file_id, " + columns +
           " FROM new_rows; RETURN NULL; END $$;";
    sql += "CREATE TRIGGER audit AFTER INSERT ON " + s + "." + table +
           " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "();";
  }
  PostgresServer::Shared().Psql(database, sql);
}

}  // namespace loadstar::testing
