// The Redshift statements as they are sent: each file of sql/redshift/ named in kGolden, rendered
// through the embedded catalog with fixed vars, must equal tests/golden/redshift/NAME.sql byte
// for byte. A change to one of those files, or to how placeholders are substituted, shows up here
// as a diff to review.
//
// After an intended change, rewrite the golden files and review the diff:
//   LOADSTAR_UPDATE_GOLDEN=1 ./build/tests/redshift_golden_test && git diff tests/golden/
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "common/warehouse/sql_catalog.h"

#ifndef LOADSTAR_GOLDEN_DIR
#error "LOADSTAR_GOLDEN_DIR must name tests/golden/redshift"
#endif

namespace loadstar {
namespace {

// The statements under golden test. Add a name here (and run once with LOADSTAR_UPDATE_GOLDEN=1)
// to cover another file of sql/redshift/.
const char* const kGolden[] = {
    "copy_manifest_staging_plays",
    "copy_manifest_staging_users",
    "copy_manifest_staging_time",
    "copy_manifest_staging_songs",
    "copy_manifest_rejects",
    "copy_manifest_staging_files",
    "schema",
    "transform",
    "transform_finish",
};

SqlVars GoldenVars() {
  SqlVars v;
  v.dialect = Dialect::kRedshift;
  v.schema = "sparkify";
  v.run_id = 42;
  v.literals = {{"manifest", "s3://staging/p/run=42/c=x/manifests/staging_plays.manifest"},
                {"iam_role", "arn:aws:iam::123456789012:role/loadstar-copy"},
                {"region", "us-west-2"}};
  return v;
}

bool Updating() {
  const char* v = std::getenv("LOADSTAR_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

std::string GoldenPath(const std::string& name) { return std::string(LOADSTAR_GOLDEN_DIR) + "/" + name + ".sql"; }

class RedshiftGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RedshiftGoldenTest, RendersAsTheGoldenFile) {
  const std::string name = GetParam();
  auto text = SqlText("redshift/" + name, GoldenVars());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->find("{{"), std::string::npos) << "a placeholder left unsubstituted";
  const std::string path = GoldenPath(name);
  if (Updating()) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << *text;
    std::cout << "rewrote " << path << "\n";
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "no golden file " << path
                         << "; create it with LOADSTAR_UPDATE_GOLDEN=1 and review what it holds";
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(*text, golden.str()) << "sql/redshift/" << name << ".sql renders differently from " << path
                                 << ". If the change is intended, rerun with LOADSTAR_UPDATE_GOLDEN=1 to rewrite the "
                                    "golden files, and review the diff.";
}

INSTANTIATE_TEST_SUITE_P(Sql, RedshiftGoldenTest, ::testing::ValuesIn(kGolden),
                         [](const ::testing::TestParamInfo<const char*>& p) { return std::string(p.param); });

// A golden file of a statement no longer under test would go stale unnoticed.
TEST(RedshiftGoldenFilesTest, EveryGoldenFileIsUnderTest) {
  const std::set<std::string> names(std::begin(kGolden), std::end(kGolden));
  for (const auto& entry : std::filesystem::directory_iterator(LOADSTAR_GOLDEN_DIR)) {
    const std::filesystem::path p = entry.path();
    EXPECT_EQ(p.extension(), ".sql") << p;
    EXPECT_TRUE(names.count(p.stem().string())) << p << " is not named in kGolden";
  }
}

}  // namespace
}  // namespace loadstar
