#include "coordinator/lake/json_value.h"

#include <cstdint>

namespace loadstar::lake::internal {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<JsonValue> Document() {
    JsonValue v;
    LOADSTAR_RETURN_IF_ERROR(Value(&v, 0));
    Space();
    if (i_ != s_.size()) return Error("text after the document");
    return v;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Parse("JSON: " + what + " at byte " + std::to_string(i_));
  }
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  Status Value(JsonValue* v, int depth) {
    if (depth > 64) return Error("nesting too deep");
    Space();
    if (i_ >= s_.size()) return Error("unexpected end");
    const char c = s_[i_];
    if (c == '{') {
      v->kind = JsonValue::Kind::kObject;
      ++i_;
      Space();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, Status::Ok();
      while (true) {
        Space();
        std::string key;
        if (i_ >= s_.size() || s_[i_] != '"') return Error("expected a member name");
        LOADSTAR_RETURN_IF_ERROR(String(&key));
        Space();
        if (i_ >= s_.size() || s_[i_] != ':') return Error("expected ':'");
        ++i_;
        LOADSTAR_RETURN_IF_ERROR(Value(&v->members[key], depth + 1));
        Space();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') return ++i_, Status::Ok();
        return Error("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v->kind = JsonValue::Kind::kArray;
      ++i_;
      Space();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, Status::Ok();
      while (true) {
        v->items.emplace_back();
        LOADSTAR_RETURN_IF_ERROR(Value(&v->items.back(), depth + 1));
        Space();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') return ++i_, Status::Ok();
        return Error("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v->kind = JsonValue::Kind::kString;
      return String(&v->text);
    }
    if (Word("true")) {
      v->kind = JsonValue::Kind::kBool;
      v->boolean = true;
      return Status::Ok();
    }
    if (Word("false")) {
      v->kind = JsonValue::Kind::kBool;
      return Status::Ok();
    }
    if (Word("null")) return Status::Ok();
    if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t start = i_;
      if (s_[i_] == '-') ++i_;
      size_t digits = 0;
      while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' ||
                                s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
        digits += s_[i_] >= '0' && s_[i_] <= '9';
        ++i_;
      }
      if (digits == 0) return Error("a malformed number");
      v->kind = JsonValue::Kind::kNumber;
      v->text = std::string(s_.substr(start, i_ - start));
      return Status::Ok();
    }
    return Error("unexpected character");
  }

  Status Hex4(uint32_t* out) {
    if (i_ + 4 > s_.size()) return Error("a short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else return Error("a bad \\u escape");
    }
    *out = v;
    return Status::Ok();
  }

  static void Utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  Status String(std::string* out) {
    ++i_;  // the opening quote
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return Status::Ok();
      if (static_cast<unsigned char>(c) < 0x20) return Error("a control character in a string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) break;
      const char e = s_[i_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          LOADSTAR_RETURN_IF_ERROR(Hex4(&cp));
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (!Word("\\u")) return Error("a lone surrogate");
            LOADSTAR_RETURN_IF_ERROR(Hex4(&low));
            if (low < 0xDC00 || low >= 0xE000) return Error("a lone surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("a lone surrogate");
          }
          Utf8(cp, out);
          break;
        }
        default:
          return Error("a bad escape");
      }
    }
    return Error("an unterminated string");
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

const JsonValue* JsonValue::Get(const std::string& name) const {
  if (kind != Kind::kObject) return nullptr;
  auto it = members.find(name);
  return it == members.end() ? nullptr : &it->second;
}

Result<JsonValue> ParseJson(std::string_view text) { return Parser(text).Document(); }

}  // namespace loadstar::lake::internal
