#include "cli/cluster_command.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/flags.h"
#include "common/core/log.h"
#include "common/provision/cluster.h"
#include "common/storage/aws_config.h"
#include "common/storage/aws_query.h"

namespace loadstar::cli {
namespace {

constexpr const char* kPasswordEnv = "LOADSTAR_CLUSTER_PASSWORD";

struct ClusterFlags {
  provision::ClusterSpec spec;
  std::string password_file;
  std::string final_snapshot;
  double poll_s = 15;
  int64_t timeout_s = 1800;
  LogFlags log;
};

struct Clients {
  std::unique_ptr<AwsQueryClient> redshift, iam;
};

Result<Clients> OpenClients() {
  auto env = [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  LOADSTAR_ASSIGN_OR_RETURN(AwsSettings settings, LoadAwsSettings(env));
  Clients c;
  LOADSTAR_ASSIGN_OR_RETURN(c.redshift, AwsQueryClient::Open(RedshiftService(), settings, env));
  LOADSTAR_ASSIGN_OR_RETURN(c.iam, AwsQueryClient::Open(IamService(), settings, env));
  return c;
}

// The master password: --password-file, else $LOADSTAR_CLUSTER_PASSWORD. Never a flag value.
Result<std::string> ReadPassword(const std::string& file) {
  std::string password;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::InvalidArgument("--password-file " + file + " cannot be read");
    std::stringstream s;
    s << in.rdbuf();
    password = s.str();
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  } else if (const char* v = std::getenv(kPasswordEnv); v != nullptr) {
    password = v;
  }
  if (password.empty()) {
    return Status::InvalidArgument(std::string("the cluster's master password comes from --password-file FILE or $") +
                                   kPasswordEnv + " (never from the command line)");
  }
  return password;
}

provision::WaitOptions Waiting(const ClusterFlags& f) {
  provision::WaitOptions w;
  w.poll = std::chrono::milliseconds(static_cast<int64_t>(f.poll_s * 1000));
  w.timeout = std::chrono::seconds(f.timeout_s);
  w.progress = [](const provision::ClusterInfo& c, std::chrono::seconds waited) {
    log::Info("cluster " + c.name + ": " + c.status + " (" + std::to_string(waited.count()) + " s)");
  };
  return w;
}

void PrintCluster(const provision::ClusterInfo& c, const std::string& role_arn, const std::string& staging) {
  std::printf("cluster   %s\nstatus    %s\n", c.name.c_str(), c.status.c_str());
  if (!c.address.empty()) std::printf("endpoint  %s:%d\n", c.address.c_str(), c.port);
  std::printf("nodes     %d x %s\ndatabase  %s (master user %s)\n", c.nodes, c.node_type.c_str(), c.database.c_str(),
              c.master_user.c_str());
  std::printf("iam role  %s\n", role_arn.empty() ? "(none)" : role_arn.c_str());
  if (c.status == "available" && !c.address.empty()) {
    // The exact settings for `loadstar run`, on lines of their own so scripts can take them.
    std::printf("\nwarehouse: host=%s port=%d dbname=%s user=%s sslmode=require\n", c.address.c_str(), c.port,
                c.database.c_str(), c.master_user.c_str());
    std::printf("iam-role: %s\n\n", role_arn.c_str());
    std::printf("Load into it (the password in PGPASSWORD or ~/.pgpass):\n"
                "  loadstar run --dialect redshift --warehouse 'host=%s port=%d dbname=%s user=%s sslmode=require' \\\n"
                "      --iam-role %s --staging %s \\\n"
                "      --songs s3://BUCKET/song_data/ --events s3://BUCKET/log_data/\n",
                c.address.c_str(), c.port, c.database.c_str(), c.master_user.c_str(), role_arn.c_str(),
                staging.empty() ? "s3://BUCKET/PREFIX/" : staging.c_str());
  }
  std::fflush(stdout);
}

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "loadstar cluster %s: %s\n", what, s.message().c_str());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

std::function<int()> AddClusterCommand(CLI::App* cmd) {
  cmd->require_subcommand(1);
  cmd->footer(
      "AWS settings come from the environment, the AWS way (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE,\n"
      "AWS_REGION); AWS_ENDPOINT_URL_REDSHIFT and AWS_ENDPOINT_URL_IAM point at other endpoints.\n"
      "The role is loadstar-NAME, with one inline policy (loadstar-s3): read the sources and the staging prefix,\n"
      "write and delete under the lake prefix. Create and delete are safe to run again.");
  auto flags = std::make_shared<ClusterFlags>();
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--name", flags->spec.name, "the cluster identifier (the role is loadstar-NAME)")->required();
    sub->add_option("--poll-interval", flags->poll_s, "seconds between status checks while waiting")
        ->capture_default_str()
        ->check(NonNegativeSeconds());
    sub->add_option("--timeout", flags->timeout_s, "give up waiting after this many seconds")
        ->capture_default_str()
        ->check(Between(1, 86400));
    AddLogFlags(sub, &flags->log);
  };
  CLI::App* create = cmd->add_subcommand("create", "make (or reuse) the role and the cluster, and wait until it is available");
  add_common(create);
  create->add_option("--node-type", flags->spec.node_type, "node type")->capture_default_str();
  create->add_option("--nodes", flags->spec.nodes, "number of nodes (1: single-node)")->capture_default_str()
      ->check(Between(1, 128));
  create->add_option("--database", flags->spec.database, "database name")->capture_default_str();
  create->add_option("--master-user", flags->spec.master_user, "master user name")->capture_default_str();
  create->add_option("--password-file", flags->password_file,
                     std::string("file holding the master password; default: $") + kPasswordEnv);
  create->add_option("--read", flags->spec.read_prefixes, "S3 prefixes the role may read (the sources), repeatable");
  create->add_option("--staging", flags->spec.staging, "the staging prefix loadstar run writes parts to (read by COPY)");
  create->add_option("--lake", flags->spec.lake, "the prefix the lake is exported to (written by UNLOAD)");
  create->add_flag("--publicly-accessible", flags->spec.publicly_accessible,
                   "give the cluster a public endpoint (default: reachable from its VPC only)");
  CLI::App* status = cmd->add_subcommand("status", "show the cluster, its endpoint and its role");
  add_common(status);
  CLI::App* del = cmd->add_subcommand("delete", "delete the cluster (no final snapshot unless asked) and its role");
  add_common(del);
  del->add_option("--final-snapshot", flags->final_snapshot, "take a final snapshot with this identifier first");

  return [cmd, create, status, del, flags]() -> int {
    ApplyLogFlags(flags->log, "cluster");
    auto clients = OpenClients();
    if (!clients.ok()) return Fail(cmd->get_name().c_str(), clients.status());
    provision::Provisioner p(clients->redshift.get(), clients->iam.get());
    if (create->parsed()) {
      auto password = ReadPassword(flags->password_file);
      if (!password.ok()) return Fail("create", password.status());
      flags->spec.master_password = *password;
      log::Info("creating cluster " + flags->spec.name + " through " + clients->redshift->endpoint() + " (role " +
                provision::RoleName(flags->spec.name) + " through " + clients->iam->endpoint() + ")");
      auto info = p.Create(flags->spec, Waiting(*flags));
      if (!info.ok()) return Fail("create", info.status());
      PrintCluster(*info, info->iam_roles.empty() ? "" : info->iam_roles.front(), flags->spec.staging);
      return 0;
    }
    if (status->parsed()) {
      if (Status s = provision::CheckClusterName(flags->spec.name); !s.ok()) return Fail("status", s);
      auto info = p.Describe(flags->spec.name);
      if (!info.ok()) return Fail("status", info.status());
      auto role = p.RoleArn(flags->spec.name);
      if (!role.ok()) return Fail("status", role.status());
      if (!*info) {
        std::printf("cluster   %s\nstatus    none (no such cluster)\niam role  %s\n", flags->spec.name.c_str(),
                    role->empty() ? "(none)" : role->c_str());
        return 0;
      }
      PrintCluster(**info, *role, "");
      return 0;
    }
    if (del->parsed()) {
      Status s = p.Delete(flags->spec.name, flags->final_snapshot, Waiting(*flags));
      if (!s.ok()) return Fail("delete", s);
      std::printf("cluster %s and role %s are gone\n", flags->spec.name.c_str(),
                  provision::RoleName(flags->spec.name).c_str());
      return 0;
    }
    return 2;
  };
}

}  // namespace loadstar::cli
