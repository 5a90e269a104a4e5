#include "coordinator/run_command.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "common/core/log.h"
#include "common/core/text.h"
#include "common/transport/curve.h"
#include "coordinator/monitor/monitor_server.h"

extern char** environ;

namespace loadstar::coordinator {
namespace {

// This process's log level as a --log-level value, for the workers it starts.
const char* LevelFlag() {
  if (log::Enabled(log::Level::kDebug)) return "debug";
  if (log::Enabled(log::Level::kInfo)) return "info";
  return log::Enabled(log::Level::kWarn) ? "warn" : "error";
}

// Local worker processes started by `loadstar run`. They die with this process (PDEATHSIG),
// and are reaped or killed when it is done with them.
class LocalWorkers {
 public:
  ~LocalWorkers() { StopAll(); }

  // Unless the run is plaintext: a key pair for each worker to come, made for this run only; the
  // coordinator's allow-list gets their public keys (before it binds), and a coordinator
  // without a key of its own gets one too.
  Status MakeKeys(RunCommandOptions* options) {
    if (options->coordinator.insecure_plaintext) return Status::Ok();
    CoordinatorOptions& c = options->coordinator;
    if (c.curve.secret_key.empty()) {
      LOADSTAR_ASSIGN_OR_RETURN(transport::KeyPair own, transport::GenerateKeyPair());
      c.curve.secret_key = own.secret_key;
    }
    LOADSTAR_ASSIGN_OR_RETURN(coordinator_key_, transport::PublicKeyOf(c.curve.secret_key));
    for (uint32_t i = 0; i < options->workers; ++i) {
      LOADSTAR_ASSIGN_OR_RETURN(transport::KeyPair keys, transport::GenerateKeyPair());
      c.curve.authorized_keys.push_back(keys.public_key);
      secrets_.push_back(std::move(keys.secret_key));
    }
    return Status::Ok();
  }

  // `stderr_fd` >= 0: the workers' stderr (a ProgressView's relay), else this process's.
  Status Start(const RunCommandOptions& options, const std::string& endpoint, int stderr_fd, bool s3_staging) {
    // The warehouse connection string may hold a password: hand it over in the environment,
    // never in argv where `ps` would show it.
    if (!s3_staging && !options.coordinator.warehouse.empty()) setenv("LOADSTAR_WAREHOUSE", options.coordinator.warehouse.c_str(), 1);
    std::string connect = endpoint;
    size_t star = connect.find("://0.0.0.0:");
    if (star != std::string::npos) connect.replace(star, 11, "://127.0.0.1:");
    for (uint32_t i = 1; i <= options.workers; ++i) {
      std::vector<std::string> args = {options.self_binary, "worker", "--connect", connect,
                                       "--name", "worker-" + std::to_string(i),
                                       "--concurrency", std::to_string(options.worker_concurrency),
                                       "--give-up-after", "60",
                                       "--log-level", LevelFlag()};
      // Workers that write parts to S3 have no business with the warehouse.
      if (s3_staging) args.push_back("--s3-staging-only");
      // A worker's secret key goes in its environment (readable by this user only, unlike argv);
      // the coordinator's public key may be on the command line.
      std::vector<std::string> env;
      for (char** e = environ; *e != nullptr; ++e) {
        if (std::strncmp(*e, "LOADSTAR_CURVE_", 15) != 0) env.emplace_back(*e);
      }
      if (options.coordinator.insecure_plaintext) {
        args.push_back("--insecure-plaintext");
      } else {
        args.insert(args.end(), {"--coordinator-key", coordinator_key_});
        env.push_back("LOADSTAR_CURVE_SECRET_KEY=" + secrets_.at(i - 1));
      }
      std::vector<char*> envp;
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      pid_t parent = getpid();
      pid_t pid = fork();
      if (pid < 0) return Status::Internal("cannot start worker processes: fork failed");
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        if (stderr_fd >= 0) dup2(stderr_fd, STDERR_FILENO);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execve(argv[0], argv.data(), envp.data());
        std::perror("loadstar: cannot start worker");
        _exit(127);
      }
      pids_.push_back(pid);
    }
    return Status::Ok();
  }

  // FailedPrecondition once every worker has exited (the run cannot finish without them).
  Status Check() {
    for (auto& pid : pids_) {
      if (pid <= 0) continue;
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        log::Warn("worker process " + std::to_string(pid) + " exited (" + Describe(status) + ")");
        pid = -1;
      }
    }
    for (pid_t pid : pids_) {
      if (pid > 0) return Status::Ok();
    }
    if (pids_.empty()) return Status::Ok();
    return Status::FailedPrecondition("every local worker process has exited; see their messages above");
  }

  // Gives workers told to shut down a moment to exit, then asks the rest to stop (SIGTERM) and
  // finally kills what is left.
  void StopAll() {
    auto start = std::chrono::steady_clock::now();
    bool termed = false;
    for (auto& pid : pids_) {
      if (pid <= 0) continue;
      int status = 0;
      while (waitpid(pid, &status, WNOHANG) == 0) {
        auto waited = std::chrono::steady_clock::now() - start;
        if (!termed && waited > std::chrono::seconds(1)) {
          for (pid_t p : pids_) {
            if (p > 0) kill(p, SIGTERM);
          }
          termed = true;
        }
        if (waited > std::chrono::seconds(6)) {
          kill(pid, SIGKILL);
          waitpid(pid, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      pid = -1;
    }
  }

 private:
  static std::string Describe(int status) {
    if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
  }
  std::vector<pid_t> pids_;
  std::string coordinator_key_;       // public
  std::vector<std::string> secrets_;  // one per worker
};

void PrintSummary(const RunSummary& s, const std::string& schema) {
  std::printf("\nrun %lld %s in %.1f s (schema %s)\n", static_cast<long long>(s.run_id),
              s.resumed ? "resumed and finished" : "finished", s.elapsed_s, schema.c_str());
  std::printf("  files listed %s, already loaded %s, not JSON %s", WithThousands(s.files_listed).c_str(),
              WithThousands(s.skipped_loaded).c_str(), WithThousands(s.ignored_not_json).c_str());
  if (s.outside_dates > 0) std::printf(", outside --since/--until %s", WithThousands(s.outside_dates).c_str());
  std::printf("\n");
  if (s.accounts.empty()) {
    std::printf("\n  nothing new to load: every listed file is already loaded\n");
  } else {
    std::printf("\n  %-8s %10s %14s %12s %12s %10s\n", "source", "files", "bytes", "records", "staged", "rejected");
  }
  for (const auto& a : s.accounts) {
    std::printf("  %-8s %10s %14s %12s %12s %10s\n", a.kind.c_str(), WithThousands(a.files).c_str(),
                WithThousands(a.bytes).c_str(), WithThousands(a.records).c_str(), WithThousands(a.staged).c_str(),
                WithThousands(a.rejected).c_str());
  }
  if (!s.part_sizes.empty()) std::printf("\n  staged parts: %s\n", s.part_sizes.c_str());
  std::printf("\n  %-10s %12s\n", "table", "rows");
  for (const auto& t : s.tables) std::printf("  %-10s %12s\n", t.table.c_str(), WithThousands(t.rows).c_str());
  std::fflush(stdout);
}

}  // namespace

uint32_t LocalWorkerLimit() {
  cpu_set_t cpus;
  long cores = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : sysconf(_SC_NPROCESSORS_ONLN);
  return static_cast<uint32_t>(std::max<long>(cores, 1)) * kLocalWorkersPerCore;
}

int RunCommand(const RunCommandOptions& options, StopToken stop) {
  if (options.workers > LocalWorkerLimit()) {
    std::fprintf(stderr,
                 "loadstar: --workers %u is more than this machine can run: at most %u local workers (%u per core). "
                 "To go wider, start `loadstar worker --connect ...` on more hosts\n",
                 options.workers, LocalWorkerLimit(), kLocalWorkersPerCore);
    return 2;
  }
  StatusBoard board;
  std::unique_ptr<MonitorServer> monitor;
  if (!options.metrics_listen.empty()) {
    auto address = ParseHostPort(options.metrics_listen);
    if (!address.ok()) {
      std::fprintf(stderr, "loadstar: --metrics-listen: %s\n", address.status().message().c_str());
      return 2;
    }
    MonitorServerOptions monitor_options;
    monitor_options.listen = *address;
    auto started = MonitorServer::Start(board, monitor_options);
    if (!started.ok()) {
      std::fprintf(stderr, "loadstar: %s\n", started.status().message().c_str());
      return 1;
    }
    monitor = std::move(started).value();
  }
  ProgressView view(options.progress);
  if (monitor != nullptr) {
    const std::string where = "metrics on " + monitor->url() + "/metrics; loadstar status --coordinator " +
                              HostPort{monitor->host(), monitor->port()}.ToString();
    // Worth seeing even on the live view, which logs warnings only: the port may have been 0.
    if (view.mode() == ProgressMode::kTerminal) {
      view.PrintAbove(where);
    } else {
      log::Info(where);
    }
  }
  if (view.mode() == ProgressMode::kTerminal) {
    // Log lines go above the live picture instead of tearing it.
    log::SetSink([&view](std::string_view line) { view.PrintAbove(line); });
  }

  RunCommandOptions run_options = options;
  LocalWorkers workers;
  if (Status keys = workers.MakeKeys(&run_options); !keys.ok()) {
    std::fprintf(stderr, "loadstar: %s\n", keys.message().c_str());
    return 1;
  }
  CoordinatorHooks hooks;
  Status start_status;
  if (options.workers > 0) {
    hooks.on_listening = [&](const std::string& endpoint, uint64_t tasks, bool s3_staging) {
      if (tasks > 0) start_status = workers.Start(run_options, endpoint, view.RelayFd(), s3_staging);
    };
    hooks.check = [&]() -> Status {
      LOADSTAR_RETURN_IF_ERROR(start_status);
      return workers.Check();
    };
  }
  hooks.board = &board;
  hooks.stop = stop;
  hooks.on_progress = [&](const StatusSnapshot& s) { view.Update(s); };
  auto result = RunCoordinator(run_options.coordinator, hooks);
  log::FlushThrottled();  // the last of any warnings held back, with their counts
  workers.StopAll();
  StatusSnapshot last = board.Read();
  if (!result.ok() && last.phase() != StatusSnapshot::FAILED) {
    // The run stopped before it could say so itself (e.g. the warehouse was unreachable).
    last.set_phase(StatusSnapshot::FAILED);
    last.set_error(result.status().message());
    board.Publish(last);
  }
  view.Finish(last);
  log::SetSink(nullptr);
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kCancelled) {
      std::fprintf(stderr, "loadstar: run stopped: %s\n", result.status().message().c_str());
      return 130;
    }
    std::fprintf(stderr, "loadstar: run failed: %s\n", result.status().message().c_str());
    return 1;
  }
  PrintSummary(result.value(), options.coordinator.schema);
  return 0;
}

}  // namespace loadstar::coordinator
