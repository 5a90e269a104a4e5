// ProgressView: a run's progress for people, drawn from StatusSnapshots.
//
//   kTerminal  a live picture redrawn in place (ANSI cursor movement) on a terminal, about five
//              times a second: phase, transform step, a bar of bytes done, files, records,
//              rate, workers, ETA, and a table of up to kTerminalWorkerRows workers.
//   kPlain     one log line (common/core/log.h, level info) every `plain_interval` and at each phase
//              change, e.g.
//              "staging: 12/30 files, 41% of 472 MB, 120,334 records staged, 3 rejected,
//               38.2 MB/s, 4 workers, ETA 12 s" (see RenderPlainLine)
//   kQuiet     draws nothing; errors reach people the way they always do (the caller's
//              messages, and whatever log lines the log level lets through).
//
// The view keeps moving when no new snapshot comes (the coordinator busy transforming, say):
// a thread of its own shows the last snapshot again, its elapsed time and heartbeat ages grown
// by the time since it came. The rate and the ETA are those of the last ~20 s (RateMeter), so
// time spent waiting for workers does not stretch the ETA; with no progress lately there is
// no ETA.
//
// Other output must not tear the live picture: give the log's lines to PrintAbove and child
// processes RelayFd() as their stderr, and both are printed above it.
//
// The rendering is done by pure functions (RenderTerminalFrame, RenderPlainLine,
// RenderStatusText) so it can be tested without a terminal; the class adds throttling and the
// escape sequences.
//
// Sizes are decimal (1 MB = 10^6 bytes), as in the run summary and the log lines.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "coordinator/monitor/status_board.h"

namespace loadstar::coordinator {

enum class ProgressMode { kTerminal, kPlain, kQuiet };

// kQuiet when `quiet`; otherwise kTerminal when stderr is a terminal, $TERM is set and is not
// "dumb", and log lines are not JSON (`log_json`: a program reads stderr then); else kPlain.
ProgressMode ChooseProgressMode(bool quiet, bool log_json);

// Worker rows the live terminal view shows at most; a last line counts the others.
inline constexpr size_t kTerminalWorkerRows = 8;

// The picture of a run as lines of text, each ending in '\n', none longer than `width`
// characters (cut if need be; `width` <= 0 means no limit), with no escape sequences:
//
//   loadstar run 12 (schema sparkify): staging, 42 s
//   step: songplays                         (only while a transform step runs)
//   [################------------------------]  41%  193 MB of 472 MB
//   files 12/30, records 120,334 staged, 3 rejected, 38.2 MB/s, 4 workers, ETA 12 s
//   tasks 5 pending, 4 leased, 11/20 done, 0 failed, 1 retried, 0 workers lost
//
//   worker    in flight      done  failed  heartbeat
//   worker-1          2        10       0  0.3 s ago
//   ... and 3 more workers
//
// The bar has std::clamp(width - 40, 10, 40) cells (40 with no width limit): '#' for each
// whole cell of bytes done, '-' for the rest. While the run is starting or planning, one line
// "listing the sources and planning the tasks" stands for the bar, figures and tasks. When the
// run has failed the first line says so and carries the error. The rate is the current one
// (CurrentBytesPerSecond) while staging, the average since the start after. At most `max_worker_rows` worker rows are listed. Control characters
// in names and errors are shown as spaces.
std::string RenderStatusText(const StatusSnapshot& snapshot, int width, size_t max_worker_rows);

// What the live terminal view draws: RenderStatusText with kTerminalWorkerRows worker rows.
std::string RenderTerminalFrame(const StatusSnapshot& snapshot, int width);

// One line for logs (no newline). While staging:
//   "staging: 12/30 files, 41% of 472 MB, 120,334 records staged, 3 rejected, 38.2 MB/s,
//    4 workers, ETA 12 s"
// (the ETA is left out while unknown); other phases say what fits them, e.g.
//   "planning: listing the sources, 3.0 s elapsed", "transforming: building the star tables
//   from 120,334 staged records (30 files, 472 MB), step: songplays, 42 s elapsed", "done: 30/30 files, 472 MB, 120,334 records
//   staged, 3 rejected, in 42 s (11.2 MB/s)", "failed after 42 s at 12/30 files, 41% of 472 MB,
//   120,334 records staged, 3 rejected" (the error is left to the caller, so it is said once).
std::string RenderPlainLine(const StatusSnapshot& snapshot);

// "4.2 s", "12 s", "3 m 20 s", "2 h 05 m": a duration for people (tenths below 10 s).
std::string FormatDuration(double seconds);
// "812 B", "3.40 kB", "41.5 MB", "472 MB", "1.20 GB": three significant digits, decimal units.
std::string FormatBytes(double bytes);

struct ProgressViewOptions {
  ProgressMode mode = ProgressMode::kPlain;
  // kTerminal: least time between two redraws.
  std::chrono::milliseconds terminal_interval{200};
  // kPlain: least time between two lines, unless the phase changes.
  std::chrono::milliseconds plain_interval{5000};
  // kTerminal draws on this file descriptor (a terminal); its width is read from it at each
  // redraw (80 columns when it cannot be).
  int fd = 2;
  // kTerminal and kPlain: how often the view's own thread looks whether the last snapshot is
  // due to be shown again (after `terminal_interval` or `plain_interval`) when no new one
  // came; 0: no thread (Tick() then does it, for tests).
  std::chrono::milliseconds tick_interval{500};
  // The time; null means std::chrono::steady_clock::now. Tests pass a fake clock.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

class ProgressView {
 public:
  explicit ProgressView(ProgressMode mode);
  explicit ProgressView(ProgressViewOptions options);
  // Does not draw: call Finish() to leave the last state visible.
  ~ProgressView();

  ProgressView(const ProgressView&) = delete;
  ProgressView& operator=(const ProgressView&) = delete;

  ProgressMode mode() const { return options_.mode; }

  // Shows `snapshot` if enough time has passed since the last time something was shown (or
  // the phase changed); otherwise does nothing. Cheap enough to call every loop turn.
  void Update(const StatusSnapshot& snapshot);

  // Shows the last snapshot again, aged by the time since it came, if it is due (as Update
  // would); the view's thread calls it every `tick_interval`.
  void Tick();

  // Shows `snapshot` now and leaves it on screen: the terminal view draws its last frame and
  // stops redrawing; the plain view logs its last line unless that line was just logged. Lines
  // of a failed run are logged at level error, others at info. Later Update() calls do nothing.
  void Finish(const StatusSnapshot& snapshot);

  // kTerminal: prints `text` (whole lines) above the live picture, which is redrawn below it,
  // so messages do not tear the picture (give it the log's lines while the view is live).
  // Other modes, and after Finish: writes `text` to stderr as it is. Thread-safe, like Update
  // and Finish; never calls the log.
  void PrintAbove(std::string_view text);

  // kTerminal: a file descriptor to give child processes as their stderr (dup2 it onto fd 2
  // between fork and exec); their lines are shown above the live picture, as PrintAbove does,
  // instead of tearing it. The same descriptor on every call, close-on-exec (only children that
  // dup2 it inherit it), valid until Finish(), which shows what they wrote until then and closes
  // it. -1 in the other modes, after Finish, or when no pipe could be made: children then keep
  // this process's stderr.
  int RelayFd();

 private:
  using Clock = std::chrono::steady_clock;

  Clock::time_point Now() const;
  // `snapshot` as it stands at `now`: aged since it came, and with the recent rate.
  StatusSnapshot AsOf(const StatusSnapshot& snapshot, Clock::time_point now) const;  // requires mu_
  // Shows `snapshot`; the line to log afterwards, outside mu_, in plain mode.
  std::string Show(const StatusSnapshot& snapshot, Clock::time_point now);  // requires mu_
  void Ticker();     // the thread that calls Tick()
  void StopTicker();
  // kTerminal: erases the picture drawn last (the cursor is left where it began).
  std::string EraseFrame() const;
  void DrawTerminal(const StatusSnapshot& snapshot, bool final_frame);  // requires mu_
  void WriteAll(std::string_view bytes) const;
  void Relay();      // the relay thread: RelayFd's pipe to PrintAbove
  void StopRelay();  // takes what is left in the pipe, ends the thread, closes the pipe

  // Never changes after construction.
  const ProgressViewOptions options_;

  std::mutex mu_;
  bool shown_ = false;           // guarded by mu_: something was shown already
  bool finished_ = false;        // guarded by mu_
  Clock::time_point last_shown_; // guarded by mu_
  RunPhase last_phase_ = StatusSnapshot::STARTING;  // guarded by mu_
  size_t frame_lines_ = 0;       // guarded by mu_: lines of the picture on screen now
  std::string last_frame_;       // guarded by mu_: what is on screen, to redraw after PrintAbove
  std::string last_line_;        // guarded by mu_: the plain view's last line
  StatusSnapshot last_snapshot_;  // guarded by mu_: the last one given to Update
  Clock::time_point last_received_;  // guarded by mu_: when it came
  RateMeter rate_;               // guarded by mu_: of bytes done

  // The thread that calls Tick(); takes mu_ with tick_mu_ free.
  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool tick_stop_ = false;       // guarded by tick_mu_
  std::thread ticker_;

  // The children's stderr relay. Lock order: relay_mu_ before mu_ (StopRelay holds relay_mu_
  // while it joins the relay thread, which takes mu_ in PrintAbove); nothing takes relay_mu_
  // while holding mu_.
  std::mutex relay_mu_;
  int relay_read_ = -1;          // guarded by relay_mu_; read by the relay thread while it runs
  int relay_write_ = -1;         // guarded by relay_mu_
  bool relay_stopped_ = false;   // guarded by relay_mu_: no relay after Finish
  std::atomic<bool> relay_stop_{false};
  std::thread relay_thread_;     // guarded by relay_mu_
};

}  // namespace loadstar::coordinator
