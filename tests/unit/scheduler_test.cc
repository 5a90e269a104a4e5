#include "coordinator/scheduler/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace loadstar::coordinator {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A clock the test moves by hand.
class FakeClock {
 public:
  SchedulerTime now() const { return now_; }
  void Advance(SchedulerClock::duration d) { now_ += d; }

 private:
  SchedulerTime now_ = SchedulerTime() + std::chrono::hours(1);
};

constexpr milliseconds kInterval{1000};

SchedulerOptions Options() {
  SchedulerOptions o;
  o.heartbeat_interval = kInterval;
  o.liveness = 3;
  o.max_attempts = 3;
  o.max_lost_leases = 10;
  return o;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void AddTasks(uint64_t first, uint64_t count) {
    for (uint64_t id = first; id < first + count; ++id) ASSERT_TRUE(s_.AddTask(id).ok()) << id;
  }

  // How many of `leases` went to each worker.
  static std::map<std::string, int> PerWorker(const std::vector<Lease>& leases) {
    std::map<std::string, int> n;
    for (const Lease& l : leases) ++n[l.worker];
    return n;
  }

  Disposition Ok(const Lease& l) { return s_.Complete(l.worker, l.task_id, l.attempt, Outcome::kOk, "", clock_.now()); }

  FakeClock clock_;
  Scheduler s_{Options()};
};

TEST_F(SchedulerTest, AddTaskRejectsDuplicates) {
  EXPECT_TRUE(s_.AddTask(7).ok());
  Status st = s_.AddTask(7);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s_.Counts().total, 1u);
  EXPECT_EQ(s_.Counts().pending, 1u);
}

TEST_F(SchedulerTest, DispatchWithNoWorkersLeasesNothing) {
  AddTasks(1, 5);
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());
  EXPECT_EQ(s_.Counts().pending, 5u);
  EXPECT_EQ(s_.Counts().leased, 0u);
  EXPECT_FALSE(s_.Done());
}

TEST_F(SchedulerTest, DispatchWithNoTasksLeasesNothing) {
  s_.WorkerReady("w1", 4, clock_.now());
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());
  EXPECT_TRUE(s_.Done());  // nothing to do is done
}

TEST_F(SchedulerTest, LeasesFifoWithAttemptOne) {
  AddTasks(10, 3);
  s_.WorkerReady("w1", 8, clock_.now());
  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  EXPECT_THAT(leases, ElementsAre(Lease{10, 1, "w1"}, Lease{11, 1, "w1"}, Lease{12, 1, "w1"}));
  EXPECT_EQ(s_.LeaseOf(11), (Lease{11, 1, "w1"}));
  EXPECT_EQ(s_.LeaseOf(99), std::nullopt);
}

TEST_F(SchedulerTest, CreditIsRespected) {
  AddTasks(1, 10);
  s_.WorkerReady("w1", 3, clock_.now());
  EXPECT_EQ(s_.Dispatch(clock_.now()).size(), 3u);
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());  // full
  EXPECT_EQ(s_.Counts().leased, 3u);
  EXPECT_EQ(s_.Counts().pending, 7u);

  // Completing one frees exactly one slot.
  ASSERT_EQ(Ok(*s_.LeaseOf(2)), Disposition::kDone);
  std::vector<Lease> next = s_.Dispatch(clock_.now());
  EXPECT_THAT(next, ElementsAre(Lease{4, 1, "w1"}));
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());
}

TEST_F(SchedulerTest, WorkerWithZeroCreditGetsNothingButStaysAlive) {
  AddTasks(1, 3);
  s_.WorkerReady("idle", 0, clock_.now());
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());
  EXPECT_EQ(s_.worker_count(), 1u);

  s_.WorkerReady("busy", 1, clock_.now());
  EXPECT_THAT(s_.Dispatch(clock_.now()), ElementsAre(Lease{1, 1, "busy"}));
}

TEST_F(SchedulerTest, SpreadsLeasesAcrossWorkers) {
  AddTasks(1, 6);
  s_.WorkerReady("a", 4, clock_.now());
  s_.WorkerReady("b", 4, clock_.now());
  s_.WorkerReady("c", 4, clock_.now());
  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  ASSERT_EQ(leases.size(), 6u);
  // Round-robin: two each, not four to the first worker.
  EXPECT_EQ(PerWorker(leases), (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}}));
  // And the first three go to three different workers.
  std::set<std::string> first{leases[0].worker, leases[1].worker, leases[2].worker};
  EXPECT_EQ(first.size(), 3u);
}

TEST_F(SchedulerTest, FewTasksGoToDifferentWorkers) {
  s_.WorkerReady("a", 4, clock_.now());
  s_.WorkerReady("b", 4, clock_.now());
  AddTasks(1, 2);
  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_NE(leases[0].worker, leases[1].worker);
}

TEST_F(SchedulerTest, SpreadStaysFairInSteadyState) {
  AddTasks(1, 3000);
  for (const char* w : {"a", "b", "c", "d"}) s_.WorkerReady(w, 2, clock_.now());
  std::map<std::string, int> done;
  for (int round = 0; round < 10000 && !s_.Done(); ++round) {
    for (const Lease& l : s_.Dispatch(clock_.now())) {
      ASSERT_EQ(Ok(l), Disposition::kDone);
      ++done[l.worker];
    }
  }
  ASSERT_TRUE(s_.Done());
  for (const auto& [w, n] : done) EXPECT_NEAR(n, 750, 2) << w;
}

TEST_F(SchedulerTest, UnevenCreditIsUsedFully) {
  AddTasks(1, 100);
  s_.WorkerReady("small", 1, clock_.now());
  s_.WorkerReady("big", 5, clock_.now());
  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  EXPECT_EQ(PerWorker(leases), (std::map<std::string, int>{{"big", 5}, {"small", 1}}));
}

TEST_F(SchedulerTest, DoneOnlyWhenEveryTaskIsDone) {
  AddTasks(1, 3);
  s_.WorkerReady("w", 2, clock_.now());
  EXPECT_FALSE(s_.Done());
  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(Ok(leases[0]), Disposition::kDone);
  EXPECT_EQ(Ok(leases[1]), Disposition::kDone);
  EXPECT_FALSE(s_.Done());  // task 3 still pending
  leases = s_.Dispatch(clock_.now());
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_FALSE(s_.Done());  // leased is not done
  EXPECT_EQ(Ok(leases[0]), Disposition::kDone);
  EXPECT_TRUE(s_.Done());
  EXPECT_FALSE(s_.Failed());
  TaskCounts c = s_.Counts();
  EXPECT_EQ(c.total, 3u);
  EXPECT_EQ(c.done, 3u);
  EXPECT_EQ(c.pending + c.leased + c.failed, 0u);

  // A task added afterwards makes the run unfinished again.
  AddTasks(4, 1);
  EXPECT_FALSE(s_.Done());
}

TEST_F(SchedulerTest, DuplicateOkIsStale) {
  AddTasks(1, 1);
  s_.WorkerReady("w", 1, clock_.now());
  Lease l = s_.Dispatch(clock_.now()).at(0);
  EXPECT_EQ(Ok(l), Disposition::kDone);
  EXPECT_EQ(Ok(l), Disposition::kStale);
  EXPECT_EQ(s_.Counts().done, 1u);
}

TEST_F(SchedulerTest, HeartbeatExpiryAfterExactlyLivenessIntervals) {
  AddTasks(1, 2);
  s_.WorkerReady("w", 2, clock_.now());
  ASSERT_EQ(s_.Dispatch(clock_.now()).size(), 2u);

  clock_.Advance(3 * kInterval - std::chrono::nanoseconds(1));
  EXPECT_THAT(s_.Expire(clock_.now()), IsEmpty());
  EXPECT_EQ(s_.worker_count(), 1u);
  EXPECT_EQ(s_.Counts().leased, 2u);

  clock_.Advance(std::chrono::nanoseconds(1));
  EXPECT_THAT(s_.Expire(clock_.now()), ElementsAre("w"));
  EXPECT_EQ(s_.worker_count(), 0u);
  EXPECT_EQ(s_.Counts().leased, 0u);
  EXPECT_EQ(s_.Counts().pending, 2u);
}

TEST_F(SchedulerTest, AnyMessageIsAHeartbeat) {
  AddTasks(1, 2);
  s_.WorkerReady("w", 2, clock_.now());
  std::vector<Lease> leases = s_.Dispatch(clock_.now());

  clock_.Advance(2 * kInterval);
  EXPECT_TRUE(s_.WorkerSeen("w", clock_.now()));
  clock_.Advance(2 * kInterval);
  EXPECT_THAT(s_.Expire(clock_.now()), IsEmpty());  // 4 intervals since READY, 2 since seen

  // A result counts too (even a stale one).
  EXPECT_EQ(s_.Complete("w", leases[0].task_id, 99, Outcome::kOk, "", clock_.now()), Disposition::kStale);
  clock_.Advance(2 * kInterval);
  EXPECT_THAT(s_.Expire(clock_.now()), IsEmpty());
  EXPECT_EQ(Ok(leases[1]), Disposition::kDone);
  clock_.Advance(2 * kInterval);
  EXPECT_THAT(s_.Expire(clock_.now()), IsEmpty());
  clock_.Advance(kInterval);
  EXPECT_THAT(s_.Expire(clock_.now()), ElementsAre("w"));
}

TEST_F(SchedulerTest, SeenFromUnknownWorkerIsReported) {
  EXPECT_FALSE(s_.WorkerSeen("ghost", clock_.now()));
  EXPECT_EQ(s_.worker_count(), 0u);
}

TEST_F(SchedulerTest, ExpireOnlyTakesSilentWorkers) {
  s_.WorkerReady("quiet", 1, clock_.now());
  s_.WorkerReady("chatty", 1, clock_.now());
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(kInterval);
    s_.WorkerSeen("chatty", clock_.now());
    std::vector<std::string> dead = s_.Expire(clock_.now());
    // READY at 0; silent since: the third interval is the last.
    if (i == 2) {
      EXPECT_THAT(dead, ElementsAre("quiet")) << i;
    } else {
      EXPECT_THAT(dead, IsEmpty()) << i;
    }
  }
  ASSERT_EQ(s_.Workers().size(), 1u);
  EXPECT_EQ(s_.Workers()[0].name, "chatty");
}

TEST_F(SchedulerTest, DeathRequeuesWithNextAttempt) {
  AddTasks(1, 2);
  s_.WorkerReady("a", 2, clock_.now());
  ASSERT_THAT(s_.Dispatch(clock_.now()), ElementsAre(Lease{1, 1, "a"}, Lease{2, 1, "a"}));

  clock_.Advance(2 * kInterval);
  s_.WorkerReady("b", 2, clock_.now());
  clock_.Advance(kInterval);
  EXPECT_THAT(s_.Expire(clock_.now()), ElementsAre("a"));
  EXPECT_EQ(s_.LeaseOf(1), std::nullopt);

  std::vector<Lease> again = s_.Dispatch(clock_.now());
  EXPECT_THAT(again, ElementsAre(Lease{1, 2, "b"}, Lease{2, 2, "b"}));
  // Losing a worker is not the task's failure.
  std::optional<TaskInfo> t = s_.FindTask(1);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->failures, 0u);
  EXPECT_EQ(t->lost_leases, 1u);
  EXPECT_EQ(t->attempt, 2u);
  EXPECT_EQ(t->state, TaskState::kLeased);
}

TEST_F(SchedulerTest, StaleResultIsIgnoredAndDoesNotFreeTheNewLease) {
  AddTasks(1, 1);
  s_.WorkerReady("a", 1, clock_.now());
  Lease first = s_.Dispatch(clock_.now()).at(0);
  clock_.Advance(3 * kInterval);
  s_.WorkerReady("b", 1, clock_.now());
  ASSERT_THAT(s_.Expire(clock_.now()), ElementsAre("a"));
  Lease second = s_.Dispatch(clock_.now()).at(0);
  ASSERT_EQ(second, (Lease{1, 2, "b"}));

  // "a" comes back as a new worker and reports the old attempt: stale, whoever sends it.
  s_.WorkerReady("a", 1, clock_.now());
  EXPECT_EQ(Ok(first), Disposition::kStale);
  EXPECT_EQ(s_.Complete("b", 1, 1, Outcome::kOk, "", clock_.now()), Disposition::kStale);
  EXPECT_EQ(s_.Complete("a", 1, 2, Outcome::kOk, "", clock_.now()), Disposition::kStale);  // not a's lease
  EXPECT_EQ(s_.Complete("b", 1, 1, Outcome::kFinal, "boom", clock_.now()), Disposition::kStale);
  EXPECT_FALSE(s_.Failed());

  // The current lease is untouched, and b's credit is still taken.
  EXPECT_EQ(s_.LeaseOf(1), second);
  EXPECT_EQ(s_.Counts().leased, 1u);
  AddTasks(2, 1);
  EXPECT_THAT(s_.Dispatch(clock_.now()), ElementsAre(Lease{2, 1, "a"}));

  EXPECT_EQ(Ok(second), Disposition::kDone);
}

TEST_F(SchedulerTest, ResultFromUnknownWorkerOrForUnknownTaskIsStale) {
  AddTasks(1, 1);
  s_.WorkerReady("a", 1, clock_.now());
  Lease l = s_.Dispatch(clock_.now()).at(0);
  EXPECT_EQ(s_.Complete("nobody", l.task_id, l.attempt, Outcome::kOk, "", clock_.now()), Disposition::kStale);
  EXPECT_EQ(s_.Complete("a", 42, 1, Outcome::kOk, "", clock_.now()), Disposition::kStale);
  EXPECT_EQ(s_.LeaseOf(1), l);
}

TEST_F(SchedulerTest, RetryableFailureIsRetriedThenFailsTheRunAfterMaxAttempts) {
  AddTasks(1, 2);
  s_.WorkerReady("w", 1, clock_.now());

  Lease l = s_.Dispatch(clock_.now()).at(0);
  ASSERT_EQ(l, (Lease{1, 1, "w"}));
  EXPECT_EQ(s_.Complete("w", 1, 1, Outcome::kRetryable, "HTTP 503 SlowDown", clock_.now()), Disposition::kRequeued);
  EXPECT_FALSE(s_.Failed());
  // Requeued at the back: task 2 goes first.
  l = s_.Dispatch(clock_.now()).at(0);
  ASSERT_EQ(l, (Lease{2, 1, "w"}));
  ASSERT_EQ(Ok(l), Disposition::kDone);

  l = s_.Dispatch(clock_.now()).at(0);
  ASSERT_EQ(l, (Lease{1, 2, "w"}));
  EXPECT_EQ(s_.Complete("w", 1, 2, Outcome::kRetryable, "HTTP 503 SlowDown", clock_.now()), Disposition::kRequeued);
  l = s_.Dispatch(clock_.now()).at(0);
  ASSERT_EQ(l, (Lease{1, 3, "w"}));
  EXPECT_EQ(s_.Complete("w", 1, 3, Outcome::kRetryable, "connection reset", clock_.now()), Disposition::kRunFailed);

  EXPECT_TRUE(s_.Failed());
  EXPECT_FALSE(s_.Done());
  ASSERT_TRUE(s_.failure().has_value());
  EXPECT_EQ(s_.failure()->task_id, 1u);
  EXPECT_EQ(s_.failure()->attempt, 3u);
  EXPECT_EQ(s_.failure()->worker, "w");
  EXPECT_EQ(s_.failure()->cause, FailureCause::kRetriesExhausted);
  EXPECT_EQ(s_.failure()->error, "connection reset");
  EXPECT_EQ(s_.FindTask(1)->state, TaskState::kFailed);
  EXPECT_EQ(s_.FindTask(1)->failures, 3u);
  EXPECT_EQ(s_.Counts().failed, 1u);
  EXPECT_EQ(s_.Counts().leased, 0u);
}

TEST_F(SchedulerTest, FinalFailureFailsTheRunAndStopsDispatch) {
  AddTasks(1, 4);
  s_.WorkerReady("w", 2, clock_.now());
  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(s_.Complete("w", 1, 1, Outcome::kFinal, "permission denied on s3://b/k", clock_.now()),
            Disposition::kRunFailed);
  EXPECT_TRUE(s_.Failed());
  EXPECT_EQ(s_.failure()->cause, FailureCause::kFinal);
  EXPECT_EQ(s_.failure()->error, "permission denied on s3://b/k");
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());

  // Bookkeeping goes on: the other lease can still report, the first failure is kept.
  EXPECT_EQ(s_.Complete("w", 2, 1, Outcome::kFinal, "another", clock_.now()), Disposition::kRunFailed);
  EXPECT_EQ(s_.failure()->task_id, 1u);
  EXPECT_EQ(s_.Counts().failed, 2u);
  EXPECT_EQ(s_.Workers().at(0).in_flight, 0u);
  EXPECT_EQ(s_.Workers().at(0).tasks_failed, 2u);
}

TEST_F(SchedulerTest, FinalFailureIsConfirmedByAnotherWorkerBeforeTheRunFails) {
  AddTasks(1, 1);
  s_.WorkerReady("a", 1, clock_.now());
  s_.WorkerReady("b", 1, clock_.now());
  std::vector<Lease> first = s_.Dispatch(clock_.now());
  ASSERT_EQ(first.size(), 1u);
  const std::string reporter = first[0].worker;
  const std::string other = reporter == "a" ? "b" : "a";
  EXPECT_EQ(s_.Complete(reporter, 1, 1, Outcome::kFinal, "access denied", clock_.now()),
            Disposition::kAwaitingConfirmation);
  EXPECT_FALSE(s_.Failed());
  EXPECT_EQ(s_.FindTask(1)->final_from, reporter);

  // Never leased back to the worker that reported it, however often Dispatch is asked.
  std::vector<Lease> second = s_.Dispatch(clock_.now());
  ASSERT_THAT(second, ElementsAre(Lease{1, 2, other}));
  EXPECT_EQ(s_.Complete(other, 1, 2, Outcome::kFinal, "access denied again", clock_.now()), Disposition::kRunFailed);
  ASSERT_TRUE(s_.Failed());
  EXPECT_EQ(s_.failure()->cause, FailureCause::kFinal);
  EXPECT_EQ(s_.failure()->worker, other);
  EXPECT_EQ(s_.failure()->error, "access denied again");
}

TEST_F(SchedulerTest, FinalFailureThatAnotherWorkerDisprovesIsDone) {
  AddTasks(1, 2);
  s_.WorkerReady("liar", 1, clock_.now());
  ASSERT_THAT(s_.Dispatch(clock_.now()), ElementsAre(Lease{1, 1, "liar"}));
  s_.WorkerReady("honest", 1, clock_.now());
  ASSERT_THAT(s_.Dispatch(clock_.now()), ElementsAre(Lease{2, 1, "honest"}));
  EXPECT_EQ(s_.Complete("liar", 1, 1, Outcome::kFinal, "it cannot be done", clock_.now()),
            Disposition::kAwaitingConfirmation);
  // The liar has free credit, but the only pending task is the one it may not take.
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());
  EXPECT_EQ(s_.Complete("honest", 2, 1, Outcome::kOk, "", clock_.now()), Disposition::kDone);
  ASSERT_THAT(s_.Dispatch(clock_.now()), ElementsAre(Lease{1, 2, "honest"}));
  EXPECT_EQ(s_.Complete("honest", 1, 2, Outcome::kOk, "", clock_.now()), Disposition::kDone);
  EXPECT_TRUE(s_.Done());
  EXPECT_FALSE(s_.Failed());
}

TEST_F(SchedulerTest, FinalFailureWithNoOtherWorkerFailsTheRunAtOnce) {
  AddTasks(1, 1);
  s_.WorkerReady("only", 1, clock_.now());
  ASSERT_EQ(s_.Dispatch(clock_.now()).size(), 1u);
  EXPECT_EQ(s_.Complete("only", 1, 1, Outcome::kFinal, "access denied", clock_.now()), Disposition::kRunFailed);
  EXPECT_TRUE(s_.Failed());
}

TEST_F(SchedulerTest, FinalFailureAwaitingAWorkerThatLeftFailsTheRun) {
  AddTasks(1, 1);
  s_.WorkerReady("a", 1, clock_.now());
  s_.WorkerReady("b", 1, clock_.now());
  std::vector<Lease> first = s_.Dispatch(clock_.now());
  ASSERT_EQ(first.size(), 1u);
  const std::string reporter = first[0].worker;
  const std::string other = reporter == "a" ? "b" : "a";
  ASSERT_EQ(s_.Complete(reporter, 1, 1, Outcome::kFinal, "access denied", clock_.now()),
            Disposition::kAwaitingConfirmation);
  s_.WorkerGone(other);
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());
  ASSERT_TRUE(s_.Failed());
  EXPECT_EQ(s_.failure()->error, "access denied");
  EXPECT_EQ(s_.failure()->worker, reporter);
}

TEST_F(SchedulerTest, SlowWorkersThatComeBackDoNotCountAsLost) {
  // Starved of CPU, every worker goes silent now and then, and comes back. That is no poison
  // task: however often it happens, the run goes on.
  AddTasks(1, 1);
  for (uint32_t i = 1; i <= 25; ++i) {
    s_.WorkerReady("slow", 1, clock_.now());
    ASSERT_THAT(s_.Dispatch(clock_.now()), ElementsAre(Lease{1, i, "slow"})) << i;
    clock_.Advance(3 * kInterval);
    ASSERT_THAT(s_.Expire(clock_.now()), ElementsAre("slow"));
    ASSERT_FALSE(s_.Failed()) << "after " << i << " silences";
  }
  s_.WorkerReady("slow", 1, clock_.now());
  EXPECT_EQ(s_.FindTask(1)->lost_leases, 0u);
}

TEST_F(SchedulerTest, WorkerGoneRequeuesItsLeases) {
  AddTasks(1, 3);
  s_.WorkerReady("a", 2, clock_.now());
  s_.WorkerReady("b", 1, clock_.now());
  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  ASSERT_EQ(PerWorker(leases), (std::map<std::string, int>{{"a", 2}, {"b", 1}}));

  EXPECT_EQ(s_.WorkerGone("a"), 2u);
  EXPECT_EQ(s_.WorkerGone("a"), 0u);  // already gone
  EXPECT_EQ(s_.worker_count(), 1u);
  EXPECT_EQ(s_.Counts().pending, 2u);
  EXPECT_EQ(s_.Counts().leased, 1u);
  EXPECT_FALSE(s_.WorkerSeen("a", clock_.now()));

  // b finishes its task and picks up a's, at attempt 2.
  const Lease& b = leases[0].worker == "b" ? leases[0] : (leases[1].worker == "b" ? leases[1] : leases[2]);
  ASSERT_EQ(Ok(b), Disposition::kDone);
  std::vector<Lease> next = s_.Dispatch(clock_.now());
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].worker, "b");
  EXPECT_EQ(next[0].attempt, 2u);
}

TEST_F(SchedulerTest, ReadyAfterDeathIsANewWorker) {
  AddTasks(1, 4);
  s_.WorkerReady("a", 2, clock_.now());
  ASSERT_EQ(s_.Dispatch(clock_.now()).size(), 2u);
  ASSERT_TRUE(s_.Complete("a", 1, 1, Outcome::kOk, "", clock_.now()) == Disposition::kDone);
  ASSERT_EQ(s_.Dispatch(clock_.now()).size(), 1u);
  clock_.Advance(3 * kInterval);
  ASSERT_THAT(s_.Expire(clock_.now()), ElementsAre("a"));
  EXPECT_EQ(s_.Counts().pending, 3u);

  EXPECT_EQ(s_.WorkerReady("a", 3, clock_.now()), 0u);  // held nothing any more
  std::vector<WorkerInfo> w = s_.Workers();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].credit, 3u);
  EXPECT_EQ(w[0].in_flight, 0u);
  EXPECT_EQ(w[0].tasks_done, 0u);
  EXPECT_EQ(w[0].ready_at, clock_.now());

  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  // Task 4 was still waiting; 2 and 3 were requeued behind it.
  EXPECT_THAT(leases, ElementsAre(Lease{4, 1, "a"}, Lease{2, 2, "a"}, Lease{3, 2, "a"}));
}

TEST_F(SchedulerTest, ReadyWhileAliveStartsANewIncarnation) {
  AddTasks(1, 2);
  s_.WorkerReady("a", 2, clock_.now());
  std::vector<Lease> old = s_.Dispatch(clock_.now());
  ASSERT_EQ(old.size(), 2u);

  EXPECT_EQ(s_.WorkerReady("a", 1, clock_.now()), 2u);
  EXPECT_EQ(s_.Counts().leased, 0u);
  EXPECT_EQ(s_.Counts().pending, 2u);
  EXPECT_EQ(Ok(old[0]), Disposition::kStale);

  std::vector<Lease> now = s_.Dispatch(clock_.now());
  EXPECT_THAT(now, ElementsAre(Lease{1, 2, "a"}));  // new credit: 1
  EXPECT_EQ(s_.FindTask(1)->lost_leases, 1u);
  EXPECT_EQ(s_.FindTask(1)->failures, 0u);
}

TEST_F(SchedulerTest, PoisonTaskThatKillsEveryWorkerFailsTheRun) {
  AddTasks(1, 1);
  for (uint32_t i = 1; i <= 10; ++i) {
    std::string name = "w" + std::to_string(i - 1);
    s_.WorkerReady(name, 1, clock_.now());
    std::vector<Lease> leases = s_.Dispatch(clock_.now());
    ASSERT_THAT(leases, ElementsAre(Lease{1, i, name})) << i;
    clock_.Advance(3 * kInterval);
    ASSERT_THAT(s_.Expire(clock_.now()), ElementsAre(name));
    if (i < 10) {
      EXPECT_FALSE(s_.Failed()) << i;
      EXPECT_EQ(s_.Counts().pending, 1u);
    }
  }
  EXPECT_TRUE(s_.Failed());
  EXPECT_EQ(s_.failure()->cause, FailureCause::kWorkersLost);
  EXPECT_EQ(s_.failure()->task_id, 1u);
  EXPECT_EQ(s_.failure()->attempt, 10u);
  EXPECT_EQ(s_.failure()->worker, "w9");
  EXPECT_NE(s_.failure()->error.find("10 times"), std::string::npos) << s_.failure()->error;
  EXPECT_EQ(s_.Counts().pending, 0u);
  s_.WorkerReady("survivor", 1, clock_.now());
  EXPECT_THAT(s_.Dispatch(clock_.now()), IsEmpty());
}

TEST_F(SchedulerTest, LostLeasesAndFailuresAreCountedSeparately) {
  Scheduler s([] {
    SchedulerOptions o = Options();
    o.max_attempts = 2;
    o.max_lost_leases = 3;
    return o;
  }());
  ASSERT_TRUE(s.AddTask(1).ok());
  // Two lost leases, one failure: under both bounds.
  for (int i = 0; i < 2; ++i) {
    s.WorkerReady("w", 1, clock_.now());
    ASSERT_EQ(s.Dispatch(clock_.now()).size(), 1u);
    EXPECT_EQ(s.WorkerGone("w"), 1u);
  }
  s.WorkerReady("w", 1, clock_.now());
  Lease l = s.Dispatch(clock_.now()).at(0);
  EXPECT_EQ(l.attempt, 3u);
  EXPECT_EQ(s.Complete("w", 1, 3, Outcome::kRetryable, "timeout", clock_.now()), Disposition::kRequeued);
  EXPECT_FALSE(s.Failed());
  l = s.Dispatch(clock_.now()).at(0);
  EXPECT_EQ(s.Complete("w", 1, l.attempt, Outcome::kOk, "", clock_.now()), Disposition::kDone);
  EXPECT_TRUE(s.Done());
  EXPECT_EQ(s.FindTask(1)->attempt, 4u);
}

TEST_F(SchedulerTest, HeartbeatsDueToIdleWorkersOnly) {
  s_.WorkerReady("a", 1, clock_.now());
  s_.WorkerReady("b", 1, clock_.now());
  EXPECT_THAT(s_.WorkersDueHeartbeat(clock_.now()), IsEmpty());

  clock_.Advance(kInterval - milliseconds(1));
  EXPECT_THAT(s_.WorkersDueHeartbeat(clock_.now()), IsEmpty());
  AddTasks(1, 1);
  ASSERT_THAT(s_.Dispatch(clock_.now()), ElementsAre(Lease{1, 1, "a"}));  // counts as sent to a

  clock_.Advance(milliseconds(1));
  EXPECT_THAT(s_.WorkersDueHeartbeat(clock_.now()), ElementsAre("b"));
  s_.Sent("b", clock_.now());
  EXPECT_THAT(s_.WorkersDueHeartbeat(clock_.now()), IsEmpty());

  clock_.Advance(kInterval);
  EXPECT_THAT(s_.WorkersDueHeartbeat(clock_.now()), ElementsAre("a", "b"));
  s_.Sent("nobody", clock_.now());  // ignored
}

TEST_F(SchedulerTest, NextDeadlineIsTheEarliestTimer) {
  EXPECT_EQ(s_.NextDeadline(), std::nullopt);
  const SchedulerTime t0 = clock_.now();
  s_.WorkerReady("a", 1, t0);
  EXPECT_EQ(s_.NextDeadline(), t0 + kInterval);  // a heartbeat to a
  s_.Sent("a", t0 + 10 * kInterval);
  EXPECT_EQ(s_.NextDeadline(), t0 + 3 * kInterval);  // a's expiry comes first now
}

TEST_F(SchedulerTest, WorkerFiguresForAStatusView) {
  AddTasks(1, 5);
  s_.WorkerReady("b", 2, clock_.now());
  s_.WorkerReady("a", 1, clock_.now());
  std::vector<Lease> leases = s_.Dispatch(clock_.now());
  clock_.Advance(milliseconds(5));
  for (const Lease& l : leases) {
    if (l.worker == "b") {
      ASSERT_EQ(Ok(l), Disposition::kDone);
      break;
    }
  }
  std::vector<WorkerInfo> w = s_.Workers();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].name, "a");
  EXPECT_EQ(w[0].credit, 1u);
  EXPECT_EQ(w[0].in_flight, 1u);
  EXPECT_EQ(w[0].tasks_done, 0u);
  EXPECT_EQ(w[1].name, "b");
  EXPECT_EQ(w[1].credit, 2u);
  EXPECT_EQ(w[1].in_flight, 1u);
  EXPECT_EQ(w[1].tasks_done, 1u);
  EXPECT_EQ(w[1].last_seen, clock_.now());
  EXPECT_EQ(w[0].last_seen, clock_.now() - milliseconds(5));
}

TEST_F(SchedulerTest, CountsStayConsistentUnderChurn) {
  // A deterministic mix of everything: workers come, go, fall silent and recover; results come
  // late, twice, or from the dead. The counts must add up after every step and the run must end
  // with every task done exactly once.
  Scheduler s([] {
    SchedulerOptions o = Options();
    o.max_attempts = 1000;
    o.max_lost_leases = 1000;
    return o;
  }());
  constexpr uint64_t kTasks = 2000;
  for (uint64_t id = 1; id <= kTasks; ++id) ASSERT_TRUE(s.AddTask(id).ok());
  uint64_t rng = 12345;
  auto next = [&rng](uint64_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (rng >> 33) % n;
  };
  constexpr int kWorkers = 6;
  std::vector<bool> muted(kWorkers);
  std::vector<Lease> outstanding;
  std::map<Disposition, int> dispositions;
  size_t expired = 0;
  size_t done_results = 0;
  int step = 0;
  for (; step < 200000 && !s.Done(); ++step) {
    clock_.Advance(milliseconds(100));
    const int wi = static_cast<int>(next(kWorkers));
    const std::string w = "w" + std::to_string(wi);
    switch (next(100)) {
      case 0:
      case 1:
        s.WorkerReady(w, static_cast<uint32_t>(next(4)), clock_.now());
        muted[static_cast<size_t>(wi)] = false;
        break;
      case 2:
        (void)s.WorkerGone(w);
        break;
      case 3:
        muted[static_cast<size_t>(wi)] = !muted[static_cast<size_t>(wi)];
        break;
      default:
        break;
    }
    for (const std::string& name : s.WorkersDueHeartbeat(clock_.now())) s.Sent(name, clock_.now());
    for (int i = 0; i < kWorkers; ++i) {
      if (!muted[static_cast<size_t>(i)] && next(4) == 0) s.WorkerSeen("w" + std::to_string(i), clock_.now());
    }
    expired += s.Expire(clock_.now()).size();
    for (Lease& l : s.Dispatch(clock_.now())) outstanding.push_back(std::move(l));
    ASSERT_THAT(s.Dispatch(clock_.now()), IsEmpty()) << "one call hands out all it can; step " << step;

    for (int k = 0; k < 3 && !outstanding.empty(); ++k) {
      const size_t i = next(outstanding.size());
      const Lease l = outstanding[i];
      if (muted[static_cast<size_t>(l.worker[1] - '0')]) continue;  // a silent worker sends nothing
      if (next(10) != 0) outstanding.erase(outstanding.begin() + static_cast<ptrdiff_t>(i));  // else: sent twice
      const Outcome o = next(10) == 0 ? Outcome::kRetryable : Outcome::kOk;
      const Disposition d = s.Complete(l.worker, l.task_id, l.attempt, o, "transient", clock_.now());
      ++dispositions[d];
      if (d == Disposition::kDone) ++done_results;
    }

    const TaskCounts c = s.Counts();
    ASSERT_EQ(c.pending + c.leased + c.done + c.failed, c.total) << step;
    size_t in_flight = 0;
    for (const WorkerInfo& info : s.Workers()) {
      ASSERT_LE(info.in_flight, info.credit) << step;
      in_flight += info.in_flight;
    }
    ASSERT_EQ(in_flight, c.leased) << step;
  }
  EXPECT_TRUE(s.Done()) << "after " << step << " steps";
  EXPECT_FALSE(s.Failed());
  EXPECT_EQ(done_results, kTasks);  // each task acknowledged once, never twice
  // The mix did exercise every path.
  EXPECT_GT(expired, 0u);
  EXPECT_GT(dispositions[Disposition::kStale], 0);
  EXPECT_GT(dispositions[Disposition::kRequeued], 0);
  size_t lost = 0;
  for (uint64_t id = 1; id <= kTasks; ++id) lost += s.FindTask(id)->lost_leases;
  EXPECT_GT(lost, 0u);
}

TEST_F(SchedulerTest, OptionsBelowOneAreRaised) {
  SchedulerOptions o;
  o.heartbeat_interval = milliseconds(0);
  o.liveness = 0;
  o.max_attempts = 0;
  o.max_lost_leases = 0;
  Scheduler s(o);
  EXPECT_EQ(s.options().heartbeat_interval, milliseconds(1));
  EXPECT_EQ(s.options().liveness, 1u);
  EXPECT_EQ(s.options().max_attempts, 1u);
  EXPECT_EQ(s.options().max_lost_leases, 1u);
}

}  // namespace
}  // namespace loadstar::coordinator
