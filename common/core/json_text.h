// JSON text: the one place that escapes strings for JSON output (log lines, reports, status).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/core/text.h"

namespace loadstar {

// Calls `emit(piece)` for each well-formed character of `s` and "\xEF\xBF\xBD" (U+FFFD) for
// each byte that starts none.
template <typename Emit>
void ForEachUtf8Char(std::string_view s, Emit emit) {
  while (!s.empty()) {
    size_t n = Utf8SequenceLength(s);
    if (n == 0) {
      emit(std::string_view("\xEF\xBF\xBD"));
      s.remove_prefix(1);
    } else {
      emit(s.substr(0, n));
      s.remove_prefix(n);
    }
  }
}


// Appends `s` to `*out` as a JSON string literal, quotes included. Control characters are
// escaped, and bytes that are not well-formed UTF-8 become U+FFFD, so the result is always valid
// JSON whatever `s` holds.
void AppendJsonString(std::string* out, std::string_view s);

// The same, returned.
inline std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

}  // namespace loadstar
