// Microbenchmarks of the scheduler: lease and retire tasks as fast as the pure class allows, with
// results acknowledged in-process (no sockets), so the figure is the scheduler's own ceiling.
//
//   loadstar_scheduler_bench [--benchmark_filter=...]
//
// items_per_second is tasks dispatched and retired per second.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/scheduler/scheduler.h"
#include "coordinator/scheduler/task_packer.h"

namespace loadstar::coordinator {
namespace {

constexpr uint64_t kTasks = 1'000'000;

// Adds `tasks` tasks and registers `workers` workers of `credit` each.
void Setup(Scheduler& s, int64_t workers, uint32_t credit, uint64_t tasks, SchedulerTime now) {
  s.ReserveTasks(tasks);
  for (uint64_t id = 1; id <= tasks; ++id) {
    if (!s.AddTask(id).ok()) std::abort();
  }
  for (int64_t w = 0; w < workers; ++w) s.WorkerReady("worker-" + std::to_string(w), credit, now);
}

// Dispatch, then acknowledge every lease ok, until the run is done. With `timers`, each turn of
// the loop also does what the coordinator's loop does: expire, heartbeat idle workers, and count
// a result as a sign of life.
void Drain(Scheduler& s, SchedulerTime& now, bool timers) {
  while (!s.Done()) {
    if (timers) {
      now += std::chrono::microseconds(10);
      benchmark::DoNotOptimize(s.Expire(now));
      for (const std::string& w : s.WorkersDueHeartbeat(now)) s.Sent(w, now);
    }
    std::vector<Lease> leases = s.Dispatch(now);
    for (const Lease& l : leases) {
      Disposition d = s.Complete(l.worker, l.task_id, l.attempt, Outcome::kOk, {}, now);
      benchmark::DoNotOptimize(d);
    }
  }
}

// Dispatch + complete only; adding the tasks is outside the timing.
void BM_DispatchComplete(benchmark::State& state) {
  const int64_t workers = state.range(0);
  const auto credit = static_cast<uint32_t>(state.range(1));
  for (auto _ : state) {
    state.PauseTiming();
    SchedulerTime now = SchedulerClock::now();
    auto s = std::make_unique<Scheduler>();
    Setup(*s, workers, credit, kTasks, now);
    state.ResumeTiming();
    Drain(*s, now, /*timers=*/false);
    state.PauseTiming();
    s.reset();  // freeing a million tasks is not what is measured
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kTasks));
}
BENCHMARK(BM_DispatchComplete)->Args({16, 4})->Args({1, 1})->Args({256, 8})->Unit(benchmark::kMillisecond);

// The whole life of a run: add the tasks, register the workers, dispatch and complete with the
// timer calls of a coordinator loop.
void BM_RunEndToEnd(benchmark::State& state) {
  const int64_t workers = state.range(0);
  const auto credit = static_cast<uint32_t>(state.range(1));
  for (auto _ : state) {
    SchedulerTime now = SchedulerClock::now();
    Scheduler s;
    Setup(s, workers, credit, kTasks, now);
    Drain(s, now, /*timers=*/true);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kTasks));
}
BENCHMARK(BM_RunEndToEnd)->Args({16, 4})->Unit(benchmark::kMillisecond);

// Packing a listing of a million song-sized files.
void BM_PackTasks(benchmark::State& state) {
  std::vector<PackInput> files;
  files.reserve(kTasks);
  for (uint64_t i = 0; i < kTasks; ++i) {
    files.push_back({i, 200 + (i * 7919) % 400, (i % 10 == 0) ? FileKind::kEvent : FileKind::kSong});
  }
  for (auto _ : state) {
    std::vector<PackedTask> tasks = PackTasks(files);
    benchmark::DoNotOptimize(tasks.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kTasks));
}
BENCHMARK(BM_PackTasks)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace loadstar::coordinator

BENCHMARK_MAIN();
