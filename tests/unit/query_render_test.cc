// Rendering rows as text tables and JSON, and wrapping catalog SELECTs: no database needed.
#include "coordinator/report/query_render_internal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace loadstar::coordinator::internal {
namespace {

using ::testing::HasSubstr;

QueryResult Rows(std::vector<std::string> columns, std::vector<std::vector<std::optional<std::string>>> rows) {
  return QueryResult(std::move(columns), std::move(rows));
}

TEST(RenderTextTableTest, AlignsTextLeftAndNumbersRight) {
  QueryResult rows = Rows({"name", "plays", "share"}, {{"Bob", "7", "12.5"}, {"Beyoncé", "1234", std::nullopt}});
  EXPECT_EQ(RenderTextTable(rows),
            "  name     plays  share\n"
            "  -------  -----  -----\n"
            "  Bob          7   12.5\n"
            "  Beyoncé   1234\n");
}

TEST(RenderTextTableTest, OptionsAndAwkwardValues) {
  TextTableOptions options;
  options.indent = "";
  options.max_cell_width = 8;
  options.null_text = "NULL";
  QueryResult rows = Rows({"error", "n"}, {{"line one\nline two", std::nullopt}, {"ok", "-1e-07"}});
  // Line breaks become spaces and long values are cut; only non-NULL values decide whether a
  // column is numeric, and a numeric column's header is right-aligned too.
  EXPECT_EQ(RenderTextTable(rows, options),
            "error          n\n"
            "--------  ------\n"
            "line ...    NULL\n"
            "ok        -1e-07\n");
}

TEST(RenderTextTableTest, CutsLongValuesOnCharacterBoundaries) {
  TextTableOptions options;
  options.indent = "";
  options.max_cell_width = 6;
  QueryResult rows = Rows({"t"}, {{"ééééééé"}});
  EXPECT_EQ(RenderTextTable(rows, options), "t\n------\nééé...\n");
}

TEST(RenderTextTableTest, AColumnOfNullsOnlyIsText) {
  TextTableOptions options;
  options.indent = "";
  QueryResult rows = Rows({"a_long_name", "b"}, {{std::nullopt, "x"}});
  EXPECT_EQ(RenderTextTable(rows, options), "a_long_name  b\n-----------  -\n             x\n");
}

TEST(LooksNumericTest, NumbersAsPostgresPrintsThem) {
  for (const char* yes : {"0", "12", "-3", "+4", "3.5", ".5", "5.", "1e-07", "2.5E+10"}) EXPECT_TRUE(LooksNumeric(yes)) << yes;
  for (const char* no : {"", "-", ".", "1e", "2018-11-01", "12a", "NaN", "Infinity", " 1", "0x10"}) {
    EXPECT_FALSE(LooksNumeric(no)) << no;
  }
}

TEST(JsonStringTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(JsonString("Beyoncé"), "\"Beyoncé\"");
}

TEST(LeadingCommentTest, FirstCommentLine) {
  EXPECT_EQ(LeadingComment("-- The most played songs.\n-- more\nSELECT 1;"), "The most played songs.");
  EXPECT_EQ(LeadingComment("\n  --   padded  \nSELECT 1;"), "padded");
  EXPECT_EQ(LeadingComment("-- only a comment"), "only a comment");
  EXPECT_EQ(LeadingComment("SELECT 1; -- not leading"), "");
}

TEST(WrapQueryTest, PutsTheSelectWhereTheMarkerIs) {
  auto sql = WrapQuery("rows_as_json", "report/match_share");
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto inner = SqlText("report/match_share");
  ASSERT_TRUE(inner.ok());
  std::string select = inner->substr(0, inner->rfind(';'));
  EXPECT_THAT(*sql, HasSubstr("FROM (\n" + select + "\n) AS r;"));
  EXPECT_THAT(*sql, ::testing::Not(HasSubstr(std::string(kQueryMarker))));
}

TEST(WrapQueryTest, Errors) {
  EXPECT_EQ(WrapQuery("rows_as_json", "no_such_file").status().code(), StatusCode::kNotFound);
  // A file without the marker cannot wrap anything.
  EXPECT_EQ(WrapQuery("star_counts", "report/match_share").status().code(), StatusCode::kInternal);
  // A check that needs the run id cannot be wrapped without one.
  EXPECT_EQ(WrapQuery("check_sample", "checks/songplays_of_the_run").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loadstar::coordinator::internal
