// The warehouse connection against a real PostgreSQL: creating a schema from several sessions at
// once, and names PostgreSQL would silently shorten.
#include "common/warehouse/warehouse.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/warehouse/transaction.h"
#include "tests/support/postgres_server.h"

namespace loadstar {
namespace {

using testing::PostgresServer;

// Two first runs against a new schema start at once: each connects and creates the schema.
// CREATE SCHEMA IF NOT EXISTS alone lets both pass the existence check and the later one die on
// pg_namespace's unique index ("duplicate key value violates unique constraint"). The window is
// a few microseconds wide; to hit it every time, the test holds pg_namespace in SHARE mode (the
// existence check still reads it, the insert waits) until every session is waiting on a lock.
TEST(WarehouseTest, ConcurrentFirstConnectsAllCreateTheSchemaWithoutError) {
  auto& pg = PostgresServer::Shared();
  const std::string uri = pg.FreshDatabase("create_race");
  WarehouseOptions holder_options;
  holder_options.conninfo = uri;
  auto holder = Warehouse::Connect(holder_options);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  auto watcher = Warehouse::Connect(holder_options);  // pg_stat_activity is frozen inside a transaction
  ASSERT_TRUE(watcher.ok()) << watcher.status().ToString();
  constexpr int kRounds = 3;
  constexpr int kSessions = 6;
  for (int round = 0; round < kRounds; ++round) {
    const std::string schema = "race_" + std::to_string(round);
    ASSERT_TRUE((*holder)->Begin().ok());
    auto locked = (*holder)->QueryText("LOCK TABLE pg_catalog.pg_namespace IN SHARE MODE");
    ASSERT_TRUE(locked.ok()) << locked.status().ToString();

    std::vector<Status> results(kSessions);
    std::vector<std::thread> threads;
    for (int i = 0; i < kSessions; ++i) {
      threads.emplace_back([&, i] {
        WarehouseOptions options;
        options.conninfo = uri;
        options.schema = schema;
        results[i] = Warehouse::Connect(options, /*create_schema=*/true).status();
      });
    }
    // Every session waits on a lock (pg_namespace, or whatever serialises them), bounded.
    for (int tries = 0; tries < 200; ++tries) {
      auto waiting = (*watcher)->QueryText(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
      ASSERT_TRUE(waiting.ok()) << waiting.status().ToString();
      if (waiting->integer(0, 0) >= kSessions) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE((*holder)->Commit().ok());
    for (auto& t : threads) t.join();
    for (int i = 0; i < kSessions; ++i) {
      EXPECT_TRUE(results[i].ok()) << "round " << round << ", session " << i << ": " << results[i].ToString();
    }
    EXPECT_EQ(pg.Psql("create_race", "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'"), "1");
  }
}

// The creation lock is the session's only while it creates: a coordinator that keeps its
// connection for hours must not hold every other first run back.
TEST(WarehouseTest, TheSchemaCreationLockIsReleasedOnceTheSchemaExists) {
  auto& pg = PostgresServer::Shared();
  WarehouseOptions options;
  options.conninfo = pg.FreshDatabase("create_lock");
  options.schema = "held";
  auto wh = Warehouse::Connect(options, /*create_schema=*/true);
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();
  auto held = (*wh)->QueryText("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->integer(0, 0), 0);
}

// Errors the server reports reach the caller with a code that says whose fault they are, the
// SQLSTATE in the message, and the connection still usable.
TEST(WarehouseTest, ServerErrorsAreMappedByTheirSqlState) {
  auto& pg = PostgresServer::Shared();
  WarehouseOptions options;
  options.conninfo = pg.FreshDatabase("sqlstate");
  auto wh = Warehouse::Connect(options);
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();
  struct Case {
    const char* sql;
    StatusCode code;
    const char* sqlstate;
  };
  const Case cases[] = {
      {"SELEC 1", StatusCode::kInternal, "42601"},
      {"SELECT no_such_column FROM pg_class", StatusCode::kInternal, "42703"},
      {"SELECT 1 FROM no_such_table", StatusCode::kNotFound, "42P01"},
      {"SELECT 1 / 0", StatusCode::kInvalidArgument, "22012"},
      {"SELECT 'abc'::integer", StatusCode::kInvalidArgument, "22P02"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    auto out = (*wh)->QueryText(c.sql);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), c.code) << out.status().ToString();
    EXPECT_NE(out.status().message().find(std::string("(SQLSTATE ") + c.sqlstate + ")"), std::string::npos)
        << out.status().message();
    EXPECT_FALSE(IsRetryable(out.status()));
  }
  auto missing = (*wh)->QueryText("SELECT 1 FROM no_such_table");
  EXPECT_NE(missing.status().message().find("has this schema been loaded by `loadstar run` yet?"), std::string::npos)
      << missing.status().message();
  // A duplicate key is a conflict with what is there, not a bug in the statement.
  ASSERT_TRUE((*wh)->QueryText("CREATE TEMP TABLE t (k integer PRIMARY KEY)").ok());
  ASSERT_TRUE((*wh)->QueryText("INSERT INTO t VALUES (1)").ok());
  auto twice = (*wh)->QueryText("INSERT INTO t VALUES (1)");
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition) << twice.status().ToString();
  // A cancelled statement is Cancelled.
  ASSERT_TRUE((*wh)->QueryText("SET statement_timeout = '50ms'").ok());
  auto slow = (*wh)->QueryText("SELECT pg_sleep(5)");
  EXPECT_EQ(slow.status().code(), StatusCode::kCancelled) << slow.status().ToString();
  EXPECT_TRUE((*wh)->healthy());
}

// A Transaction rolls back whatever it did unless it is committed, on every way out of its scope.
TEST(WarehouseTest, ATransactionRollsBackUnlessCommitted) {
  auto& pg = PostgresServer::Shared();
  WarehouseOptions options;
  options.conninfo = pg.FreshDatabase("transaction");
  auto connected = Warehouse::Connect(options);
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  Warehouse* wh = connected->get();
  ASSERT_TRUE(wh->QueryText("CREATE TABLE t (k integer PRIMARY KEY)").ok());
  auto count = [&] { return wh->QueryText("SELECT count(*) FROM t")->integer(0, 0); };

  auto insert_and_leave = [&](bool commit) -> Status {
    LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh));
    EXPECT_TRUE(wh->in_transaction());
    LOADSTAR_RETURN_IF_ERROR(wh->QueryText("INSERT INTO t VALUES (1)").status());
    if (!commit) return Status::Cancelled("left early");
    return tx.Commit();
  };
  EXPECT_EQ(insert_and_leave(false).code(), StatusCode::kCancelled);
  EXPECT_FALSE(wh->in_transaction());
  EXPECT_EQ(count(), 0);
  EXPECT_TRUE(insert_and_leave(true).ok());
  EXPECT_FALSE(wh->in_transaction());
  EXPECT_EQ(count(), 1);

  {
    // A failed statement aborts the transaction: COMMIT says so, and nothing stays open.
    auto tx = Transaction::Begin(wh);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_TRUE(wh->QueryText("INSERT INTO t VALUES (2)").ok());
    EXPECT_FALSE(wh->QueryText("INSERT INTO t VALUES (1)").ok());
    EXPECT_FALSE(tx->Commit().ok());
    EXPECT_FALSE(tx->open());
    EXPECT_FALSE(wh->in_transaction());
  }
  EXPECT_EQ(count(), 1);

  {
    auto tx = Transaction::Begin(wh);
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(Transaction::Begin(wh).status().code(), StatusCode::kInternal) << "no transaction inside another";
    EXPECT_TRUE(tx->Rollback().ok());
    EXPECT_FALSE(wh->in_transaction());
  }
}

}  // namespace
}  // namespace loadstar
