// A small JSON reader for the documents the export reads back: UNLOAD's manifests. Private to
// coordinator/lake.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

namespace loadstar::lake::internal {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // a string's value, or a number's text as written
  std::vector<JsonValue> items;
  std::map<std::string, JsonValue> members;

  // The member `name` of an object, or null when there is none (or this is no object).
  const JsonValue* Get(const std::string& name) const;
};

// Parses one JSON document (RFC 8259; \u escapes and surrogate pairs included). Parse error,
// saying where, for anything else.
Result<JsonValue> ParseJson(std::string_view text);

}  // namespace loadstar::lake::internal
