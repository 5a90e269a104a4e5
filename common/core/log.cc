#include "common/core/log.h"

#include "common/core/json_text.h"
#include "common/core/text.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <regex>
#include <vector>

namespace loadstar::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
std::mutex g_mu;
std::string g_component = "loadstar";  // guarded by g_mu
std::function<void(std::string_view)> g_sink;  // guarded by g_mu

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// `message` cut to kMaxMessageBytes, on a UTF-8 character boundary, saying how much was cut.
std::string_view Capped(std::string_view message, std::string* storage) {
  if (message.size() <= kMaxMessageBytes) return message;
  const size_t cut = Utf8Prefix(message, kMaxMessageBytes).size();
  *storage = std::string(message.substr(0, cut)) + "... (" + std::to_string(message.size() - cut) + " bytes more)";
  return *storage;
}

// Appends `s` for a text line: printable characters as they are; control characters, DEL and
// bytes that are not UTF-8 escaped, so the line stays one line and drives no terminal.
void AppendEscaped(std::string* out, std::string_view s) {
  char buf[16];
  while (!s.empty()) {
    const size_t n = Utf8SequenceLength(s);
    const auto c = static_cast<unsigned char>(s[0]);
    if (n == 1 && c >= 0x20 && c != 0x7F) {
      out->push_back(s[0]);
    } else if (n == 1) {
      switch (c) {
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out->append(buf);
      }
    } else if (n == 0) {  // not UTF-8
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out->append(buf);
      s.remove_prefix(1);
      continue;
    } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[1]) < 0xA0) {
      // U+0080..U+009F, the C1 controls (CSI among them).
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[1]));
      out->append(buf);
    } else {
      out->append(s.substr(0, n));
    }
    s.remove_prefix(n);
  }
}

std::string Grouped(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string HeldBack(uint64_t count, std::chrono::steady_clock::duration over) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", std::chrono::duration<double>(over).count());
  return " (and " + Grouped(count) + " more like it in the last " + seconds + " s)";
}

// The throttle of WriteThrottled.
struct ThrottleEntry {
  std::chrono::steady_clock::time_point last_written;
  uint64_t held_back = 0;
  Level last_level = Level::kWarn;
  std::string last_message;  // the last one held back
};
// Keys remembered at most; beyond, keys quiet for an interval are forgotten (their held-back
// warnings written first).
constexpr size_t kMaxThrottleKeys = 1024;

std::mutex g_throttle_mu;  // taken before g_mu, never while holding it
std::map<std::string, ThrottleEntry, std::less<>> g_throttle;  // guarded by g_throttle_mu
std::chrono::steady_clock::duration g_throttle_interval = std::chrono::seconds(1);  // guarded by g_throttle_mu
std::function<std::chrono::steady_clock::time_point()> g_throttle_clock;  // guarded by g_throttle_mu

std::chrono::steady_clock::time_point ThrottleNow() {  // requires g_throttle_mu
  return g_throttle_clock ? g_throttle_clock() : std::chrono::steady_clock::now();
}

// The line that reports the warnings `e` held back, the last one's text first.
std::string HeldBackLine(const ThrottleEntry& e, std::chrono::steady_clock::time_point now) {
  std::string line = e.last_message;
  if (e.held_back > 1) line += HeldBack(e.held_back - 1, now - e.last_written);
  return line;
}

}  // namespace

void SetLevel(Level level) { g_level = level; }
void SetFormat(Format format) { g_format = format; }
void SetComponent(std::string component) {
  std::lock_guard lock(g_mu);
  g_component = std::move(component);
}
bool Enabled(Level level) { return level >= g_level.load(); }

void Write(Level level, std::string_view message) {
  if (!Enabled(level)) return;
  std::string capped_storage;
  message = Capped(message, &capped_storage);
  std::string line;
  std::lock_guard lock(g_mu);
  if (g_format == Format::kJson) {
    line = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + std::string(LevelName(level)) +
           "\",\"component\":" + JsonString(g_component) + ",\"msg\":" + JsonString(message) + "}\n";
  } else {
    line.reserve(message.size() + 64);
    line = Timestamp() + " " + std::string(LevelName(level)) + " ";
    AppendEscaped(&line, g_component);
    line += ": ";
    AppendEscaped(&line, message);
    line += "\n";
  }
  if (g_sink) {
    g_sink(line);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void SetSink(std::function<void(std::string_view line)> sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
}

void WriteThrottled(Level level, std::string_view key, std::string_view message) {
  if (!Enabled(level)) return;
  std::vector<std::string> forgotten;  // held-back lines of keys forgotten to make room
  std::string line;
  {
    std::lock_guard lock(g_throttle_mu);
    const auto now = ThrottleNow();
    auto it = g_throttle.find(key);
    if (it != g_throttle.end() && now - it->second.last_written < g_throttle_interval) {
      ThrottleEntry& e = it->second;
      ++e.held_back;
      e.last_level = level;
      std::string capped_storage;
      e.last_message.assign(Capped(message, &capped_storage));
      return;
    }
    if (it == g_throttle.end()) {
      if (g_throttle.size() >= kMaxThrottleKeys) {
        for (auto old = g_throttle.begin(); old != g_throttle.end();) {
          if (now - old->second.last_written < g_throttle_interval) {
            ++old;
            continue;
          }
          if (old->second.held_back > 0) forgotten.push_back(HeldBackLine(old->second, now));
          old = g_throttle.erase(old);
        }
      }
      // Still full: every key spoke within the interval; this one is not throttled.
      if (g_throttle.size() < kMaxThrottleKeys) it = g_throttle.emplace(std::string(key), ThrottleEntry{}).first;
    }
    line = std::string(message);
    if (it != g_throttle.end()) {
      ThrottleEntry& e = it->second;
      if (e.held_back > 0) line += HeldBack(e.held_back, now - e.last_written);
      e.last_written = now;
      e.held_back = 0;
      std::string().swap(e.last_message);
    }
  }
  for (const std::string& f : forgotten) Write(level, f);
  Write(level, line);
}

void FlushThrottled() {
  std::vector<std::pair<Level, std::string>> lines;
  {
    std::lock_guard lock(g_throttle_mu);
    const auto now = ThrottleNow();
    for (auto& [key, e] : g_throttle) {
      if (e.held_back == 0) continue;
      lines.emplace_back(e.last_level, HeldBackLine(e, now));
      e.last_written = now;
      e.held_back = 0;
      std::string().swap(e.last_message);
    }
  }
  for (const auto& [level, line] : lines) Write(level, line);
}

void SetThrottleInterval(std::chrono::steady_clock::duration interval) {
  std::lock_guard lock(g_throttle_mu);
  g_throttle_interval = interval;
}

void SetThrottleClock(std::function<std::chrono::steady_clock::time_point()> clock) {
  std::lock_guard lock(g_throttle_mu);
  g_throttle_clock = std::move(clock);
}

std::string RedactConnectionString(std::string_view conninfo) {
  std::string s(conninfo);
  const size_t sep = s.find("://");
  // A URI is "scheme://..." (the scheme may be anything: jdbc:postgresql://, mysql://); key=value
  // text has an '=' or a space before any "://".
  bool is_uri = sep != std::string::npos && sep > 0;
  for (size_t i = 0; is_uri && i < sep; ++i) {
    char c = s[i];
    is_uri = c != '=' && c != ' ' && c != '\t' && c != '\n' && c != '\'';
  }
  if (is_uri) {
    // scheme://user:password@host...: a password may hold an unencoded '@', '/' or ':', so the
    // user name and password run to the last '@' (at worst this hides more than the password),
    // and the password is everything after their first ':'.
    const size_t start = sep + 3;
    const size_t at = s.rfind('@');
    if (at != std::string::npos && at > start) {
      const size_t colon = s.find(':', start);
      if (colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
    // Query parameters: ?password=...&...
    static const std::regex kQueryPassword(R"(([?&]password=)[^&#]*)");
    return std::regex_replace(s, kQueryPassword, "$1***");
  }
  // key=value form: password=secret, password = 'with spaces and \' quotes', password=a\ b.
  static const std::regex kKeyPassword(R"((^|\s)(password\s*=\s*)('(?:[^'\\]|\\.)*'|(?:[^\s\\]|\\.)*))");
  return std::regex_replace(s, kKeyPassword, "$1$2***");
}

}  // namespace loadstar::log
