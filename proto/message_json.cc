#include "proto/message_json.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/core/json_text.h"

namespace loadstar::proto {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

template <typename T>
void AppendNumber(std::string* out, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) {
      out->append("null");
      return;
    }
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, ec == std::errc() ? end : buf);
}

void AppendBase64(std::string* out, std::string_view bytes) {
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out->push_back('"');
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out->push_back(kDigits[(n >> shift) & 63]);
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | (two ? static_cast<uint8_t>(bytes[i + 1]) << 8 : 0);
    out->push_back(kDigits[(n >> 18) & 63]);
    out->push_back(kDigits[(n >> 12) & 63]);
    out->push_back(two ? kDigits[(n >> 6) & 63] : '=');
    out->push_back('=');
  }
  out->push_back('"');
}

// Element `index` of `field` (repeated), or the field's value when `index` is negative.
void AppendValue(std::string* out, const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      AppendNumber(out, rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      AppendNumber(out, rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      AppendNumber(out, rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      AppendNumber(out, rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendNumber(out, rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendNumber(out, rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const google::protobuf::EnumValueDescriptor* value = f->enum_type()->FindValueByNumber(number);
      if (value == nullptr) {
        AppendNumber(out, number);
      } else {
        AppendJsonString(out, EnumValueText(f->enum_type(), number));
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      if (f->type() == FieldDescriptor::TYPE_BYTES) {
        AppendBase64(out, s);
      } else {
        AppendJsonString(out, s);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessageJson(out, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
      break;
  }
}

// A map's entries (messages of a key and a value) as one object, by key.
void AppendMap(std::string* out, const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  const FieldDescriptor* key = f->message_type()->map_key();
  const FieldDescriptor* value = f->message_type()->map_value();
  std::vector<std::pair<std::string, const Message*>> entries;
  for (int i = 0, n = r->FieldSize(m, f); i < n; ++i) {
    const Message& entry = r->GetRepeatedMessage(m, f, i);
    std::string text;
    if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      std::string scratch;
      text = entry.GetReflection()->GetStringReference(entry, key, &scratch);
    } else {
      AppendValue(&text, entry, key, -1);
    }
    entries.emplace_back(std::move(text), &entry);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out->push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(out, entries[i].first);
    out->push_back(':');
    AppendValue(out, *entries[i].second, value, -1);
  }
  out->push_back('}');
}

// protobuf's parser takes some values of the wrong shape (an object for a repeated field, say)
// without a word: the document is checked against the message's fields first. `path` names the
// value for the message.
Status CheckValue(const google::protobuf::Value& v, const FieldDescriptor* f, bool element, const std::string& path);

Status CheckObject(const google::protobuf::Struct& object, const google::protobuf::Descriptor* d,
                   const std::string& path) {
  for (const auto& [key, value] : object.fields()) {
    const FieldDescriptor* f = d->FindFieldByName(key);
    for (int i = 0; f == nullptr && i < d->field_count(); ++i) {
      if (d->field(i)->json_name() == key) f = d->field(i);
    }
    if (f == nullptr) continue;  // unknown: ignored
    LOADSTAR_RETURN_IF_ERROR(CheckValue(value, f, /*element=*/false, path.empty() ? key : path + "." + key));
  }
  return Status::Ok();
}

Status CheckValue(const google::protobuf::Value& v, const FieldDescriptor* f, bool element, const std::string& path) {
  using google::protobuf::Value;
  auto wrong = [&](std::string_view want) {
    return Status::Parse("field \"" + path + "\" is not " + std::string(want));
  };
  if (v.kind_case() == Value::kNullValue) return Status::Ok();  // unset
  if (f->is_map()) {
    if (v.kind_case() != Value::kStructValue) return wrong("an object");
    for (const auto& [key, item] : v.struct_value().fields()) {
      LOADSTAR_RETURN_IF_ERROR(CheckValue(item, f->message_type()->map_value(), false, path + "." + key));
    }
    return Status::Ok();
  }
  if (f->is_repeated() && !element) {
    if (v.kind_case() != Value::kListValue) return wrong("an array");
    for (int i = 0; i < v.list_value().values_size(); ++i) {
      LOADSTAR_RETURN_IF_ERROR(CheckValue(v.list_value().values(i), f, true, path + "[" + std::to_string(i) + "]"));
    }
    return Status::Ok();
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      // The well-known types have JSON forms of their own; protobuf's parser checks those.
      if (f->message_type()->file()->package() == "google.protobuf") return Status::Ok();
      if (v.kind_case() != Value::kStructValue) return wrong("an object");
      return CheckObject(v.struct_value(), f->message_type(), path);
    case FieldDescriptor::CPPTYPE_STRING:
      return v.kind_case() == Value::kStringValue ? Status::Ok() : wrong("a string");
    case FieldDescriptor::CPPTYPE_BOOL:
      return v.kind_case() == Value::kBoolValue ? Status::Ok() : wrong("true or false");
    case FieldDescriptor::CPPTYPE_ENUM:
      return v.kind_case() == Value::kStringValue || v.kind_case() == Value::kNumberValue ? Status::Ok()
                                                                                           : wrong("a name or a number");
    default:  // numbers; protobuf's parser checks their range and reads them exactly
      return v.kind_case() == Value::kNumberValue || v.kind_case() == Value::kStringValue ? Status::Ok()
                                                                                           : wrong("a number");
  }
}

}  // namespace

std::string EnumValueText(const google::protobuf::EnumDescriptor* type, int number) {
  const google::protobuf::EnumValueDescriptor* value = type->FindValueByNumber(number);
  if (value == nullptr) return std::to_string(number);
  std::string text = value->name();
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void AppendMessageJson(std::string* out, const Message& m) {
  const google::protobuf::Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->real_containing_oneof() != nullptr && !r->HasField(m, f)) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, f->name());
    out->push_back(':');
    if (f->is_map()) {
      AppendMap(out, m, f);
    } else if (f->is_repeated()) {
      out->push_back('[');
      for (int j = 0, n = r->FieldSize(m, f); j < n; ++j) {
        if (j > 0) out->push_back(',');
        AppendValue(out, m, f, j);
      }
      out->push_back(']');
    } else if (f->has_presence() && !r->HasField(m, f)) {
      out->append("null");
    } else {
      AppendValue(out, m, f, -1);
    }
  }
  out->push_back('}');
}

std::string MessageToJson(const Message& message) {
  std::string out;
  AppendMessageJson(&out, message);
  return out;
}

Status JsonToMessage(std::string_view json, Message* message) {
  message->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  options.case_insensitive_enum_parsing = true;
  const google::protobuf::StringPiece text(json.data(), json.size());
  google::protobuf::Struct object;
  if (auto parsed = google::protobuf::util::JsonStringToMessage(text, &object, options); !parsed.ok()) {
    return Status::Parse("not a JSON object: " + std::string(parsed.message()));
  }
  LOADSTAR_RETURN_IF_ERROR(CheckObject(object, message->GetDescriptor(), ""));
  if (auto parsed = google::protobuf::util::JsonStringToMessage(text, message, options); !parsed.ok()) {
    return Status::Parse(std::string(parsed.message()));
  }
  return Status::Ok();
}

Result<std::optional<double>> JsonTopLevelNumber(std::string_view json, std::string_view key) {
  google::protobuf::Struct object;
  LOADSTAR_RETURN_IF_ERROR(JsonToMessage(json, &object));
  auto field = object.fields().find(std::string(key));
  if (field == object.fields().end() || field->second.kind_case() == google::protobuf::Value::kNullValue) {
    return std::optional<double>();
  }
  if (field->second.kind_case() != google::protobuf::Value::kNumberValue) {
    return Status::Parse("field \"" + std::string(key) + "\" is not a number");
  }
  return std::optional<double>(field->second.number_value());
}

}  // namespace loadstar::proto
