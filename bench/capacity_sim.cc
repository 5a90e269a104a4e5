// Many simulated workers in one process, for measuring what one coordinator can serve
// (bench/capacity.sh starts a few of these against a real `loadstar coordinator`).
//
//   loadstar_capacity_sim --connect tcp://127.0.0.1:PORT --warehouse URI --sockets 250
//       [--process 0] [--credit 2] [--stagers 2] [--heartbeat-ms 1000] [--accounts FILE]
//       [--window-from EPOCH_MS] [--go-at EPOCH_MS] [--deadline-at EPOCH_MS]
//   loadstar_capacity_sim --prestage RUN_ID --songs file:///DIR/ --warehouse URI --schema S
//       --accounts FILE [--stagers 2]
//
// Each simulated worker is one DEALER socket (common/transport, plaintext: loopback only) with
// a routing id and a name of its own, served by a thread of its own, and speaks the protocol as
// `loadstar worker` does: READY with its name and credit, a heartbeat whenever it has sent
// nothing for a heartbeat interval, a TaskResult with every file's account once the task's
// staging transaction has committed, READY again on REANNOUNCE, and it stops on SHUTDOWN or
// REFUSE. What it does not do is stage on a connection of its own: the process's tasks go to a
// few staging threads (--stagers), each with one warehouse connection, which stage them with
// the worker's own stager (worker::MakeStager: the same COPYs and ledger rows as a real worker).
// So the coordinator sees 1,000 workers while the warehouse sees a handful of connections.
//
// To find the coordinator's own ceiling, the staging can be taken out of the way: --prestage
// stages every file under --songs for run RUN_ID ahead of time (the same stager, 500 files a
// transaction) and writes each file's account to --accounts; workers started with --accounts
// FILE then answer every task at once with those accounts. The ledger holds exactly what they
// report, so the coordinator's checks pass, and what is left to measure is the coordinator.
//
// Phases, by wall-clock time so that several processes move together:
//   before --go-at   every worker says READY with credit 0: registered and heartbeating, but
//                    leased nothing (the coordinator's idle load). Messages counted between
//                    --window-from and --go-at are reported as the heartbeat window.
//   from --go-at     every worker says READY again with --credit and is leased tasks.
//   --deadline-at    every socket thread stops (a run not finished by then is a failure); a
//                    watchdog ends the process 15 s later whatever it is doing.
//
// It writes one JSON object of counts to stdout and exits 0 when every worker was told the run
// is over (SHUTDOWN) and none was refused, 1 otherwise, 2 on a usage error.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/core/log.h"
#include "common/core/uri.h"
#include "common/storage/object_store.h"
#include "common/transport/transport.h"
#include "common/warehouse/warehouse.h"
#include "worker/parse/record_parser.h"
#include "worker/stager.h"

namespace loadstar::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string connect;
  std::string warehouse;
  int sockets = 250;
  int process = 0;  // names and routing ids are unique per process index
  uint32_t credit = 2;
  int stagers = 2;
  std::chrono::milliseconds heartbeat{1000};
  uint32_t liveness = 3;
  int64_t window_from_ms = 0;  // wall clock, ms since the epoch; 0: now
  int64_t go_at_ms = 0;        // 0: now (no idle phase)
  int64_t deadline_at_ms = 0;  // required
  std::string accounts;        // answer from these accounts instead of staging
  int64_t prestage_run = 0;    // --prestage: stage every file of --songs for this run
  std::string songs;
  std::string schema;
};

// What the ledger holds for one pre-staged file.
struct Account {
  uint64_t bytes = 0, records = 0, staged = 0, rejected = 0;
};
using Accounts = std::unordered_map<std::string, Account>;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What one simulated worker saw. Written by its own thread only, read after it has ended.
struct SocketStats {
  uint64_t sent = 0, received = 0;  // every envelope
  uint64_t heartbeats_sent = 0, heartbeats_received = 0;
  uint64_t window_sent = 0, window_received = 0;  // between --window-from and --go-at
  uint64_t tasks = 0, results_ok = 0, results_failed = 0, results_dropped = 0;
  uint64_t readies = 0, reannounces = 0;
  uint64_t silences = 0;  // times the coordinator was silent for `liveness` intervals
  int64_t first_task_ms = 0, last_result_ms = 0;
  bool shutdown = false;
  std::string refused;  // the reason, if refused
  std::string error;    // a transport error that ended the thread
};

// Results from the staging threads to one socket thread, with an eventfd to wake it.
class Mailbox {
 public:
  Mailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Mailbox() {
    if (fd_ >= 0) close(fd_);
  }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;
  int fd() const { return fd_; }

  void Push(uint64_t generation, wire::TaskResult result) {
    {
      std::lock_guard lock(mu_);
      done_.emplace_back(generation, std::move(result));
    }
    uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
  }
  std::vector<std::pair<uint64_t, wire::TaskResult>> Take() {
    uint64_t n;
    (void)!read(fd_, &n, sizeof n);
    std::lock_guard lock(mu_);
    std::vector<std::pair<uint64_t, wire::TaskResult>> out(std::make_move_iterator(done_.begin()),
                                                          std::make_move_iterator(done_.end()));
    done_.clear();
    return out;
  }

 private:
  const int fd_;
  std::mutex mu_;
  std::deque<std::pair<uint64_t, wire::TaskResult>> done_;  // guarded by mu_
};

struct StageJob {
  Mailbox* reply_to;
  uint64_t generation;
  wire::Task task;
};

// Tasks from every socket thread of the process to its staging threads, first come first served.
class StageQueue {
 public:
  void Push(StageJob job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  bool Pop(StageJob* out) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
    if (jobs_.empty()) return false;
    *out = std::move(jobs_.front());
    jobs_.pop_front();
    return true;
  }
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      jobs_.clear();
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StageJob> jobs_;  // guarded by mu_
  bool closed_ = false;        // guarded by mu_
};

struct StagerStats {
  uint64_t tasks = 0, failed = 0, files = 0;
  double busy_s = 0;
  std::string first_error;
};

// One staging thread: its own warehouse connection and parser, the worker's stager, files read
// through the product's object store.
class Stager {
 public:
  Stager(const Options& options, StageQueue* queue) : options_(options), queue_(queue) {}

  void Run() {
    // Like the worker's executors: staging yields the CPU to the socket threads.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 5);
    StageJob job;
    while (queue_->Pop(&job)) {
      auto start = Clock::now();
      wire::TaskResult result;
      Status s = Stage(job.task, &result);
      result.set_task_id(job.task.task_id());
      result.set_attempt(job.task.attempt());
      result.set_ok(s.ok());
      if (!s.ok()) {
        result.clear_files();
        result.set_error(s.message());
        result.set_retryable(IsRetryable(s));
        ++stats_.failed;
        if (stats_.first_error.empty()) stats_.first_error = s.message();
        if (!wh_ || !wh_->healthy()) wh_.reset();
      } else {
        ++stats_.tasks;
        stats_.files += static_cast<uint64_t>(job.task.files_size());
      }
      const auto took = Clock::now() - start;
      stats_.busy_s += std::chrono::duration<double>(took).count();
      result.set_elapsed_us(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
      job.reply_to->Push(job.generation, std::move(result));
    }
  }

  const StagerStats& stats() const { return stats_; }

 private:
  Status Stage(const wire::Task& task, wire::TaskResult* result) {
    if (!wh_ || wh_->schema() != task.schema()) {
      WarehouseOptions wo;
      wo.conninfo = options_.warehouse;
      wo.schema = task.schema();
      wo.application_name = "loadstar-capacity-sim";
      LOADSTAR_ASSIGN_OR_RETURN(wh_, Warehouse::Connect(wo));
    }
    if (!parser_ || parser_max_ != task.max_record_bytes()) {
      worker::ParserOptions po;
      if (task.max_record_bytes() > 0) po.max_record_bytes = task.max_record_bytes();
      parser_ = std::make_unique<worker::RecordParser>(po);
      parser_max_ = task.max_record_bytes();
    }
    std::vector<worker::FetchedFile> files(task.files_size());
    std::vector<std::string> keys(task.files_size());
    for (int i = 0; i < task.files_size(); ++i) {
      const wire::FileRef& ref = task.files(i);
      worker::FetchedFile& f = files[i];
      f.uri = ref.uri();
      LOADSTAR_ASSIGN_OR_RETURN(f.kind, transport::FromWire(ref.kind()));
      f.etag = ref.etag();
      f.size = ref.size();
      LOADSTAR_ASSIGN_OR_RETURN(Uri uri, ParseUri(ref.uri()));
      if (!uri.is_file()) return Status::InvalidArgument("the capacity simulator reads file:// only, not " + f.uri);
      if (!store_) {
        LOADSTAR_ASSIGN_OR_RETURN(store_, OpenObjectStore(uri));
      }
      keys[i] = uri.path;
    }
    Status fetched;
    store_->GetMany(keys, 16, [&](size_t i, Result<std::string> body) {
      if (!body.ok()) {
        if (fetched.ok()) fetched = body.status().WithContext("fetching " + files[i].uri);
        return;
      }
      files[i].body = std::move(body).value();
    });
    LOADSTAR_RETURN_IF_ERROR(fetched);
    worker::StagerOptions so;
    if (task.max_record_bytes() > 0) so.max_record_bytes = task.max_record_bytes();
    LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<worker::Stager> stager, worker::MakeStager(wh_.get(), parser_.get(), so));
    LOADSTAR_ASSIGN_OR_RETURN(std::vector<worker::FileOutcome> outcomes, stager->StageTask(task.run_id(), files));
    for (const auto& o : outcomes) {
      wire::FileAccount* acc = result->add_files();
      acc->set_uri(o.uri);
      acc->set_bytes(o.bytes);
      acc->set_records(o.records);
      acc->set_staged(o.staged);
      acc->set_rejected(o.rejected);
    }
    return Status::Ok();
  }

  const Options& options_;
  StageQueue* const queue_;
  std::unique_ptr<Warehouse> wh_;
  std::unique_ptr<worker::RecordParser> parser_;
  uint64_t parser_max_ = 0;
  std::unique_ptr<ObjectStore> store_;
  StagerStats stats_;
};

wire::Envelope Ready(const std::string& name, uint32_t credit) {
  wire::Envelope env;
  env.mutable_ready()->set_worker_name(name);
  env.mutable_ready()->set_credit(credit);
  return env;
}

// The result of a task whose files were pre-staged: their accounts as the ledger holds them.
wire::TaskResult AnswerFromAccounts(const wire::Task& task, const Accounts& accounts) {
  wire::TaskResult r;
  r.set_task_id(task.task_id());
  r.set_attempt(task.attempt());
  r.set_ok(true);
  for (const wire::FileRef& ref : task.files()) {
    auto it = accounts.find(ref.uri());
    if (it == accounts.end()) {
      r.clear_files();
      r.set_ok(false);
      r.set_error(ref.uri() + " was not pre-staged");
      return r;
    }
    wire::FileAccount* acc = r.add_files();
    acc->set_uri(ref.uri());
    acc->set_bytes(it->second.bytes);
    acc->set_records(it->second.records);
    acc->set_staged(it->second.staged);
    acc->set_rejected(it->second.rejected);
  }
  return r;
}

// One simulated worker: its socket loop, the same as `loadstar worker`'s apart from where tasks
// are staged, until SHUTDOWN, REFUSE or the deadline.
void RunSocket(const Options& o, int index, const std::string& identity, const Accounts* accounts,
               StageQueue* queue, Mailbox* box, SocketStats* st) {
  const std::string name = "capacity-sim/p" + std::to_string(o.process) + "/w" + std::to_string(index);
  auto dealer = transport::Dealer::Connect(o.connect, identity);
  if (!dealer.ok()) {
    st->error = dealer.status().message();
    return;
  }
  transport::Dealer& d = **dealer;
  const auto start = Clock::now();
  auto last_sent = start, last_heard = start;
  bool went = o.go_at_ms <= NowMs();
  bool silent = false;
  uint64_t generation = 1;
  auto in_window = [&](int64_t now_ms) { return now_ms >= o.window_from_ms && now_ms < o.go_at_ms; };
  auto send = [&](wire::Envelope env, bool heartbeat) {
    if (!d.Send(std::move(env)).ok()) return;
    last_sent = Clock::now();
    ++st->sent;
    if (heartbeat) ++st->heartbeats_sent;
    if (in_window(NowMs())) ++st->window_sent;
  };
  send(Ready(name, went ? o.credit : 0), false);
  ++st->readies;

  for (;;) {
    int64_t now_ms = NowMs();
    if (now_ms >= o.deadline_at_ms) {
      st->error = "the deadline passed before the coordinator said the run was over";
      return;
    }
    auto timeout = o.heartbeat / 2;
    if (!went) timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(o.go_at_ms - now_ms));
    timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(o.deadline_at_ms - now_ms));
    auto wait = d.Receive(std::max(timeout, std::chrono::milliseconds(0)), box->fd());
    if (!wait.ok()) {
      st->error = wait.status().message();
      return;
    }
    const auto now = Clock::now();
    now_ms = NowMs();
    if (wait->woken) {
      for (auto& [gen, result] : box->Take()) {
        if (gen != generation) {
          ++st->results_dropped;  // leased before a REANNOUNCE: the coordinator leased it again
          continue;
        }
        const bool ok = result.ok();
        wire::Envelope env;
        *env.mutable_result() = std::move(result);
        send(std::move(env), false);
        ++(ok ? st->results_ok : st->results_failed);
        st->last_result_ms = now_ms;
      }
    }
    if (wait->message) {
      last_heard = now;
      silent = false;
      ++st->received;
      if (in_window(now_ms)) ++st->window_received;
      const wire::Envelope& env = wait->message->envelope;
      if (env.has_task()) {
        ++st->tasks;
        if (st->first_task_ms == 0) st->first_task_ms = now_ms;
        if (accounts == nullptr) {
          queue->Push({box, generation, env.task()});
        } else {
          wire::Envelope reply;
          *reply.mutable_result() = AnswerFromAccounts(env.task(), *accounts);
          const bool ok = reply.result().ok();
          send(std::move(reply), false);
          ++(ok ? st->results_ok : st->results_failed);
          st->last_result_ms = NowMs();
        }
      } else if (env.has_heartbeat()) {
        ++st->heartbeats_received;
      } else if (env.has_shutdown()) {
        st->shutdown = true;
        return;
      } else if (env.has_reannounce()) {
        ++st->reannounces;
        ++generation;
        send(Ready(name, went ? o.credit : 0), false);
        ++st->readies;
      } else if (env.has_refuse()) {
        st->refused = env.refuse().reason();
        return;
      }
    }
    if (!went && now_ms >= o.go_at_ms) {
      went = true;
      send(Ready(name, o.credit), false);
      ++st->readies;
    }
    if (now - last_sent >= o.heartbeat) {
      wire::Envelope hb;
      hb.mutable_heartbeat();
      send(std::move(hb), true);
    }
    // A real worker reconnects here; the simulator counts it (a figure worth reporting: the
    // coordinator fell behind its heartbeats) and keeps its connection.
    if (!silent && now - last_heard > o.heartbeat * o.liveness) {
      silent = true;
      ++st->silences;
    }
  }
}

std::string JsonText(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Stages every file under o.songs for run o.prestage_run through the staging threads, 500 files
// a task, and writes each file's account to o.accounts: "uri\tbytes\trecords\tstaged\trejected".
int Prestage(const Options& o) {
  auto uri = ParseUri(o.songs);
  if (!uri.ok() || !uri->is_file()) {
    std::fprintf(stderr, "loadstar_capacity_sim: --songs must be a file:// URI\n");
    return 2;
  }
  auto store = OpenObjectStore(*uri);
  if (!store.ok()) {
    std::fprintf(stderr, "loadstar_capacity_sim: %s\n", store.status().message().c_str());
    return 1;
  }
  std::vector<wire::FileRef> refs;
  Status listed = (*store)->List(uri->path, [&](ObjectInfo info) {
    if (info.key.size() > 5 && info.key.compare(info.key.size() - 5, 5, ".json") == 0) {
      wire::FileRef ref;
      ref.set_uri("file://" + info.key);
      ref.set_size(info.size);
      ref.set_etag(info.etag);
      ref.set_kind(wire::FILE_KIND_SONG);
      refs.push_back(std::move(ref));
    }
    return Status::Ok();
  });
  if (!listed.ok()) {
    std::fprintf(stderr, "loadstar_capacity_sim: listing %s: %s\n", o.songs.c_str(), listed.message().c_str());
    return 1;
  }
  const auto start = Clock::now();
  StageQueue queue;
  Mailbox box;
  std::vector<std::unique_ptr<Stager>> stagers;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.stagers; ++i) {
    stagers.push_back(std::make_unique<Stager>(o, &queue));
    threads.emplace_back([s = stagers.back().get()] { s->Run(); });
  }
  constexpr size_t kChunk = 500;
  size_t chunks = 0;
  for (size_t first = 0; first < refs.size(); first += kChunk, ++chunks) {
    wire::Task task;
    task.set_task_id(chunks);
    task.set_attempt(1);
    task.set_run_id(o.prestage_run);
    task.set_schema(o.schema);
    for (size_t i = first; i < std::min(refs.size(), first + kChunk); ++i) *task.add_files() = refs[i];
    queue.Push({&box, 1, std::move(task)});
  }
  std::string out;
  std::string error;
  for (size_t done = 0; done < chunks;) {
    pollfd p{box.fd(), POLLIN, 0};
    (void)poll(&p, 1, 1000);
    for (auto& [generation, result] : box.Take()) {
      ++done;
      if (!result.ok()) {
        if (error.empty()) error = result.error();
        continue;
      }
      for (const wire::FileAccount& a : result.files()) {
        out += a.uri() + '\t' + std::to_string(a.bytes()) + '\t' + std::to_string(a.records()) + '\t' +
               std::to_string(a.staged()) + '\t' + std::to_string(a.rejected()) + '\n';
      }
    }
  }
  queue.Close();
  for (auto& t : threads) t.join();
  if (!error.empty()) {
    std::fprintf(stderr, "loadstar_capacity_sim: pre-staging failed: %s\n", error.c_str());
    return 1;
  }
  FILE* f = std::fopen(o.accounts.c_str(), "w");
  if (f == nullptr || std::fwrite(out.data(), 1, out.size(), f) != out.size() || std::fclose(f) != 0) {
    std::fprintf(stderr, "loadstar_capacity_sim: cannot write %s\n", o.accounts.c_str());
    return 1;
  }
  std::printf("{\"files\": %zu, \"transactions\": %zu, \"seconds\": %.3f}\n", refs.size(), chunks,
              std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

// Reads what Prestage wrote.
Result<Accounts> ReadAccounts(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return Status::NotFound("cannot open " + path);
  Accounts accounts;
  char line[8192];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    char* tab = std::strchr(line, '\t');
    if (tab == nullptr) continue;
    Account a;
    if (std::sscanf(tab + 1, "%" SCNu64 "\t%" SCNu64 "\t%" SCNu64 "\t%" SCNu64, &a.bytes, &a.records, &a.staged, &a.rejected) != 4) continue;
    accounts.emplace(std::string(line, tab), a);
  }
  std::fclose(f);
  return accounts;
}

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "loadstar_capacity_sim: %s\nusage: loadstar_capacity_sim --connect tcp://127.0.0.1:PORT --warehouse URI "
               "--deadline-at EPOCH_MS [--sockets N] [--process I] [--credit C] [--stagers K] [--heartbeat-ms MS] "
               "[--window-from EPOCH_MS] [--go-at EPOCH_MS] [--accounts FILE]\n"
               "       loadstar_capacity_sim --prestage RUN_ID --songs file:///DIR/ --warehouse URI --schema S "
               "--accounts FILE [--stagers K]\n",
               why.c_str());
  return 2;
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return Usage(flag + " needs a value");
    const std::string value = argv[++i];
    char* end = nullptr;
    const long long n = std::strtoll(value.c_str(), &end, 10);
    const bool number = !value.empty() && *end == '\0' && n >= 0;
    if (flag == "--connect") {
      o.connect = value;
    } else if (flag == "--warehouse") {
      o.warehouse = value;
    } else if (flag == "--accounts") {
      o.accounts = value;
    } else if (flag == "--songs") {
      o.songs = value;
    } else if (flag == "--schema") {
      o.schema = value;
    } else if (!number) {
      return Usage(flag + " takes a whole number, not '" + value + "'");
    } else if (flag == "--sockets") {
      o.sockets = static_cast<int>(n);
    } else if (flag == "--process") {
      o.process = static_cast<int>(n);
    } else if (flag == "--credit") {
      o.credit = static_cast<uint32_t>(n);
    } else if (flag == "--stagers") {
      o.stagers = static_cast<int>(n);
    } else if (flag == "--heartbeat-ms") {
      o.heartbeat = std::chrono::milliseconds(n);
    } else if (flag == "--window-from") {
      o.window_from_ms = n;
    } else if (flag == "--go-at") {
      o.go_at_ms = n;
    } else if (flag == "--deadline-at") {
      o.deadline_at_ms = n;
    } else if (flag == "--prestage") {
      o.prestage_run = n;
    } else {
      return Usage("unknown flag " + flag);
    }
  }
  if (o.prestage_run > 0) {
    if (o.songs.empty() || o.schema.empty() || o.accounts.empty() || o.stagers < 1) {
      return Usage("--prestage needs --songs, --schema and --accounts");
    }
    log::SetLevel(log::Level::kWarn);
    return Prestage(o);
  }
  if (o.connect.empty()) return Usage("--connect is required");
  if (o.deadline_at_ms <= NowMs()) return Usage("--deadline-at must be in the future");
  if (o.sockets < 1 || o.sockets > 1000) return Usage("--sockets is 1 to 1000 (ZeroMQ's default socket limit is 1023)");
  if (o.stagers < 1 || o.credit < 1 || o.heartbeat.count() < 1) return Usage("--stagers, --credit and --heartbeat-ms must be positive");
  if (o.go_at_ms == 0) o.go_at_ms = NowMs();
  if (o.window_from_ms == 0) o.window_from_ms = o.go_at_ms;

  // Three descriptors a worker (its TCP connection, its ZeroMQ mailbox, its result eventfd), and
  // the soft limit is often 1,024: raise it to the hard limit.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < static_cast<rlim_t>(o.sockets) * 3 + 64) {
    std::fprintf(stderr, "loadstar_capacity_sim: %d sockets need about %d file descriptors; the limit is %llu\n",
                 o.sockets, o.sockets * 3 + 64, static_cast<unsigned long long>(files.rlim_cur));
    return 1;
  }
  log::SetComponent("capacity-sim-" + std::to_string(o.process));
  log::SetLevel(log::Level::kWarn);

  // Bounded whatever happens: past the deadline (and a grace for staging in progress) the
  // process ends.
  const int64_t hard_stop_ms = o.deadline_at_ms + 15'000;
  std::thread([hard_stop_ms] {
    while (NowMs() < hard_stop_ms) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::fprintf(stderr, "loadstar_capacity_sim: still running 15 s after the deadline; exiting\n");
    std::fflush(stderr);
    _exit(3);
  }).detach();

  Accounts accounts;
  if (!o.accounts.empty()) {
    auto read = ReadAccounts(o.accounts);
    if (!read.ok() || read->empty()) {
      std::fprintf(stderr, "loadstar_capacity_sim: no accounts in %s\n", o.accounts.c_str());
      return 1;
    }
    accounts = std::move(read).value();
  }
  std::mt19937_64 rng(std::random_device{}());
  StageQueue queue;
  std::vector<std::unique_ptr<Stager>> stagers;
  std::vector<std::thread> stager_threads;
  for (int i = 0; i < o.stagers; ++i) {
    stagers.push_back(std::make_unique<Stager>(o, &queue));
    stager_threads.emplace_back([s = stagers.back().get()] { s->Run(); });
  }
  std::vector<std::unique_ptr<Mailbox>> boxes;
  std::vector<SocketStats> stats(o.sockets);
  std::vector<std::thread> sockets;
  for (int i = 0; i < o.sockets; ++i) {
    char identity[64];
    std::snprintf(identity, sizeof identity, "cap-p%d-w%d-%012llx", o.process, i,
                  static_cast<unsigned long long>(rng() & 0xffffffffffffull));
    boxes.push_back(std::make_unique<Mailbox>());
    if (boxes.back()->fd() < 0) {
      std::fprintf(stderr, "loadstar_capacity_sim: eventfd: %s\n", std::strerror(errno));
      return 1;
    }
    sockets.emplace_back(RunSocket, std::cref(o), i, std::string(identity), o.accounts.empty() ? nullptr : &accounts,
                         &queue, boxes.back().get(), &stats[i]);
  }
  for (auto& t : sockets) t.join();
  queue.Close();
  for (auto& t : stager_threads) t.join();

  SocketStats sum;
  int shut_down = 0, refused = 0, failed = 0;
  std::map<std::string, int> errors;  // distinct messages, counted
  for (const SocketStats& s : stats) {
    sum.sent += s.sent;
    sum.received += s.received;
    sum.heartbeats_sent += s.heartbeats_sent;
    sum.heartbeats_received += s.heartbeats_received;
    sum.window_sent += s.window_sent;
    sum.window_received += s.window_received;
    sum.tasks += s.tasks;
    sum.results_ok += s.results_ok;
    sum.results_failed += s.results_failed;
    sum.results_dropped += s.results_dropped;
    sum.readies += s.readies;
    sum.reannounces += s.reannounces;
    sum.silences += s.silences;
    if (s.first_task_ms != 0 && (sum.first_task_ms == 0 || s.first_task_ms < sum.first_task_ms)) {
      sum.first_task_ms = s.first_task_ms;
    }
    sum.last_result_ms = std::max(sum.last_result_ms, s.last_result_ms);
    shut_down += s.shutdown ? 1 : 0;
    if (!s.refused.empty()) ++refused, ++errors["refused: " + s.refused];
    if (!s.error.empty()) ++failed, ++errors[s.error];
  }
  StagerStats staged;
  for (const auto& s : stagers) {
    staged.tasks += s->stats().tasks;
    staged.failed += s->stats().failed;
    staged.files += s->stats().files;
    staged.busy_s += s->stats().busy_s;
    if (staged.first_error.empty()) staged.first_error = s->stats().first_error;
  }
  std::string errors_json = "{";
  for (const auto& [text, count] : errors) {
    errors_json += (errors_json.size() > 1 ? ", " : "") + JsonText(text) + ": " + std::to_string(count);
  }
  errors_json += "}";
  std::printf(
      "{\"process\": %d, \"sockets\": %d, \"stagers\": %d, \"credit\": %u, \"shut_down\": %d, \"refused\": %d, "
      "\"failed\": %d, \"errors\": %s, \"sent\": %llu, \"received\": %llu, \"heartbeats_sent\": %llu, "
      "\"heartbeats_received\": %llu, \"window_from_ms\": %lld, \"window_to_ms\": %lld, \"window_sent\": %llu, "
      "\"window_received\": %llu, \"tasks\": %llu, \"results_ok\": %llu, \"results_failed\": %llu, "
      "\"results_dropped\": %llu, \"readies\": %llu, \"reannounces\": %llu, \"silences\": %llu, "
      "\"first_task_ms\": %lld, \"last_result_ms\": %lld, \"staged_tasks\": %llu, \"staged_files\": %llu, "
      "\"stage_failures\": %llu, \"stage_busy_s\": %.3f, \"first_stage_error\": %s}\n",
      o.process, o.sockets, o.stagers, o.credit, shut_down, refused, failed, errors_json.c_str(),
      static_cast<unsigned long long>(sum.sent), static_cast<unsigned long long>(sum.received),
      static_cast<unsigned long long>(sum.heartbeats_sent), static_cast<unsigned long long>(sum.heartbeats_received),
      static_cast<long long>(o.window_from_ms), static_cast<long long>(o.go_at_ms),
      static_cast<unsigned long long>(sum.window_sent), static_cast<unsigned long long>(sum.window_received),
      static_cast<unsigned long long>(sum.tasks), static_cast<unsigned long long>(sum.results_ok),
      static_cast<unsigned long long>(sum.results_failed), static_cast<unsigned long long>(sum.results_dropped),
      static_cast<unsigned long long>(sum.readies), static_cast<unsigned long long>(sum.reannounces),
      static_cast<unsigned long long>(sum.silences), static_cast<long long>(sum.first_task_ms),
      static_cast<long long>(sum.last_result_ms), static_cast<unsigned long long>(staged.tasks),
      static_cast<unsigned long long>(staged.files), static_cast<unsigned long long>(staged.failed), staged.busy_s,
      JsonText(staged.first_error).c_str());
  std::fflush(stdout);
  return shut_down == o.sockets && refused == 0 ? 0 : 1;
}

}  // namespace
}  // namespace loadstar::bench

int main(int argc, char** argv) { return loadstar::bench::Main(argc, argv); }
