#include "tests/support/star_fingerprint.h"

#include <sstream>

#include "tests/support/postgres_server.h"

namespace loadstar::testing {

std::string StarFingerprint(const std::string& database, const std::string& schema) {
  // One round trip for all five tables; rows are compared as their text form, so any column of
  // any row that differs changes the md5.
  std::string sql;
  int position = 0;
  for (const char* table : {"songplays", "users", "songs", "artists", "time"}) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT " + std::to_string(++position) + " AS position, '" + table + "=' || count(*) || ':' || " +
           "coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS line FROM \"" + schema + "\"." + table +
           " t";
  }
  return PostgresServer::Shared().Psql(database, "SELECT line FROM (" + sql + ") f ORDER BY position") + "\n";
}

std::string LedgerAccount::ToString() const {
  return "files=" + std::to_string(files) + " records=" + std::to_string(records) +
         " staged=" + std::to_string(staged) + " rejected=" + std::to_string(rejected);
}

LedgerAccount ReadLedgerAccount(const std::string& database, const std::string& schema, const std::string& kind) {
  std::string row = PostgresServer::Shared().Psql(
      database,
      "SELECT count(*), coalesce(sum(records), 0), coalesce(sum(staged), 0), coalesce(sum(rejected), 0) "
      "FROM \"" +
          schema + "\".load_files WHERE kind = '" + kind + "'");
  LedgerAccount a;
  std::istringstream in(row);
  char bar = 0;
  in >> a.files >> bar >> a.records >> bar >> a.staged >> bar >> a.rejected;
  return a;
}

}  // namespace loadstar::testing
