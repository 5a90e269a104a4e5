#include "coordinator/lake/lake_export.h"

#include <charconv>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "common/core/json_text.h"
#include "common/core/text.h"
#include "common/parquet/parquet_writer.h"
#include "common/warehouse/sql_catalog.h"
#include "coordinator/lake/json_value.h"

namespace loadstar::lake {
namespace {

using parquet::ColumnType;

constexpr std::string_view kDefaultPartition = "__HIVE_DEFAULT_PARTITION__";
constexpr std::string_view kFolderPrefix = "export-";
// A file is built in memory and PUT whole: past this size the partition goes on in a new file,
// whatever the row count.
constexpr uint64_t kMaxFileBytes = 512ull * 1024 * 1024;

// The columns of each table's file, with their types, as sql/common/lake/TABLE.sql returns them
// after the partition columns. The SELECT and this list must agree (checked on the first row).
struct TableColumns {
  const char* table;
  std::vector<parquet::Column> columns;
};

const std::vector<TableColumns>& FileColumns() {
  static const auto* columns = new std::vector<TableColumns>{
      {"songplays",
       {{"songplay_id", ColumnType::kInt64},
        {"start_time", ColumnType::kTimestampMicros},
        {"user_id", ColumnType::kString},
        {"level", ColumnType::kString},
        {"song_id", ColumnType::kString},
        {"artist_id", ColumnType::kString},
        {"session_id", ColumnType::kInt64},
        {"location", ColumnType::kString},
        {"user_agent", ColumnType::kString},
        {"unmatched_key", ColumnType::kInt64}}},
      {"time",
       {{"start_time", ColumnType::kTimestampMicros},
        {"hour", ColumnType::kInt32},
        {"day", ColumnType::kInt32},
        {"week", ColumnType::kInt32},
        {"weekday", ColumnType::kInt32}}},
      {"songs", {{"song_id", ColumnType::kString}, {"title", ColumnType::kString}, {"duration", ColumnType::kDouble}}},
      {"users",
       {{"user_id", ColumnType::kString},
        {"first_name", ColumnType::kString},
        {"last_name", ColumnType::kString},
        {"gender", ColumnType::kString},
        {"level", ColumnType::kString},
        {"as_of", ColumnType::kTimestampMicros}}},
      {"artists",
       {{"artist_id", ColumnType::kString},
        {"name", ColumnType::kString},
        {"location", ColumnType::kString},
        {"latitude", ColumnType::kDouble},
        {"longitude", ColumnType::kDouble}}},
  };
  return *columns;
}

const std::vector<parquet::Column>& ColumnsOf(const std::string& table) {
  for (const TableColumns& t : FileColumns()) {
    if (table == t.table) return t.columns;
  }
  static const std::vector<parquet::Column> none;
  return none;
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return WithThousands(n) + " " + (n == 1 ? one : many);
}

std::string ExportId(std::string* exported_at) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32], iso[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
  *exported_at = iso;
  std::random_device device;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(device() & 0xFFFFFF));
  return std::string(stamp) + "-" + suffix;
}

// The key every object of the export starts with: the destination's path, ending in '/' (S3: ""
// for the bucket's root).
std::string BaseKey(const Uri& destination) {
  std::string base = destination.path;
  if (!base.empty() && base.back() != '/') base += '/';
  return base;
}

std::string PartitionPath(const std::vector<std::pair<std::string, std::optional<std::string>>>& partition) {
  std::string path;
  for (const auto& [name, value] : partition) path += name + "=" + HiveEscape(value) + "/";
  return path;
}

// "songplays: 1 file, 6,820 rows, 1,295,191 bytes", once a table is written.
void TableDone(const ExportOptions& options, const char* table, const std::vector<LakeFile>& files) {
  if (!options.progress) return;
  uint64_t n = 0, rows = 0, bytes = 0;
  for (const LakeFile& f : files) {
    if (f.table != table) continue;
    ++n;
    rows += f.rows;
    bytes += f.bytes;
  }
  options.progress(std::string(table) + ": " + Plural(n, "file", "files") + ", " + Plural(rows, "row", "rows") + ", " +
                   Plural(bytes, "byte", "bytes"));
}

Status Stopped() { return Status::Cancelled("the export was stopped; the previous export, if any, is as it was"); }

// Converts a value as PostgreSQL prints it (sql/postgres/lake/snapshot.sql fixes the styles)
// into the column's Parquet value; a string is a view of `text`.
Result<parquet::Value> Convert(const std::string& text, ColumnType type) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  switch (type) {
    case ColumnType::kString:
      return parquet::Value{std::string_view(text)};
    case ColumnType::kInt32: {
      int32_t v = 0;
      auto [p, ec] = std::from_chars(begin, end, v);
      if (ec != std::errc() || p != end) break;
      return parquet::Value{v};
    }
    case ColumnType::kInt64: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(begin, end, v);
      if (ec != std::errc() || p != end) break;
      return parquet::Value{v};
    }
    case ColumnType::kDouble: {
      double v = 0;
      auto [p, ec] = std::from_chars(begin, end, v);  // also "NaN", "Infinity", "-Infinity"
      if (ec != std::errc() || p != end) break;
      return parquet::Value{v};
    }
    case ColumnType::kBoolean:
      if (text == "t" || text == "true") return parquet::Value{true};
      if (text == "f" || text == "false") return parquet::Value{false};
      break;
    case ColumnType::kTimestampMicros: {
      LOADSTAR_ASSIGN_OR_RETURN(int64_t micros, ParseTimestampMicros(text));
      return parquet::Value{micros};
    }
  }
  return Status::InvalidArgument("'" + text + "' is not a " + std::string(parquet::ColumnTypeName(type)));
}

// Writes one table's rows, partition by partition, into files of at most max_rows_per_file rows.
class TableWriter {
 public:
  TableWriter(ObjectStore* store, const ExportOptions& options, std::string base, std::string folder,
              const LakeTable& table, std::vector<LakeFile>* files, std::vector<std::string>* written)
      : store_(store), options_(options), base_(std::move(base)), folder_(std::move(folder)), table_(table),
        columns_(ColumnsOf(table.name)), files_(files), written_(written) {}

  Status Row(const QueryResult& row) {
    if (options_.stop.stop_requested()) return Stopped();
    if (!checked_) {
      LOADSTAR_RETURN_IF_ERROR(CheckColumns(row));
      checked_ = true;
    }
    std::vector<std::pair<std::string, std::optional<std::string>>> partition;
    for (size_t p = 0; p < table_.partition_by.size(); ++p) {
      const std::optional<std::string>& v = row.at(0, p);
      partition.emplace_back(table_.partition_by[p], std::nullopt);
      if (v && !v->empty()) partition.back().second = *v;  // "" is the default partition too, as in Hive
    }
    if (writer_ == nullptr || partition != partition_ || writer_->rows() >= options_.max_rows_per_file ||
        writer_->estimated_bytes() >= kMaxFileBytes) {
      LOADSTAR_RETURN_IF_ERROR(Close());
      LOADSTAR_RETURN_IF_ERROR(Open(std::move(partition)));
    }
    values_.clear();
    const size_t first = table_.partition_by.size();
    for (size_t c = 0; c < columns_.size(); ++c) {
      const auto& v = row.at(0, first + c);
      if (!v) {
        values_.emplace_back();
        continue;
      }
      auto value = Convert(*v, columns_[c].type);
      if (!value.ok()) {
        return value.status().WithContext(std::string(table_.name) + "." + columns_[c].name);
      }
      values_.push_back(*value);
    }
    return writer_->AppendRow(values_).WithContext(table_.name);
  }

  // Writes the file being filled, if any.
  Status Close() {
    if (writer_ == nullptr) return Status::Ok();
    const uint64_t rows = writer_->rows();
    LOADSTAR_ASSIGN_OR_RETURN(std::string bytes, writer_->Finish());
    writer_.reset();
    const std::string path = PartitionPath(partition_);
    char name[32];
    std::snprintf(name, sizeof name, "part-%05d.parquet", next_part_[path]++);
    LakeFile file;
    file.table = table_.name;
    file.key = folder_ + table_.name + "/" + path + name;
    const std::string key = base_ + file.key;
    file.url = store_->UriFor(key);
    file.partition = partition_;
    file.rows = rows;
    file.bytes = bytes.size();
    written_->push_back(key);  // before the PUT: a failed one may still have left something
    LOADSTAR_RETURN_IF_ERROR(store_->Put(key, bytes).WithContext("writing " + file.url));
    files_->push_back(std::move(file));
    return Status::Ok();
  }

 private:
  Status CheckColumns(const QueryResult& row) const {
    std::vector<std::string> want;
    for (const char* p : table_.partition_by) want.emplace_back(p);
    for (const auto& c : columns_) want.push_back(c.name);
    if (row.columns() != want) {
      std::string got, expected;
      for (const auto& c : row.columns()) got += (got.empty() ? "" : ", ") + c;
      for (const auto& c : want) expected += (expected.empty() ? "" : ", ") + c;
      return Status::Internal(SqlFilePath(std::string("lake/") + table_.name) + " returns (" + got +
                              "); the export writes (" + expected + ")");
    }
    return Status::Ok();
  }

  Status Open(std::vector<std::pair<std::string, std::optional<std::string>>> partition) {
    parquet::WriterOptions wo;
    wo.rows_per_row_group = options_.rows_per_row_group;
    wo.created_by = "loadstar";
    LOADSTAR_ASSIGN_OR_RETURN(writer_, parquet::FileWriter::Create(columns_, wo));
    partition_ = std::move(partition);
    return Status::Ok();
  }

  ObjectStore* const store_;
  const ExportOptions& options_;
  const std::string base_, folder_;
  const LakeTable& table_;
  const std::vector<parquet::Column>& columns_;
  std::vector<LakeFile>* const files_;
  std::vector<std::string>* const written_;
  bool checked_ = false;
  std::unique_ptr<parquet::FileWriter> writer_;
  std::vector<std::pair<std::string, std::optional<std::string>>> partition_;
  std::map<std::string, int> next_part_;
  std::vector<parquet::Value> values_;
};

// PostgreSQL: each table read by its SELECT in one snapshot and written here.
Status ExportWithParquetWriter(Warehouse* wh, ObjectStore* store, const ExportOptions& options, const std::string& base,
                               ExportSummary* summary, std::vector<std::string>* written) {
  LOADSTAR_RETURN_IF_ERROR(wh->Begin());
  Status s = wh->ExecFile("lake/snapshot");
  for (const LakeTable& table : LakeTables()) {
    if (!s.ok()) break;
    if (options.stop.stop_requested()) {
      s = Stopped();
      break;
    }
    if (options.progress) options.progress(std::string(table.name) + ": reading");
    TableWriter writer(store, options, base, summary->folder, table, &summary->files, written);
    s = wh->QueryFileEach(std::string("lake/") + table.name, {}, [&](const QueryResult& row) { return writer.Row(row); });
    if (s.ok()) s = writer.Close();
    if (s.ok()) TableDone(options, table.name, summary->files);
  }
  Status ended = wh->Rollback();  // nothing was written: this only ends the snapshot
  return s.ok() ? ended : s;
}

// The objects of one table that UNLOAD's manifest lists: its entries' url, content_length and
// record_count (MANIFEST VERBOSE).
Status ReadUnloadManifest(ObjectStore* store, const std::string& base, const std::string& bucket,
                          const std::string& folder, const LakeTable& table, std::vector<LakeFile>* files) {
  const std::string key = base + folder + table.name + "/manifest";
  LOADSTAR_ASSIGN_OR_RETURN(std::string text, store->Get(key));
  auto doc = internal::ParseJson(text);
  if (!doc.ok()) return doc.status().WithContext("UNLOAD's manifest " + store->UriFor(key));
  const internal::JsonValue* entries = doc->Get("entries");
  if (entries == nullptr || entries->kind != internal::JsonValue::Kind::kArray) {
    return Status::DataLoss("UNLOAD's manifest " + store->UriFor(key) + " has no entries");
  }
  const std::string url_prefix = "s3://" + bucket + "/" + base;
  const std::string table_prefix = folder + table.name + "/";
  for (const internal::JsonValue& entry : entries->items) {
    const internal::JsonValue* url = entry.Get("url");
    const internal::JsonValue* meta = entry.Get("meta");
    const internal::JsonValue* length = meta ? meta->Get("content_length") : nullptr;
    const internal::JsonValue* count = meta ? meta->Get("record_count") : nullptr;
    if (url == nullptr || url->kind != internal::JsonValue::Kind::kString || length == nullptr ||
        count == nullptr || length->kind != internal::JsonValue::Kind::kNumber ||
        count->kind != internal::JsonValue::Kind::kNumber) {
      return Status::DataLoss("UNLOAD's manifest " + store->UriFor(key) +
                              " has an entry without url, meta.content_length and meta.record_count");
    }
    if (url->text.compare(0, url_prefix.size() + table_prefix.size(), url_prefix + table_prefix) != 0) {
      return Status::DataLoss("UNLOAD's manifest " + store->UriFor(key) + " lists " + url->text +
                              ", outside " + url_prefix + table_prefix);
    }
    LakeFile file;
    file.table = table.name;
    file.key = url->text.substr(url_prefix.size());
    file.url = url->text;
    file.rows = std::strtoull(count->text.c_str(), nullptr, 10);
    file.bytes = std::strtoull(length->text.c_str(), nullptr, 10);
    // The partition folders between the table's folder and the file's name, in order.
    std::string_view rest = std::string_view(file.key).substr(table_prefix.size());
    for (size_t slash = rest.find('/'); slash != std::string_view::npos; slash = rest.find('/')) {
      std::string_view segment = rest.substr(0, slash);
      rest.remove_prefix(slash + 1);
      const size_t eq = segment.find('=');
      if (eq == std::string_view::npos) continue;
      file.partition.emplace_back(std::string(segment.substr(0, eq)), HiveUnescape(segment.substr(eq + 1)));
    }
    std::vector<std::string> names;
    for (const auto& [name, value] : file.partition) names.push_back(name);
    if (names != std::vector<std::string>(table.partition_by.begin(), table.partition_by.end())) {
      return Status::DataLoss(file.url + " is not in the " + table.name + " table's partition folders");
    }
    files->push_back(std::move(file));
  }
  return Status::Ok();
}

// Redshift: the cluster writes the files, UNLOAD by UNLOAD, in one transaction.
Status ExportWithUnload(Warehouse* wh, ObjectStore* store, const ExportOptions& options, const std::string& base,
                        ExportSummary* summary, std::vector<std::string>* written) {
  LOADSTAR_RETURN_IF_ERROR(wh->Begin());
  Status s;
  for (const LakeTable& table : LakeTables()) {
    if (options.stop.stop_requested()) {
      s = Stopped();
      break;
    }
    const std::string to_key = base + summary->folder + table.name + "/";
    if (options.progress) options.progress(std::string(table.name) + ": UNLOAD to " + store->UriFor(to_key));
    written->push_back(to_key);  // a prefix: UNLOAD may have written some of it before failing
    SqlVars vars;
    vars.schema = wh->schema();
    vars.dialect = wh->dialect();
    vars.literals = {{"to", store->UriFor(to_key)}, {"iam_role", options.iam_role}, {"region", options.region}};
    s = wh->ExecFile(std::string("lake/unload_") + table.name, vars);
    if (s.ok()) s = ReadUnloadManifest(store, base, options.destination.bucket, summary->folder, table, &summary->files);
    if (!s.ok()) break;
    TableDone(options, table.name, summary->files);
  }
  Status ended = wh->Rollback();  // nothing was written in the warehouse
  return s.ok() ? ended : s;
}

// Removes objects of this export after a failure (keys, and prefixes ending in '/').
void RemoveWritten(ObjectStore* store, const std::vector<std::string>& written) {
  for (const std::string& key : written) {
    if (!key.empty() && key.back() == '/') {
      std::vector<std::string> keys;
      (void)store->List(key, [&](ObjectInfo info) {
        keys.push_back(info.key);
        return Status::Ok();
      });
      for (const std::string& k : keys) (void)store->Delete(k);
    } else {
      (void)store->Delete(key);
    }
  }
}

// A local folder keeps the directories its objects were in: removes those left empty under
// `dir` (and `dir` itself when empty). Directories with anything in them stay.
void RemoveEmptyDirectories(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && !entry.is_symlink(ec)) RemoveEmptyDirectories(entry.path());
  }
  std::filesystem::remove(dir, ec);  // fails, harmlessly, unless empty
}

// Deletes every object in an export-*/ folder under `base` other than `folder`.
Result<uint64_t> RemoveStaleExports(ObjectStore* store, const std::string& base, const std::string& folder,
                                    bool local) {
  std::vector<std::string> stale;
  Status listed = store->List(base, [&](ObjectInfo info) {
    if (info.key.compare(0, base.size(), base) != 0) return Status::Ok();
    std::string_view rel = std::string_view(info.key).substr(base.size());
    const size_t slash = rel.find('/');
    if (slash == std::string_view::npos || rel.substr(0, kFolderPrefix.size()) != kFolderPrefix) return Status::Ok();
    if (rel.substr(0, slash + 1) != folder) stale.push_back(info.key);
    return Status::Ok();
  });
  if (!listed.ok() && listed.code() != StatusCode::kNotFound) return listed;
  for (const std::string& key : stale) LOADSTAR_RETURN_IF_ERROR(store->Delete(key));
  if (local) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
      const std::string name = entry.path().filename().string() + "/";
      if (name.rfind(kFolderPrefix, 0) == 0 && name != folder) RemoveEmptyDirectories(entry.path());
    }
  }
  return static_cast<uint64_t>(stale.size());
}

void AppendPartition(std::string* out, const std::vector<std::pair<std::string, std::optional<std::string>>>& p) {
  *out += "{";
  for (size_t i = 0; i < p.size(); ++i) {
    if (i > 0) *out += ", ";
    AppendJsonString(out, p[i].first);
    *out += ": ";
    if (p[i].second) {
      AppendJsonString(out, *p[i].second);
    } else {
      *out += "null";
    }
  }
  *out += "}";
}

}  // namespace

const std::vector<LakeTable>& LakeTables() {
  static const auto* tables = new std::vector<LakeTable>{
      {"songplays", {"year", "month"}}, {"time", {"year", "month"}}, {"songs", {"year", "artist_id"}},
      {"users", {}},                    {"artists", {}},
  };
  return *tables;
}

std::string HiveEscape(const std::optional<std::string>& value) {
  if (!value || value->empty()) return std::string(kDefaultPartition);
  static constexpr std::string_view kEscaped = "\"#%'*/:=?\\[]^{";
  std::string out;
  for (unsigned char c : *value) {
    if (c < 0x20 || c == 0x7F || kEscaped.find(static_cast<char>(c)) != std::string_view::npos) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::optional<std::string> HiveUnescape(std::string_view folder_value) {
  if (folder_value == kDefaultPartition) return std::nullopt;
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < folder_value.size(); ++i) {
    if (folder_value[i] == '%' && i + 2 < folder_value.size() && hex(folder_value[i + 1]) >= 0 &&
        hex(folder_value[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(folder_value[i + 1]) * 16 + hex(folder_value[i + 2])));
      i += 2;
    } else {
      out.push_back(folder_value[i]);
    }
  }
  return out;
}

Result<int64_t> ParseTimestampMicros(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a timestamp as YYYY-MM-DD HH:MM:SS[.ffffff]");
  };
  std::string_view s = text;
  bool bc = false;
  if (s.size() > 3 && s.substr(s.size() - 3) == " BC") {
    bc = true;
    s.remove_suffix(3);
  }
  size_t i = 0;
  auto number = [&](size_t min_digits, size_t max_digits, int64_t* out) {
    size_t start = i;
    int64_t v = 0;
    while (i < s.size() && i - start < max_digits && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    *out = v;
    return i - start >= min_digits;
  };
  auto expect = [&](char c) {
    if (i < s.size() && s[i] == c) return ++i, true;
    return false;
  };
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, 7, &year) || !expect('-') || !number(2, 2, &month) || !expect('-') || !number(2, 2, &day) ||
      !expect(' ') || !number(2, 2, &hour) || !expect(':') || !number(2, 2, &minute) || !expect(':') ||
      !number(2, 2, &second)) {
    return bad();
  }
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 6) micros = micros * 10 + (s[i++] - '0'), ++digits;
    if (digits == 0) return bad();
    for (; digits < 6; ++digits) micros *= 10;
  }
  if (i != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  if (bc) year = 1 - year;  // 1 BC is year 0
  // Days from 1970-01-01 (the proleptic Gregorian calendar), H. Hinnant's days_from_civil.
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  return ((days * 24 + hour) * 60 + minute) * 60 * 1'000'000 + second * 1'000'000 + micros;
}

std::string ManifestJson(const ExportSummary& summary, const std::string& schema, const std::string& engine) {
  std::string out = "{\n  \"format\": \"parquet\",\n  \"layout\": \"hive\",\n  \"export_id\": ";
  AppendJsonString(&out, summary.export_id);
  out += ",\n  \"exported_at\": ";
  AppendJsonString(&out, summary.exported_at);
  out += ",\n  \"folder\": ";
  AppendJsonString(&out, summary.folder);
  out += ",\n  \"schema\": ";
  AppendJsonString(&out, schema);
  out += ",\n  \"engine\": ";
  AppendJsonString(&out, engine);
  out += ",\n  \"method\": ";
  AppendJsonString(&out, summary.method);
  out += ",\n  \"tables\": [";
  for (size_t t = 0; t < summary.tables.size(); ++t) {
    const TableSummary& table = summary.tables[t];
    out += t == 0 ? "\n    {\"table\": " : ",\n    {\"table\": ";
    AppendJsonString(&out, table.table);
    out += ", \"path\": ";
    AppendJsonString(&out, summary.folder + table.table + "/");
    out += ", \"partition_by\": [";
    for (size_t p = 0; p < table.partition_by.size(); ++p) {
      if (p > 0) out += ", ";
      AppendJsonString(&out, table.partition_by[p]);
    }
    out += "], \"files\": " + std::to_string(table.files) + ", \"rows\": " + std::to_string(table.rows) +
           ", \"bytes\": " + std::to_string(table.bytes) + "}";
  }
  out += "\n  ],\n  \"files\": [";
  for (size_t f = 0; f < summary.files.size(); ++f) {
    const LakeFile& file = summary.files[f];
    out += f == 0 ? "\n    {\"table\": " : ",\n    {\"table\": ";
    AppendJsonString(&out, file.table);
    out += ", \"key\": ";
    AppendJsonString(&out, file.key);
    out += ", \"url\": ";
    AppendJsonString(&out, file.url);
    out += ", \"partition\": ";
    AppendPartition(&out, file.partition);
    out += ", \"rows\": " + std::to_string(file.rows) + ", \"bytes\": " + std::to_string(file.bytes) + "}";
  }
  out += "\n  ]\n}\n";
  return out;
}

Result<ExportSummary> ExportLake(Warehouse* wh, ObjectStore* store, const ExportOptions& options) {
  const bool unload = wh->dialect() == Dialect::kRedshift;
  if (unload && !options.destination.is_s3()) {
    return Status::InvalidArgument("Redshift's UNLOAD writes only to S3: export to an s3:// destination, not " +
                                   options.destination.ToString());
  }
  if (unload && options.iam_role.empty()) {
    return Status::InvalidArgument("a Redshift export needs --iam-role: the role UNLOAD writes to S3 with");
  }
  ExportOptions resolved = options;
  if (unload && resolved.region.empty()) {
    for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
      const char* v = std::getenv(name);
      if (v != nullptr && *v != '\0' && resolved.region.empty()) resolved.region = v;
    }
    if (resolved.region.empty()) {
      return Status::InvalidArgument("a Redshift export needs the bucket's region for UNLOAD: give --region (or set "
                                     "AWS_REGION)");
    }
  }
  if (options.max_rows_per_file == 0 || options.rows_per_row_group == 0) {
    return Status::InvalidArgument("rows per file and per row group must be at least 1");
  }
  ExportSummary summary;
  summary.export_id = ExportId(&summary.exported_at);
  summary.folder = std::string(kFolderPrefix) + summary.export_id + "/";
  summary.method = unload ? "unload" : "parquet";
  const std::string base = BaseKey(options.destination);
  summary.manifest_url = store->UriFor(base + "manifest.json");

  std::vector<std::string> written;
  Status s = unload ? ExportWithUnload(wh, store, resolved, base, &summary, &written)
                    : ExportWithParquetWriter(wh, store, resolved, base, &summary, &written);
  for (const LakeTable& table : LakeTables()) {
    TableSummary t;
    t.table = table.name;
    t.partition_by.assign(table.partition_by.begin(), table.partition_by.end());
    for (const LakeFile& f : summary.files) {
      if (f.table != t.table) continue;
      ++t.files;
      t.rows += f.rows;
      t.bytes += f.bytes;
    }
    summary.tables.push_back(std::move(t));
  }
  // The switch: from here on the manifest names this export's folder.
  if (s.ok() && options.stop.stop_requested()) s = Stopped();
  if (s.ok()) {
    const std::string engine(DialectName(wh->dialect()));
    s = store->Put(base + "manifest.json", ManifestJson(summary, wh->schema(), engine))
            .WithContext("writing " + summary.manifest_url);
  }
  if (!s.ok()) {
    RemoveWritten(store, written);
    if (options.destination.is_file()) RemoveEmptyDirectories(base + summary.folder);
    return s;
  }
  if (options.progress) options.progress("wrote " + summary.manifest_url);
  LOADSTAR_ASSIGN_OR_RETURN(summary.stale_objects_deleted,
                            RemoveStaleExports(store, base, summary.folder, options.destination.is_file()));
  return summary;
}

}  // namespace loadstar::lake
