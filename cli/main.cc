// loadstar: loads Sparkify JSON from S3 (or local files) into a star schema in PostgreSQL.
// This file only parses flags and wires components together.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "cli/generate_command.h"
#include "common/core/log.h"
#include "common/core/stop.h"
#include "common/core/uri.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/planner.h"
#include "cli/report_commands.h"
#include "coordinator/run_command.h"
#include "cli/status_command.h"
#include "worker/worker.h"

namespace {

std::string SelfBinary(const char* argv0) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

// Flag values are checked while the command line is parsed, so that a usage error stops loadstar
// before it touches the warehouse or any source. CLI11 puts the flag's name in front of each
// message ("--max-attempts: ...").

// A whole number in [lo, hi]; `lo_means` says what lo stands for when it is a special value (-1).
CLI::Validator Between(int64_t lo, int64_t hi, std::string lo_means = "") {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::string allowed = lo_means.empty() ? std::to_string(lo) : std::to_string(lo) + " (" + lo_means + ")";
  allowed = hi == kMax ? allowed + " or more" : allowed + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, allowed](std::string& value) -> std::string {
        int64_t v = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec == std::errc() && end == value.data() + value.size() && v >= lo && v <= hi) return "";
        return value + " is out of range (allowed: whole numbers, " + allowed + ")";
      },
      hi == kMax ? "INT >= " + std::to_string(lo) : "INT in " + std::to_string(lo) + ".." + std::to_string(hi));
}

CLI::Validator NonNegativeSeconds() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          size_t used = 0;
          double v = std::stod(value, &used);
          if (used == value.size() && v >= 0) return "";
        } catch (const std::exception&) {
        }
        return value + " is out of range (allowed: a number of seconds, 0 or more)";
      },
      "SECONDS >= 0");
}

// A source location loadstar can read: s3://bucket/prefix/ or file:///absolute/path/.
CLI::Validator SourceLocation() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto uri = loadstar::ParseUri(value);
        return uri.ok() ? "" : uri.status().message();
      },
      "URI");
}

CLI::Validator Date() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        loadstar::Status s = loadstar::coordinator::ValidateDate(value);
        return s.ok() ? "" : s.message();
      },
      "YYYY-MM-DD");
}

// Where workers connect: a ZeroMQ endpoint loadstar can bind.
CLI::Validator ListenEndpoint() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (value.rfind("tcp://", 0) == 0 && value.find(':', 6) != std::string::npos) return "";
        if (value.rfind("ipc://", 0) == 0 && value.size() > 6) return "";
        return "'" + value + "' is not an endpoint workers can connect to: give tcp://HOST:PORT (e.g. tcp://*:5570; "
               "port *: any free port) or ipc:///path";
      },
      "ENDPOINT");
}

// Checks every subcommand's --schema and --warehouse, wherever the flag was added.
void CheckWarehouseFlags(CLI::App* app) {
  for (CLI::App* cmd : app->get_subcommands([](CLI::App*) { return true; })) {
    if (CLI::Option* schema = cmd->get_option_no_throw("--schema"); schema != nullptr) {
      schema->check(CLI::Validator(
          [](std::string& value) -> std::string {
            loadstar::Status s = loadstar::ValidateSchemaName(value);
            return s.ok() ? "" : s.message();
          },
          "NAME"));
    }
    if (CLI::Option* warehouse = cmd->get_option_no_throw("--warehouse"); warehouse != nullptr) {
      warehouse->check(CLI::Validator(
          [](std::string& value) -> std::string {
            loadstar::Status s = loadstar::ValidateConninfo(value);
            return s.ok() ? "" : s.message();
          },
          "URI"));
    }
  }
}

// A password given in --warehouse is on the command line, which every user of the machine can
// read (ps, /proc/PID/cmdline). Says so once; LOADSTAR_WAREHOUSE and the PG* variables are not
// visible that way.
void WarnOfPasswordOnCommandLine(CLI::App* cmd) {
  CLI::Option* option = cmd->get_option_no_throw("--warehouse");
  if (option == nullptr || option->count() == 0) return;
  const std::string value = option->as<std::string>();
  if (loadstar::log::RedactConnectionString(value) == value) return;
  loadstar::log::Warn(
      "--warehouse holds a password, which other users of this machine can read in the process list (ps); "
      "keep it in PGPASSWORD or ~/.pgpass, or pass the whole connection string in LOADSTAR_WAREHOUSE");
}

// Usage errors that need more than one flag; "" when there are none.
std::string CheckCoordinatorOptions(const loadstar::coordinator::CoordinatorOptions& o) {
  if (!o.since.empty() && !o.until.empty() && o.since > o.until) {
    return "--since " + o.since + " is after --until " + o.until;
  }
  return "";
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
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  app->add_option("--songs", o->songs, "where the song files are: s3://bucket/song_data/ or file:///path/")
      ->check(SourceLocation());
  app->add_option("--events", o->events, "where the daily event logs are: s3://bucket/log_data/ or file:///path/")
      ->check(SourceLocation());
  app->add_option("--warehouse", o->warehouse,
                  "PostgreSQL connection URI (postgresql://user@host:port/db); default: $LOADSTAR_WAREHOUSE, "
                  "then the PG* variables. Keep passwords in PGPASSWORD or ~/.pgpass");
  app->add_option("--schema", o->schema, "schema that holds the tables (created if missing)")->capture_default_str();
  app->add_flag("--full-refresh", o->full_refresh, "stage every file again, even those the ledger says are loaded");
  app->add_option("--max-errors", o->max_errors,
                  "fail the run, leaving the star tables as they were, once more records than this are rejected "
                  "(like Redshift's MAXERROR; -1: no limit)")
      ->capture_default_str()
      ->check(Between(-1, kMax, "no limit"));
  app->add_option("--since", o->since, "backfill: only event files dated on or after this day (YYYY-MM-DD, from the key)")
      ->check(Date());
  app->add_option("--until", o->until, "backfill: only event files dated on or before this day (YYYY-MM-DD)")
      ->check(Date());
  app->add_option("--task-bytes", o->task_bytes, "byte budget of one task (small files share a task)")
      ->capture_default_str()
      ->check(Between(1, kMax));
  app->add_option("--task-files", o->task_files, "most files in one task")->capture_default_str()
      ->check(Between(1, kMax));
  app->add_option("--max-record-bytes", o->max_record_bytes, "records longer than this are rejected (at most 1 GiB)")
      ->capture_default_str()
      ->check(Between(1, int64_t{1} << 30));
  app->add_option("--max-attempts", o->max_attempts, "attempts per task before the run fails")->capture_default_str()
      ->check(Between(1, 100));
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
  app.set_version_flag("--version", "loadstar " LOADSTAR_VERSION);
  std::string log_level = "info", log_format = "text";
  bool quiet = false;

  // run
  loadstar::coordinator::RunCommandOptions run;
  run.coordinator.listen = "tcp://127.0.0.1:*";
  run.workers = 4;
  auto* run_cmd = app.add_subcommand("run", "load the sources end to end with N local worker processes");
  AddCoordinatorFlags(run_cmd, &run.coordinator);
  run_cmd->add_option("--workers", run.workers, "worker processes to start on this machine (0: only remote ones)")
      ->capture_default_str()
      ->check(Between(0, 1024, "only remote workers"));
  run_cmd->add_option("--worker-concurrency", run.worker_concurrency, "tasks each worker stages at once")
      ->capture_default_str()
      ->check(Between(1, 1024));
  run_cmd->add_option("--listen", run.coordinator.listen,
                      "where workers connect; remote workers need a reachable address, e.g. tcp://*:5570. A peer "
                      "that sends a message over 16 MiB (ZMQ_MAXMSGSIZE) is disconnected; worker names are at most "
                      "256 bytes")
      ->capture_default_str()
      ->check(ListenEndpoint());
  AddMonitorFlags(run_cmd, &run, &quiet);
  AddLogFlags(run_cmd, &log_level, &log_format);
  run_cmd->footer("Example:\n  loadstar run --songs s3://sparkify/song_data/ --events s3://sparkify/log_data/ \\\n"
                  "      --warehouse postgresql://loader@db:5432/analytics --schema sparkify --workers 4");

  // coordinator
  loadstar::coordinator::RunCommandOptions coord;
  coord.workers = 0;
  auto* coord_cmd = app.add_subcommand("coordinator", "plan a run and lease its tasks to remote workers");
  AddCoordinatorFlags(coord_cmd, &coord.coordinator);
  coord_cmd->add_option("--listen", coord.coordinator.listen,
                        "ZeroMQ endpoint workers connect to. A peer that sends a message over 16 MiB (ZMQ_MAXMSGSIZE) "
                        "is disconnected; worker names are at most 256 bytes")
      ->capture_default_str()
      ->check(ListenEndpoint());
  AddMonitorFlags(coord_cmd, &coord, &quiet);
  AddLogFlags(coord_cmd, &log_level, &log_format);

  // worker
  loadstar::worker::WorkerOptions worker;
  double give_up_s = 0;
  auto* worker_cmd = app.add_subcommand("worker", "fetch, parse and stage the tasks a coordinator leases");
  worker_cmd->add_option("--connect", worker.connect,
                         "the coordinator: tcp://HOST:PORT (messages over 16 MiB, ZMQ_MAXMSGSIZE, drop the connection)")
      ->required();
  worker_cmd->add_option("--warehouse", worker.warehouse,
                         "PostgreSQL connection URI; default: $LOADSTAR_WAREHOUSE, then the PG* variables");
  worker_cmd->add_option("--schema", worker.schema, "refuse tasks for any other schema (default: the coordinator's)");
  worker_cmd->add_option("--name", worker.name, "name shown in progress and status views (default: host/pid)");
  worker_cmd->add_option("--concurrency", worker.concurrency, "tasks staged at once")->capture_default_str()
      ->check(Between(1, 1024));
  worker_cmd->add_option("--fetch-concurrency", worker.fetch_concurrency, "transfers in flight per task")
      ->capture_default_str()
      ->check(Between(1, 1024));
  worker_cmd->add_option("--stream-above", worker.stream_above_bytes,
                         "event files larger than this many bytes are streamed, a piece at a time, instead of "
                         "held in memory whole")
      ->capture_default_str()
      ->check(Between(0, std::numeric_limits<int64_t>::max()));
  worker_cmd->add_option("--give-up-after", give_up_s, "exit when no coordinator answers for this many seconds (0: never)")
      ->capture_default_str()
      ->check(NonNegativeSeconds());
  AddLogFlags(worker_cmd, &log_level, &log_format);

  // generate
  auto* gen_cmd = app.add_subcommand("generate", "write a deterministic Sparkify-shaped data set");
  auto generate = loadstar::cli::AddGenerateCommand(gen_cmd);

  // report, runs
  auto* report_cmd = app.add_subcommand("report", "answer the analysts' standing questions from the star tables");
  auto report = loadstar::cli::AddReportCommand(report_cmd);
  auto* runs_cmd = app.add_subcommand("runs", "list the latest runs: state, timings, files and records");
  auto runs = loadstar::cli::AddRunsCommand(runs_cmd);

  // status
  auto* status_cmd = app.add_subcommand("status", "show a running coordinator's progress (needs its --metrics-listen)");
  auto status = loadstar::cli::AddStatusCommand(status_cmd);

  CheckWarehouseFlags(&app);
  CLI11_PARSE(app, argc, argv);

  // The top of the program owns the signals: Ctrl-C and SIGTERM ask what runs below to stop,
  // which it does cleanly (a run rolls back its transform and can be resumed).
  loadstar::StopSource stop;
  loadstar::StopOnSignals(&stop);
  for (auto [cmd, options] : {std::pair{run_cmd, &run.coordinator}, std::pair{coord_cmd, &coord.coordinator}}) {
    if (!cmd->parsed()) continue;
    if (std::string error = CheckCoordinatorOptions(*options); !error.empty()) {
      return app.exit(CLI::ValidationError(error));
    }
  }

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
    WarnOfPasswordOnCommandLine(run_cmd);
    run.coordinator.warehouse = loadstar::ResolveWarehouse(run.coordinator.warehouse);
    run.self_binary = SelfBinary(argv[0]);
    return loadstar::coordinator::RunCommand(run, stop.token());
  }
  if (coord_cmd->parsed()) {
    ApplyLogFlags(log_level, log_format, "coordinator");
    choose_progress(coord_cmd, &coord);
    WarnOfPasswordOnCommandLine(coord_cmd);
    coord.coordinator.warehouse = loadstar::ResolveWarehouse(coord.coordinator.warehouse);
    return loadstar::coordinator::RunCommand(coord, stop.token());
  }
  if (worker_cmd->parsed()) {
    ApplyLogFlags(log_level, log_format, worker.name.empty() ? "worker" : worker.name);
    WarnOfPasswordOnCommandLine(worker_cmd);
    worker.warehouse = loadstar::ResolveWarehouse(worker.warehouse);
    worker.give_up_after = std::chrono::milliseconds(static_cast<int64_t>(give_up_s * 1000));
    loadstar::Status s = loadstar::worker::RunWorker(worker, stop.token());
    if (!s.ok()) {
      std::fprintf(stderr, "loadstar worker: %s\n", s.message().c_str());
      return s.code() == loadstar::StatusCode::kCancelled ? 130 : 1;
    }
    return 0;
  }
  if (gen_cmd->parsed()) return generate();
  if (report_cmd->parsed()) {
    WarnOfPasswordOnCommandLine(report_cmd);
    return report();
  }
  if (runs_cmd->parsed()) {
    WarnOfPasswordOnCommandLine(runs_cmd);
    return runs();
  }
  if (status_cmd->parsed()) return status();
  return 2;
}
