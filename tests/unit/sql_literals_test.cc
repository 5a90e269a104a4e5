// String literals in the SQL catalog: QuoteLiteral, and {{NAME}} placeholders filled from
// SqlVars::literals (what Redshift's COPY gets its manifest, role and region from).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/warehouse/sql_catalog.h"

namespace loadstar {
namespace {

using ::testing::HasSubstr;

TEST(QuoteLiteralTest, QuotesAndDoublesQuotes) {
  EXPECT_EQ(*QuoteLiteral(""), "''");
  EXPECT_EQ(*QuoteLiteral("us-west-2"), "'us-west-2'");
  EXPECT_EQ(*QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(*QuoteLiteral("'"), "''''");
  EXPECT_EQ(*QuoteLiteral("''x''"), "'''''x'''''");
  EXPECT_EQ(*QuoteLiteral("s3://b/p/run=42/c=x/manifests/staging_plays.manifest"),
            "'s3://b/p/run=42/c=x/manifests/staging_plays.manifest'");
  // Double quotes, semicolons, dashes and UTF-8 are just characters inside a literal.
  EXPECT_EQ(*QuoteLiteral("a\"b;--c /*d*/ \xc3\xa9"), "'a\"b;--c /*d*/ \xc3\xa9'");
}

// A literal that tries to end itself early stays one literal.
TEST(QuoteLiteralTest, AQuoteCannotEndTheLiteral) {
  const std::string quoted = *QuoteLiteral("x'; DROP TABLE songs; --");
  EXPECT_EQ(quoted, "'x''; DROP TABLE songs; --'");
  // Read back as SQL does: every '' inside is one quote, and the only lone quotes are the ends.
  std::string inner = quoted.substr(1, quoted.size() - 2);
  for (size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] != '\'') continue;
    ASSERT_LT(i + 1, inner.size());
    EXPECT_EQ(inner[i + 1], '\'') << "a lone quote at " << i;
    ++i;
  }
}

TEST(QuoteLiteralTest, RefusesBackslashesAndControlCharacters) {
  for (std::string bad : {std::string("a\\b"), std::string("\\"), std::string("a\nb"), std::string("a\rb"),
                          std::string("a\tb"), std::string("\x01"), std::string("a\x1f"), std::string("\x7f"),
                          std::string("nul\0here", 8)}) {
    auto q = QuoteLiteral(bad);
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument) << "accepted " << bad;
    if (!q.ok()) {
      EXPECT_THAT(q.status().message(), HasSubstr("backslash or a control character"));
    }
  }
  // The bytes of multibyte UTF-8 are not control characters.
  EXPECT_TRUE(QuoteLiteral("\xe6\xbc\xa2\xf0\x9f\x98\x80").ok());
  EXPECT_TRUE(QuoteLiteral(" ~").ok());
}

class LiteralPlaceholderTest : public ::testing::Test {
 protected:
  const std::map<std::string, std::string> files_ = {
      {"redshift/copy", "COPY {{schema}}.t FROM {{manifest}} IAM_ROLE {{iam_role}} REGION {{region}} -- run {{run_id}}"},
      {"redshift/twice", "SELECT {{region}}, {{region}}"},
      {"redshift/unknown", "SELECT {{no_such_name}}"},
      {"redshift/unclosed", "SELECT '{{region' || 1"},
      {"redshift/braces", "SELECT '{' || '}' || {{region}} || '}}'"},
      {"redshift/shadow", "SELECT {{schema}}, {{run_id}}"},
  };
  const SqlCatalog catalog_{&files_};

  SqlVars Vars() const {
    SqlVars v;
    v.schema = "sparkify";
    v.run_id = 42;
    v.dialect = Dialect::kRedshift;
    v.literals = {{"manifest", "s3://staging/p/m.manifest"},
                  {"iam_role", "arn:aws:iam::123456789012:role/loadstar-copy"},
                  {"region", "us-west-2"}};
    return v;
  }
};

TEST_F(LiteralPlaceholderTest, EachNameBecomesAQuotedLiteral) {
  auto text = catalog_.Text("copy", Vars());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text,
            "COPY \"sparkify\".t FROM 's3://staging/p/m.manifest' IAM_ROLE 'arn:aws:iam::123456789012:role/loadstar-copy' "
            "REGION 'us-west-2' -- run 42");
  EXPECT_EQ(*catalog_.Text("twice", Vars()), "SELECT 'us-west-2', 'us-west-2'");
}

TEST_F(LiteralPlaceholderTest, QuotesInAValueAreDoubled) {
  SqlVars v = Vars();
  v.literals["region"] = "o'brien";
  EXPECT_EQ(*catalog_.Text("twice", v), "SELECT 'o''brien', 'o''brien'");
}

TEST_F(LiteralPlaceholderTest, AValueThatCannotBeQuotedIsAnError) {
  SqlVars v = Vars();
  v.literals["region"] = "us-west-2\\";
  auto text = catalog_.Text("twice", v);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LiteralPlaceholderTest, AnUnknownPlaceholderIsStillAnError) {
  auto text = catalog_.Text("unknown", Vars());
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("{{no_such_name}}"));
  EXPECT_THAT(text.status().message(), HasSubstr("sql/redshift/unknown.sql"));
  // A literal missing from the vars is as unknown as any other name.
  SqlVars v = Vars();
  v.literals.erase("iam_role");
  auto copy = catalog_.Text("copy", v);
  ASSERT_FALSE(copy.ok());
  EXPECT_THAT(copy.status().message(), HasSubstr("{{iam_role}}"));
}

TEST_F(LiteralPlaceholderTest, TextWithoutAClosedPlaceholderIsLeftAlone) {
  EXPECT_EQ(*catalog_.Text("unclosed", Vars()), "SELECT '{{region' || 1");
  EXPECT_EQ(*catalog_.Text("braces", Vars()), "SELECT '{' || '}' || 'us-west-2' || '}}'");
}

// schema and run_id keep their meaning: a literal of the same name does not replace them.
TEST_F(LiteralPlaceholderTest, SchemaAndRunIdAreNotLiterals) {
  SqlVars v = Vars();
  v.literals["schema"] = "evil";
  v.literals["run_id"] = "0";
  EXPECT_EQ(*catalog_.Text("shadow", v), "SELECT \"sparkify\", 42");
}

}  // namespace
}  // namespace loadstar
