#include "tests/support/parquet_reader.h"

#include <simdjson.h>

#include <fstream>
#include <sstream>

#include "tests/support/test_env.h"

namespace loadstar::testing {
namespace {

std::string Script() { return SourceDir() + "/tests/tools/parquet_read.mjs"; }

std::optional<std::string> Text(simdjson::dom::element e) {
  if (e.is_null()) return std::nullopt;
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::to_string(e);
}

std::string Field(simdjson::dom::object o, const char* key) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return "";
  return Text(e).value_or("");
}

std::optional<std::string> OptionalField(simdjson::dom::object o, const char* key) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return std::nullopt;
  return Text(e);
}

}  // namespace

int ParquetRead::Column(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Result<ParquetRead> ReadParquet(const std::string& path, bool hive, const std::string& order_by) {
  const std::string out = TempDir("parquet-read") + "/out.json";
  std::vector<std::string> argv = {"sh", "-c", "exec node \"$0\" \"$@\" > " + out, Script()};
  if (hive) argv.push_back("--hive");
  if (!order_by.empty()) {
    argv.push_back("--order-by");
    argv.push_back(order_by);
  }
  argv.push_back(path);
  CommandResult run = RunCommand(argv, {}, 120);
  if (run.exit_code != 0) {
    return Status::Internal("DuckDB could not read " + path + " (exit " + std::to_string(run.exit_code) +
                            "): " + run.output);
  }
  std::ifstream in(out, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text.str()).get(doc) != simdjson::SUCCESS) {
    return Status::Internal("parquet_read.mjs printed no JSON: " + text.str().substr(0, 500));
  }
  ParquetRead read;
  simdjson::dom::array columns, rows;
  if (doc["columns"].get(columns) != simdjson::SUCCESS || doc["rows"].get(rows) != simdjson::SUCCESS) {
    return Status::Internal("parquet_read.mjs printed no columns or rows");
  }
  for (simdjson::dom::element c : columns) {
    read.names.push_back(Field(c.get_object(), "name"));
    read.types.push_back(Field(c.get_object(), "type"));
  }
  for (simdjson::dom::element r : rows) {
    std::vector<std::optional<std::string>> row;
    for (simdjson::dom::element v : r.get_array()) row.push_back(Text(v));
    read.rows.push_back(std::move(row));
  }
  simdjson::dom::array schema;
  if (doc["schema"].get(schema) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : schema) {
      simdjson::dom::object o = e.get_object();
      read.schema.push_back({Field(o, "name"), OptionalField(o, "type"), OptionalField(o, "repetition_type"),
                             OptionalField(o, "converted_type"), OptionalField(o, "logical_type")});
    }
  }
  simdjson::dom::array groups;
  if (doc["row_groups"].get(groups) == simdjson::SUCCESS) {
    for (simdjson::dom::element g : groups) {
      ParquetRead::RowGroup group;
      group.rows = Field(g.get_object(), "rows");
      simdjson::dom::array cols;
      if (g["columns"].get(cols) == simdjson::SUCCESS) {
        for (simdjson::dom::element c : cols) {
          simdjson::dom::object o = c.get_object();
          group.columns.push_back({Field(o, "name"), Field(o, "num_values"), OptionalField(o, "min"),
                                   OptionalField(o, "max"), OptionalField(o, "null_count")});
        }
      }
      read.row_groups.push_back(std::move(group));
    }
  }
  return read;
}

Status WriteParquetWithDuckDb(const std::string& path, const std::string& select) {
  CommandResult run = RunCommand({"node", Script(), "--write", path, "--sql", select}, {}, 120);
  if (run.exit_code != 0) return Status::Internal("DuckDB could not write " + path + ": " + run.output);
  return Status::Ok();
}

}  // namespace loadstar::testing
