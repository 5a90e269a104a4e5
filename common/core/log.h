// Logging: plain lines on stderr ("2026-11-22T01:02:03Z info  coordinator: ...") or one JSON
// object per line. Never pass secrets to these functions.
//
// One call writes exactly one line, whatever the message holds: in text lines control
// characters are escaped (line feed as \n, carriage return as \r, tab as \t, other C0 bytes,
// DEL and C1 control characters as \x1b, \x7f, \u009b), and so are bytes that are not UTF-8
// (\xff), so a message cannot forge log lines nor drive a terminal; JSON lines escape as JSON
// does. A message longer than kMaxMessageBytes is cut there (on a character boundary) and ends
// in "... (N bytes more)".
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace loadstar::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };
enum class Format { kText, kJson };

// The longest message written in full, in bytes (before escaping).
inline constexpr size_t kMaxMessageBytes = 8 << 10;

void SetLevel(Level level);
void SetFormat(Format format);
// A short name for this process shown on each line: "coordinator", "worker-3".
void SetComponent(std::string component);
bool Enabled(Level level);
// Hands every line written from now on (formatted, ending in '\n') to `sink` instead of
// stderr; null restores stderr. `sink` runs under the log's lock: it must not log.
void SetSink(std::function<void(std::string_view line)> sink);

void Write(Level level, std::string_view message);
inline void Debug(std::string_view m) { Write(Level::kDebug, m); }
inline void Info(std::string_view m) { Write(Level::kInfo, m); }
inline void Warn(std::string_view m) { Write(Level::kWarn, m); }
inline void Error(std::string_view m) { Write(Level::kError, m); }

// A warning that may come in floods (the same complaint about every message of a peer, say):
// the warnings of one `key` are written at most once per throttle interval (a second). The
// first one that gets through after some were held back says how many, e.g.
//   "worker-3 sent a task result for an unknown task (and 9,999 more like it in the last 1.2 s)"
// Keys are compared as they are; give each kind of warning a key of its own, and a part
// naming the peer when each peer's should be seen ("unknown-task:worker-3"). Thread-safe.
void WriteThrottled(Level level, std::string_view key, std::string_view message);
inline void WarnThrottled(std::string_view key, std::string_view message) {
  WriteThrottled(Level::kWarn, key, message);
}
// Writes, for every key that held warnings back since its last line, the last one held back
// (with "(and N more like it in the last 0.4 s)" when there were more), so the end of a flood
// is not lost; e.g. at the end of a run.
void FlushThrottled();
// The least time between two lines of one key (a second unless set). For tests.
void SetThrottleInterval(std::chrono::steady_clock::duration interval);
// The clock the throttle reads; null restores std::chrono::steady_clock::now. For tests.
void SetThrottleClock(std::function<std::chrono::steady_clock::time_point()> clock);

// Replaces the password in a libpq URI or key=value string with "***".
std::string RedactConnectionString(std::string_view conninfo);

}  // namespace loadstar::log
