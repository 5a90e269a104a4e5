// Against a real Amazon Redshift cluster and real S3, when one is configured; otherwise the test
// reports itself as not run (ctest lists it as skipped). Nothing here runs in CI, which has no AWS.
//
// Configure with (the AWS credentials the usual way: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
// AWS_PROFILE, ...; the cluster's password in PGPASSWORD or ~/.pgpass):
//   LOADSTAR_LIVE_REDSHIFT   libpq connection string of the cluster, e.g.
//                            host=x.y.us-west-2.redshift.amazonaws.com port=5439 dbname=dev user=loader
//   LOADSTAR_LIVE_STAGING    s3://bucket/prefix/ the workers may write to and the role may read
//   LOADSTAR_LIVE_IAM_ROLE   the role associated with the cluster
//   LOADSTAR_LIVE_REGION     the staging bucket's region
//   LOADSTAR_LIVE_SONGS, LOADSTAR_LIVE_EVENTS   the sources (keep them small: this loads them twice)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/test_env.h"

namespace loadstar::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

TEST(RedshiftLiveTest, LoadsTheSourcesIntoARealClusterAndARerunLoadsNothing) {
  const std::vector<const char*> names = {"LOADSTAR_LIVE_REDSHIFT", "LOADSTAR_LIVE_STAGING", "LOADSTAR_LIVE_IAM_ROLE",
                                          "LOADSTAR_LIVE_REGION",   "LOADSTAR_LIVE_SONGS",   "LOADSTAR_LIVE_EVENTS"};
  std::string missing;
  for (const char* n : names) {
    if (Env(n).empty()) missing += std::string(missing.empty() ? "" : ", ") + n;
  }
  if (!missing.empty()) GTEST_SKIP() << "not run: no Redshift cluster configured (" << missing << " unset)";

  const std::string schema = "loadstar_live_" + std::to_string(getpid());
  const std::vector<std::string> argv = {LoadstarBinary(), "run", "--dialect", "redshift",
                                         "--warehouse", Env("LOADSTAR_LIVE_REDSHIFT"), "--schema", schema,
                                         "--staging", Env("LOADSTAR_LIVE_STAGING"), "--iam-role",
                                         Env("LOADSTAR_LIVE_IAM_ROLE"), "--region", Env("LOADSTAR_LIVE_REGION"),
                                         "--songs", Env("LOADSTAR_LIVE_SONGS"), "--events",
                                         Env("LOADSTAR_LIVE_EVENTS"), "--workers", "2"};
  CommandResult first = RunCommand(argv, {}, 1800);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("staged parts: "), std::string::npos) << first.output;
  CommandResult again = RunCommand(argv, {}, 1800);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing new to load"), std::string::npos) << again.output;
  std::cout << "loaded into schema " << schema << " (drop it when done)\n" << first.output;
}

}  // namespace
}  // namespace loadstar::testing
