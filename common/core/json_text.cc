#include "common/core/json_text.h"

#include <cstdio>

namespace loadstar {




void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  ForEachUtf8Char(s, [&](std::string_view ch) {
    if (ch.size() > 1) {
      out->append(ch);
      return;
    }
    char c = ch[0];
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  });
  out->push_back('"');
}

}  // namespace loadstar
