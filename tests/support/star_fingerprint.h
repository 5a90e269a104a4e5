// What the fault and input tests compare: fingerprints of the star tables' full contents, and
// the ledger's account of a schema. Both are read through psql from the test binary's private
// PostgreSQL (PostgresServer::Shared()).
#pragma once

#include <cstdint>
#include <string>

namespace loadstar::testing {

// One line per star table, "table=rows:md5", the md5 over every row's text in sorted order
// (songplays, users, songs, artists, time). Two schemas hold identical tables exactly when their
// fingerprints are equal. An empty table gives "table=0:".
std::string StarFingerprint(const std::string& database, const std::string& schema);

// The ledger (load_files) of a schema for one kind of file ('song' or 'event'): rows, and the
// sums of records, staged and rejected over them. Counts files in every state.
struct LedgerAccount {
  int64_t files = 0;
  int64_t records = 0;
  int64_t staged = 0;
  int64_t rejected = 0;
  std::string ToString() const;  // "files=3 records=10 staged=9 rejected=1"
};
LedgerAccount ReadLedgerAccount(const std::string& database, const std::string& schema, const std::string& kind);

}  // namespace loadstar::testing
