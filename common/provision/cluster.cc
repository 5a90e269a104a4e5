#include "common/provision/cluster.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "common/core/json_text.h"
#include "common/core/uri.h"

namespace loadstar::provision {
namespace {

constexpr const char* kPolicyName = "loadstar-s3";

Status AwsError(const std::string& what, const QueryAnswer& a) {
  const std::string text = what + ": " + a.error_code + ": " + a.error_message;
  if (a.error_code == "AccessDenied" || a.error_code == "AccessDeniedException" ||
      a.error_code == "UnauthorizedOperation" || a.error_code == "InvalidClientTokenId" ||
      a.error_code == "SignatureDoesNotMatch") {
    return Status::PermissionDenied(text + " (check the AWS credentials and what they may do)");
  }
  if (a.http_status >= 500 || a.error_code == "Throttling") return Status::Unavailable(text);
  return Status::FailedPrecondition(text);
}

ClusterInfo ParseCluster(std::string_view xml) {
  ClusterInfo c;
  c.name = XmlText(xml, "ClusterIdentifier").value_or("");
  c.status = XmlText(xml, "ClusterStatus").value_or("");
  c.node_type = XmlText(xml, "NodeType").value_or("");
  c.nodes = std::atoi(XmlText(xml, "NumberOfNodes").value_or("0").c_str());
  c.database = XmlText(xml, "DBName").value_or("");
  c.master_user = XmlText(xml, "MasterUsername").value_or("");
  for (std::string_view endpoint : XmlElements(xml, "Endpoint")) {
    c.address = XmlText(endpoint, "Address").value_or("");
    c.port = std::atoi(XmlText(endpoint, "Port").value_or("0").c_str());
    break;
  }
  for (std::string_view role : XmlElements(xml, "ClusterIamRole")) {
    if (auto arn = XmlText(role, "IamRoleArn")) c.iam_roles.push_back(*arn);
  }
  return c;
}

struct S3Prefix {
  std::string bucket, prefix;  // prefix without a leading '/', ending in '/' or empty
};

Result<S3Prefix> ParsePrefix(const std::string& uri, const std::string& what) {
  auto u = ParseUri(uri);
  if (!u.ok() || !u->is_s3() || u->bucket.empty()) {
    return Status::InvalidArgument(what + " must be s3://bucket/prefix/, not '" + uri + "'");
  }
  std::string p = u->path;
  if (!p.empty() && p.back() != '/') p += '/';
  return S3Prefix{u->bucket, p};
}

std::string Statement(const std::string& sid, const std::vector<std::string>& actions,
                      const std::vector<std::string>& resources, const std::vector<std::string>& list_prefixes = {}) {
  std::string s = "{\"Sid\": " + JsonString(sid) + ", \"Effect\": \"Allow\", \"Action\": [";
  for (size_t i = 0; i < actions.size(); ++i) s += (i ? ", " : "") + JsonString(actions[i]);
  s += "], \"Resource\": [";
  for (size_t i = 0; i < resources.size(); ++i) s += (i ? ", " : "") + JsonString(resources[i]);
  s += "]";
  if (!list_prefixes.empty()) {
    s += ", \"Condition\": {\"StringLike\": {\"s3:prefix\": [";
    for (size_t i = 0; i < list_prefixes.size(); ++i) s += (i ? ", " : "") + JsonString(list_prefixes[i]);
    s += "]}}";
  }
  return s + "}";
}

}  // namespace

std::string RoleName(const std::string& cluster) { return "loadstar-" + cluster; }

std::string TrustPolicy() {
  return "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": "
         "\"redshift.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}";
}

Result<std::string> PermissionPolicy(const ClusterSpec& spec) {
  std::vector<S3Prefix> reads;
  for (const std::string& p : spec.read_prefixes) {
    LOADSTAR_ASSIGN_OR_RETURN(S3Prefix r, ParsePrefix(p, "a source"));
    reads.push_back(r);
  }
  if (!spec.staging.empty()) {
    LOADSTAR_ASSIGN_OR_RETURN(S3Prefix r, ParsePrefix(spec.staging, "--staging"));
    reads.push_back(r);
  }
  std::vector<std::string> statements;
  auto add_read_list = [&](const std::string& sid, const std::vector<S3Prefix>& prefixes,
                           const std::vector<std::string>& actions) {
    std::vector<std::string> objects;
    std::map<std::string, std::vector<std::string>> by_bucket;
    for (const S3Prefix& p : prefixes) {
      objects.push_back("arn:aws:s3:::" + p.bucket + "/" + p.prefix + "*");
      by_bucket[p.bucket].push_back(p.prefix + "*");
    }
    statements.push_back(Statement(sid, actions, objects));
    for (const auto& [bucket, list] : by_bucket) {
      statements.push_back(Statement(sid + "List" + std::to_string(statements.size()), {"s3:ListBucket"},
                                     {"arn:aws:s3:::" + bucket}, list));
    }
  };
  if (!reads.empty()) add_read_list("Read", reads, {"s3:GetObject"});
  if (!spec.lake.empty()) {
    LOADSTAR_ASSIGN_OR_RETURN(S3Prefix lake, ParsePrefix(spec.lake, "--lake"));
    add_read_list("WriteLake", {lake}, {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"});
  }
  if (statements.empty()) {
    return Status::InvalidArgument("the role would be allowed nothing: give the sources, --staging and/or --lake");
  }
  std::string doc = "{\"Version\": \"2012-10-17\", \"Statement\": [";
  for (size_t i = 0; i < statements.size(); ++i) doc += (i ? ", " : "") + statements[i];
  return doc + "]}";
}

Status CheckMasterPassword(const std::string& password) {
  auto bad = [](const std::string& why) {
    return Status::InvalidArgument("the master password " + why + " (Redshift wants 8 to 64 printable ASCII "
                                   "characters with an upper-case letter, a lower-case letter and a digit, and "
                                   "no ' \" \\ / @ or space)");
  };
  if (password.size() < 8 || password.size() > 64) return bad("is " + std::to_string(password.size()) + " characters long");
  bool upper = false, lower = false, digit = false;
  for (unsigned char c : password) {
    if (c < 0x21 || c > 0x7e || c == '\'' || c == '"' || c == '\\' || c == '/' || c == '@') {
      return bad("holds a character Redshift refuses");
    }
    upper = upper || (c >= 'A' && c <= 'Z');
    lower = lower || (c >= 'a' && c <= 'z');
    digit = digit || (c >= '0' && c <= '9');
  }
  if (!upper || !lower || !digit) return bad("lacks an upper-case letter, a lower-case letter or a digit");
  return Status::Ok();
}

Status CheckClusterName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && name[0] >= 'a' && name[0] <= 'z' && name.back() != '-' &&
            name.find("--") == std::string::npos;
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) {
    return Status::InvalidArgument("--name '" + name + "' is not a Redshift cluster identifier: 1 to 63 lower-case "
                                   "letters, digits and hyphens, starting with a letter, without two hyphens in a "
                                   "row or one at the end");
  }
  return Status::Ok();
}

Result<std::string> Provisioner::RoleArn(const std::string& cluster) {
  LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer got, iam_->Call("GetRole", {{"RoleName", RoleName(cluster)}}));
  if (got.error_code == "NoSuchEntity") return std::string();
  if (!got.ok()) return AwsError("IAM GetRole " + RoleName(cluster), got);
  return XmlText(got.body, "Arn").value_or("");
}

Result<std::string> Provisioner::EnsureRole(const ClusterSpec& spec) {
  const std::string role = RoleName(spec.name);
  LOADSTAR_ASSIGN_OR_RETURN(std::string policy, PermissionPolicy(spec));
  LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer created,
                            iam_->Call("CreateRole", {{"RoleName", role},
                                                      {"AssumeRolePolicyDocument", TrustPolicy()},
                                                      {"Description", "loadstar: COPY and UNLOAD for cluster " + spec.name},
                                                      {"Tags.member.1.Key", "created-by"},
                                                      {"Tags.member.1.Value", "loadstar"}}));
  std::string arn;
  if (created.ok()) {
    arn = XmlText(created.body, "Arn").value_or("");
  } else if (created.error_code == "EntityAlreadyExists") {
    LOADSTAR_ASSIGN_OR_RETURN(arn, RoleArn(spec.name));
  } else {
    return AwsError("IAM CreateRole " + role, created);
  }
  if (arn.empty()) return Status::Internal("IAM did not say the ARN of role " + role);
  // The inline policy is put every time: a second create with other prefixes updates it.
  LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer put, iam_->Call("PutRolePolicy", {{"RoleName", role},
                                                                          {"PolicyName", kPolicyName},
                                                                          {"PolicyDocument", policy}}));
  if (!put.ok()) return AwsError("IAM PutRolePolicy " + role, put);
  return arn;
}

Result<std::optional<ClusterInfo>> Provisioner::Describe(const std::string& name) {
  LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer a, redshift_->Call("DescribeClusters", {{"ClusterIdentifier", name}}));
  if (a.error_code == "ClusterNotFound") return std::optional<ClusterInfo>();
  if (!a.ok()) return AwsError("Redshift DescribeClusters " + name, a);
  for (std::string_view c : XmlElements(a.body, "Cluster")) return std::optional<ClusterInfo>(ParseCluster(c));
  return std::optional<ClusterInfo>();
}

Result<ClusterInfo> Provisioner::WaitFor(const std::string& name, const std::string& until, const WaitOptions& wait) {
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    LOADSTAR_ASSIGN_OR_RETURN(std::optional<ClusterInfo> c, Describe(name));
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
    if (until == "gone" && !c) {
      ClusterInfo gone;
      gone.name = name;
      gone.status = "gone";
      return gone;
    }
    if (!c) return Status::FailedPrecondition("cluster " + name + " disappeared while waiting for it to be " + until);
    if (wait.progress) wait.progress(*c, waited);
    if (c->status == until) return *c;
    if (until == "available" && (c->status == "deleting" || c->status == "final-snapshot")) {
      return Status::FailedPrecondition("cluster " + name + " is being deleted; wait until it is gone and create it again");
    }
    if (waited >= wait.timeout) {
      return Status::Unavailable("cluster " + name + " is still '" + c->status + "' after " +
                                 std::to_string(waited.count()) + " s (waited for '" + until +
                                 "'); run the same command again to keep waiting");
    }
    std::this_thread::sleep_for(wait.poll);
  }
}

Result<ClusterInfo> Provisioner::Create(const ClusterSpec& spec, const WaitOptions& wait) {
  LOADSTAR_RETURN_IF_ERROR(CheckClusterName(spec.name));
  LOADSTAR_RETURN_IF_ERROR(CheckMasterPassword(spec.master_password));
  LOADSTAR_ASSIGN_OR_RETURN(std::string role_arn, EnsureRole(spec));
  QueryParams params = {{"ClusterIdentifier", spec.name},
                        {"NodeType", spec.node_type},
                        {"MasterUsername", spec.master_user},
                        {"MasterUserPassword", spec.master_password},
                        {"DBName", spec.database},
                        {"ClusterType", spec.nodes > 1 ? "multi-node" : "single-node"}};
  if (spec.nodes > 1) params.push_back({"NumberOfNodes", std::to_string(spec.nodes)});
  params.push_back({"IamRoles.IamRoleArn.1", role_arn});
  params.push_back({"PubliclyAccessible", spec.publicly_accessible ? "true" : "false"});
  params.push_back({"Tags.Tag.1.Key", "created-by"});
  params.push_back({"Tags.Tag.1.Value", "loadstar"});
  LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer created, redshift_->Call("CreateCluster", params));
  if (!created.ok() && created.error_code != "ClusterAlreadyExists") {
    return AwsError("Redshift CreateCluster " + spec.name, created);
  }
  if (created.error_code == "ClusterAlreadyExists") {
    // Reused: make sure the role is associated with it.
    LOADSTAR_ASSIGN_OR_RETURN(std::optional<ClusterInfo> existing, Describe(spec.name));
    if (existing && std::find(existing->iam_roles.begin(), existing->iam_roles.end(), role_arn) ==
                        existing->iam_roles.end() &&
        existing->status == "available") {
      LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer modified,
                                redshift_->Call("ModifyClusterIamRoles", {{"ClusterIdentifier", spec.name},
                                                                          {"AddIamRoles.IamRoleArn.1", role_arn}}));
      if (!modified.ok()) return AwsError("Redshift ModifyClusterIamRoles " + spec.name, modified);
    }
  }
  LOADSTAR_ASSIGN_OR_RETURN(ClusterInfo info, WaitFor(spec.name, "available", wait));
  auto it = std::find(info.iam_roles.begin(), info.iam_roles.end(), role_arn);
  if (it != info.iam_roles.end()) info.iam_roles.erase(it);
  info.iam_roles.insert(info.iam_roles.begin(), role_arn);
  return info;
}

Status Provisioner::Delete(const std::string& name, const std::string& final_snapshot, const WaitOptions& wait) {
  LOADSTAR_RETURN_IF_ERROR(CheckClusterName(name));
  QueryParams params = {{"ClusterIdentifier", name}};
  if (final_snapshot.empty()) {
    params.push_back({"SkipFinalClusterSnapshot", "true"});
  } else {
    params.push_back({"SkipFinalClusterSnapshot", "false"});
    params.push_back({"FinalClusterSnapshotIdentifier", final_snapshot});
  }
  LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer deleted, redshift_->Call("DeleteCluster", params));
  if (deleted.error_code == "InvalidClusterState") {
    // Already being deleted (a second delete) is fine; anything else has to settle first.
    LOADSTAR_ASSIGN_OR_RETURN(std::optional<ClusterInfo> now, Describe(name));
    if (now && now->status != "deleting") {
      return Status::FailedPrecondition("cluster " + name + " is '" + now->status + "' and cannot be deleted now (" +
                                        deleted.error_message + "); run the same command again once it is available");
    }
  } else if (!deleted.ok() && deleted.error_code != "ClusterNotFound") {
    return AwsError("Redshift DeleteCluster " + name, deleted);
  }
  if (deleted.error_code != "ClusterNotFound") LOADSTAR_RETURN_IF_ERROR(WaitFor(name, "gone", wait).status());
  const std::string role = RoleName(name);
  LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer policy,
                            iam_->Call("DeleteRolePolicy", {{"RoleName", role}, {"PolicyName", kPolicyName}}));
  if (!policy.ok() && policy.error_code != "NoSuchEntity") return AwsError("IAM DeleteRolePolicy " + role, policy);
  LOADSTAR_ASSIGN_OR_RETURN(QueryAnswer gone, iam_->Call("DeleteRole", {{"RoleName", role}}));
  if (!gone.ok() && gone.error_code != "NoSuchEntity") return AwsError("IAM DeleteRole " + role, gone);
  return Status::Ok();
}

}  // namespace loadstar::provision
