#include "common/log.h"

#include "common/json_text.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <regex>

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
  std::string line;
  std::lock_guard lock(g_mu);
  if (g_format == Format::kJson) {
    line = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + std::string(LevelName(level)) +
           "\",\"component\":" + JsonString(g_component) + ",\"msg\":" + JsonString(message) + "}\n";
  } else {
    line = Timestamp() + " " + std::string(LevelName(level)) + " " + g_component + ": " + std::string(message) + "\n";
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
