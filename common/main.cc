// loadstar: loads Sparkify JSON from S3 (or local files) into a star schema in PostgreSQL.
// This file only parses flags and wires components together.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <cstdio>
#include <string>

#include "bench/generator_command.h"
#include "common/log.h"
#include "common/warehouse.h"
#include "coordinator/report_commands.h"
#include "coordinator/run_command.h"
#include "coordinator/status_command.h"
#include "worker/worker.h"

namespace {

std::string SelfBinary(const char* argv0) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

void AddLogFlags(CLI::App* app, std::string* level, std::string* format) {
  app->add_option("--log-level", *level, "debug, info, warn or error")->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app->add_option("--log-format", *format, "text or json (one object per line)")->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
}

void ApplyLogFlags(const std::string& level, const std::string& format, const std::string& component) {
  using loadstar::log::Level;
  loadstar::log::SetLevel(level == "debug" ? Level::kDebug : level == "warn" ? Level::kWarn
                          : level == "error" ? Level::kError : Level::kInfo);
  loadstar::log::SetFormat(format == "json" ? loadstar::log::Format::kJson : loadstar::log::Format::kText);
  loadstar::log::SetComponent(component);
}

void AddMonitorFlags(CLI::App* app, loadstar::coordinator::RunCommandOptions* o, bool* quiet) {
  app->add_option("--metrics-listen", o->metrics_listen,
                  "serve Prometheus metrics (/metrics), a health check (/healthz) and the run's status (/status, "
                  "for `loadstar status`) on HOST:PORT, e.g. 127.0.0.1:9464 (port 0: any free port); default: off");
  app->add_flag("--quiet", *quiet, "no progress view and no log lines below level error");
}

void AddCoordinatorFlags(CLI::App* app, loadstar::coordinator::CoordinatorOptions* o) {
  app->add_option("--songs", o->songs, "where the song files are: s3://bucket/song_data/ or file:///path/");
  app->add_option("--events", o->events, "where the daily event logs are: s3://bucket/log_data/ or file:///path/");
  app->add_option("--warehouse", o->warehouse,
                  "PostgreSQL connection URI (postgresql://user@host:port/db); default: $LOADSTAR_WAREHOUSE, "
                  "then the PG* variables. Keep passwords in PGPASSWORD or ~/.pgpass");
  app->add_option("--schema", o->schema, "schema that holds the tables (created if missing)")->capture_default_str();
  app->add_flag("--full-refresh", o->full_refresh, "stage every file again, even those the ledger says are loaded");
  app->add_option("--max-errors", o->max_errors,
                  "fail the run, leaving the star tables as they were, once more records than this are rejected "
                  "(like Redshift's MAXERROR; -1: no limit)")
      ->capture_default_str();
  app->add_option("--since", o->since, "backfill: only event files dated on or after this day (YYYY-MM-DD, from the key)");
  app->add_option("--until", o->until, "backfill: only event files dated on or before this day (YYYY-MM-DD)");
  app->add_option("--task-bytes", o->task_bytes, "byte budget of one task (small files share a task)")
      ->capture_default_str();
  app->add_option("--task-files", o->task_files, "most files in one task")->capture_default_str();
  app->add_option("--max-record-bytes", o->max_record_bytes, "records longer than this are rejected")
      ->capture_default_str();
  app->add_option("--max-attempts", o->max_attempts, "attempts per task before the run fails")->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "loadstar loads Sparkify song metadata and activity logs (JSON, in S3 or local files) into a star schema\n"
      "in PostgreSQL: a coordinator lists the sources and leases file-level tasks to workers over ZeroMQ;\n"
      "workers fetch, parse, validate and stage the rows; the coordinator then builds songplays, users,\n"
      "songs, artists and time in one transaction. Reruns load only new or changed files.\n\n"
      "S3 settings come from the environment, the AWS way: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
      "AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_PROFILE.",
      "loadstar"};
  app.require_subcommand(1);
  std::string log_level = "info", log_format = "text";
  bool quiet = false;

  // run
  loadstar::coordinator::RunCommandOptions run;
  run.coordinator.listen = "tcp://127.0.0.1:*";
  run.workers = 4;
  auto* run_cmd = app.add_subcommand("run", "load the sources end to end with N local worker processes");
  AddCoordinatorFlags(run_cmd, &run.coordinator);
  run_cmd->add_option("--workers", run.workers, "worker processes to start on this machine (0: only remote ones)")
      ->capture_default_str();
  run_cmd->add_option("--worker-concurrency", run.worker_concurrency, "tasks each worker stages at once")
      ->capture_default_str();
  run_cmd->add_option("--listen", run.coordinator.listen,
                      "where workers connect; remote workers need a reachable address, e.g. tcp://*:5570")
      ->capture_default_str();
  AddMonitorFlags(run_cmd, &run, &quiet);
  AddLogFlags(run_cmd, &log_level, &log_format);
  run_cmd->footer("Example:\n  loadstar run --songs s3://sparkify/song_data/ --events s3://sparkify/log_data/ \\\n"
                  "      --warehouse postgresql://loader@db:5432/analytics --schema sparkify --workers 4");

  // coordinator
  loadstar::coordinator::RunCommandOptions coord;
  coord.workers = 0;
  auto* coord_cmd = app.add_subcommand("coordinator", "plan a run and lease its tasks to remote workers");
  AddCoordinatorFlags(coord_cmd, &coord.coordinator);
  coord_cmd->add_option("--listen", coord.coordinator.listen, "ZeroMQ endpoint workers connect to")
      ->capture_default_str();
  AddMonitorFlags(coord_cmd, &coord, &quiet);
  AddLogFlags(coord_cmd, &log_level, &log_format);

  // worker
  loadstar::worker::WorkerOptions worker;
  double give_up_s = 0;
  auto* worker_cmd = app.add_subcommand("worker", "fetch, parse and stage the tasks a coordinator leases");
  worker_cmd->add_option("--connect", worker.connect, "the coordinator: tcp://HOST:PORT")->required();
  worker_cmd->add_option("--warehouse", worker.warehouse,
                         "PostgreSQL connection URI; default: $LOADSTAR_WAREHOUSE, then the PG* variables");
  worker_cmd->add_option("--schema", worker.schema, "refuse tasks for any other schema (default: the coordinator's)");
  worker_cmd->add_option("--name", worker.name, "name shown in progress and status views (default: host/pid)");
  worker_cmd->add_option("--concurrency", worker.concurrency, "tasks staged at once")->capture_default_str();
  worker_cmd->add_option("--fetch-concurrency", worker.fetch_concurrency, "transfers in flight per task")
      ->capture_default_str();
  worker_cmd->add_option("--stream-above", worker.stream_above_bytes,
                         "event files larger than this many bytes are streamed, a piece at a time, instead of "
                         "held in memory whole")
      ->capture_default_str();
  worker_cmd->add_option("--give-up-after", give_up_s, "exit when no coordinator answers for this many seconds (0: never)")
      ->capture_default_str();
  AddLogFlags(worker_cmd, &log_level, &log_format);

  // generate
  auto* gen_cmd = app.add_subcommand("generate", "write a deterministic Sparkify-shaped data set");
  auto generate = loadstar::bench::AddGenerateCommand(gen_cmd);

  // report, runs
  auto* report_cmd = app.add_subcommand("report", "answer the analysts' standing questions from the star tables");
  auto report = loadstar::coordinator::AddReportCommand(report_cmd);
  auto* runs_cmd = app.add_subcommand("runs", "list the latest runs: state, timings, files and records");
  auto runs = loadstar::coordinator::AddRunsCommand(runs_cmd);

  // status
  auto* status_cmd = app.add_subcommand("status", "show a running coordinator's progress (needs its --metrics-listen)");
  auto status = loadstar::coordinator::AddStatusCommand(status_cmd);

  CLI11_PARSE(app, argc, argv);

  // The progress view for `run` and `coordinator`: live on a terminal, log lines otherwise. On a
  // live view only warnings and errors are logged (the view shows the rest) unless --log-level
  // says otherwise; --quiet leaves errors alone.
  auto choose_progress = [&](CLI::App* cmd, loadstar::coordinator::RunCommandOptions* o) {
    o->progress = loadstar::coordinator::ChooseProgressMode(quiet, log_format == "json");
    if (quiet) {
      loadstar::log::SetLevel(loadstar::log::Level::kError);
    } else if (o->progress == loadstar::coordinator::ProgressMode::kTerminal && cmd->count("--log-level") == 0) {
      loadstar::log::SetLevel(loadstar::log::Level::kWarn);
    }
  };
  if (run_cmd->parsed()) {
    ApplyLogFlags(log_level, log_format, "coordinator");
    choose_progress(run_cmd, &run);
    run.coordinator.warehouse = loadstar::ResolveWarehouse(run.coordinator.warehouse);
    run.self_binary = SelfBinary(argv[0]);
    return loadstar::coordinator::RunCommand(run);
  }
  if (coord_cmd->parsed()) {
    ApplyLogFlags(log_level, log_format, "coordinator");
    choose_progress(coord_cmd, &coord);
    coord.coordinator.warehouse = loadstar::ResolveWarehouse(coord.coordinator.warehouse);
    return loadstar::coordinator::RunCommand(coord);
  }
  if (worker_cmd->parsed()) {
    ApplyLogFlags(log_level, log_format, worker.name.empty() ? "worker" : worker.name);
    worker.warehouse = loadstar::ResolveWarehouse(worker.warehouse);
    worker.give_up_after = std::chrono::milliseconds(static_cast<int64_t>(give_up_s * 1000));
    loadstar::Status s = loadstar::worker::RunWorker(worker);
    if (!s.ok()) {
      std::fprintf(stderr, "loadstar worker: %s\n", s.message().c_str());
      return s.code() == loadstar::StatusCode::kCancelled ? 130 : 1;
    }
    return 0;
  }
  if (gen_cmd->parsed()) return generate();
  if (report_cmd->parsed()) return report();
  if (runs_cmd->parsed()) return runs();
  if (status_cmd->parsed()) return status();
  return 2;
}
