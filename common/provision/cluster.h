// A Redshift cluster for loadstar, and the IAM role its COPY and UNLOAD use: created, described
// and deleted through the AWS Query APIs (Redshift 2012-12-01, IAM 2010-05-08).
//
// Everything is named after the cluster: the role is `loadstar-<name>`, its one inline policy
// `loadstar-s3`. Create reuses what exists under those names (it never makes a second cluster or
// role); delete removes what exists and succeeds when nothing is left, so both are safe to run
// again after a failure.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/storage/aws_query.h"

namespace loadstar::provision {

struct ClusterSpec {
  std::string name;              // the cluster identifier
  std::string node_type = "dc2.large";
  int nodes = 1;                 // 1: a single-node cluster
  std::string database = "dev";
  std::string master_user = "loadstar";
  std::string master_password;   // from a file or the environment, never the command line
  bool publicly_accessible = false;
  // What the role may do in S3: read these prefixes (the sources, s3://bucket/prefix/) and the
  // staging prefix; write and delete under the lake prefix (UNLOAD). Empty: not granted.
  std::vector<std::string> read_prefixes;
  std::string staging;
  std::string lake;
};

struct ClusterInfo {
  std::string name;
  std::string status;            // "creating", "available", "deleting", ...
  std::string address;           // the endpoint, once AWS has one
  int port = 0;
  std::string database, master_user, node_type;
  int nodes = 0;
  std::vector<std::string> iam_roles;  // ARNs associated with the cluster
};

struct WaitOptions {
  std::chrono::milliseconds poll{15'000};
  std::chrono::seconds timeout{1800};
  // Called at every poll with what AWS said and how long it has been.
  std::function<void(const ClusterInfo&, std::chrono::seconds waited)> progress;
};

// The role's name for cluster `name`, and the trust and permission policies it gets.
std::string RoleName(const std::string& cluster);
std::string TrustPolicy();
// InvalidArgument for a prefix that is not s3://bucket/...
Result<std::string> PermissionPolicy(const ClusterSpec& spec);
// InvalidArgument, saying which rule, unless `password` meets Redshift's rules for a master
// password (8 to 64 characters; an upper-case letter, a lower-case letter and a digit; printable
// ASCII without ' " \ / @ or space).
Status CheckMasterPassword(const std::string& password);
// InvalidArgument unless `name` is a valid cluster identifier (1-63 lower-case letters, digits
// and hyphens, starting with a letter, no "--", not ending in '-').
Status CheckClusterName(const std::string& name);

class Provisioner {
 public:
  Provisioner(AwsQueryClient* redshift, AwsQueryClient* iam) : redshift_(redshift), iam_(iam) {}

  // Makes (or reuses) the role with its policy and the cluster with the role associated, then
  // waits until the cluster is available. Returns it, with the role's ARN first in iam_roles.
  Result<ClusterInfo> Create(const ClusterSpec& spec, const WaitOptions& wait);
  // The cluster, or nullopt when there is none of that name.
  Result<std::optional<ClusterInfo>> Describe(const std::string& name);
  // The role's ARN, or "" when there is none.
  Result<std::string> RoleArn(const std::string& cluster);
  // Deletes the cluster (a final snapshot only when `final_snapshot` names one) and waits until it
  // is gone, then the role's policy and the role. Nothing there is no error.
  Status Delete(const std::string& name, const std::string& final_snapshot, const WaitOptions& wait);

 private:
  Result<std::string> EnsureRole(const ClusterSpec& spec);
  Result<ClusterInfo> WaitFor(const std::string& name, const std::string& until, const WaitOptions& wait);

  AwsQueryClient* redshift_;
  AwsQueryClient* iam_;
};

}  // namespace loadstar::provision
