#include "common/parquet/parquet_writer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "common/core/text.h"
#include "common/parquet/thrift_compact.h"

namespace loadstar::parquet {

using internal::CompactType;
using internal::CompactWriter;

namespace {

// parquet.thrift's enums, as far as they are used here.
enum PhysicalType : int32_t { kBooleanType = 0, kInt32Type = 1, kInt64Type = 2, kDoubleType = 5, kByteArrayType = 6 };
enum ConvertedType : int32_t { kUtf8 = 0, kTimestampMicros = 10 };
enum Encoding : int32_t { kPlain = 0, kRle = 3 };
constexpr int32_t kOptional = 1;          // FieldRepetitionType
constexpr int32_t kDataPage = 0;          // PageType
constexpr int32_t kUncompressed = 0;      // CompressionCodec
constexpr std::string_view kMagic = "PAR1";

PhysicalType PhysicalOf(ColumnType type) {
  switch (type) {
    case ColumnType::kBoolean:
      return kBooleanType;
    case ColumnType::kInt32:
      return kInt32Type;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros:
      return kInt64Type;
    case ColumnType::kDouble:
      return kDoubleType;
    case ColumnType::kString:
      return kByteArrayType;
  }
  return kByteArrayType;
}

template <typename T>
void AppendLittleEndian(std::string* out, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // the targets loadstar builds for are little-endian
  out->append(bytes, sizeof(T));
}

void AppendVarInt(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Definition levels (0 or 1 each) in the RLE/bit-packed hybrid with bit width 1 (Encodings.md):
// the levels are taken eight at a time; a run of groups that are all one value becomes an RLE
// run (header count << 1, then the value in one byte), a run of mixed groups one bit-packed run
// (header groups << 1 | 1, then one byte per group, first value in the lowest bit). A last,
// partial group is an RLE run of its own length when uniform, else a bit-packed group padded with
// zeros (the reader knows the page's value count).
std::string EncodeLevels(const std::vector<uint8_t>& levels) {
  std::string out;
  const size_t n = levels.size();
  size_t i = 0;
  while (i < n) {
    const size_t group_end = std::min(n, i + 8);
    bool uniform = true;
    for (size_t j = i + 1; j < group_end; ++j) uniform = uniform && levels[j] == levels[i];
    if (uniform) {
      size_t end = group_end;
      // Extend over following groups of the same value (whole groups, or the partial last one).
      while (end < n) {
        const size_t next_end = std::min(n, end + 8);
        bool same = true;
        for (size_t j = end; j < next_end; ++j) same = same && levels[j] == levels[i];
        if (!same) break;
        end = next_end;
      }
      AppendVarInt(&out, static_cast<uint64_t>(end - i) << 1);
      out.push_back(static_cast<char>(levels[i]));
      i = end;
      continue;
    }
    // Mixed groups, until a uniform full group (or the end).
    std::string packed;
    size_t end = i;
    while (end < n) {
      const size_t next_end = std::min(n, end + 8);
      bool same = true;
      for (size_t j = end + 1; j < next_end; ++j) same = same && levels[j] == levels[end];
      if (same && end != i) break;
      uint8_t byte = 0;
      for (size_t j = end; j < next_end; ++j) byte |= static_cast<uint8_t>(levels[j] << (j - end));
      packed.push_back(static_cast<char>(byte));
      end = next_end;
    }
    AppendVarInt(&out, (static_cast<uint64_t>(packed.size()) << 1) | 1);
    out += packed;
    i = end;
  }
  return out;
}

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s.substr(i));
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kBoolean:
      return "boolean";
    case ColumnType::kInt32:
      return "int32";
    case ColumnType::kInt64:
      return "int64";
    case ColumnType::kDouble:
      return "double";
    case ColumnType::kString:
      return "string";
    case ColumnType::kTimestampMicros:
      return "timestamp";
  }
  return "?";
}

// One column of the row group being filled: finished pages, the page being filled, statistics.
struct FileWriter::ColumnChunk {
  explicit ColumnChunk(ColumnType t) : type(t) {}

  const ColumnType type;
  std::string pages;             // finished pages: header and body each
  std::vector<uint8_t> levels;   // the current page's definition levels
  std::string values;            // the current page's PLAIN values
  uint8_t bool_bits = 0;         // booleans not yet in `values`, and how many
  int bool_count = 0;
  uint64_t num_values = 0;       // the chunk's values, nulls included
  uint64_t null_count = 0;
  bool has_min_max = false;
  std::string min, max;          // PLAIN, as statistics hold them
  // The same for typed comparison.
  int64_t min_int = 0, max_int = 0;
  double min_double = 0, max_double = 0;

  void Null() {
    levels.push_back(0);
    ++num_values;
    ++null_count;
  }

  void Present() {
    levels.push_back(1);
    ++num_values;
  }

  void Int(int64_t v) {
    Present();
    if (type == ColumnType::kInt32) {
      AppendLittleEndian(&values, static_cast<int32_t>(v));
    } else {
      AppendLittleEndian(&values, v);
    }
    if (!has_min_max || v < min_int) min_int = v;
    if (!has_min_max || v > max_int) max_int = v;
    has_min_max = true;
  }

  void Double(double v) {
    Present();
    AppendLittleEndian(&values, v);
    if (std::isnan(v)) return;
    if (!has_min_max || v < min_double) min_double = v;
    if (!has_min_max || v > max_double) max_double = v;
    has_min_max = true;
  }

  void Bool(bool v) {
    Present();
    bool_bits |= static_cast<uint8_t>((v ? 1 : 0) << bool_count);
    if (++bool_count == 8) FlushBools();
    if (!has_min_max || static_cast<int64_t>(v) < min_int) min_int = v;
    if (!has_min_max || static_cast<int64_t>(v) > max_int) max_int = v;
    has_min_max = true;
  }

  void FlushBools() {
    if (bool_count == 0) return;
    values.push_back(static_cast<char>(bool_bits));
    bool_bits = 0;
    bool_count = 0;
  }

  void String(std::string_view v) {
    Present();
    AppendLittleEndian(&values, static_cast<int32_t>(v.size()));
    values.append(v);
    // Unsigned byte order, which std::string_view's compare is (char_traits<char>::compare
    // compares as unsigned char).
    if (!has_min_max || v < std::string_view(min)) min.assign(v);
    if (!has_min_max || v > std::string_view(max)) max.assign(v);
    has_min_max = true;
  }

  size_t page_value_bytes() const { return values.size() + (bool_count > 0 ? 1 : 0); }

  // Ends the current page (if it has any value, null or not) and appends it to `pages`.
  void FlushPage() {
    if (levels.empty()) return;
    FlushBools();
    const std::string encoded_levels = EncodeLevels(levels);
    std::string body;
    body.reserve(4 + encoded_levels.size() + values.size());
    AppendLittleEndian(&body, static_cast<int32_t>(encoded_levels.size()));
    body += encoded_levels;
    body += values;

    CompactWriter header;
    header.FieldI32(1, kDataPage);
    header.FieldI32(2, static_cast<int32_t>(body.size()));  // uncompressed_page_size
    header.FieldI32(3, static_cast<int32_t>(body.size()));  // compressed_page_size
    header.FieldStruct(5);                                  // data_page_header
    header.FieldI32(1, static_cast<int32_t>(levels.size()));  // num_values, nulls included
    header.FieldI32(2, kPlain);
    header.FieldI32(3, kRle);  // definition levels
    header.FieldI32(4, kRle);  // repetition levels (there are none)
    header.Stop();
    header.Stop();
    pages += header.bytes();
    pages += body;
    levels.clear();
    values.clear();
  }

  // The statistics' min_value and max_value, PLAIN-encoded.
  void MinMaxBytes(std::string* lo, std::string* hi) const {
    lo->clear();
    hi->clear();
    switch (type) {
      case ColumnType::kBoolean:
        lo->push_back(static_cast<char>(min_int));
        hi->push_back(static_cast<char>(max_int));
        break;
      case ColumnType::kInt32:
        AppendLittleEndian(lo, static_cast<int32_t>(min_int));
        AppendLittleEndian(hi, static_cast<int32_t>(max_int));
        break;
      case ColumnType::kInt64:
      case ColumnType::kTimestampMicros:
        AppendLittleEndian(lo, min_int);
        AppendLittleEndian(hi, max_int);
        break;
      case ColumnType::kDouble:
        // A zero bound is written so that it covers both zeros.
        AppendLittleEndian(lo, min_double == 0 ? -0.0 : min_double);
        AppendLittleEndian(hi, max_double == 0 ? 0.0 : max_double);
        break;
      case ColumnType::kString:
        *lo = min;
        *hi = max;
        break;
    }
  }

  void Reset() {
    pages.clear();
    levels.clear();
    values.clear();
    bool_bits = 0;
    bool_count = 0;
    num_values = 0;
    null_count = 0;
    has_min_max = false;
    min.clear();
    max.clear();
  }
};

Result<std::unique_ptr<FileWriter>> FileWriter::Create(std::vector<Column> schema, WriterOptions options) {
  if (schema.empty()) return Status::InvalidArgument("a Parquet file needs at least one column");
  std::set<std::string> names;
  for (const Column& c : schema) {
    if (c.name.empty()) return Status::InvalidArgument("a Parquet column needs a name");
    if (!names.insert(c.name).second) return Status::InvalidArgument("Parquet column '" + c.name + "' is named twice");
  }
  if (options.rows_per_row_group == 0 || options.page_bytes == 0) {
    return Status::InvalidArgument("rows per row group and page bytes must be at least 1");
  }
  return std::unique_ptr<FileWriter>(new FileWriter(std::move(schema), std::move(options)));
}

FileWriter::FileWriter(std::vector<Column> schema, WriterOptions options)
    : schema_(std::move(schema)), options_(std::move(options)) {
  for (const Column& c : schema_) chunks_.push_back(std::make_unique<ColumnChunk>(c.type));
  out_.append(kMagic);
}

FileWriter::~FileWriter() = default;

uint64_t FileWriter::estimated_bytes() const {
  uint64_t n = out_.size() + row_groups_meta_.size();
  for (const auto& chunk : chunks_) n += chunk->pages.size() + chunk->values.size() + chunk->levels.size() / 8;
  return n;
}

Status FileWriter::AppendRow(const std::vector<Value>& row) {
  if (finished_) return Status::FailedPrecondition("the Parquet file is already finished");
  if (row.size() != schema_.size()) {
    return Status::InvalidArgument("a row of " + std::to_string(row.size()) + " values for a Parquet file of " +
                                   std::to_string(schema_.size()) + " columns");
  }
  // Check every value first, so that a bad row appends nothing.
  for (size_t c = 0; c < row.size(); ++c) {
    const Value& v = row[c];
    if (std::holds_alternative<std::monostate>(v)) continue;
    bool fits = false;
    switch (schema_[c].type) {
      case ColumnType::kBoolean:
        fits = std::holds_alternative<bool>(v);
        break;
      case ColumnType::kInt32:
        fits = std::holds_alternative<int32_t>(v);
        break;
      case ColumnType::kInt64:
      case ColumnType::kTimestampMicros:
        fits = std::holds_alternative<int64_t>(v);
        break;
      case ColumnType::kDouble:
        fits = std::holds_alternative<double>(v);
        break;
      case ColumnType::kString:
        fits = std::holds_alternative<std::string_view>(v);
        if (fits && !IsUtf8(std::get<std::string_view>(v))) {
          return Status::InvalidArgument("Parquet column '" + schema_[c].name + "': the value is not UTF-8");
        }
        if (fits && std::get<std::string_view>(v).size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
          return Status::InvalidArgument("Parquet column '" + schema_[c].name + "': the value is over 2 GiB");
        }
        break;
    }
    if (!fits) {
      return Status::InvalidArgument("Parquet column '" + schema_[c].name + "' holds " +
                                     std::string(ColumnTypeName(schema_[c].type)) + " values; got another type");
    }
  }
  for (size_t c = 0; c < row.size(); ++c) {
    ColumnChunk& chunk = *chunks_[c];
    const Value& v = row[c];
    if (std::holds_alternative<std::monostate>(v)) {
      chunk.Null();
    } else if (const bool* b = std::get_if<bool>(&v)) {
      chunk.Bool(*b);
    } else if (const int32_t* i = std::get_if<int32_t>(&v)) {
      chunk.Int(*i);
    } else if (const int64_t* l = std::get_if<int64_t>(&v)) {
      chunk.Int(*l);
    } else if (const double* d = std::get_if<double>(&v)) {
      chunk.Double(*d);
    } else {
      chunk.String(std::get<std::string_view>(v));
    }
    // Booleans pack eight to a byte: a page ends on a whole byte so none straddles two pages.
    if (chunk.page_value_bytes() >= options_.page_bytes && chunk.bool_count == 0) chunk.FlushPage();
  }
  ++rows_;
  if (++rows_in_group_ == options_.rows_per_row_group) FlushRowGroup();
  return Status::Ok();
}

void FileWriter::FlushRowGroup() {
  if (rows_in_group_ == 0) return;
  CompactWriter group;
  group.FieldList(1, CompactType::kStruct, chunks_.size());  // columns
  int64_t total_bytes = 0;
  int64_t first_offset = -1;
  for (size_t c = 0; c < chunks_.size(); ++c) {
    ColumnChunk& chunk = *chunks_[c];
    chunk.FlushPage();
    const int64_t offset = static_cast<int64_t>(out_.size());
    if (first_offset < 0) first_offset = offset;
    const int64_t size = static_cast<int64_t>(chunk.pages.size());
    out_ += chunk.pages;
    total_bytes += size;

    group.BeginListStruct();  // ColumnChunk
    group.FieldI64(2, offset);  // file_offset (deprecated; the chunk's first page, as most writers put it)
    group.FieldStruct(3);       // meta_data
    group.FieldI32(1, PhysicalOf(chunk.type));
    group.FieldList(2, CompactType::kI32, 2);  // encodings
    group.ListI32(kPlain);
    group.ListI32(kRle);
    group.FieldList(3, CompactType::kBinary, 1);  // path_in_schema
    group.ListBinary(schema_[c].name);
    group.FieldI32(4, kUncompressed);
    group.FieldI64(5, static_cast<int64_t>(chunk.num_values));
    group.FieldI64(6, size);  // total_uncompressed_size, page headers included
    group.FieldI64(7, size);  // total_compressed_size
    group.FieldI64(9, offset);  // data_page_offset
    group.FieldStruct(12);      // statistics
    group.FieldI64(3, static_cast<int64_t>(chunk.null_count));
    if (chunk.has_min_max) {
      std::string lo, hi;
      chunk.MinMaxBytes(&lo, &hi);
      group.FieldBinary(5, hi);  // max_value
      group.FieldBinary(6, lo);  // min_value
    }
    group.Stop();  // statistics
    group.Stop();  // meta_data
    group.Stop();  // ColumnChunk
    chunk.Reset();
  }
  group.FieldI64(2, total_bytes);  // total_byte_size
  group.FieldI64(3, static_cast<int64_t>(rows_in_group_));
  group.FieldI64(5, first_offset);  // file_offset
  group.FieldI64(6, total_bytes);   // total_compressed_size
  group.FieldI16(7, static_cast<int16_t>(row_group_count_));  // ordinal
  group.Stop();
  row_groups_meta_ += group.bytes();
  ++row_group_count_;
  rows_in_group_ = 0;
}

Result<std::string> FileWriter::Finish() {
  if (finished_) return Status::FailedPrecondition("the Parquet file is already finished");
  finished_ = true;
  FlushRowGroup();

  CompactWriter meta;
  meta.FieldI32(1, 1);  // version
  meta.FieldList(2, CompactType::kStruct, schema_.size() + 1);
  meta.BeginListStruct();  // the root: a group of every column
  meta.FieldBinary(4, "schema");
  meta.FieldI32(5, static_cast<int32_t>(schema_.size()));
  meta.Stop();
  for (const Column& c : schema_) {
    meta.BeginListStruct();
    meta.FieldI32(1, PhysicalOf(c.type));
    meta.FieldI32(3, kOptional);
    meta.FieldBinary(4, c.name);
    if (c.type == ColumnType::kString) {
      meta.FieldI32(6, kUtf8);
      meta.FieldStruct(10);  // logicalType
      meta.FieldStruct(1);   // STRING
      meta.Stop();
      meta.Stop();
    } else if (c.type == ColumnType::kTimestampMicros) {
      meta.FieldI32(6, kTimestampMicros);
      meta.FieldStruct(10);  // logicalType
      meta.FieldStruct(8);   // TIMESTAMP
      meta.FieldBool(1, false);  // isAdjustedToUTC
      meta.FieldStruct(2);       // unit
      meta.FieldStruct(2);       // MICROS
      meta.Stop();
      meta.Stop();
      meta.Stop();
      meta.Stop();
    }
    meta.Stop();
  }
  meta.FieldI64(3, static_cast<int64_t>(rows_));
  meta.FieldList(4, CompactType::kStruct, row_group_count_);
  meta.Raw(row_groups_meta_);
  meta.FieldBinary(6, options_.created_by);
  meta.FieldList(7, CompactType::kStruct, schema_.size());  // column_orders
  for (size_t c = 0; c < schema_.size(); ++c) {
    meta.BeginListStruct();  // ColumnOrder
    meta.FieldStruct(1);     // TYPE_ORDER
    meta.Stop();
    meta.Stop();
  }
  meta.Stop();

  const std::string& footer = meta.bytes();
  if (footer.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument("the Parquet footer is over 2 GiB");
  }
  out_ += footer;
  AppendLittleEndian(&out_, static_cast<int32_t>(footer.size()));
  out_.append(kMagic);
  row_groups_meta_.clear();
  return std::move(out_);
}

}  // namespace loadstar::parquet
