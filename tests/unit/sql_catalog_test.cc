#include "common/warehouse/sql_catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <string>

#include "worker/parse/record_parser.h"

namespace loadstar {
namespace {

TEST(SqlCatalogTest, SplitsAtSemicolonsOutsideQuotesAndComments) {
  auto st = SplitSqlStatements(
      "-- header comment\n\n"
      "-- First step.\n-- more words\nSELECT 'a;b', \"c;d\" FROM t; -- trailing; comment\n"
      "/* block ; comment */ SELECT $$x;y$$, $tag$ ; $tag$, $1;\n"
      "-- only a comment at the end;\n");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].label, "First step.");
  EXPECT_EQ(st[0].text.substr(st[0].text.find("SELECT")), "SELECT 'a;b', \"c;d\" FROM t");
  EXPECT_NE(st[1].text.find("$tag$ ; $tag$, $1"), std::string::npos);
  EXPECT_EQ(st[1].label, "trailing; comment");  // the comment right above the statement
}

TEST(SqlCatalogTest, EveryTransformStepHasACommentLabel) {
  auto text = SqlText("postgres/transform", SqlVars{"s", 7});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto steps = SplitSqlStatements(*text);
  ASSERT_GE(steps.size(), 5u);
  for (const auto& s : steps) EXPECT_FALSE(s.label.empty());
  EXPECT_EQ(text->find("{{"), std::string::npos);
  EXPECT_NE(text->find("run_id = 7"), std::string::npos);
}

// Each transform step is logged with its label: a whole sentence, never one cut at a line end.
TEST(SqlCatalogTest, TransformStepLabelsAreWholeSentences) {
  auto text = SqlText("postgres/transform", SqlVars{"s", 7});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  for (const auto& step : SplitSqlStatements(*text)) {
    ASSERT_FALSE(step.label.empty());
    if (step.text.rfind(step.label, 0) == 0) continue;  // no comment of its own: its first line of code
    EXPECT_EQ(step.label.back(), '.') << step.label;
    EXPECT_EQ(std::count(step.label.begin(), step.label.end(), '('),
              std::count(step.label.begin(), step.label.end(), ')'))
        << step.label;
  }
}

TEST(SqlCatalogTest, LabelIsTheCommentsFirstSentenceAcrossLines) {
  auto st = SplitSqlStatements(
      "-- Fresh statistics for the rows just staged (the columns. they join on), so\n"
      "-- the planner sizes its joins, e.g. hash joins. Then more.\n"
      "ANALYZE t;\n"
      "-- A first paragraph without a full stop\n--\n-- A second paragraph.\nSELECT 1;\n"
      "-- Question?\nSELECT 2;\n"
      "SELECT a_rather_long_list, of_columns, that_goes_on, and_on, past_sixty_characters FROM t;\n");
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].label,
            "Fresh statistics for the rows just staged (the columns. they join on), so the planner sizes its joins, "
            "e.g. hash joins.");
  EXPECT_EQ(st[1].label, "A first paragraph without a full stop");
  EXPECT_EQ(st[2].label, "Question?");
  EXPECT_EQ(st[3].label, "SELECT a_rather_long_list, of_columns, that_goes_on, and_on, past_sixty_characters FROM t");
}

TEST(SqlCatalogTest, PlaceholdersAreSubstitutedSafely) {
  auto text = SqlText("postgres/create_schema", SqlVars{"we\"ird", -1});
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"we\"\"ird\""), std::string::npos);
  EXPECT_FALSE(SqlText("postgres/create_schema").ok());       // needs a schema
  EXPECT_FALSE(SqlText("postgres/transform", SqlVars{"s", -1}).ok());  // needs a run id
  EXPECT_EQ(SqlText("postgres/no_such_file").status().code(), StatusCode::kNotFound);
}

// The column list of a COPY statement (after its leading comments), "a, b, c", on one line.
std::string CopyColumns(const std::string& text) {
  const size_t copy = text.find("COPY ");
  if (copy == std::string::npos) return "";
  const size_t open = text.find('(', copy);
  std::string got = text.substr(open + 1, text.find(')', open) - open - 1);
  std::string flat;
  for (char c : got) {
    if (c == '\n') continue;
    if (c == ' ' && !flat.empty() && flat.back() == ' ') continue;
    flat += c;
  }
  size_t pos;
  while ((pos = flat.find(",  ")) != std::string::npos) flat.erase(pos + 1, 1);
  return flat;
}

// The workers write staging_songs rows in StagingColumns order after run_id, file_id and line,
// then the match key (docs/STAGING_ROWS.md); the COPY statements in sql/ must name the columns in
// exactly that order.
TEST(SqlCatalogTest, CopyColumnListsMatchTheParser) {
  std::string expected = "run_id, file_id, line";
  for (const auto& c : worker::StagingColumns(worker::FileKind::kSong)) expected += ", " + c;
  expected += ", match_key";
  SqlVars vars{"s", -1, Dialect::kRedshift, {{"manifest", "m"}, {"iam_role", "r"}, {"region", "us-west-2"}}};
  for (const char* file : {"postgres/copy_staging_songs", "redshift/copy_manifest_staging_songs"}) {
    auto text = SqlText(file, vars);
    ASSERT_TRUE(text.ok()) << file;
    EXPECT_EQ(CopyColumns(*text), expected) << file;
  }
}

// Both warehouses load the same rows (docs/STAGING_ROWS.md): Redshift's manifest COPY of each
// staging table names the columns PostgreSQL's COPY does, in the same order.
TEST(SqlCatalogTest, RedshiftCopiesNameThePostgresColumns) {
  for (const char* table : {"staging_plays", "staging_users", "staging_time", "staging_songs"}) {
    auto pg = SqlText(std::string("postgres/copy_") + table);
    SqlVars vars{"s", -1, Dialect::kRedshift, {{"manifest", "m"}, {"iam_role", "r"}, {"region", "us-west-2"}}};
    auto rs = SqlText(std::string("redshift/copy_manifest_") + table, vars);
    ASSERT_TRUE(pg.ok()) << table << ": " << pg.status().ToString();
    ASSERT_TRUE(rs.ok()) << table << ": " << rs.status().ToString();
    EXPECT_EQ(CopyColumns(*rs), CopyColumns(*pg)) << table;
  }
}

// A statement named without its folder is the dialect's own file where there is one, else the
// common one; a name with its folder is that file.
TEST(SqlCatalogTest, ADialectsFileOverridesTheCommonOneAndAMissingOneFallsBack) {
  const std::map<std::string, std::string> files = {
      {"common/counts", "SELECT 'common counts'"},
      {"postgres/counts", "SELECT 'postgres counts'"},
      {"common/plain", "SELECT 'common plain'"},
      {"redshift/only_redshift", "SELECT 'redshift'"},
      {"common/checks/a", "-- check: a"},
      {"postgres/checks/b", "-- check: b (postgres)"},
      {"common/checks/b", "-- check: b"},
      {"redshift/checks/c", "-- check: c"},
      {"common/checks_more/x", "-- not a check"},
  };
  const SqlCatalog catalog(&files);
  SqlVars pg;
  SqlVars rs;
  rs.dialect = Dialect::kRedshift;
  EXPECT_EQ(*catalog.Text("counts", pg), "SELECT 'postgres counts'");
  EXPECT_EQ(*catalog.Text("counts", rs), "SELECT 'common counts'");
  EXPECT_EQ(*catalog.Text("plain", pg), "SELECT 'common plain'");
  EXPECT_EQ(*catalog.Resolve("plain", Dialect::kPostgres), "common/plain");
  EXPECT_EQ(*catalog.Resolve("counts", Dialect::kPostgres), "postgres/counts");
  EXPECT_EQ(*catalog.Text("common/counts", pg), "SELECT 'common counts'") << "a folder names the file";
  auto missing = catalog.Text("only_redshift", pg);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "no SQL file sql/postgres/only_redshift.sql or sql/common/only_redshift.sql in this build");
  EXPECT_EQ(catalog.NamesUnder("checks/", Dialect::kPostgres), (std::vector<std::string>{"checks/a", "checks/b"}));
  EXPECT_EQ(*catalog.Text("checks/b", pg), "-- check: b (postgres)");
  EXPECT_EQ(catalog.NamesUnder("checks/", Dialect::kRedshift),
            (std::vector<std::string>{"checks/a", "checks/b", "checks/c"}));
}

// The embedded catalog: the same rules over the real files.
TEST(SqlCatalogTest, TheEmbeddedCatalogResolvesPlainAndDialectStatements) {
  EXPECT_EQ(SqlFilePath("star_counts"), "sql/common/star_counts.sql");
  EXPECT_EQ(SqlFilePath("transform"), "sql/postgres/transform.sql");
  EXPECT_TRUE(SqlText("star_counts").ok());
  EXPECT_EQ(SqlText("postgres/star_counts").status().code(), StatusCode::kNotFound);
  const std::vector<std::string> checks = SqlNamesUnder("checks/");
  EXPECT_NE(std::find(checks.begin(), checks.end(), "checks/songs_primary_key"), checks.end());   // postgres
  EXPECT_NE(std::find(checks.begin(), checks.end(), "checks/songplays_of_the_run"), checks.end());  // postgres
  EXPECT_NE(std::find(checks.begin(), checks.end(), "checks/ledger_accounts_balance"), checks.end());  // postgres
  EXPECT_EQ(std::find(checks.begin(), checks.end(), "checks/songplays_user_in_users"), checks.end());  // redshift
  EXPECT_TRUE(std::is_sorted(checks.begin(), checks.end()));
  const std::vector<std::string> redshift_checks = SqlNamesUnder("checks/", Dialect::kRedshift);
  EXPECT_NE(std::find(redshift_checks.begin(), redshift_checks.end(), "checks/songplays_user_in_users"),
            redshift_checks.end());  // redshift
  EXPECT_NE(std::find(redshift_checks.begin(), redshift_checks.end(), "checks/ledger_accounts_balance"),
            redshift_checks.end());  // redshift
  EXPECT_EQ(std::find(redshift_checks.begin(), redshift_checks.end(), "checks/songplays_of_the_run"),
            redshift_checks.end());  // postgres
  EXPECT_TRUE(std::is_sorted(redshift_checks.begin(), redshift_checks.end()));
}

// A check marked as reading only staging and the ledger runs on a second connection while the
// transform writes the star, so it must name no other table: every FROM or JOIN in it is a
// staging table, the ledger, the rejects, or one of its own WITH queries.
TEST(SqlCatalogTest, ACheckThatReadsOnlyStagingAndTheLedgerNamesNoOtherTable) {
  size_t tagged = 0;
  for (const std::string& name : SqlNamesUnder("checks/")) {
    auto text = SqlText(name, SqlVars{"s", 7});
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    if (text->find("\n-- reads: staging and ledger\n") == std::string::npos) continue;
    ++tagged;
    std::string sql;  // lower case, without comments
    for (size_t i = 0; i < text->size(); ++i) {
      if (text->compare(i, 2, "--") == 0) {
        i = text->find('\n', i);
        if (i == std::string::npos) break;
      }
      sql += static_cast<char>(std::tolower(static_cast<unsigned char>((*text)[i])));
    }
    std::set<std::string> own;
    const std::regex with_query(R"(\b([a-z_][a-z0-9_]*)\s+as\s+(not\s+)?(materialized\s+)?\()");
    for (std::sregex_iterator m(sql.begin(), sql.end(), with_query), end; m != end; ++m) own.insert((*m)[1]);
    const std::regex read(R"(([a-z_]*)\s+(from|join)\s+([a-z_][a-z0-9_.]*))");
    size_t reads = 0;
    for (std::sregex_iterator m(sql.begin(), sql.end(), read), end; m != end; ++m) {
      if ((*m)[1] == "distinct") continue;  // IS DISTINCT FROM
      const std::string table = (*m)[3];
      ++reads;
      const bool allowed = table.rfind("staging_", 0) == 0 || table == "load_files" || table == "rejects" ||
                           own.count(table) > 0;
      EXPECT_TRUE(allowed) << name << " reads " << table;
    }
    EXPECT_GT(reads, 0u) << name;
  }
  EXPECT_GT(tagged, 0u);
}

TEST(DialectTest, RedshiftIsToldApartByItsVersionText) {
  EXPECT_EQ(DialectOfServerVersion("PostgreSQL 15.6 (Debian 15.6-1.pgdg120+2) on x86_64-pc-linux-gnu"),
            Dialect::kPostgres);
  EXPECT_EQ(DialectOfServerVersion("PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 "
                                   "(Red Hat 3.4.2-6.fc3), Redshift 1.0.77467"),
            Dialect::kRedshift);
  EXPECT_EQ(DialectName(Dialect::kPostgres), "postgres");
  EXPECT_EQ(DialectName(Dialect::kRedshift), "redshift");
}

}  // namespace
}  // namespace loadstar
