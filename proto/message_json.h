// Protocol buffer messages as JSON documents for people's programs: one printer over any
// message (by reflection), and the parser that reads its documents back.
//
// protobuf's own JSON mapping (google::protobuf::util::MessageToJsonString) writes 64-bit
// integers as strings and camelCases the keys; documents loadstar serves keep numbers as numbers
// and keys as the fields are named. MessageToJson writes:
//   - a message as an object: every field, in the order the fields are declared, keyed by the
//     field's name; a field of a oneof only when it is the one set;
//   - a field that has presence (`optional`, a message) and is not set as null; every other
//     field always, at its default value when unset;
//   - integers as JSON integers, floating-point numbers as the shortest text that reads back as
//     the same number (null for infinities and NaN), bools as true and false;
//   - strings as JSON strings, any byte that is not part of well-formed UTF-8 replaced by U+FFFD;
//     bytes in base64;
//   - an enum as its value's name in lower case ("staging"), a value this build has no name for
//     as its number;
//   - repeated fields as arrays, maps as objects keyed by the key's text, in the order of the keys.
// No white space, no trailing newline.
#pragma once

#include <string>
#include <optional>
#include <string_view>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "common/core/status.h"

namespace loadstar::proto {

std::string MessageToJson(const google::protobuf::Message& message);
void AppendMessageJson(std::string* out, const google::protobuf::Message& message);

// How MessageToJson writes value `number` of enum `type`: its name in lower case, or the number.
std::string EnumValueText(const google::protobuf::EnumDescriptor* type, int number);

// Reads a JSON object into `message` (cleared first), as written by MessageToJson or by
// protobuf's own mapping: keys may be the fields' names or their JSON names, enums their
// names in any case or their numbers, 64-bit integers numbers or strings; null leaves a field
// unset. Keys the message has no field for are ignored (documents written by a newer build).
// Errors: Parse, saying what is wrong: not a JSON object, or a value of the wrong shape for its
// field (an array for a repeated field, an object for a message, a string, a bool, a number
// within the field's range).
Status JsonToMessage(std::string_view json, google::protobuf::Message* message);

// The number at top-level key `key` of a JSON object, read without any message's shape (e.g. a
// document's version, before deciding how to read the rest); nullopt when the key is absent or
// null. Errors: Parse when `json` is not a JSON object or the value is not a number.
Result<std::optional<double>> JsonTopLevelNumber(std::string_view json, std::string_view key);

}  // namespace loadstar::proto
