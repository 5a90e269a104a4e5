// Parquet read back by an independent reader, DuckDB, through tests/tools/parquet_read.mjs: what
// the tests of the Parquet writer and of `loadstar export` compare with what loadstar meant to
// write.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/core/status.h"

namespace loadstar::testing {

struct ParquetStats {
  std::string column;
  std::string num_values;
  std::optional<std::string> min, max, null_count;  // as DuckDB renders them
};

struct ParquetRead {
  std::vector<std::string> names;  // the columns, in order
  std::vector<std::string> types;  // DuckDB's type of each ("BIGINT", "VARCHAR", "TIMESTAMP", ...)
  // Every value as text of its kind (see parquet_read.mjs): integers in decimal, doubles in their
  // shortest exact text ("NaN", "Infinity", "-0"), timestamps in microseconds since 1970.
  std::vector<std::vector<std::optional<std::string>>> rows;
  // One file only: its schema elements (name, type, repetition_type, converted_type,
  // logical_type) and its row groups' statistics.
  struct SchemaElement {
    std::string name;
    std::optional<std::string> type, repetition_type, converted_type, logical_type;
  };
  std::vector<SchemaElement> schema;
  struct RowGroup {
    std::string rows;
    std::vector<ParquetStats> columns;
  };
  std::vector<RowGroup> row_groups;

  // The position of column `name`, or -1.
  int Column(const std::string& name) const;
};

// Reads one Parquet file, or (hive) every *.parquet file under a folder with Hive partitioning.
// Rows come in file order unless `order_by` ("col, col") is given.
Result<ParquetRead> ReadParquet(const std::string& path, bool hive = false, const std::string& order_by = "");

// Has DuckDB write the rows of `select` (DuckDB SQL) to `path` as Parquet.
Status WriteParquetWithDuckDb(const std::string& path, const std::string& select);

}  // namespace loadstar::testing
