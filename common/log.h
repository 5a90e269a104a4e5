// Logging: plain lines on stderr ("2026-11-22T01:02:03Z info  coordinator: ...") or one JSON
// object per line. Never pass secrets to these functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace loadstar::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };
enum class Format { kText, kJson };

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

// Replaces the password in a libpq URI or key=value string with "***".
std::string RedactConnectionString(std::string_view conninfo);

}  // namespace loadstar::log
