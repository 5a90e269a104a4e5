#include "cli/run_commands.h"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "cli/flags.h"
#include "common/core/log.h"
#include "common/transport/curve.h"
#include "common/transport/transport.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/run_command.h"
#include "worker/worker.h"

namespace loadstar::cli {
namespace {

// Where the CURVE keys come from. A secret key is read from a file or the environment, never
// from the command line (where `ps` shows it to every user of the machine).
constexpr const char* kSecretKeyFileEnv = "LOADSTAR_CURVE_SECRET_KEY_FILE";
constexpr const char* kSecretKeyEnv = "LOADSTAR_CURVE_SECRET_KEY";
constexpr const char* kAuthorizedKeysEnv = "LOADSTAR_CURVE_AUTHORIZED_KEYS";
constexpr const char* kCoordinatorKeyEnv = "LOADSTAR_CURVE_COORDINATOR_KEY";

struct KeyFlags {
  std::string key_file;
  std::string authorized_keys;  // run and coordinator
  std::string coordinator_key;  // worker
  bool insecure_plaintext = false;
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// This process's secret key: --key-file, else $LOADSTAR_CURVE_SECRET_KEY_FILE, else the key
// itself in $LOADSTAR_CURVE_SECRET_KEY (then removed from the environment, so nothing started
// from here inherits it). "" when none is given.
Result<std::string> ResolveSecretKey(const std::string& key_file) {
  std::string path = key_file.empty() ? Env(kSecretKeyFileEnv) : key_file;
  if (!path.empty()) return transport::ReadSecretKeyFile(path);
  std::string key = Env(kSecretKeyEnv);
  if (key.empty()) return std::string();
  unsetenv(kSecretKeyEnv);
  LOADSTAR_RETURN_IF_ERROR(transport::CheckZ85Key(key).WithContext(std::string("$") + kSecretKeyEnv));
  return key;
}

const char* const kPlaintextHelp =
    "no CURVE: connections are unencrypted and unauthenticated, so anyone who can reach the port may join. "
    "Allowed only on a loopback address (127.0.0.1, [::1], localhost, ipc://)";

std::string PlaintextError(const std::string& flag, const std::string& endpoint) {
  return "--insecure-plaintext is allowed only on a loopback address (tcp://127.0.0.1:PORT, tcp://[::1]:PORT, "
         "tcp://localhost:PORT or ipc://...), not " + flag + " " + endpoint +
         ": across machines, use keys (see `loadstar keygen --help`)";
}

void AddCoordinatorKeyFlags(CLI::App* app, KeyFlags* k, bool run) {
  app->add_option("--key-file", k->key_file,
                  std::string("the coordinator's CURVE secret key file (from `loadstar keygen`); default: $") +
                      kSecretKeyFileEnv + ", then the key itself in $" + kSecretKeyEnv +
                      (run ? "; without any, a key made for this run (its public key is logged)" : ""));
  app->add_option("--authorized-keys", k->authorized_keys,
                  std::string("file of the workers' public keys it admits, one Z85 key per line ('#' comments); "
                              "default: $") + kAuthorizedKeysEnv +
                      (run ? ". Local workers get keys of their own, made for this run" : ""));
  app->add_flag("--insecure-plaintext", k->insecure_plaintext, kPlaintextHelp);
}

// Fills the coordinator's key options from the flags; a usage error's message, or "".
std::string ResolveCoordinatorKeys(const KeyFlags& k, coordinator::RunCommandOptions* run, bool is_run) {
  coordinator::CoordinatorOptions& c = run->coordinator;
  if (k.insecure_plaintext) {
    if (!k.key_file.empty() || !k.authorized_keys.empty()) {
      return "--insecure-plaintext turns CURVE off: leave out --key-file and --authorized-keys";
    }
    if (!transport::IsLoopbackEndpoint(c.listen)) return PlaintextError("--listen", c.listen);
    c.insecure_plaintext = true;
    return "";
  }
  auto secret = ResolveSecretKey(k.key_file);
  if (!secret.ok()) return secret.status().message();
  c.curve.secret_key = *secret;
  if (c.curve.secret_key.empty() && !is_run) {
    return std::string("the coordinator needs its CURVE secret key: --key-file FILE or $") + kSecretKeyFileEnv +
           " (make one with `loadstar keygen --out DIR/coordinator`), or --insecure-plaintext on a loopback address";
  }
  std::string authorized = k.authorized_keys.empty() ? Env(kAuthorizedKeysEnv) : k.authorized_keys;
  if (authorized.empty()) {
    if (!is_run) {
      return std::string("the coordinator admits only workers whose public keys it lists: give --authorized-keys "
                         "FILE (or $") + kAuthorizedKeysEnv + "), one key per line, or --insecure-plaintext on a "
                         "loopback address";
    }
    if (run->workers == 0) {
      return "with --workers 0 only remote workers can join, and they need to be authorized: give "
             "--authorized-keys FILE with their public keys";
    }
    return "";
  }
  auto keys = transport::ReadAuthorizedKeys(authorized);
  if (!keys.ok()) return keys.status().message();
  c.curve.authorized_keys = *keys;
  return "";
}

// Fills the worker's key options from the flags; a usage error's message, or "".
std::string ResolveWorkerKeys(const KeyFlags& k, worker::WorkerOptions* w) {
  if (k.insecure_plaintext) {
    if (!k.key_file.empty() || !k.coordinator_key.empty()) {
      return "--insecure-plaintext turns CURVE off: leave out --key-file and --coordinator-key";
    }
    if (!transport::IsLoopbackEndpoint(w->connect)) return PlaintextError("--connect", w->connect);
    w->insecure_plaintext = true;
    return "";
  }
  auto secret = ResolveSecretKey(k.key_file);
  if (!secret.ok()) return secret.status().message();
  if (secret->empty()) {
    return std::string("this worker needs its CURVE secret key: --key-file FILE or $") + kSecretKeyFileEnv +
           " (make one with `loadstar keygen --out DIR/worker`), or --insecure-plaintext to a loopback address";
  }
  std::string coordinator_key = k.coordinator_key.empty() ? Env(kCoordinatorKeyEnv) : k.coordinator_key;
  if (coordinator_key.empty()) {
    return std::string("this worker needs the coordinator's public key: --coordinator-key FILE.pub (or the key "
                       "itself, or $") + kCoordinatorKeyEnv + ")";
  }
  auto server_key = transport::ReadPublicKey(coordinator_key);
  if (!server_key.ok()) return "--coordinator-key: " + server_key.status().message();
  w->curve.secret_key = *secret;
  w->curve.server_key = *server_key;
  return "";
}

// What `run` and `coordinator` share: the run's options, how to show progress, how to log.
struct RunFlags {
  coordinator::RunCommandOptions run;
  KeyFlags keys;
  bool is_run = false;
  bool quiet = false;
  LogFlags log;
};

void AddMonitorFlags(CLI::App* app, coordinator::RunCommandOptions* o, bool* quiet) {
  app->add_option("--metrics-listen", o->metrics_listen,
                  "serve Prometheus metrics (/metrics), a health check (/healthz) and the run's status (/status, "
                  "for `loadstar status`) on HOST:PORT, e.g. 127.0.0.1:9464 (port 0: any free port); default: off");
  app->add_flag("--quiet", *quiet, "no progress view and no log lines below level error");
}

void AddCoordinatorFlags(CLI::App* app, coordinator::CoordinatorOptions* o) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  app->add_option("--songs", o->songs, "where the song files are: s3://bucket/song_data/ or file:///path/")
      ->check(SourceLocation());
  app->add_option("--events", o->events, "where the daily event logs are: s3://bucket/log_data/ or file:///path/")
      ->check(SourceLocation());
  app->add_option("--warehouse", o->warehouse,
                  "PostgreSQL connection URI (postgresql://user@host:port/db); default: $LOADSTAR_WAREHOUSE, "
                  "then the PG* variables. Keep passwords in PGPASSWORD or ~/.pgpass");
  app->add_option("--schema", o->schema, "schema that holds the tables (created if missing)")->capture_default_str();
  app->add_option_function<std::string>(
         "--dialect",
         [o](const std::string& v) {
           if (v == "auto") o->dialect.reset();
           if (v == "postgres") o->dialect = Dialect::kPostgres;
           if (v == "redshift") o->dialect = Dialect::kRedshift;
         },
         "the warehouse's engine: auto (from its version()), postgres or redshift; naming one the server is not "
         "is an error. redshift also makes sslmode=require the default")
      ->check(CLI::IsMember({"auto", "postgres", "redshift"}))
      ->default_str("auto");
  app->add_option("--staging", o->staging,
                  "Redshift: the S3 prefix workers write the parts to, s3://bucket/prefix/ (they are removed after "
                  "the run commits); default: $LOADSTAR_STAGING")
      ->envname("LOADSTAR_STAGING");
  app->add_option("--iam-role", o->iam_role,
                  "Redshift: the ARN of the IAM role, associated with the cluster, that its COPY reads the staging "
                  "prefix with; default: $LOADSTAR_IAM_ROLE")
      ->envname("LOADSTAR_IAM_ROLE");
  app->add_option("--region", o->region, "Redshift: the staging bucket's region; default: $AWS_REGION");
  app->add_option("--slices", o->slices,
                  "Redshift: make each table's parts a multiple of this many (the cluster's slices; 0: ask the "
                  "cluster)")
      ->capture_default_str()
      ->check(Between(0, 65536));
  app->add_flag("--keep-staging", o->keep_staging, "Redshift: keep the run's parts in S3 after it commits");
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
  app->add_option("--task-bytes", o->task_bytes,
                  "byte budget of one task (small files share a task); default: 8 MiB, for Redshift 32 MiB (its "
                  "parts should be at least 1 MB compressed)")
      ->check(Between(1, kMax));
  app->add_option("--task-files", o->task_files, "most files in one task; default: 1000, for Redshift 20000")
      ->check(Between(1, kMax));
  app->add_option("--max-record-bytes", o->max_record_bytes, "records longer than this are rejected (at most 1 GiB)")
      ->capture_default_str()
      ->check(Between(1, int64_t{1} << 30));
  app->add_option("--max-attempts", o->max_attempts, "attempts per task before the run fails")->capture_default_str()
      ->check(Between(1, 100));
}

// Usage errors that need more than one flag; "" when there are none.
std::string CheckCoordinatorOptions(const coordinator::CoordinatorOptions& o) {
  if (!o.since.empty() && !o.until.empty() && o.since > o.until) {
    return "--since " + o.since + " is after --until " + o.until;
  }
  return "";
}

// Runs `run` or `coordinator` once its flags are parsed.
int RunParsed(CLI::App* cmd, RunFlags* flags, StopToken stop) {
  if (std::string error = CheckCoordinatorOptions(flags->run.coordinator); !error.empty()) {
    std::fprintf(stderr, "loadstar %s: %s\n", cmd->get_name().c_str(), error.c_str());
    return 2;
  }
  if (std::string error = ResolveCoordinatorKeys(flags->keys, &flags->run, flags->is_run); !error.empty()) {
    std::fprintf(stderr, "loadstar %s: %s\n", cmd->get_name().c_str(), error.c_str());
    return 2;
  }
  ApplyLogFlags(flags->log, "coordinator");
  // The progress view: live on a terminal, log lines otherwise. On a live view only warnings and
  // errors are logged (the view shows the rest) unless --log-level says otherwise; --quiet leaves
  // errors alone.
  flags->run.progress = coordinator::ChooseProgressMode(flags->quiet, flags->log.format == "json");
  if (flags->quiet) {
    log::SetLevel(log::Level::kError);
  } else if (flags->run.progress == coordinator::ProgressMode::kTerminal && cmd->count("--log-level") == 0) {
    log::SetLevel(log::Level::kWarn);
  }
  WarnOfPasswordOnCommandLine(cmd);
  flags->run.coordinator.warehouse = ResolveWarehouse(flags->run.coordinator.warehouse);
  return coordinator::RunCommand(flags->run, stop);
}

}  // namespace

std::function<int()> AddRunCommand(CLI::App* cmd, StopToken stop, std::string self_binary) {
  auto flags = std::make_shared<RunFlags>();
  flags->run.coordinator.listen = "tcp://127.0.0.1:*";
  flags->run.workers = 4;
  flags->run.self_binary = std::move(self_binary);
  flags->is_run = true;
  AddCoordinatorFlags(cmd, &flags->run.coordinator);
  cmd->add_option("--workers", flags->run.workers, "worker processes to start on this machine (0: only remote ones)")
      ->capture_default_str()
      ->check(Between(0, 1024, "only remote workers"));
  cmd->add_option("--worker-concurrency", flags->run.worker_concurrency, "tasks each worker stages at once")
      ->capture_default_str()
      ->check(Between(1, 1024));
  cmd->add_option("--listen", flags->run.coordinator.listen,
                  "where workers connect; remote workers need a reachable address, e.g. tcp://*:5570. A peer "
                  "that sends a message over 16 MiB (ZMQ_MAXMSGSIZE) is disconnected; worker names are at most "
                  "256 bytes")
      ->capture_default_str()
      ->check(ListenEndpoint());
  AddCoordinatorKeyFlags(cmd, &flags->keys, /*run=*/true);
  AddMonitorFlags(cmd, &flags->run, &flags->quiet);
  AddLogFlags(cmd, &flags->log);
  cmd->footer("Example:\n  loadstar run --songs s3://sparkify/song_data/ --events s3://sparkify/log_data/ \\\n"
              "      --warehouse postgresql://loader@db:5432/analytics --schema sparkify --workers 4");
  return [cmd, flags, stop] { return RunParsed(cmd, flags.get(), stop); };
}

std::function<int()> AddCoordinatorCommand(CLI::App* cmd, StopToken stop) {
  auto flags = std::make_shared<RunFlags>();
  flags->run.workers = 0;
  AddCoordinatorFlags(cmd, &flags->run.coordinator);
  cmd->add_option("--listen", flags->run.coordinator.listen,
                  "ZeroMQ endpoint workers connect to. A peer that sends a message over 16 MiB (ZMQ_MAXMSGSIZE) "
                  "is disconnected; worker names are at most 256 bytes")
      ->capture_default_str()
      ->check(ListenEndpoint());
  AddCoordinatorKeyFlags(cmd, &flags->keys, /*run=*/false);
  AddMonitorFlags(cmd, &flags->run, &flags->quiet);
  AddLogFlags(cmd, &flags->log);
  cmd->footer("Example (keys from `loadstar keygen`; workers.txt lists each worker's .pub line):\n"
              "  loadstar coordinator --listen tcp://*:5570 --key-file ~/.loadstar/coordinator.key \\\n"
              "      --authorized-keys workers.txt --songs s3://sparkify/song_data/ --events s3://sparkify/log_data/");
  return [cmd, flags, stop] { return RunParsed(cmd, flags.get(), stop); };
}

std::function<int()> AddWorkerCommand(CLI::App* cmd, StopToken stop) {
  struct WorkerFlags {
    worker::WorkerOptions worker;
    KeyFlags keys;
    double give_up_s = 0;
    LogFlags log;
  };
  auto flags = std::make_shared<WorkerFlags>();
  worker::WorkerOptions& w = flags->worker;
  cmd->add_option("--connect", w.connect,
                  "the coordinator: tcp://HOST:PORT (messages over 16 MiB, ZMQ_MAXMSGSIZE, drop the connection)")
      ->required();
  cmd->add_option("--warehouse", w.warehouse,
                  "PostgreSQL connection URI; default: $LOADSTAR_WAREHOUSE, then the PG* variables");
  cmd->add_option("--schema", w.schema, "refuse tasks for any other schema (default: the coordinator's)");
  cmd->add_flag("--s3-staging-only", w.s3_staging_only,
                "only write parts to the S3 staging prefix (for Redshift): never connect to the warehouse, and "
                "refuse tasks that would");
  cmd->add_option("--name", w.name, "name shown in progress and status views (default: host/pid)");
  cmd->add_option("--concurrency", w.concurrency, "tasks staged at once")->capture_default_str()
      ->check(Between(1, 1024));
  cmd->add_option("--fetch-concurrency", w.fetch_concurrency, "transfers in flight per task")
      ->capture_default_str()
      ->check(Between(1, 1024));
  cmd->add_option("--stream-above", w.stream_above_bytes,
                  "event files larger than this many bytes are streamed, a piece at a time, instead of "
                  "held in memory whole")
      ->capture_default_str()
      ->check(Between(0, std::numeric_limits<int64_t>::max()));
  cmd->add_option("--give-up-after", flags->give_up_s, "exit when no coordinator answers for this many seconds (0: never)")
      ->capture_default_str()
      ->check(NonNegativeSeconds());
  cmd->add_option("--key-file", flags->keys.key_file,
                  std::string("this worker's CURVE secret key file (from `loadstar keygen`); default: $") +
                      kSecretKeyFileEnv + ", then the key itself in $" + kSecretKeyEnv);
  cmd->add_option("--coordinator-key", flags->keys.coordinator_key,
                  std::string("the coordinator's public key: its .pub file, or the Z85 key itself; default: $") +
                      kCoordinatorKeyEnv);
  cmd->add_flag("--insecure-plaintext", flags->keys.insecure_plaintext, kPlaintextHelp);
  AddLogFlags(cmd, &flags->log);
  return [cmd, flags, stop]() -> int {
    worker::WorkerOptions options = flags->worker;
    if (std::string error = ResolveWorkerKeys(flags->keys, &options); !error.empty()) {
      std::fprintf(stderr, "loadstar worker: %s\n", error.c_str());
      return 2;
    }
    ApplyLogFlags(flags->log, options.name.empty() ? "worker" : options.name);
    WarnOfPasswordOnCommandLine(cmd);
    options.warehouse = ResolveWarehouse(options.warehouse);
    options.give_up_after = std::chrono::milliseconds(static_cast<int64_t>(flags->give_up_s * 1000));
    Status s = worker::RunWorker(options, stop);
    if (!s.ok()) {
      std::fprintf(stderr, "loadstar worker: %s\n", s.message().c_str());
      return s.code() == StatusCode::kCancelled ? 130 : 1;
    }
    return 0;
  };
}

}  // namespace loadstar::cli
