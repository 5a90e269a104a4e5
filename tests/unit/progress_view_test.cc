// The progress view: its pure renderings for a known snapshot, its throttling under a fake
// clock, and the real thing in a child process whose stderr is a pseudo-terminal (live view,
// escape sequences) or a pipe (plain log lines).
#include "coordinator/monitor/progress_view.h"
#include "tests/support/status_fixture.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "common/core/log.h"

namespace loadstar::coordinator {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 41% of 472 MB done, at a rate that leaves exactly 12 s.
StatusSnapshot StagingSnapshot() {
  StatusSnapshot s;
  s.set_schema("sparkify");
  s.set_run_id(7);
  s.set_phase(StatusSnapshot::STAGING);
  s.set_files_total(30);
  s.set_files_done(12);
  s.set_bytes_total(472'000'000);
  s.set_bytes_done(193'520'000);
  const double rate = (472'000'000.0 - 193'520'000.0) / 12;  // 23.2 MB/s
  s.set_elapsed_s(193'520'000.0 / rate);
  s.set_records(120'340);
  s.set_staged(120'334);
  s.set_rejected(3);
  s.set_tasks_total(20);
  s.set_tasks_pending(5);
  s.set_tasks_leased(4);
  s.set_tasks_done(11);
  s.set_tasks_retried(1);
  for (int i = 1; i <= 4; ++i) {
    *s.add_workers() = testing::Worker("worker-" + std::to_string(i), 2, static_cast<uint32_t>(i % 3),
                                       static_cast<uint64_t>(i * 3), 0, 0.1 * i);
  }
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

size_t CountChar(const std::string& s, char c) { return static_cast<size_t>(std::count(s.begin(), s.end(), c)); }

// The bar of a frame's second line: what is between '[' and ']'.
std::string Bar(const std::string& frame) {
  std::string line = Lines(frame).at(1);
  size_t open = line.find('['), close = line.find(']');
  if (open != 0 || close == std::string::npos) return "";
  return line.substr(1, close - 1);
}

TEST(FormatTest, NumbersForPeople) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(812), "812 B");
  EXPECT_EQ(FormatBytes(3400), "3.40 kB");
  EXPECT_EQ(FormatBytes(41'500'000), "41.5 MB");
  EXPECT_EQ(FormatBytes(472'000'000), "472 MB");
  EXPECT_EQ(FormatBytes(999'700'000), "1.00 GB");  // never "1000 MB"
  EXPECT_EQ(FormatBytes(1'200'000'000), "1.20 GB");

  EXPECT_EQ(FormatDuration(0), "0.0 s");
  EXPECT_EQ(FormatDuration(4.24), "4.2 s");
  EXPECT_EQ(FormatDuration(12), "12 s");
  EXPECT_EQ(FormatDuration(200), "3 m 20 s");
  EXPECT_EQ(FormatDuration(7500), "2 h 05 m");
}

TEST(RenderPlainLineTest, StagingLineHasEveryFigure) {
  EXPECT_EQ(RenderPlainLine(StagingSnapshot()),
            "staging: 12/30 files, 41% of 472 MB, 120,334 records staged, 3 rejected, 23.2 MB/s, 4 workers, "
            "ETA 12 s");
}

TEST(RenderPlainLineTest, EtaIsLeftOutWhileUnknown) {
  StatusSnapshot s = StagingSnapshot();
  s.set_bytes_done(0);
  s.set_files_done(0);
  EXPECT_EQ(RenderPlainLine(s),
            "staging: 0/30 files, 0% of 472 MB, 120,334 records staged, 3 rejected, 0 B/s, 4 workers");
}

TEST(RenderPlainLineTest, OtherPhases) {
  StatusSnapshot s = StagingSnapshot();
  s.set_phase(StatusSnapshot::PLANNING);
  s.set_elapsed_s(3);
  EXPECT_EQ(RenderPlainLine(s), "planning: listing the sources, 3.0 s elapsed");
  s = StagingSnapshot();
  s.set_phase(StatusSnapshot::DONE);
  s.set_files_done(30);
  s.set_bytes_done(s.bytes_total());
  s.set_elapsed_s(42);
  EXPECT_EQ(RenderPlainLine(s),
            "done: 30/30 files, 472 MB, 120,334 records staged, 3 rejected, in 42 s (11.2 MB/s)");
  s.set_phase(StatusSnapshot::FAILED);
  s.set_error("task 3 failed:\nno such bucket");
  s.set_files_done(12);
  s.set_bytes_done(193'520'000);
  EXPECT_EQ(RenderPlainLine(s), "failed after 42 s at 12/30 files, 41% of 472 MB, 120,334 records staged, 3 rejected");
  s.set_elapsed_s(0);  // failed before it started
  EXPECT_EQ(RenderPlainLine(s), "failed at 12/30 files, 41% of 472 MB, 120,334 records staged, 3 rejected");
  StatusSnapshot early;  // e.g. the warehouse was unreachable
  early.set_phase(StatusSnapshot::FAILED);
  early.set_error("cannot connect to the warehouse");
  EXPECT_EQ(RenderPlainLine(early), "failed before any file was staged");
  EXPECT_EQ(Lines(RenderTerminalFrame(early, 80)).at(0), "loadstar: failed: cannot connect to the warehouse");
  EXPECT_EQ(Bar(RenderTerminalFrame(early, 80)), std::string(40, '-'));
}

TEST(RenderTerminalFrameTest, KnownSnapshot) {
  const std::string frame = RenderTerminalFrame(StagingSnapshot(), 80);
  const std::vector<std::string> lines = Lines(frame);
  ASSERT_GE(lines.size(), 6u) << frame;
  EXPECT_EQ(lines[0], "loadstar run 7 (schema sparkify): staging, 8.3 s");
  // 80 columns: 40 cells, 41% of them full, rounded down.
  EXPECT_EQ(Bar(frame), std::string(16, '#') + std::string(24, '-'));
  EXPECT_EQ(lines[1], "[" + Bar(frame) + "]  41%  194 MB of 472 MB");
  EXPECT_EQ(lines[2], "files 12/30, records 120,334 staged, 3 rejected, 23.2 MB/s, 4 workers, ETA 12 s");
  EXPECT_EQ(lines[3], "tasks 5 pending, 4 leased, 11/20 done, 0 failed, 1 retried, 0 workers lost");
  EXPECT_EQ(lines[4], "");
  EXPECT_EQ(lines[5], "worker    in flight      done  failed  heartbeat");
  EXPECT_EQ(lines[6], "worker-1          1         3       0  0.1 s ago");
  EXPECT_EQ(lines.size(), 10u) << frame;
  for (const std::string& line : lines) EXPECT_LE(line.size(), 80u) << line;
  EXPECT_EQ(frame.find('\x1b'), std::string::npos) << "the pure rendering has no escape sequences";
}

TEST(RenderTerminalFrameTest, BarFollowsTheWidth) {
  const StatusSnapshot s = StagingSnapshot();
  EXPECT_EQ(Bar(RenderTerminalFrame(s, 60)), std::string(8, '#') + std::string(12, '-'));  // 20 cells
  EXPECT_EQ(Bar(RenderTerminalFrame(s, 200)).size(), 40u);                                 // at most 40
  const std::string narrow = RenderTerminalFrame(s, 30);
  for (const std::string& line : Lines(narrow)) EXPECT_LE(line.size(), 30u) << line;
  EXPECT_EQ(Bar(narrow), std::string(4, '#') + std::string(6, '-'));  // at least 10
}

TEST(RenderTerminalFrameTest, ManyWorkersAreCutAndNamesMadePrintable) {
  StatusSnapshot s = StagingSnapshot();
  s.clear_workers();
  for (int i = 0; i < 12; ++i) *s.add_workers() = testing::Worker("w" + std::to_string(i), 1, 1, 1, 0, 0);
  s.mutable_workers(0)->set_name("evil\x1b[2Jname");
  const std::string frame = RenderTerminalFrame(s, 100);
  EXPECT_EQ(frame.find('\x1b'), std::string::npos);
  EXPECT_NE(frame.find("evil [2Jname"), std::string::npos) << frame;
  EXPECT_NE(frame.find("w7 "), std::string::npos) << frame;
  EXPECT_EQ(frame.find("w8 "), std::string::npos) << frame;
  EXPECT_NE(frame.find("... and 4 more workers\n"), std::string::npos) << frame;
  // `loadstar status` lists them all.
  const std::string all = RenderStatusText(s, 0, SIZE_MAX);
  EXPECT_NE(all.find("w11 "), std::string::npos) << all;
  EXPECT_EQ(all.find("more workers"), std::string::npos) << all;
}

TEST(RenderTerminalFrameTest, PlanningHasNoFiguresYet) {
  StatusSnapshot s;
  s.set_schema("sparkify");
  s.set_run_id(7);
  s.set_phase(StatusSnapshot::PLANNING);
  s.set_elapsed_s(1.3);
  EXPECT_EQ(RenderTerminalFrame(s, 80),
            "loadstar run 7 (schema sparkify): planning, 1.3 s\n"
            "listing the sources and planning the tasks\n"
            "\n"
            "no workers connected\n");
}

TEST(RenderTerminalFrameTest, FailedRunShowsItsError) {
  StatusSnapshot s = StagingSnapshot();
  s.set_phase(StatusSnapshot::FAILED);
  s.set_error("more than --max-errors records rejected");
  const std::string frame = RenderTerminalFrame(s, 120);
  EXPECT_EQ(Lines(frame).at(0),
            "loadstar run 7 (schema sparkify): failed after 8.3 s: more than --max-errors records rejected");
  EXPECT_EQ(frame.find("ETA"), std::string::npos) << frame;
}

// ---- the view ----

// Reads `fd` until EOF (or EIO: a pseudo-terminal whose other side has closed) or 10 s pass.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (int waited_ms = 0; waited_ms < 10'000;) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, 100);
    if (ready == 0) {
      waited_ms += 100;
      continue;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string WithoutCarriageReturns(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
  return s;
}

int WaitChild(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// What the child does with its stderr, whatever that is: choose a mode as `loadstar run` would,
// draw two updates, a message and the final state. Exit code 10 + the mode chosen.
[[noreturn]] void DrawInChild(const char* term) {
  if (term != nullptr) {
    setenv("TERM", term, 1);
  } else {
    unsetenv("TERM");
  }
  ProgressViewOptions options;
  options.mode = ChooseProgressMode(/*quiet=*/false, /*log_json=*/false);
  options.terminal_interval = milliseconds(0);
  options.plain_interval = milliseconds(0);
  options.tick_interval = milliseconds(0);  // only the updates below draw
  ProgressView view(options);
  StatusSnapshot s = StagingSnapshot();
  view.Update(s);
  // A child process writing to the relay, as local workers do.
  const int relay = view.RelayFd();
  if ((relay >= 0) != (options.mode == ProgressMode::kTerminal)) _exit(3);
  if (relay >= 0) {
    pid_t child = fork();
    if (child == 0) {
      dup2(relay, STDERR_FILENO);
      const char line[] = "a line from a child process\n";
      if (write(STDERR_FILENO, line, sizeof line - 1) < 0) _exit(1);
      _exit(0);
    }
    waitpid(child, nullptr, 0);
    usleep(100'000);  // usually enough for the relay to show it before the next update
  }
  s.set_files_done(20);
  view.Update(s);
  view.PrintAbove("a message from elsewhere");
  s.set_phase(StatusSnapshot::DONE);
  s.set_files_done(30);
  s.set_bytes_done(s.bytes_total());
  view.Finish(s);
  view.Update(s);  // after Finish: nothing
  std::fflush(stderr);
  _exit(10 + static_cast<int>(options.mode));
}

TEST(ProgressViewTest, TerminalModeOnAPseudoTerminal) {
  int master = -1;
  winsize size{};
  size.ws_row = 30;
  size.ws_col = 100;
  pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  ASSERT_GE(pid, 0) << "forkpty failed";
  if (pid == 0) DrawInChild("xterm-256color");  // stdin, stdout and stderr are the terminal
  const std::string raw = ReadAll(master);
  close(master);
  ASSERT_EQ(WaitChild(pid), 10 + static_cast<int>(ProgressMode::kTerminal)) << raw;
  const std::string out = WithoutCarriageReturns(raw);

  // The first frame, as rendered for 99 columns.
  StatusSnapshot first = StagingSnapshot();
  const std::string first_frame = RenderTerminalFrame(first, 99);
  ASSERT_EQ(out.substr(0, first_frame.size()), first_frame) << out;
  const size_t frame_lines = CountChar(first_frame, '\n');

  // Each redraw goes back to the first line of the previous frame and clears to the end of the
  // screen: once for the child's line, once for the second update, once for the message, once
  // for the final frame.
  const std::string erase = "\x1b[" + std::to_string(frame_lines) + "A\x1b[J";
  size_t erases = 0;
  for (size_t at = out.find(erase); at != std::string::npos; at = out.find(erase, at + 1)) ++erases;
  EXPECT_EQ(erases, 4u) << out;
  // The child's line took the picture's place, and the picture was drawn again below it.
  const std::string relayed = erase + "a line from a child process\n";
  const size_t child_line = out.find(relayed);
  ASSERT_NE(child_line, std::string::npos) << out;
  EXPECT_EQ(out.compare(child_line + relayed.size(), 14, "loadstar run 7"), 0) << out;

  EXPECT_NE(out.find("files 20/30"), std::string::npos) << out;
  // The message is printed where the picture was, and the picture is drawn again below it.
  const size_t message = out.find(erase + "a message from elsewhere\n");
  ASSERT_NE(message, std::string::npos) << out;
  EXPECT_EQ(out.find("loadstar run 7", message), message + erase.size() + 25) << out;
  // The final frame stays: it is the end of the output.
  const std::string final_line = "loadstar run 7 (schema sparkify): done, 8.3 s\n";
  const size_t last = out.rfind(final_line);
  ASSERT_NE(last, std::string::npos) << out;
  EXPECT_NE(out.find("[" + std::string(40, '#') + "] 100%", last), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b", last), std::string::npos) << "nothing is drawn after Finish";
  for (const std::string& line : Lines(out)) {
    std::string visible = line.substr(line.rfind("\x1b[J") == std::string::npos ? 0 : line.rfind("\x1b[J") + 3);
    EXPECT_LE(visible.size(), 99u) << visible;
  }
}

TEST(ProgressViewTest, DumbTerminalGetsPlainLines) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) DrawInChild("dumb");
  const std::string out = ReadAll(master);
  close(master);
  EXPECT_EQ(WaitChild(pid), 10 + static_cast<int>(ProgressMode::kPlain)) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

TEST(ProgressViewTest, PlainModeWhenStderrIsNotATerminal) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    DrawInChild("xterm-256color");
  }
  close(fds[1]);
  const std::string out = ReadAll(fds[0]);
  close(fds[0]);
  ASSERT_EQ(WaitChild(pid), 10 + static_cast<int>(ProgressMode::kPlain)) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), 4u) << out;  // two updates, the message, the final line
  auto ends_with = [](const std::string& line, const std::string& tail) {
    return line.size() >= tail.size() && line.compare(line.size() - tail.size(), tail.size(), tail) == 0;
  };
  EXPECT_TRUE(ends_with(lines[0], " info  loadstar: " + RenderPlainLine(StagingSnapshot())) ||
              ends_with(lines[0], " info loadstar: " + RenderPlainLine(StagingSnapshot())))
      << lines[0];
  EXPECT_NE(lines[1].find("staging: 20/30 files"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2], "a message from elsewhere");
  EXPECT_NE(lines[3].find("done: 30/30 files, 472 MB"), std::string::npos) << lines[3];
}

TEST(RenderTest, TheTransformStepIsShown) {
  StatusSnapshot s = StagingSnapshot();
  s.set_phase(StatusSnapshot::TRANSFORMING);
  s.set_step("songplays");
  s.set_elapsed_s(42);
  const std::string frame = RenderStatusText(s, 0, 8);
  EXPECT_EQ(Lines(frame).at(0), "loadstar run 7 (schema sparkify): transforming, 42 s");
  EXPECT_EQ(Lines(frame).at(1), "step: songplays");
  EXPECT_EQ(RenderPlainLine(s),
            "transforming: building the star tables from 120,334 staged records (12 files, 194 MB), step: "
            "songplays, 42 s elapsed");
  s.set_step("evil\n\x1b[2J");
  EXPECT_EQ(Lines(RenderStatusText(s, 0, 8)).at(1), "step: evil  [2J");
  s.clear_step();
  EXPECT_EQ(RenderStatusText(s, 0, 8).find("step"), std::string::npos);
  EXPECT_EQ(RenderPlainLine(s).find("step"), std::string::npos);
}

TEST(RenderTest, RateAndEtaAreTheRecentOnesWhenMeasured) {
  StatusSnapshot s = StagingSnapshot();
  s.set_recent_bytes_per_s(278'480'000.0 / 60);  // a minute left
  EXPECT_NE(RenderPlainLine(s).find(", 4.64 MB/s, 4 workers, ETA 1 m 0 s"), std::string::npos)
      << RenderPlainLine(s);
  s.set_recent_bytes_per_s(0);  // measured: nothing lately
  EXPECT_EQ(RenderPlainLine(s).find("ETA"), std::string::npos) << RenderPlainLine(s);
  EXPECT_EQ(RenderStatusText(s, 0, 8).find("ETA"), std::string::npos);
  EXPECT_NE(RenderPlainLine(s).find(", 0 B/s, "), std::string::npos) << RenderPlainLine(s);
}

// Reads what is in `fd` now, waiting at most `wait` for the first byte.
std::string ReadAvailable(int fd, milliseconds wait) {
  std::string out;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, out.empty() ? static_cast<int>(wait.count()) : 0) <= 0) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// With no new snapshot (the coordinator busy transforming), the view keeps counting.
TEST(ProgressViewTest, TicksShowTheLastSnapshotAgedWhenNothingNewComes) {
  auto now = std::chrono::steady_clock::time_point{} + seconds(1000);
  ProgressViewOptions options;
  options.mode = ProgressMode::kPlain;
  options.plain_interval = seconds(5);
  options.tick_interval = milliseconds(0);  // Tick() by hand
  options.clock = [&now] { return now; };
  ProgressView view(options);
  StatusSnapshot s = StagingSnapshot();
  s.set_phase(StatusSnapshot::TRANSFORMING);
  s.set_step("songplays");
  s.set_elapsed_s(30);

  ::testing::internal::CaptureStderr();
  view.Tick();  // nothing shown yet: nothing to show again
  view.Update(s);
  now += seconds(2);
  view.Tick();  // too soon
  now += seconds(4);
  view.Tick();  // 6 s later
  now += seconds(60);
  view.Tick();
  view.Finish(s);
  view.Tick();  // never after Finish
  const std::vector<std::string> lines = Lines(::testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
  EXPECT_NE(lines[0].find("step: songplays, 30 s elapsed"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("step: songplays, 36 s elapsed"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("step: songplays, 1 m 36 s elapsed"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("step: songplays, 30 s elapsed"), std::string::npos) << "Finish shows what it is given";
}

// The ETA of a run that waited two minutes for its workers follows the rate since they came.
TEST(ProgressViewTest, EtaFollowsTheRecentRateNotTheAverage) {
  auto now = std::chrono::steady_clock::time_point{} + seconds(1000);
  ProgressViewOptions options;
  options.mode = ProgressMode::kPlain;
  options.plain_interval = seconds(0);
  options.tick_interval = milliseconds(0);
  options.clock = [&now] { return now; };
  ProgressView view(options);
  StatusSnapshot s = StagingSnapshot();
  s.set_bytes_total(200'000'000);
  s.set_bytes_done(0);
  s.set_elapsed_s(0);

  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 120; ++i) {  // waiting for workers
    view.Update(s);
    now += seconds(1);
    s.set_elapsed_s(s.elapsed_s() + 1);
  }
  for (int i = 0; i < 10; ++i) {  // then 10 MB/s
    s.set_bytes_done(s.bytes_done() + 10'000'000);
    view.Update(s);
    now += seconds(1);
    s.set_elapsed_s(s.elapsed_s() + 1);
  }
  const std::vector<std::string> idle_then_busy = Lines(::testing::internal::GetCapturedStderr());
  ASSERT_EQ(idle_then_busy.size(), 130u);
  EXPECT_EQ(idle_then_busy[119].find("ETA"), std::string::npos) << "no progress: no ETA\n" << idle_then_busy[119];
  // 100 MB over the last 20 s, 100 MB left: 20 s, where the average since the start says 2 m 10 s.
  const std::string last = idle_then_busy.back();
  EXPECT_NE(last.find(", 5.00 MB/s, 4 workers, ETA 20 s"), std::string::npos) << last;

  // Stalled: the ticks age the rate down to nothing, and the ETA goes.
  ::testing::internal::CaptureStderr();
  now += seconds(25);
  view.Tick();
  const std::string stalled = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(stalled.find(", 0 B/s, 4 workers"), std::string::npos) << stalled;
  EXPECT_EQ(stalled.find("ETA"), std::string::npos) << stalled;
}

// The live view redraws by itself, on its own thread, when no new snapshot comes.
TEST(ProgressViewTest, TheTerminalViewRedrawsOnItsOwn) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    ProgressViewOptions options;
    options.mode = ProgressMode::kTerminal;
    options.fd = fds[1];
    options.terminal_interval = milliseconds(10);
    options.tick_interval = milliseconds(10);
    ProgressView view(options);
    StatusSnapshot s = StagingSnapshot();
    s.set_phase(StatusSnapshot::TRANSFORMING);
    s.set_step("users");
    s.set_elapsed_s(0);
    view.Update(s);
    std::string first = ReadAvailable(fds[0], milliseconds(2000));
    EXPECT_NE(first.find("loadstar run 7 (schema sparkify): transforming, 0.0 s\nstep: users\n"), std::string::npos)
        << first;
    // No Update: the picture is drawn again, its elapsed time grown.
    std::string later;
    for (int i = 0; i < 200 && later.find("transforming, 0.5 s") == std::string::npos; ++i) {
      later += ReadAvailable(fds[0], milliseconds(50));
    }
    EXPECT_NE(later.find("transforming, 0.5 s\nstep: users\n"), std::string::npos) << later;
    view.Finish(s);
    ReadAvailable(fds[0], milliseconds(10));
    EXPECT_EQ(ReadAvailable(fds[0], milliseconds(100)), "") << "nothing drawn after Finish";
  }
  close(fds[0]);
  close(fds[1]);
}

TEST(ProgressViewTest, QuietModeDrawsNothing) {
  EXPECT_EQ(ChooseProgressMode(/*quiet=*/true, /*log_json=*/false), ProgressMode::kQuiet);
  EXPECT_EQ(ChooseProgressMode(/*quiet=*/false, /*log_json=*/true), ProgressMode::kPlain);
  ::testing::internal::CaptureStderr();
  ProgressView view(ProgressMode::kQuiet);
  view.Update(StagingSnapshot());
  StatusSnapshot failed = StagingSnapshot();
  failed.set_phase(StatusSnapshot::FAILED);
  view.Finish(failed);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(ProgressViewTest, PlainLinesAreThrottledButPhaseChangesShowAtOnce) {
  auto now = std::chrono::steady_clock::time_point{} + seconds(1000);
  ProgressViewOptions options;
  options.mode = ProgressMode::kPlain;
  options.plain_interval = seconds(5);
  options.clock = [&now] { return now; };
  ProgressView view(options);
  StatusSnapshot s = StagingSnapshot();

  ::testing::internal::CaptureStderr();
  view.Update(s);  // the first one shows
  now += seconds(1);
  view.Update(s);  // too soon
  now += seconds(4);
  s.set_files_done(13);
  view.Update(s);  // 5 s later: shows
  now += milliseconds(10);
  s.set_phase(StatusSnapshot::TRANSFORMING);
  view.Update(s);  // a new phase: shows
  now += milliseconds(10);
  view.Update(s);  // too soon
  s.set_phase(StatusSnapshot::DONE);
  view.Update(s);  // a new phase: shows
  view.Finish(s);  // the same line again: not repeated
  view.Update(s);  // never after Finish
  const std::vector<std::string> lines = Lines(::testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("staging: 12/30"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("staging: 13/30"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("transforming: "), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("done: "), std::string::npos) << lines[3];

  ProgressView failing(options);
  s.set_phase(StatusSnapshot::FAILED);
  ::testing::internal::CaptureStderr();
  failing.Finish(s);  // shows, at level error
  const std::string failed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(failed.find(" error "), std::string::npos) << failed;
  EXPECT_NE(failed.find("failed after 8.3 s at 13/30 files"), std::string::npos) << failed;
}

}  // namespace
}  // namespace loadstar::coordinator
