// The Parquet writer (common/parquet) against an independent reader: every file written here is
// read back by DuckDB (tests/tools/parquet_read.mjs) and compared value for value, with its
// schema annotations and its statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/parquet/parquet_writer.h"
#include "common/parquet/thrift_compact.h"
#include "tests/support/parquet_reader.h"
#include "tests/support/test_env.h"

namespace loadstar::parquet {
namespace {

using testing::ParquetRead;
using testing::ReadParquet;
using Cell = std::optional<std::string>;

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Writes `rows` with `schema` and `options` to a temporary file and returns its path.
std::string Write(const std::vector<Column>& schema, const std::vector<std::vector<Value>>& rows,
                  WriterOptions options = {}) {
  auto writer = FileWriter::Create(schema, options);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  if (!writer.ok()) return "";
  for (const auto& row : rows) {
    Status s = (*writer)->AppendRow(row);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  auto bytes = (*writer)->Finish();
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  const std::string path = testing::TempDir("parquet") + "/file.parquet";
  WriteFile(path, bytes.ok() ? *bytes : "");
  return path;
}

// What the reader should print for a value: see parquet_read.mjs.
Cell Expected(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const int32_t* i = std::get_if<int32_t>(&v)) return std::to_string(*i);
  if (const int64_t* l = std::get_if<int64_t>(&v)) return std::to_string(*l);
  if (const std::string_view* s = std::get_if<std::string_view>(&v)) return std::string(*s);
  return std::nullopt;  // doubles are compared by value
}

// Every value of `read` equals the one written; doubles bit for bit (NaN as NaN).
void ExpectRows(const ParquetRead& read, const std::vector<Column>& schema, const std::vector<std::vector<Value>>& rows) {
  ASSERT_EQ(read.names.size(), schema.size());
  for (size_t c = 0; c < schema.size(); ++c) EXPECT_EQ(read.names[c], schema[c].name);
  ASSERT_EQ(read.rows.size(), rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    ASSERT_EQ(read.rows[r].size(), schema.size());
    for (size_t c = 0; c < schema.size(); ++c) {
      const Value& want = rows[r][c];
      const Cell& got = read.rows[r][c];
      if (const double* d = std::get_if<double>(&want)) {
        ASSERT_TRUE(got.has_value()) << "row " << r << " column " << schema[c].name;
        const double back = std::strtod(got->c_str(), nullptr);
        if (std::isnan(*d)) {
          EXPECT_TRUE(std::isnan(back)) << "row " << r << ": " << *got;
        } else {
          EXPECT_EQ(back, *d) << "row " << r << ": " << *got;
          EXPECT_EQ(std::signbit(back), std::signbit(*d)) << "row " << r << ": " << *got;
        }
      } else {
        EXPECT_EQ(got, Expected(want)) << "row " << r << " column " << schema[c].name;
      }
    }
  }
}

const std::vector<Column> kAllTypes = {
    {"b", ColumnType::kBoolean}, {"i", ColumnType::kInt32},  {"l", ColumnType::kInt64},
    {"d", ColumnType::kDouble},  {"s", ColumnType::kString}, {"t", ColumnType::kTimestampMicros},
};

std::vector<std::vector<Value>> EdgeRows() {
  using sv = std::string_view;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {true, int32_t{0}, int64_t{0}, 0.0, sv(""), int64_t{0}},
      {std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}},
      {false, std::numeric_limits<int32_t>::min(), std::numeric_limits<int64_t>::min(), -0.0, sv("é"),
       int64_t{-1}},  // one microsecond before 1970
      {true, std::numeric_limits<int32_t>::max(), std::numeric_limits<int64_t>::max(), nan, sv("日本語 🎵"),
       int64_t{-62135596800000000}},  // 0001-01-01
      {std::monostate{}, int32_t{-1}, int64_t{-9007199254740993}, inf, sv("a\0b", 3), int64_t{253402300799999999}},
      {false, std::monostate{}, int64_t{9007199254740993}, -inf, sv("line\nbreak\t\"quoted\" 'x'"),
       int64_t{-315619198500000}},  // 1960-01-01 00:00:01.5
      {true, int32_t{42}, std::monostate{}, 4.9406564584124654e-324, std::monostate{}, int64_t{1541106106796000}},
      {std::monostate{}, int32_t{7}, int64_t{1}, 0.1, sv("z"), std::monostate{}},
      {false, int32_t{-7}, int64_t{-1}, 1.7976931348623157e308, sv(std::string_view("\xF4\x8F\xBF\xBF")),
       int64_t{1}},
  };
}

TEST(ParquetWriterTest, EveryTypeWithNullsAndEdgesReadsBackExactly) {
  const auto rows = EdgeRows();
  const std::string path = Write(kAllTypes, rows);
  auto read = ReadParquet(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectRows(*read, kAllTypes, rows);
  EXPECT_EQ(read->types, (std::vector<std::string>{"BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "VARCHAR", "TIMESTAMP"}));
}

TEST(ParquetWriterTest, SchemaCarriesLogicalAndConvertedTypes) {
  const std::string path = Write(kAllTypes, EdgeRows());
  auto read = ReadParquet(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->schema.size(), kAllTypes.size() + 1);
  for (size_t c = 1; c < read->schema.size(); ++c) {
    EXPECT_EQ(read->schema[c].repetition_type, "OPTIONAL") << read->schema[c].name;
  }
  EXPECT_EQ(read->schema[1].type, "BOOLEAN");
  EXPECT_EQ(read->schema[2].type, "INT32");
  EXPECT_EQ(read->schema[3].type, "INT64");
  EXPECT_EQ(read->schema[4].type, "DOUBLE");
  EXPECT_EQ(read->schema[5].type, "BYTE_ARRAY");
  EXPECT_EQ(read->schema[5].converted_type, "UTF8");
  ASSERT_TRUE(read->schema[5].logical_type.has_value());
  EXPECT_NE(read->schema[5].logical_type->find("StringType"), std::string::npos) << *read->schema[5].logical_type;
  EXPECT_EQ(read->schema[6].type, "INT64");
  EXPECT_EQ(read->schema[6].converted_type, "TIMESTAMP_MICROS");
  ASSERT_TRUE(read->schema[6].logical_type.has_value());
  EXPECT_NE(read->schema[6].logical_type->find("isAdjustedToUTC=0"), std::string::npos) << *read->schema[6].logical_type;
  EXPECT_NE(read->schema[6].logical_type->find("MICROS=MicroSeconds()"), std::string::npos)
      << *read->schema[6].logical_type;
}

TEST(ParquetWriterTest, StatisticsAreTrue) {
  const auto rows = EdgeRows();
  const std::string path = Write(kAllTypes, rows);
  auto read = ReadParquet(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->row_groups.size(), 1u);
  const auto& cols = read->row_groups[0].columns;
  ASSERT_EQ(cols.size(), kAllTypes.size());
  // Nulls per column in EdgeRows: b 3, i 2, l 2, d 1, s 2, t 2.
  const char* nulls[] = {"3", "2", "2", "1", "2", "2"};
  for (size_t c = 0; c < cols.size(); ++c) {
    EXPECT_EQ(cols[c].null_count, nulls[c]) << cols[c].column;
    EXPECT_EQ(cols[c].num_values, std::to_string(rows.size())) << cols[c].column;
  }
  EXPECT_EQ(cols[0].min, "false");
  EXPECT_EQ(cols[0].max, "true");
  EXPECT_EQ(cols[1].min, std::to_string(std::numeric_limits<int32_t>::min()));
  EXPECT_EQ(cols[1].max, std::to_string(std::numeric_limits<int32_t>::max()));
  EXPECT_EQ(cols[2].min, std::to_string(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(cols[2].max, std::to_string(std::numeric_limits<int64_t>::max()));
  // The doubles' bounds are -inf and +inf here, which DuckDB does not show: see NanAndZeroBounds.
  EXPECT_EQ(cols[4].min, "");                      // the empty string is the least
  EXPECT_EQ(cols[4].max, "\xF4\x8F\xBF\xBF");      // U+10FFFF, the greatest in unsigned byte order
  EXPECT_EQ(cols[5].min, "0001-01-01 00:00:00");
  EXPECT_EQ(cols[5].max, "9999-12-31 23:59:59.999999");
}

TEST(ParquetWriterTest, NanAndZeroBoundsFollowTheFormat) {
  const std::vector<Column> schema = {
      {"nan_only", ColumnType::kDouble}, {"zeros", ColumnType::kDouble}, {"some_nan", ColumnType::kDouble}};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::vector<Value>> rows = {
      {nan, 0.0, 1.5}, {std::monostate{}, 0.0, nan}, {nan, 0.0, -2.25}, {nan, 0.0, std::monostate{}}};
  auto read = ReadParquet(Write(schema, rows));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectRows(*read, schema, rows);
  ASSERT_EQ(read->row_groups.size(), 1u);
  const auto& cols = read->row_groups[0].columns;
  EXPECT_FALSE(cols[0].min.has_value());  // only NaN and NULL: no bounds
  EXPECT_FALSE(cols[0].max.has_value());
  EXPECT_EQ(cols[0].null_count, "1");
  ASSERT_TRUE(cols[1].min.has_value() && cols[1].max.has_value());
  EXPECT_EQ(cols[1].min, "-0.0");  // a zero minimum covers -0
  EXPECT_EQ(cols[1].max, "0.0");
  EXPECT_EQ(cols[2].min, "-2.25");  // NaN is left out of the bounds
  EXPECT_EQ(cols[2].max, "1.5");
  EXPECT_EQ(cols[2].null_count, "1");
}

// Many row groups and pages, null patterns that end groups of eight anywhere: runs of each
// level long and short, alternating, and a partial last group of every length.
TEST(ParquetWriterTest, ManyRowGroupsAndPagesWithEveryNullPattern) {
  const std::vector<Column> schema = {{"id", ColumnType::kInt64},   {"s", ColumnType::kString},
                                      {"d", ColumnType::kDouble},   {"b", ColumnType::kBoolean},
                                      {"i", ColumnType::kInt32},    {"t", ColumnType::kTimestampMicros}};
  std::mt19937_64 rng(20181101);
  std::vector<std::string> texts;
  const size_t n = 3001;
  texts.reserve(n);
  std::vector<std::vector<Value>> rows;
  for (size_t r = 0; r < n; ++r) {
    // Segments of 0..40 rows with one null pattern each: all null, none, alternating, random.
    const size_t segment = (r / 37) % 4;
    auto null_here = [&](size_t col) {
      switch (segment) {
        case 0:
          return true;
        case 1:
          return false;
        case 2:
          return (r + col) % 2 == 0;
        default:
          return rng() % 3 == 0;
      }
    };
    texts.push_back("row " + std::to_string(r) + std::string(rng() % 20, 'x'));
    std::vector<Value> row;
    row.push_back(int64_t(r));  // never null: the order
    row.push_back(null_here(1) ? Value{} : Value{std::string_view(texts.back())});
    row.push_back(null_here(2) ? Value{} : Value{static_cast<double>(static_cast<int64_t>(rng())) / 7.0});
    row.push_back(null_here(3) ? Value{} : Value{rng() % 2 == 0});
    row.push_back(null_here(4) ? Value{} : Value{static_cast<int32_t>(rng())});
    row.push_back(null_here(5) ? Value{} : Value{static_cast<int64_t>(rng() % 4'000'000'000'000'000) - 2'000'000'000'000'000});
    rows.push_back(std::move(row));
  }
  WriterOptions options;
  options.rows_per_row_group = 97;
  options.page_bytes = 100;  // several pages per column chunk
  const std::string path = Write(schema, rows, options);
  auto read = ReadParquet(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectRows(*read, schema, rows);
  ASSERT_EQ(read->row_groups.size(), (n + 96) / 97);
  // Each row group's bounds and null counts, against the rows it holds.
  for (size_t g = 0; g < read->row_groups.size(); ++g) {
    const size_t begin = g * 97, end = std::min(n, begin + 97);
    EXPECT_EQ(read->row_groups[g].rows, std::to_string(end - begin));
    for (size_t c : {0u, 4u}) {
      int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
      size_t nulls = 0;
      for (size_t r = begin; r < end; ++r) {
        const Value& v = rows[r][c];
        if (std::holds_alternative<std::monostate>(v)) {
          ++nulls;
          continue;
        }
        const int64_t x = c == 0 ? std::get<int64_t>(v) : std::get<int32_t>(v);
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
      const auto& stats = read->row_groups[g].columns[c];
      EXPECT_EQ(stats.null_count, std::to_string(nulls)) << "group " << g << " column " << c;
      if (nulls < end - begin) {
        EXPECT_EQ(stats.min, std::to_string(lo)) << "group " << g << " column " << c;
        EXPECT_EQ(stats.max, std::to_string(hi)) << "group " << g << " column " << c;
      } else {
        EXPECT_FALSE(stats.min.has_value()) << "group " << g << " column " << c;
      }
    }
  }
}

// Row counts around the groups of eight the definition levels are packed in, each in a file.
TEST(ParquetWriterTest, SmallFilesOfEveryLengthAroundAGroupOfEight) {
  const std::vector<Column> schema = {{"v", ColumnType::kInt32}};
  for (size_t n : {1u, 7u, 8u, 9u, 16u, 17u}) {
    std::vector<std::vector<Value>> rows;
    for (size_t r = 0; r < n; ++r) rows.push_back({r % 3 == 1 ? Value{} : Value{int32_t(r)}});
    auto read = ReadParquet(Write(schema, rows));
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ExpectRows(*read, schema, rows);
  }
}

TEST(ParquetWriterTest, AFileOfNoRowsIsValid) {
  const std::string path = Write(kAllTypes, {});
  auto read = ReadParquet(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->names.size(), kAllTypes.size());
  EXPECT_TRUE(read->rows.empty());
  EXPECT_TRUE(read->row_groups.empty());
}

TEST(ParquetWriterTest, RefusesWhatItCannotWrite) {
  EXPECT_FALSE(FileWriter::Create({}).ok());
  EXPECT_FALSE(FileWriter::Create({{"a", ColumnType::kInt32}, {"a", ColumnType::kInt64}}).ok());
  EXPECT_FALSE(FileWriter::Create({{"", ColumnType::kInt32}}).ok());
  auto writer = FileWriter::Create({{"s", ColumnType::kString}, {"i", ColumnType::kInt32}});
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->AppendRow({std::string_view("\xC3\x28"), int32_t{1}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->AppendRow({std::string_view("\xED\xA0\x80"), int32_t{1}}).code(),
            StatusCode::kInvalidArgument);  // a surrogate
  EXPECT_EQ((*writer)->AppendRow({std::string_view("ok"), int64_t{1}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->AppendRow({std::string_view("ok")}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->rows(), 0u);  // nothing of a refused row was kept
  ASSERT_TRUE((*writer)->AppendRow({std::string_view("ok"), int32_t{1}}).ok());
  auto bytes = (*writer)->Finish();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->substr(0, 4), "PAR1");
  EXPECT_EQ(bytes->substr(bytes->size() - 4), "PAR1");
  const std::string path = testing::TempDir("parquet") + "/one.parquet";
  WriteFile(path, *bytes);
  auto read = ReadParquet(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->rows.size(), 1u);
  EXPECT_EQ(read->rows[0][0], "ok");
  EXPECT_FALSE((*writer)->Finish().ok());  // spent
}

// The compact protocol's bytes for a few fields, from the Thrift specification's rules: short
// field headers (delta and type in one byte), the long form for a backward jump, zigzag varints,
// lists and nested structs.
TEST(ThriftCompactTest, EncodesFieldsAsTheSpecificationSays) {
  internal::CompactWriter w;
  w.FieldI32(1, 3);         // 0x15, zigzag(3) = 6
  w.FieldI64(3, -1);        // delta 2, i64: 0x26, zigzag(-1) = 1
  w.FieldBinary(4, "ab");   // 0x18, 2, 'a', 'b'
  w.FieldBool(5, true);     // 0x11
  w.FieldStruct(21);        // delta 16: long form 0x0C, zigzag(21) = 42
  w.FieldI32(1, 300);       // 0x15, zigzag(300) = 600 = 0xD8 0x04
  w.Stop();
  w.FieldList(22, internal::CompactType::kI32, 2);  // 0x19, 0x25
  w.ListI32(0);
  w.ListI32(-2);            // zigzag(-2) = 3
  w.Stop();
  const std::string want = {'\x15', '\x06', '\x26', '\x01', '\x18', '\x02', 'a',    'b',    '\x11', '\x0C',
                            '\x2A', '\x15', '\xD8', '\x04', '\x00', '\x19', '\x25', '\x00', '\x03', '\x00'};
  EXPECT_EQ(w.bytes(), want);
}

}  // namespace
}  // namespace loadstar::parquet
