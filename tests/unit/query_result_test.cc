// Reading a query's rows by column name.
#include <gtest/gtest.h>

#include "common/warehouse/warehouse.h"

namespace loadstar {
namespace {

QueryResult Ledger() {
  return QueryResult({"uri", "etag", "run_id"}, {{"s3://b/a.json", "e1", "7"}, {"s3://b/b.json", std::nullopt, "x"}});
}

TEST(QueryResultTest, ColumnsAreReadByName) {
  const QueryResult rows = Ledger();
  EXPECT_EQ(rows.text(0, "uri"), "s3://b/a.json");
  EXPECT_EQ(rows.text(1, "etag"), "") << "NULL reads as empty text";
  EXPECT_FALSE(rows.at(1, "etag").has_value());
  EXPECT_EQ(rows.integer(0, "run_id"), 7);
  EXPECT_EQ(rows.integer(1, "run_id", -1), -1) << "non-numeric text gives the fallback";
  // By position, as before.
  EXPECT_EQ(rows.text(0, 1), "e1");
  EXPECT_EQ(rows.integer(0, 2), 7);
  EXPECT_EQ(rows.column_index("run_id"), 2u);
  EXPECT_FALSE(rows.column_index("state").has_value());
}

TEST(QueryResultTest, MissingColumnsAreNamed) {
  const QueryResult rows = Ledger();
  EXPECT_TRUE(rows.RequireColumns({"uri", "run_id"}).ok());
  Status s = rows.RequireColumns({"uri", "state", "records"});
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(),
            "the result has no column 'state', 'records' (its columns: uri, etag, run_id); the SQL file and the code "
            "reading it disagree");
}

TEST(QueryResultDeathTest, ReadingAColumnThatIsNotThereAborts) {
  const QueryResult rows = Ledger();
  EXPECT_DEATH((void)rows.text(0, "state"), "has no column 'state' \\(its columns: uri, etag, run_id\\)");
}

}  // namespace
}  // namespace loadstar
