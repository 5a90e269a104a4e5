#include "common/storage/aws_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace loadstar {
namespace {

namespace fs = std::filesystem;

// A fake environment and a fake home directory with ~/.aws files.
class AwsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("loadstar-aws-config-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(home_ / ".aws");
    env_["HOME"] = home_.string();
  }
  void TearDown() override { fs::remove_all(home_); }

  void Write(const std::string& relative, const std::string& text) {
    fs::create_directories((home_ / relative).parent_path());
    std::ofstream(home_ / relative) << text;
  }

  Result<AwsSettings> Load() {
    return LoadAwsSettings([this](std::string_view name) -> std::optional<std::string> {
      auto it = env_.find(std::string(name));
      if (it == env_.end()) return std::nullopt;
      return it->second;
    });
  }

  fs::path home_;
  std::map<std::string, std::string> env_;
};

TEST_F(AwsConfigTest, NothingConfiguredMeansAnonymousInUsEast1) {
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->anonymous());
  EXPECT_EQ(s->region, "us-east-1");
  EXPECT_EQ(s->endpoint_url, "");
  EXPECT_NE(s->credentials_source.find("anonymous"), std::string::npos);
}

TEST_F(AwsConfigTest, EnvironmentCredentialsRegionAndEndpoint) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "secret-env";
  env_["AWS_SESSION_TOKEN"] = "token-env";
  env_["AWS_REGION"] = "eu-west-1";
  env_["AWS_DEFAULT_REGION"] = "ap-south-1";
  env_["AWS_ENDPOINT_URL"] = "http://generic:1";
  env_["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9000";
  Write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = secret-file\n");
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->credentials.access_key_id, "AKIDENV");  // the environment wins over the file
  EXPECT_EQ(s->credentials.secret_access_key, "secret-env");
  EXPECT_EQ(s->credentials.session_token, "token-env");
  EXPECT_EQ(s->credentials_source, "environment");
  EXPECT_EQ(s->region, "eu-west-1");                    // AWS_REGION before AWS_DEFAULT_REGION
  EXPECT_EQ(s->endpoint_url, "http://127.0.0.1:9000");  // the S3-specific endpoint first
}

TEST_F(AwsConfigTest, FallbacksForRegionAndEndpoint) {
  env_["AWS_DEFAULT_REGION"] = "ap-south-1";
  env_["AWS_ENDPOINT_URL"] = "http://generic:1";
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->region, "ap-south-1");
  EXPECT_EQ(s->endpoint_url, "http://generic:1");
}

TEST_F(AwsConfigTest, EmptyVariablesCountAsUnset) {
  env_["AWS_REGION"] = "";
  env_["AWS_ACCESS_KEY_ID"] = "";
  env_["AWS_SECRET_ACCESS_KEY"] = "";
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->region, "us-east-1");
  EXPECT_TRUE(s->anonymous());
}

TEST_F(AwsConfigTest, HalfTheEnvironmentKeyPairIsAnError) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  auto s = Load();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << s.status().message();
}

TEST_F(AwsConfigTest, DefaultProfileFromCredentialsAndConfigFiles) {
  Write(".aws/credentials",
        "# comment\n[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = secret/with+chars=\n"
        "aws_session_token = tok\n\n[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n");
  Write(".aws/config", "[default]\nregion = eu-central-1\n[profile other]\nregion = us-west-2\n");
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->credentials.access_key_id, "AKIDFILE");
  EXPECT_EQ(s->credentials.secret_access_key, "secret/with+chars=");
  EXPECT_EQ(s->credentials.session_token, "tok");
  EXPECT_EQ(s->region, "eu-central-1");
  EXPECT_EQ(s->credentials_source, (home_ / ".aws/credentials").string() + " [default]");
  // The source names the file, never the secret.
  EXPECT_EQ(s->credentials_source.find("secret"), std::string::npos);
}

TEST_F(AwsConfigTest, NamedProfileWithItsRegionAndS3Endpoint) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = d\n"
        "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = v\n");
  Write(".aws/config",
        "[profile dev]\nregion = us-west-2\nendpoint_url = http://generic:2\ns3 =\n  endpoint_url = http://minio:9000\n"
        "  addressing_style = path\n");
  env_["AWS_PROFILE"] = "dev";
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->credentials.access_key_id, "AKIDDEV");
  EXPECT_EQ(s->region, "us-west-2");
  EXPECT_EQ(s->endpoint_url, "http://minio:9000");  // the s3 sub-section before the profile-wide value

  env_["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  auto ignored = Load();
  ASSERT_TRUE(ignored.ok());
  EXPECT_EQ(ignored->endpoint_url, "");
}

TEST_F(AwsConfigTest, KeysInTheConfigFileAndFileOverrides) {
  Write("elsewhere/conf",
        "[profile ci]\naws_access_key_id = AKIDCONF\naws_secret_access_key = c\nregion = sa-east-1\n");
  Write("elsewhere/creds", "[unrelated]\naws_access_key_id = A\naws_secret_access_key = B\n");
  env_["AWS_CONFIG_FILE"] = "~/elsewhere/conf";  // '~' expands to HOME, as in the CLI
  env_["AWS_SHARED_CREDENTIALS_FILE"] = (home_ / "elsewhere/creds").string();
  env_["AWS_PROFILE"] = "ci";
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->credentials.access_key_id, "AKIDCONF");
  EXPECT_EQ(s->region, "sa-east-1");
  EXPECT_EQ(s->credentials_source, (home_ / "elsewhere/conf").string() + " [ci]");
}

TEST_F(AwsConfigTest, UnknownExplicitProfileIsAnError) {
  Write(".aws/credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = B\n");
  env_["AWS_PROFILE"] = "nope";
  auto s = Load();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("AWS_PROFILE=nope"), std::string::npos) << s.status().message();
}

TEST_F(AwsConfigTest, ProfileWithOnlyHalfAKeyPairIsAnError) {
  Write(".aws/credentials", "[default]\naws_access_key_id = A\n");
  auto s = Load();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("aws_secret_access_key"), std::string::npos) << s.status().message();
}

TEST_F(AwsConfigTest, UnsupportedCredentialKindsAreNamed) {
  Write(".aws/config", "[profile role]\nrole_arn = arn:aws:iam::123:role/x\nsource_profile = default\n");
  env_["AWS_PROFILE"] = "role";
  auto s = Load();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("role_arn"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << s.status().message();
}

TEST_F(AwsConfigTest, AnonymousSwitchOverridesCredentials) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "secret-env";
  env_["LOADSTAR_S3_ANONYMOUS"] = "1";
  env_["AWS_REGION"] = "us-west-2";
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->anonymous());
  EXPECT_EQ(s->credentials.secret_access_key, "");
  EXPECT_EQ(s->region, "us-west-2");  // everything else still applies
  EXPECT_NE(s->credentials_source.find("LOADSTAR_S3_ANONYMOUS"), std::string::npos);

  env_["LOADSTAR_S3_ANONYMOUS"] = "0";
  auto signed_again = Load();
  ASSERT_TRUE(signed_again.ok());
  EXPECT_FALSE(signed_again->anonymous());
}

TEST_F(AwsConfigTest, CaBundle) {
  env_["AWS_CA_BUNDLE"] = "~/ca.pem";
  auto s = Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ca_bundle, (home_ / "ca.pem").string());
  EXPECT_EQ(s->ca_bundle_source, "AWS_CA_BUNDLE");
}

TEST_F(AwsConfigTest, NoCaBundleMeansTheSystemsCas) {
  auto s = Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ca_bundle, "");
  EXPECT_EQ(s->ca_bundle_source, "");
}

TEST_F(AwsConfigTest, CaBundleOfTheProfileAndTheEnvironmentBeforeIt) {
  Write(".aws/config",
        "[default]\nca_bundle = ~/certs/default.pem\n[profile private]\nca_bundle = /etc/private-ca.pem\n");
  auto s = Load();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->ca_bundle, (home_ / "certs/default.pem").string());
  EXPECT_EQ(s->ca_bundle_source, (home_ / ".aws/config").string() + " [default] ca_bundle");

  env_["AWS_PROFILE"] = "private";
  auto named = Load();
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->ca_bundle, "/etc/private-ca.pem");
  EXPECT_EQ(named->ca_bundle_source, (home_ / ".aws/config").string() + " [private] ca_bundle");

  // As in the AWS CLI, the variable wins over the config file.
  env_["AWS_CA_BUNDLE"] = "/tmp/from-env.pem";
  auto env = Load();
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->ca_bundle, "/tmp/from-env.pem");
  EXPECT_EQ(env->ca_bundle_source, "AWS_CA_BUNDLE");

  // An empty variable counts as unset.
  env_["AWS_CA_BUNDLE"] = "";
  auto empty = Load();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->ca_bundle, "/etc/private-ca.pem");
}

TEST_F(AwsConfigTest, CaBundleInTheCredentialsFileIsNotRead) {
  // The AWS CLI reads ca_bundle from the config file only.
  Write(".aws/credentials", "[default]\nca_bundle = /etc/wrong-file.pem\n");
  auto s = Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ca_bundle, "");
}

}  // namespace
}  // namespace loadstar
