#include "coordinator/monitor/progress_view.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/core/log.h"
#include "common/core/text.h"

namespace loadstar::coordinator {
namespace {

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// Text from the snapshot made safe to print: control characters (an escape sequence in a
// worker name, a line break in an error) become spaces.
std::string Printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

// `line` cut to at most `width` characters (UTF-8 sequences counted as one), `width` <= 0
// meaning no limit.
std::string Fit(std::string line, int width) {
  if (width <= 0) return line;
  int chars = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (++chars > width) {
      line.resize(i);
      break;
    }
  }
  return line;
}

// Percent of bytes done, rounded down so that 100 means all of it; files stand in when there
// are no bytes to count, and the phase when there are no files either.
int PercentDone(const StatusSnapshot& s) {
  if (s.bytes_total() > 0) {
    return static_cast<int>(static_cast<long double>(std::min(s.bytes_done(), s.bytes_total())) * 100 / s.bytes_total());
  }
  if (s.files_total() > 0) return static_cast<int>(std::min(s.files_done(), s.files_total()) * 100 / s.files_total());
  return s.phase() == StatusSnapshot::TRANSFORMING || s.phase() == StatusSnapshot::DONE ? 100 : 0;
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return WithThousands(n) + " " + (n == 1 ? one : many);
}

std::string HeartbeatAge(double seconds) {
  if (!(seconds >= 0)) return "-";
  return (seconds < 10 ? Printf("%.1f s", seconds) : FormatDuration(seconds)) + " ago";
}

std::string Pad(std::string s, size_t width, bool right_align) {
  if (s.size() >= width) return s;
  std::string fill(width - s.size(), ' ');
  return right_align ? fill + s : s + fill;
}

// The bar of bytes done; files, records, rate, workers and ETA; tasks.
void AppendProgressLines(const StatusSnapshot& s, int width, std::vector<std::string>* lines) {
  const int cells = width <= 0 ? 40 : std::clamp(width - 40, 10, 40);
  const int percent = PercentDone(s);
  const int full =
      s.bytes_total() == 0
          ? cells * percent / 100
          : static_cast<int>(static_cast<long double>(std::min(s.bytes_done(), s.bytes_total())) * cells / s.bytes_total());
  lines->push_back("[" + std::string(static_cast<size_t>(full), '#') +
                   std::string(static_cast<size_t>(cells - full), '-') + "] " +
                   Pad(std::to_string(percent) + "%", 4, true) + "  " +
                   FormatBytes(static_cast<double>(s.bytes_done())) + " of " +
                   FormatBytes(static_cast<double>(s.bytes_total())));

  // Files, records, rate, workers, ETA.
  std::string figures = "files " + WithThousands(s.files_done()) + "/" + WithThousands(s.files_total()) + ", records " +
                        WithThousands(s.staged()) + " staged, " + WithThousands(s.rejected()) + " rejected, " +
                        FormatBytes(s.phase() == StatusSnapshot::STAGING ? CurrentBytesPerSecond(s)
                                                                         : AverageBytesPerSecond(s)) +
                        "/s, " +
                        Plural(static_cast<size_t>(s.workers_size()), "worker", "workers");
  if (s.phase() == StatusSnapshot::STAGING && EtaSeconds(s) >= 0) figures += ", ETA " + FormatDuration(EtaSeconds(s));
  lines->push_back(std::move(figures));
  lines->push_back("tasks " + WithThousands(s.tasks_pending()) + " pending, " + WithThousands(s.tasks_leased()) + " leased, " +
                   WithThousands(s.tasks_done()) + "/" + WithThousands(s.tasks_total()) + " done, " +
                   WithThousands(s.tasks_failed()) + " failed, " + WithThousands(s.tasks_retried()) + " retried, " +
                   Plural(s.workers_lost(), "worker", "workers") + " lost");
  for (const std::string& unfit : s.workers_unfit()) lines->push_back("worker unfit, left: " + unfit);
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  if (seconds < 9.95) return Printf("%.1f s", seconds);
  auto total = static_cast<uint64_t>(std::llround(seconds));
  char buf[64];
  if (total < 60) {
    std::snprintf(buf, sizeof buf, "%llu s", static_cast<unsigned long long>(total));
  } else if (total < 3600) {
    std::snprintf(buf, sizeof buf, "%llu m %llu s", static_cast<unsigned long long>(total / 60),
                  static_cast<unsigned long long>(total % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llu h %02llu m", static_cast<unsigned long long>(total / 3600),
                  static_cast<unsigned long long>(total % 3600 / 60));
  }
  return buf;
}

std::string FormatBytes(double bytes) {
  if (!(bytes >= 0)) bytes = 0;
  if (bytes < 999.5) return Printf("%.0f B", bytes);
  static const char* const kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double v = bytes / 1000;
  size_t unit = 0;
  while (v >= 999.5 && unit + 1 < std::size(kUnits)) {
    v /= 1000;
    ++unit;
  }
  const char* format = v < 9.995 ? "%.2f " : v < 99.95 ? "%.1f " : "%.0f ";
  return Printf(format, v) + kUnits[unit];
}

ProgressMode ChooseProgressMode(bool quiet, bool log_json) {
  if (quiet) return ProgressMode::kQuiet;
  if (log_json) return ProgressMode::kPlain;
  const char* term = std::getenv("TERM");
  if (!isatty(STDERR_FILENO) || term == nullptr || *term == '\0' || std::string_view(term) == "dumb") {
    return ProgressMode::kPlain;
  }
  return ProgressMode::kTerminal;
}

std::string RenderStatusText(const StatusSnapshot& s, int width, size_t max_worker_rows) {
  std::vector<std::string> lines;

  // The run and its phase.
  std::string title = "loadstar";
  if (s.run_id() > 0) title += " run " + std::to_string(s.run_id());
  if (!s.schema().empty()) title += " (schema " + Printable(s.schema()) + ")";
  if (s.phase() == StatusSnapshot::FAILED) {
    title += ": failed" + (s.elapsed_s() > 0 ? " after " + FormatDuration(s.elapsed_s()) : std::string()) + ": " +
             Printable(s.error().empty() ? std::string("no reason given") : s.error());
  } else {
    title += ": " + PhaseName(s.phase()) + ", " + FormatDuration(s.elapsed_s());
  }
  lines.push_back(std::move(title));
  if (!s.step().empty()) lines.push_back("step: " + Printable(s.step()));

  if (s.phase() == StatusSnapshot::STARTING || s.phase() == StatusSnapshot::PLANNING) {
    lines.emplace_back("listing the sources and planning the tasks");  // nothing known about the work yet
  } else {
    AppendProgressLines(s, width, &lines);
  }

  // The workers.
  lines.emplace_back();
  if (s.workers().empty()) {
    lines.emplace_back("no workers connected");
  } else {
    size_t name_width = 6;
    size_t shown = std::min(static_cast<size_t>(s.workers_size()), max_worker_rows);
    for (size_t i = 0; i < shown; ++i) name_width = std::max(name_width, std::min<size_t>(s.workers(static_cast<int>(i)).name().size(), 24));
    lines.push_back(Pad("worker", name_width, false) + "  in flight      done  failed  heartbeat");
    for (size_t i = 0; i < shown; ++i) {
      const WorkerStatus& w = s.workers(static_cast<int>(i));
      lines.push_back(Pad(Fit(Printable(w.name()), static_cast<int>(name_width)), name_width, false) + "  " +
                      Pad(WithThousands(w.in_flight()), 9, true) + "  " + Pad(WithThousands(w.tasks_done()), 8, true) + "  " +
                      Pad(WithThousands(w.tasks_failed()), 6, true) + "  " + HeartbeatAge(w.last_heartbeat_age_s()));
    }
    if (static_cast<size_t>(s.workers_size()) > shown) {
      lines.push_back("... and " + Plural(static_cast<size_t>(s.workers_size()) - shown, "more worker", "more workers"));
    }
  }

  std::string out;
  for (std::string& line : lines) out += Fit(std::move(line), width) + "\n";
  return out;
}

std::string RenderTerminalFrame(const StatusSnapshot& s, int width) {
  return RenderStatusText(s, width, kTerminalWorkerRows);
}

std::string RenderPlainLine(const StatusSnapshot& s) {
  const std::string phase = PhaseName(s.phase());
  const std::string elapsed = FormatDuration(s.elapsed_s());
  const std::string records =
      WithThousands(s.staged()) + " records staged, " + WithThousands(s.rejected()) + " rejected";
  if (s.phase() == StatusSnapshot::FAILED) {
    // The figures where the run stopped; why it stopped is the caller's to say (once).
    std::string line = "failed" + (s.elapsed_s() > 0 ? " after " + elapsed : std::string());
    if (s.files_total() == 0) return line + " before any file was staged";
    return line + " at " + WithThousands(s.files_done()) + "/" + WithThousands(s.files_total()) + " files, " +
           std::to_string(PercentDone(s)) + "% of " + FormatBytes(static_cast<double>(s.bytes_total())) + ", " +
           records;
  }
  if (s.phase() == StatusSnapshot::STARTING) return "starting: " + elapsed + " elapsed";
  if (s.phase() == StatusSnapshot::PLANNING) return "planning: listing the sources, " + elapsed + " elapsed";
  if (s.phase() == StatusSnapshot::TRANSFORMING) {
    return "transforming: building the star tables from " + WithThousands(s.staged()) + " staged records (" +
           Plural(s.files_done(), "file", "files") + ", " + FormatBytes(static_cast<double>(s.bytes_done())) + "), " +
           (s.step().empty() ? std::string() : "step: " + Printable(s.step()) + ", ") + elapsed + " elapsed";
  }
  if (s.phase() == StatusSnapshot::DONE) {
    return "done: " + WithThousands(s.files_done()) + "/" + WithThousands(s.files_total()) + " files, " +
           FormatBytes(static_cast<double>(s.bytes_done())) + ", " + records + ", in " + elapsed + " (" +
           FormatBytes(AverageBytesPerSecond(s)) + "/s)";
  }
  std::string line = phase + ": " + WithThousands(s.files_done()) + "/" + WithThousands(s.files_total()) + " files, " +
                     std::to_string(PercentDone(s)) + "% of " + FormatBytes(static_cast<double>(s.bytes_total())) +
                     ", " + records + ", " + FormatBytes(CurrentBytesPerSecond(s)) + "/s, " +
                     Plural(static_cast<size_t>(s.workers_size()), "worker", "workers");
  if (EtaSeconds(s) >= 0) line += ", ETA " + FormatDuration(EtaSeconds(s));
  return line;
}

ProgressView::ProgressView(ProgressMode mode) : ProgressView([mode] {
  ProgressViewOptions options;
  options.mode = mode;
  return options;
}()) {}

ProgressView::ProgressView(ProgressViewOptions options) : options_(std::move(options)) {
  if (options_.mode != ProgressMode::kQuiet && options_.tick_interval.count() > 0) {
    ticker_ = std::thread([this] { Ticker(); });
  }
}

ProgressView::~ProgressView() {
  StopTicker();
  StopRelay();
}

ProgressView::Clock::time_point ProgressView::Now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

StatusSnapshot ProgressView::AsOf(const StatusSnapshot& snapshot, Clock::time_point now) const {
  StatusSnapshot s = snapshot;
  if (s.phase() != StatusSnapshot::DONE && s.phase() != StatusSnapshot::FAILED) {
    const double age = std::max(0.0, std::chrono::duration<double>(now - last_received_).count());
    s.set_elapsed_s(s.elapsed_s() + age);
    for (WorkerStatus& w : *s.mutable_workers()) w.set_last_heartbeat_age_s(w.last_heartbeat_age_s() + age);
  }
  if (!s.has_recent_bytes_per_s()) {
    if (const double rate = rate_.Rate(now); rate >= 0) s.set_recent_bytes_per_s(rate);
  }
  return s;
}

std::string ProgressView::Show(const StatusSnapshot& snapshot, Clock::time_point now) {
  shown_ = true;
  last_shown_ = now;
  last_phase_ = snapshot.phase();
  if (options_.mode == ProgressMode::kTerminal) {
    DrawTerminal(snapshot, /*final_frame=*/false);
    return "";
  }
  last_line_ = RenderPlainLine(snapshot);
  return last_line_;
}

void ProgressView::Update(const StatusSnapshot& snapshot) {
  if (options_.mode == ProgressMode::kQuiet) return;
  std::string line;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    const Clock::time_point now = Now();
    rate_.Add(now, snapshot.bytes_done());
    last_snapshot_ = snapshot;
    last_received_ = now;
    const auto interval =
        options_.mode == ProgressMode::kTerminal ? options_.terminal_interval : options_.plain_interval;
    if (shown_ && snapshot.phase() == last_phase_ && now - last_shown_ < interval) return;
    line = Show(AsOf(snapshot, now), now);
  }
  // Outside mu_: the log may hand its lines to PrintAbove.
  if (!line.empty()) {
    log::Write(snapshot.phase() == StatusSnapshot::FAILED ? log::Level::kError : log::Level::kInfo, line);
  }
}

void ProgressView::Tick() {
  if (options_.mode == ProgressMode::kQuiet) return;
  std::string line;
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    if (finished_ || !shown_) return;
    const Clock::time_point now = Now();
    const auto interval =
        options_.mode == ProgressMode::kTerminal ? options_.terminal_interval : options_.plain_interval;
    if (now - last_shown_ < interval) return;
    line = Show(AsOf(last_snapshot_, now), now);
    failed = last_snapshot_.phase() == StatusSnapshot::FAILED;
  }
  if (!line.empty()) log::Write(failed ? log::Level::kError : log::Level::kInfo, line);
}

void ProgressView::Ticker() {
  std::unique_lock lock(tick_mu_);
  while (!tick_stop_) {
    tick_cv_.wait_for(lock, options_.tick_interval, [this] { return tick_stop_; });
    if (tick_stop_) break;
    lock.unlock();
    Tick();
    lock.lock();
  }
}

void ProgressView::StopTicker() {
  {
    std::lock_guard lock(tick_mu_);
    tick_stop_ = true;
  }
  tick_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void ProgressView::Finish(const StatusSnapshot& snapshot) {
  if (options_.mode == ProgressMode::kQuiet) return;
  StopTicker();
  // What children wrote until now goes above the final picture.
  StopRelay();
  std::string line;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = true;
    if (options_.mode == ProgressMode::kTerminal) {
      DrawTerminal(snapshot, /*final_frame=*/true);
      return;
    }
    line = RenderPlainLine(snapshot);
    if (line == last_line_) return;  // already said, e.g. by the Update of this phase
  }
  log::Write(snapshot.phase() == StatusSnapshot::FAILED ? log::Level::kError : log::Level::kInfo, line);
}

void ProgressView::PrintAbove(std::string_view text) {
  std::string line(text);
  if (!line.empty() && line.back() != '\n') line += '\n';
  std::lock_guard lock(mu_);
  if (options_.mode == ProgressMode::kTerminal && !finished_ && frame_lines_ > 0) {
    WriteAll(EraseFrame() + line + last_frame_);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
}

int ProgressView::RelayFd() {
  if (options_.mode != ProgressMode::kTerminal) return -1;
  std::lock_guard lock(relay_mu_);
  if (relay_write_ >= 0 || relay_stopped_) return relay_write_;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  relay_read_ = fds[0];
  relay_write_ = fds[1];
  relay_thread_ = std::thread([this] { Relay(); });
  return relay_write_;
}

void ProgressView::Relay() {
  std::string pending;  // a line not finished yet
  char buf[4096];
  // Shows the complete lines of `pending` (every byte of it when `all`).
  auto flush_lines = [&](bool all) {
    size_t end = all ? pending.size() : pending.rfind('\n');
    if (end == std::string::npos || (all && end == 0)) return;
    if (!all) ++end;  // through the line feed
    PrintAbove(std::string_view(pending).substr(0, end));
    pending.erase(0, end);
  };
  while (true) {
    pollfd p{relay_read_, POLLIN, 0};
    int ready = poll(&p, 1, 50);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      ssize_t n = read(relay_read_, buf, sizeof buf);
      if (n > 0) {
        pending.append(buf, static_cast<size_t>(n));
        flush_lines(/*all=*/false);
        continue;
      }
      if (n == 0 || errno != EINTR) break;  // every writer closed, or a read error
    }
    if (relay_stop_) {
      // Take what is left without waiting for writers that are still alive.
      fcntl(relay_read_, F_SETFL, fcntl(relay_read_, F_GETFL) | O_NONBLOCK);
      ssize_t n;
      while ((n = read(relay_read_, buf, sizeof buf)) > 0) pending.append(buf, static_cast<size_t>(n));
      break;
    }
  }
  flush_lines(/*all=*/true);
}

void ProgressView::StopRelay() {
  std::lock_guard lock(relay_mu_);
  relay_stopped_ = true;
  if (!relay_thread_.joinable()) return;
  relay_stop_ = true;
  relay_thread_.join();
  close(relay_read_);
  close(relay_write_);
  relay_read_ = relay_write_ = -1;
}

std::string ProgressView::EraseFrame() const {
  if (frame_lines_ == 0) return "";
  // To the first column, up to the picture's first line, then clear to the end of the screen.
  return "\r\x1b[" + std::to_string(frame_lines_) + "A\x1b[J";
}

void ProgressView::DrawTerminal(const StatusSnapshot& snapshot, bool final_frame) {
  winsize size{};
  int width = 80, rows = 0;
  if (ioctl(options_.fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    width = size.ws_col;
    rows = size.ws_row;
  }
  // One column spare: some terminals wrap a line that fills the last column.
  std::string frame = RenderTerminalFrame(snapshot, width - 1);
  // Cursor movement cannot reach above the top of the screen: keep the picture shorter than it.
  if (rows > 1) {
    size_t lines = 0, keep = 0;
    for (size_t i = 0; i < frame.size() && lines < static_cast<size_t>(rows - 1); ++i) {
      if (frame[i] == '\n') {
        ++lines;
        keep = i + 1;
      }
    }
    frame.resize(keep);
  }
  // The final picture stays where it is when it is already on screen.
  if (!(final_frame && frame == last_frame_)) WriteAll(EraseFrame() + frame);
  frame_lines_ = final_frame ? 0 : static_cast<size_t>(std::count(frame.begin(), frame.end(), '\n'));
  last_frame_ = final_frame ? std::string() : std::move(frame);
}

void ProgressView::WriteAll(std::string_view bytes) const {
  while (!bytes.empty()) {
    ssize_t n = ::write(options_.fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal went away: nothing useful to do about it
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace loadstar::coordinator
