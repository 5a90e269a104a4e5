// Thrift's compact protocol, the encoding of Parquet's page headers and file footer: just the
// writing side, and just the wire types Parquet's structs use (bool, i16/i32/i64, binary, list,
// struct). Private to common/parquet.
//
// A struct is written as its fields in increasing id order, then Stop(); a nested struct (or a
// union, which is a struct with one field set) begins with its field header and is closed by its
// own Stop(). Field ids are relative to the previous field of the same struct, so the writer
// keeps a stack of "last id" per open struct.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loadstar::parquet::internal {

enum class CompactType : uint8_t {
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactWriter {
 public:
  CompactWriter() { last_id_.push_back(0); }

  void FieldBool(int16_t id, bool value) { FieldHeader(id, value ? CompactType::kBoolTrue : CompactType::kBoolFalse); }
  void FieldI32(int16_t id, int32_t value) {
    FieldHeader(id, CompactType::kI32);
    VarInt(ZigZag(value));
  }
  void FieldI16(int16_t id, int16_t value) {
    FieldHeader(id, CompactType::kI16);
    VarInt(ZigZag(value));
  }
  void FieldI64(int16_t id, int64_t value) {
    FieldHeader(id, CompactType::kI64);
    VarInt(ZigZag(value));
  }
  void FieldBinary(int16_t id, std::string_view value) {
    FieldHeader(id, CompactType::kBinary);
    Binary(value);
  }
  // Opens a nested struct as field `id`; close it with Stop().
  void FieldStruct(int16_t id) {
    FieldHeader(id, CompactType::kStruct);
    last_id_.push_back(0);
  }
  // Starts a list field of `size` elements of `element` type; then write exactly that many
  // elements with the element functions below (ListI32, ListBinary, BeginListStruct...).
  void FieldList(int16_t id, CompactType element, size_t size) {
    FieldHeader(id, CompactType::kList);
    if (size < 15) {
      out_.push_back(static_cast<char>((size << 4) | static_cast<uint8_t>(element)));
    } else {
      out_.push_back(static_cast<char>(0xF0 | static_cast<uint8_t>(element)));
      VarInt(size);
    }
  }
  void ListI32(int32_t value) { VarInt(ZigZag(value)); }
  void ListBinary(std::string_view value) { Binary(value); }
  // A struct element of a list: its fields, then Stop().
  void BeginListStruct() { last_id_.push_back(0); }

  // Bytes that are already one complete element of the list being written (a struct encoded by
  // another CompactWriter: its fields and its Stop()).
  void Raw(std::string_view bytes) { out_.append(bytes); }

  // Ends the innermost open struct (or the top-level one).
  void Stop() {
    out_.push_back(0);
    if (last_id_.size() > 1) last_id_.pop_back();
  }

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  static uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

  void VarInt(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Binary(std::string_view value) {
    VarInt(value.size());
    out_.append(value);
  }
  void FieldHeader(int16_t id, CompactType type) {
    const int delta = id - last_id_.back();
    if (delta > 0 && delta <= 15) {
      out_.push_back(static_cast<char>((delta << 4) | static_cast<uint8_t>(type)));
    } else {
      out_.push_back(static_cast<char>(type));
      VarInt(ZigZag(id));
    }
    last_id_.back() = id;
  }

  std::string out_;
  std::vector<int16_t> last_id_;  // per open struct, the id of its last field written
};

}  // namespace loadstar::parquet::internal
