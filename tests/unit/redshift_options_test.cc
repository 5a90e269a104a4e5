// The Redshift options checked before anything touches the warehouse: the IAM role's ARN and the
// staging bucket's region.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "coordinator/coordinator.h"

namespace loadstar::coordinator {
namespace {

using ::testing::HasSubstr;

TEST(ValidateIamRoleTest, AcceptsRoleArns) {
  for (const char* arn : {
           "arn:aws:iam::123456789012:role/name",
           "arn:aws:iam::123456789012:role/loadstar-copy",
           "arn:aws:iam::000000000000:role/x",
           "arn:aws:iam::123456789012:role/service-role/x",
           "arn:aws:iam::123456789012:role/a/b/c/RedshiftCopy",
           "arn:aws:iam::123456789012:role/with+=,.@_-chars",
           "arn:aws-cn:iam::123456789012:role/name",
           "arn:aws-us-gov:iam::123456789012:role/name",
       }) {
    EXPECT_TRUE(ValidateIamRole(arn).ok()) << arn << ": " << ValidateIamRole(arn).ToString();
  }
}

TEST(ValidateIamRoleTest, RefusesWhatIsNotARoleArn) {
  for (const char* arn : {
           "",
           "garbage",
           "arn:",
           "arn:aws:iam::",
           "arn:aws:iam:::role/name",               // no account
           "arn:aws:iam::12345678901:role/name",    // 11 digits
           "arn:aws:iam::1234567890123:role/name",  // 13 digits
           "arn:aws:iam::12345678901x:role/name",   // not all digits
           "arn:aws:iam::123456789012:user/name",   // a user, not a role
           "arn:aws:iam::123456789012:role/",       // no name
           "arn:aws:iam::123456789012:role",
           "arn:aws:iam::123456789012:roles/name",
           "arn:aws:iam:us-east-1:123456789012:role/name",  // IAM has no region
           "arn::iam::123456789012:role/name",              // no partition
           "aws:iam::123456789012:role/name",
           " arn:aws:iam::123456789012:role/name",
           "ARN:aws:iam::123456789012:role/name",
           "arn:aws:sts::123456789012:assumed-role/name/session",
           "123456789012",
       }) {
    Status s = ValidateIamRole(arn);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << arn << "' was accepted";
    if (!s.ok()) {
      EXPECT_THAT(s.message(), HasSubstr("--iam-role"));
      EXPECT_THAT(s.message(), HasSubstr("arn:aws:iam::123456789012:role/NAME")) << "says what it should look like";
    }
  }
}

// Accepted here, refused by Redshift's COPY (and by the stand-in, which checks role ARNs as
// arn:aws[a-zA-Z-]*:iam::<12 digits>:role/[A-Za-z0-9+=,.@_/-]+): the run then fails at the COPY,
// after every file has been staged, instead of at the start.
TEST(ValidateIamRoleTest, RefusesRoleArnsCopyWouldRefuse) {
  for (const char* arn : {
           "arn:aws:iam::123456789012:role/two words",            // a space in the name
           "arn:aws:iam::123456789012:role/it's",                 // a quote
           "arn:aws:iam::123456789012:role/name\n",               // a control character
           "arn:aws:iam::123456789012:role/service-role/",        // a path without a name
           "arn:oops:iam::123456789012:role/name",                // not an AWS partition
           "arn:aws:s3:::bucket:iam::123456789012:role/name",     // an S3 ARN with ":iam::" inside
       }) {
    EXPECT_EQ(ValidateIamRole(arn).code(), StatusCode::kInvalidArgument) << "'" << arn << "' was accepted";
  }
}

// Sets (or, with nullopt, unsets) an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(StagingRegionTest, TheOptionThenAwsRegionThenAwsDefaultRegion) {
  CoordinatorOptions options;
  {
    ScopedEnv a("AWS_REGION", "eu-west-1");
    ScopedEnv b("AWS_DEFAULT_REGION", "ap-south-1");
    options.region = "us-west-2";
    EXPECT_EQ(*StagingRegion(options), "us-west-2");
    options.region.clear();
    EXPECT_EQ(*StagingRegion(options), "eu-west-1");
  }
  {
    ScopedEnv a("AWS_REGION", std::nullopt);
    ScopedEnv b("AWS_DEFAULT_REGION", "ap-south-1");
    EXPECT_EQ(*StagingRegion(options), "ap-south-1");
  }
  {
    ScopedEnv a("AWS_REGION", "");  // set but empty: as if unset
    ScopedEnv b("AWS_DEFAULT_REGION", "ap-south-1");
    EXPECT_EQ(*StagingRegion(options), "ap-south-1");
  }
}

TEST(StagingRegionTest, NoRegionAnywhereIsAUsageError) {
  ScopedEnv a("AWS_REGION", std::nullopt);
  ScopedEnv b("AWS_DEFAULT_REGION", "");
  CoordinatorOptions options;
  auto region = StagingRegion(options);
  ASSERT_FALSE(region.ok());
  EXPECT_EQ(region.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(region.status().message(), HasSubstr("--region"));
  EXPECT_THAT(region.status().message(), HasSubstr("AWS_REGION"));
}

}  // namespace
}  // namespace loadstar::coordinator
