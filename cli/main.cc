// loadstar: loads Sparkify JSON from S3 (or local files) into a star schema in PostgreSQL.
// This file only names the subcommands, parses the command line and runs the one given.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/cluster_command.h"
#include "cli/export_command.h"
#include "cli/flags.h"
#include "cli/generate_command.h"
#include "cli/keygen_command.h"
#include "cli/report_commands.h"
#include "cli/run_commands.h"
#include "cli/status_command.h"
#include "common/core/stop.h"

namespace {

std::string SelfBinary(const char* argv0) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = loadstar::cli;
  CLI::App app{
      "loadstar loads Sparkify song metadata and activity logs (JSON, in S3 or local files) into a star schema\n"
      "in PostgreSQL or Amazon Redshift: a coordinator lists the sources and leases file-level tasks to workers over ZeroMQ;\n"
      "workers fetch, parse, validate and stage the rows; the coordinator then builds songplays, users,\n"
      "songs, artists and time in one transaction. Reruns load only new or changed files.\n\n"
      "S3 settings come from the environment, the AWS way: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
      "AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_PROFILE.",
      "loadstar"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "loadstar " LOADSTAR_VERSION);

  // The top of the program owns the signals: Ctrl-C and SIGTERM ask what runs below to stop,
  // which it does cleanly (a run rolls back its transform and can be resumed).
  loadstar::StopSource stop;

  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  auto add = [&](const char* name, const char* what, auto&& make) {
    CLI::App* cmd = app.add_subcommand(name, what);
    commands.emplace_back(cmd, make(cmd));
  };
  add("run", "load the sources end to end with N local worker processes",
      [&](CLI::App* c) { return cli::AddRunCommand(c, stop.token(), SelfBinary(argv[0])); });
  add("coordinator", "plan a run and lease its tasks to remote workers",
      [&](CLI::App* c) { return cli::AddCoordinatorCommand(c, stop.token()); });
  add("worker", "fetch, parse and stage the tasks a coordinator leases",
      [&](CLI::App* c) { return cli::AddWorkerCommand(c, stop.token()); });
  add("keygen", "make a CURVE key pair for a coordinator or a worker (NAME.key, NAME.pub)", cli::AddKeygenCommand);
  add("generate", "write a deterministic Sparkify-shaped data set", cli::AddGenerateCommand);
  add("report", "answer the analysts' standing questions from the star tables", cli::AddReportCommand);
  add("export", "write the star tables as a Parquet data lake (Hive partitions and a manifest) to S3 or a folder",
      [&](CLI::App* c) { return cli::AddExportCommand(c, stop.token()); });
  add("runs", "list the latest runs: state, timings, files and records", cli::AddRunsCommand);
  add("status", "show a running coordinator's progress (needs its --metrics-listen)", cli::AddStatusCommand);
  add("cluster", "create, show or delete a Redshift cluster and the IAM role loadstar loads with",
      cli::AddClusterCommand);
  cli::CheckWarehouseFlags(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the help, the version, or what is wrong
    return code == 0 ? 0 : 2;      // every usage error exits 2
  }
  loadstar::StopOnSignals(&stop);
  for (auto& [cmd, run] : commands) {
    if (cmd->parsed()) return run();
  }
  return 2;
}
