// The pieces of `loadstar cluster` that need no AWS: the Query protocol's encoding and XML
// reading, and the role's policies and the cluster's name and password rules.
#include <gtest/gtest.h>

#include "common/provision/cluster.h"
#include "common/storage/aws_query.h"

namespace loadstar {
namespace {

TEST(AwsQueryTest, FormEncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(FormEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(FormEncode("a b+c/d=e&f"), "a%20b%2Bc%2Fd%3De%26f");
  EXPECT_EQ(FormEncode("{\"Version\": \"2012-10-17\"}"), "%7B%22Version%22%3A%20%222012-10-17%22%7D");
  EXPECT_EQ(FormEncode("\xc3\xa9"), "%C3%A9");
}

TEST(AwsQueryTest, XmlTextFindsTheElementAndDecodesEntities) {
  const std::string xml =
      "<DescribeClustersResponse><DescribeClustersResult><Clusters><Cluster>"
      "<ClusterIdentifier>sparkify</ClusterIdentifier><ClusterStatus>available</ClusterStatus>"
      "<Endpoint><Address>a.b.redshift.amazonaws.com</Address><Port>5439</Port></Endpoint>"
      "<IamRoles><ClusterIamRole><IamRoleArn>arn:aws:iam::123456789012:role/x</IamRoleArn></ClusterIamRole>"
      "<ClusterIamRole><IamRoleArn>arn:aws:iam::123456789012:role/y</IamRoleArn></ClusterIamRole></IamRoles>"
      "<ClusterStatusX>not this</ClusterStatusX><Note>a &amp; b &lt;c&gt; &#233; &#x41;</Note><Empty/>"
      "</Cluster></Clusters></DescribeClustersResult></DescribeClustersResponse>";
  EXPECT_EQ(XmlText(xml, "ClusterStatus"), "available");
  EXPECT_EQ(XmlText(xml, "Port"), "5439");
  EXPECT_EQ(XmlText(xml, "Note"), "a & b <c> \xc3\xa9 A");
  EXPECT_EQ(XmlText(xml, "Empty"), "");
  EXPECT_EQ(XmlText(xml, "Missing"), std::nullopt);
  auto roles = XmlElements(xml, "ClusterIamRole");
  ASSERT_EQ(roles.size(), 2u);
  EXPECT_EQ(XmlText(roles[1], "IamRoleArn"), "arn:aws:iam::123456789012:role/y");
}

TEST(ProvisionTest, ThePolicyGrantsOnlyWhatWasAskedFor) {
  provision::ClusterSpec spec;
  spec.name = "sparkify";
  spec.read_prefixes = {"s3://udacity-dend/song_data/", "s3://udacity-dend/log_data"};
  spec.staging = "s3://mine/staging/";
  spec.lake = "s3://mine/lake/";
  auto policy = provision::PermissionPolicy(spec);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const std::string& p = *policy;
  EXPECT_NE(p.find("\"arn:aws:s3:::udacity-dend/song_data/*\""), std::string::npos) << p;
  EXPECT_NE(p.find("\"arn:aws:s3:::udacity-dend/log_data/*\""), std::string::npos) << p;
  EXPECT_NE(p.find("\"arn:aws:s3:::mine/staging/*\""), std::string::npos) << p;
  EXPECT_NE(p.find("\"s3:PutObject\""), std::string::npos) << p;
  EXPECT_NE(p.find("\"arn:aws:s3:::mine/lake/*\""), std::string::npos) << p;
  // Writing only under the lake, never the sources or the staging prefix.
  const size_t put = p.find("s3:PutObject");
  EXPECT_EQ(p.find("s3:PutObject", put + 1), std::string::npos) << p;
  EXPECT_EQ(p.find("\"*\""), std::string::npos) << "no wildcard resource: " << p;
  EXPECT_NE(provision::TrustPolicy().find("redshift.amazonaws.com"), std::string::npos);

  provision::ClusterSpec nothing;
  nothing.name = "x";
  EXPECT_FALSE(provision::PermissionPolicy(nothing).ok());
  nothing.lake = "file:///tmp/lake/";
  EXPECT_FALSE(provision::PermissionPolicy(nothing).ok());
}

TEST(ProvisionTest, PasswordsAndNamesFollowRedshiftsRules) {
  EXPECT_TRUE(provision::CheckMasterPassword("Sparkify2018").ok());
  for (const char* bad : {"short1A", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere", "Has space1A", "Quote'1Aa",
                          "Slash/1Aa", "At@1Aaaaa", "Back\\1Aaaa"}) {
    EXPECT_FALSE(provision::CheckMasterPassword(bad).ok()) << bad;
  }
  EXPECT_FALSE(provision::CheckMasterPassword(std::string(65, 'a') + "A1").ok());
  EXPECT_TRUE(provision::CheckClusterName("sparkify-dwh").ok());
  for (const char* bad : {"", "Sparkify", "1cluster", "two--hyphens", "ends-", "under_score"}) {
    EXPECT_FALSE(provision::CheckClusterName(bad).ok()) << bad;
  }
  EXPECT_FALSE(provision::CheckClusterName(std::string(64, 'a')).ok());
  EXPECT_EQ(provision::RoleName("sparkify"), "loadstar-sparkify");
}

}  // namespace
}  // namespace loadstar
