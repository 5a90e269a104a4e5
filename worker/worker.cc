#include "worker/worker.h"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "common/core/log.h"
#include "common/storage/object_store.h"
#include "common/transport/transport.h"
#include "common/warehouse/warehouse.h"
#include "worker/parse/record_parser.h"
#include "worker/part_stager.h"
#include "worker/stager.h"

namespace loadstar::worker {
namespace {

using Clock = std::chrono::steady_clock;

// How much nicer than the socket thread the executor threads run (Linux nice is per thread).
constexpr int kExecutorNice = 5;


std::string DefaultName() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "/pid-" + std::to_string(getpid());
}

std::string RandomIdentity() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  char buf[40];
  std::snprintf(buf, sizeof buf, "w-%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

struct Job {
  uint64_t generation;  // results of jobs from before a reconnect are dropped
  wire::Task task;
};

struct Done {
  uint64_t generation;
  wire::TaskResult result;
};

// Tasks flow from the socket thread to the executors through `jobs`; results come back through
// `done`, with an eventfd to wake the socket thread.
class Mailboxes {
 public:
  Mailboxes() : wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Mailboxes() { close(wake_fd_); }
  int wake_fd() const { return wake_fd_; }

  void PushJob(Job job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  // Blocks until a job arrives or Close(); false when closed and empty.
  bool PopJob(Job* out) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
    if (jobs_.empty()) return false;
    *out = std::move(jobs_.front());
    jobs_.pop_front();
    return true;
  }
  void DropJobs() {
    std::lock_guard lock(mu_);
    jobs_.clear();
  }
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  void PushDone(Done d) {
    {
      std::lock_guard lock(mu_);
      done_.push_back(std::move(d));
    }
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
  std::vector<Done> TakeDone() {
    uint64_t n;
    (void)!read(wake_fd_, &n, sizeof n);
    std::lock_guard lock(mu_);
    std::vector<Done> out(std::make_move_iterator(done_.begin()), std::make_move_iterator(done_.end()));
    done_.clear();
    return out;
  }

 private:
  const int wake_fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;    // guarded by mu_
  std::deque<Done> done_;   // guarded by mu_
  bool closed_ = false;     // guarded by mu_
};

// One executor thread: its own warehouse connection, parser and object stores.
class Executor {
 public:
  Executor(const WorkerOptions& options, Mailboxes* boxes) : options_(options), boxes_(boxes) {}

  void Run() {
    // Staging yields the CPU to this process's socket thread: heartbeats keep flowing while
    // tasks are busy, even on a machine with more workers than cores.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kExecutorNice);
    Job job;
    while (boxes_->PopJob(&job)) {
      auto start = Clock::now();
      wire::TaskResult result = Execute(job.task);
      result.set_task_id(job.task.task_id());
      result.set_attempt(job.task.attempt());
      result.set_elapsed_us(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
      boxes_->PushDone({job.generation, std::move(result)});
    }
  }

 private:
  wire::TaskResult Execute(const wire::Task& task) {
    wire::TaskResult result;
    Status s = Stage(task, &result);
    result.set_ok(s.ok());
    if (!s.ok()) {
      result.set_error(s.message());
      result.set_retryable(IsRetryable(s));
      result.clear_files();
      if (!wh_ || !wh_->healthy()) wh_.reset();  // reconnect for the next task
      if (result.retryable()) {
        // Give a transient fault (a restarting database, throttling) time to clear before the
        // coordinator leases the task again: 0.5 s, 1 s, 2 s, ... up to 8 s, jittered.
        uint32_t shift = std::min<uint32_t>(task.attempt() > 0 ? task.attempt() - 1 : 0, 4);
        auto base = std::chrono::milliseconds(500) * (1u << shift);
        std::uniform_int_distribution<int64_t> jitter(base.count() / 2, base.count());
        std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng_)));
      }
    }
    return result;
  }

  Status Stage(const wire::Task& task, wire::TaskResult* result) {
    if (!options_.schema.empty() && options_.schema != task.schema()) {
      return Status::InvalidArgument("this worker was started for schema '" + options_.schema +
                                     "' but the coordinator asked for '" + task.schema() + "'");
    }
    if (!task.staging().empty()) return StageToS3(task, result);
    if (options_.s3_staging_only) {
      return Status::FailedPrecondition("this worker was started with --s3-staging-only, but the coordinator asked "
                                        "it to stage into the warehouse");
    }
    if (!wh_ || wh_->schema() != task.schema()) {
      WarehouseOptions wo;
      wo.conninfo = options_.warehouse;
      wo.schema = task.schema();
      wo.application_name = "loadstar-worker";
      LOADSTAR_ASSIGN_OR_RETURN(wh_, Warehouse::Connect(wo));
    }
    EnsureParser(task);

    std::vector<FetchedFile> files(task.files_size());
    LOADSTAR_RETURN_IF_ERROR(Fetch(task, &files));
    StagerOptions so;
    if (task.max_record_bytes() > 0) so.max_record_bytes = task.max_record_bytes();
    LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<Stager> stager, MakeStager(wh_.get(), parser_.get(), so));
    LOADSTAR_ASSIGN_OR_RETURN(std::vector<FileOutcome> outcomes, stager->StageTask(task.run_id(), files));
    AddAccounts(outcomes, result);
    return Status::Ok();
  }

  // Fetches every file of the task, grouped by the store it lives in, many transfers at once.
  // A warehouse that loads from S3: the rows go to parts under the task's staging prefix.
  Status StageToS3(const wire::Task& task, wire::TaskResult* result) {
    LOADSTAR_ASSIGN_OR_RETURN(Uri staging, ParseUri(task.staging()));
    if (!staging.is_s3() || staging.path.empty() || staging.path.back() != '/') {
      return Status::InvalidArgument("the coordinator sent a staging prefix that is not s3://bucket/prefix/: " +
                                     task.staging());
    }
    LOADSTAR_ASSIGN_OR_RETURN(ObjectStore * store, StoreFor("s3://" + staging.bucket, staging));
    EnsureParser(task);
    std::vector<FetchedFile> files(task.files_size());
    LOADSTAR_RETURN_IF_ERROR(Fetch(task, &files));
    for (int i = 0; i < task.files_size(); ++i) files[i].file_id = task.files(i).file_id();
    StagerOptions so;
    if (task.max_record_bytes() > 0) so.max_record_bytes = task.max_record_bytes();
    PartTarget target;
    target.store = store;
    target.bucket = staging.bucket;
    target.key_prefix = staging.path + "task=" + std::to_string(task.task_id()) + "/attempt=" +
                        std::to_string(task.attempt()) + "/";
    target.task_id = task.task_id();
    target.attempt = task.attempt();
    target.worker = options_.name;
    S3PartStager stager(std::move(target), parser_.get(), so);
    LOADSTAR_ASSIGN_OR_RETURN(std::vector<FileOutcome> outcomes, stager.StageTask(task.run_id(), files));
    AddAccounts(outcomes, result);
    return Status::Ok();
  }

  void EnsureParser(const wire::Task& task) {
    // Parts for Redshift: a value wider than its VARCHAR(65535) is a reject, as for any warehouse
    // that cannot hold it.
    const uint64_t max_value = task.staging().empty() ? 0 : kMaxRedshiftFieldBytes;
    if (!parser_ || parser_max_ != task.max_record_bytes() || parser_max_value_ != max_value) {
      ParserOptions po;
      if (task.max_record_bytes() > 0) po.max_record_bytes = task.max_record_bytes();
      po.max_value_bytes = max_value;
      parser_ = std::make_unique<RecordParser>(po);
      parser_max_ = task.max_record_bytes();
      parser_max_value_ = max_value;
    }
  }

  static void AddAccounts(const std::vector<FileOutcome>& outcomes, wire::TaskResult* result) {
    for (const auto& o : outcomes) {
      wire::FileAccount* acc = result->add_files();
      acc->set_uri(o.uri);
      acc->set_bytes(o.bytes);
      acc->set_records(o.records);
      acc->set_staged(o.staged);
      acc->set_rejected(o.rejected);
    }
  }

  Status Fetch(const wire::Task& task, std::vector<FetchedFile>* files) {
    std::map<std::string, std::vector<size_t>> by_root;  // "s3://bucket" or "file://" -> file indexes
    std::vector<std::string> keys(task.files_size());
    std::map<std::string, Uri> roots;
    for (int i = 0; i < task.files_size(); ++i) {
      const wire::FileRef& ref = task.files(i);
      FetchedFile& f = (*files)[i];
      f.uri = ref.uri();
      LOADSTAR_ASSIGN_OR_RETURN(f.kind, transport::FromWire(ref.kind()));
      f.etag = ref.etag();
      f.size = ref.size();
      LOADSTAR_ASSIGN_OR_RETURN(Uri uri, ParseUri(ref.uri()));
      std::string root = uri.is_s3() ? "s3://" + uri.bucket : "file://";
      keys[i] = uri.path;
      by_root[root].push_back(i);
      roots.emplace(root, uri);
    }
    for (const auto& [root, indexes] : by_root) {
      ObjectStore* store = nullptr;
      LOADSTAR_ASSIGN_OR_RETURN(store, StoreFor(root, roots.at(root)));
      std::vector<std::string> batch;
      std::vector<size_t> fetched;  // indexes of the files fetched whole
      batch.reserve(indexes.size());
      for (size_t i : indexes) {
        FetchedFile& f = (*files)[i];
        if (f.kind == FileKind::kEvent && f.size > options_.stream_above_bytes) {
          f.store = store;  // staged a range at a time
          f.key = keys[i];
          continue;
        }
        batch.push_back(keys[i]);
        fetched.push_back(i);
      }
      Status first_error;
      store->GetMany(batch, options_.fetch_concurrency, [&](size_t j, Result<std::string> body) {
        if (!body.ok()) {
          if (first_error.ok()) first_error = body.status().WithContext("fetching " + (*files)[fetched[j]].uri);
          return;
        }
        (*files)[fetched[j]].body = std::move(body).value();
      });
      LOADSTAR_RETURN_IF_ERROR(first_error);
    }
    return Status::Ok();
  }

  Result<ObjectStore*> StoreFor(const std::string& root, const Uri& any_uri) {
    auto it = stores_.find(root);
    if (it != stores_.end()) return it->second.get();
    LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> store, OpenObjectStore(any_uri));
    ObjectStore* raw = store.get();
    stores_.emplace(root, std::move(store));
    return raw;
  }

  const WorkerOptions& options_;
  Mailboxes* const boxes_;
  std::unique_ptr<Warehouse> wh_;
  std::unique_ptr<RecordParser> parser_;
  uint64_t parser_max_ = 0;
  uint64_t parser_max_value_ = 0;
  std::map<std::string, std::unique_ptr<ObjectStore>> stores_;
  std::mt19937_64 rng_{std::random_device{}()};
};

wire::Envelope ReadyEnvelope(const std::string& name, uint32_t credit) {
  wire::Envelope env;
  env.mutable_ready()->set_worker_name(name);
  env.mutable_ready()->set_credit(credit);
  return env;
}

// Tells the coordinator, by this worker's name, that it cannot take part and why, so that the
// run's log and status say so too; waits a few seconds for its answer, then gives up quietly.
void TellCoordinatorUnfit(const WorkerOptions& options, const std::optional<transport::CurveClient>& curve,
                          const std::string& reason) {
  auto dealer = transport::Dealer::Connect(options.connect, RandomIdentity(), curve);
  if (!dealer.ok()) return;
  wire::Envelope env;
  env.mutable_unfit()->set_worker_name(options.name);
  env.mutable_unfit()->set_reason(reason);
  if (!(*dealer)->Send(env).ok()) return;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    auto wait = (*dealer)->Receive(std::chrono::milliseconds(200));
    if (!wait.ok() || wait->message || !wait->refused.empty()) return;
  }
}

}  // namespace

Status RunWorker(const WorkerOptions& options_in, StopToken stop) {
  WorkerOptions options = options_in;
  if (options.connect.empty()) return Status::InvalidArgument("--connect tcp://HOST:PORT is required");
  if (options.name.empty()) options.name = DefaultName();
  options.concurrency = std::max<uint32_t>(1, options.concurrency);
  const uint32_t credit = options.concurrency * 2;  // one staging, one fetched ahead, per executor
  std::optional<transport::CurveClient> curve;
  if (!options.insecure_plaintext) {
    if (options.curve.secret_key.empty() || options.curve.server_key.empty()) {
      return Status::InvalidArgument("this worker needs CURVE keys: its own (--key-file) and the coordinator's "
                                     "(--coordinator-key), or --insecure-plaintext to a loopback address");
    }
    curve = options.curve;
  }


  // A worker that cannot reach the warehouse would fail every task it is leased: find out now,
  // say so, and stay out of the run instead.
  if (!options.s3_staging_only) {
    WarehouseOptions probe;
    probe.conninfo = options.warehouse;
    probe.application_name = "loadstar-worker";
    Status reachable;
    for (int attempt = 1; attempt <= 3 && !stop.stop_requested(); ++attempt) {
      auto wh = Warehouse::Connect(probe);
      reachable = wh.status();
      if (reachable.ok() || !IsRetryable(reachable)) break;
      if (attempt < 3) std::this_thread::sleep_for(std::chrono::seconds(2 * attempt));
    }
    if (!reachable.ok()) {
      Status why = reachable.WithContext("this worker cannot stage anything");
      TellCoordinatorUnfit(options, curve, why.message());
      return why;
    }
  }

  LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<transport::Dealer> dealer,
                            transport::Dealer::Connect(options.connect, RandomIdentity(), curve));
  Mailboxes boxes;
  std::vector<std::unique_ptr<Executor>> executors;
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < options.concurrency; ++i) {
    executors.push_back(std::make_unique<Executor>(options, &boxes));
    threads.emplace_back([e = executors.back().get()] { e->Run(); });
  }
  auto stop_threads = [&] {
    boxes.DropJobs();
    boxes.Close();
    for (auto& t : threads) t.join();
  };

  log::Info("worker " + options.name + " connecting to " + options.connect + " (" +
            std::to_string(options.concurrency) + " task slots)");
  uint64_t generation = 1;
  auto now = Clock::now();
  auto last_heard = now;
  auto last_sent = now;
  auto last_answer = now;  // last time any coordinator answered at all
  auto backoff = options.heartbeat_interval;
  const auto backoff_cap = std::chrono::milliseconds(32000);
  bool heard_once = false;
  int refusals = 0;  // handshakes the coordinator refused, in a row
  constexpr int kRefusalsBeforeGivingUp = 3;
  Status outcome;

  auto send = [&](wire::Envelope env) {
    Status s = dealer->Send(std::move(env));
    if (s.ok()) last_sent = Clock::now();
    return s;
  };
  (void)send(ReadyEnvelope(options.name, credit));

  while (!stop.stop_requested()) {
    auto wait = dealer->Receive(options.heartbeat_interval / 2, boxes.wake_fd());
    if (!wait.ok()) {
      outcome = wait.status();
      break;
    }
    now = Clock::now();
    if (!wait->refused.empty()) {
      // Turned away during the handshake: no message can reach us. Say why; give up when it
      // keeps happening (the coordinator reads its authorized keys when it starts).
      log::WarnThrottled("handshake-refused", wait->refused);
      if (++refusals >= kRefusalsBeforeGivingUp) {
        outcome = Status::PermissionDenied(wait->refused);
        break;
      }
    }
    if (wait->woken) {
      for (Done& d : boxes.TakeDone()) {
        if (d.generation != generation) continue;  // leased by a coordinator we lost: it re-leased it
        wire::Envelope env;
        *env.mutable_result() = std::move(d.result);
        (void)send(std::move(env));
      }
    }
    if (wait->message) {
      refusals = 0;
      last_heard = last_answer = now;
      backoff = options.heartbeat_interval;
      if (!heard_once) {
        heard_once = true;
        log::Info("connected to coordinator " + options.connect);
      }
      const wire::Envelope& env = wait->message->envelope;
      if (env.has_task()) {
        boxes.PushJob({generation, env.task()});
      } else if (env.has_shutdown()) {
        log::Info("coordinator says the run is over: " + env.shutdown().reason());
        break;
      } else if (env.has_reannounce()) {
        log::Info("the coordinator does not know this worker (it restarted?); announcing again");
        ++generation;
        boxes.DropJobs();
        (void)send(ReadyEnvelope(options.name, credit));
      } else if (env.has_refuse()) {
        outcome = Status::FailedPrecondition("the coordinator refused this worker: " + env.refuse().reason());
        break;
      }
    }
    if (now - last_sent >= options.heartbeat_interval) {
      wire::Envelope hb;
      hb.mutable_heartbeat();
      (void)send(std::move(hb));
    }
    if (now - last_heard > options.heartbeat_interval * options.liveness) {
      if (options.give_up_after.count() > 0 && now - last_answer > options.give_up_after) {
        outcome = Status::Unavailable("no coordinator answered at " + options.connect + " for " +
                                      std::to_string(options.give_up_after.count() / 1000) +
                                      " s; is it running, and is the address reachable from here?");
        break;
      }
      log::Warn("no word from the coordinator at " + options.connect + " for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - last_heard).count()) +
                " ms; reconnecting in " + std::to_string(backoff.count()) + " ms");
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, backoff_cap);
      ++generation;       // whatever we were leased is being leased to others now
      boxes.DropJobs();
      if (Status reconnected = dealer->Reconnect(); !reconnected.ok()) {
        outcome = reconnected;  // the executors are stopped below, never left running
        break;
      }
      last_heard = Clock::now();
      (void)send(ReadyEnvelope(options.name, credit));
    }
  }
  if (stop.stop_requested() && outcome.ok()) outcome = Status::Cancelled("stopped by a signal");
  stop_threads();
  return outcome;
}

}  // namespace loadstar::worker
