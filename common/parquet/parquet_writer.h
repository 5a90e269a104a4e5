// A small, exact Parquet writer (https://github.com/apache/parquet-format): flat schemas of
// nullable columns, written whole into memory and handed back as the file's bytes.
//
// What it writes, and nothing else:
//   - physical types BOOLEAN, INT32, INT64, DOUBLE and BYTE_ARRAY; strings are BYTE_ARRAY with
//     the STRING logical type (converted type UTF8), timestamps INT64 with TIMESTAMP
//     (isAdjustedToUTC=false, MICROS) (converted type TIMESTAMP_MICROS), i.e. a wall-clock time
//     without a zone, like SQL's `timestamp`;
//   - every column OPTIONAL (maximum definition level 1, no repetition levels);
//   - data pages v1: definition levels in the RLE/bit-packed hybrid (bit width 1) behind their
//     4-byte length, then the non-null values PLAIN; no dictionary; UNCOMPRESSED;
//   - a row group every `rows_per_row_group` rows, a page whenever a column's page reaches
//     `page_bytes` of values;
//   - statistics per column chunk: null_count always; min_value/max_value (with the
//     TypeDefinedOrder column order) for every type when the chunk has a non-null value. Doubles:
//     NaN is left out of min/max (a chunk of only NaN and nulls gets none), a zero minimum is
//     written as -0.0 and a zero maximum as +0.0, as the format asks. Strings compare as unsigned
//     bytes.
// NaN and infinities are written as they are. A file of no rows is valid (no row groups).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/core/status.h"

namespace loadstar::parquet {

enum class ColumnType {
  kBoolean,
  kInt32,
  kInt64,
  kDouble,
  kString,           // UTF-8 text; anything else is refused
  kTimestampMicros,  // microseconds since 1970-01-01 00:00:00, no time zone
};

// "int32", "string", ... for messages.
std::string_view ColumnTypeName(ColumnType type);

struct Column {
  std::string name;
  ColumnType type = ColumnType::kString;
};

// One cell: NULL, or a value of the column's type (int64_t for kInt64 and kTimestampMicros,
// std::string_view for kString: it need only live until AppendRow returns).
using Value = std::variant<std::monostate, bool, int32_t, int64_t, double, std::string_view>;

struct WriterOptions {
  size_t rows_per_row_group = 128 * 1024;
  size_t page_bytes = 1024 * 1024;  // a page ends once its values reach this many bytes
  std::string created_by = "loadstar";
};

class FileWriter {
 public:
  // InvalidArgument for an empty schema, an empty or repeated column name, or a zero row-group
  // or page size.
  static Result<std::unique_ptr<FileWriter>> Create(std::vector<Column> schema, WriterOptions options = {});
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Appends one row, a value per column in schema order. InvalidArgument, with nothing appended,
  // when the row has the wrong number of values, a value is not of its column's type, or a string
  // is not UTF-8.
  Status AppendRow(const std::vector<Value>& row);

  // The rows appended so far.
  uint64_t rows() const { return rows_; }
  // The bytes the file holds so far (row groups written, not the row group being filled).
  uint64_t bytes_written() const { return out_.size(); }
  // Roughly the bytes the file will have if it ends now.
  uint64_t estimated_bytes() const;

  // Writes the last row group and the footer and returns the file's bytes. The writer is spent.
  Result<std::string> Finish();

  const std::vector<Column>& schema() const { return schema_; }

 private:
  struct ColumnChunk;
  FileWriter(std::vector<Column> schema, WriterOptions options);
  void FlushRowGroup();

  const std::vector<Column> schema_;
  const WriterOptions options_;
  std::vector<std::unique_ptr<ColumnChunk>> chunks_;  // the row group being filled, per column
  std::string out_;                                   // "PAR1" and the row groups written
  std::string row_groups_meta_;                       // the RowGroup structs so far, thrift-encoded
  size_t row_group_count_ = 0;
  uint64_t rows_ = 0;
  uint64_t rows_in_group_ = 0;
  bool finished_ = false;
};

}  // namespace loadstar::parquet
