// End to end: the Sparkify sample loaded into PostgreSQL by `loadstar run`, then `loadstar export`
// to the local S3 server and to a local folder; and the sample loaded into the Redshift stand-in by
// `loadstar run --dialect redshift`, then exported by UNLOAD; each lake
// downloaded and read back by DuckDB (tests/tools/parquet_read.mjs, Hive partitioning on) and
// compared with the star tables row for row, every column, NULLs included, and with the
// partition values its folders carry. The manifest must list exactly the files there are, with
// their sizes and row counts, and a rerun must replace the previous export.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/core/stop.h"
#include "common/core/uri.h"
#include "common/storage/object_store.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/lake/lake_export.h"
#include "tests/support/parquet_reader.h"
#include "tests/support/postgres_server.h"
#include "tests/support/redshift_standin.h"
#include "tests/support/s3_server.h"
#include "tests/support/sample_upload.h"
#include "tests/support/test_env.h"

namespace loadstar::testing {
namespace {
namespace fs = std::filesystem;

constexpr const char* kSampleBucket = "sample";
constexpr const char* kLakeBucket = "lake";
constexpr const char* kDatabase = "lake";
constexpr const char* kStagingBucket = "staging";
constexpr const char* kSchema = "sparkify_lake";
constexpr const char* kRedshiftSchema = "sparkify_lake_rs";
constexpr const char* kRole = "arn:aws:iam::123456789012:role/loadstar-unload";

using Cell = std::optional<std::string>;
using Rows = std::vector<std::vector<Cell>>;

enum class Kind { kText, kInteger, kDouble, kTimestamp };

struct ColumnSpec {
  std::string name;
  Kind kind;
  std::string pg;  // its value in PostgreSQL as the reader prints it (text; timestamps in micros)
};

struct TableSpec {
  std::string name;
  std::vector<std::string> partition_by;
  std::vector<ColumnSpec> columns;  // the partition columns among them, as the reader gives them back
  std::string order;                // the same order on both sides
  bool text_order = false;          // the order column is text: compared byte by byte on both sides
};

std::string Micros(const std::string& column) {
  return "(extract(epoch FROM " + column + ") * 1000000)::bigint::text";
}

const std::vector<TableSpec>& Tables() {
  static const auto* tables = new std::vector<TableSpec>{
      {"songplays",
       {"year", "month"},
       {{"songplay_id", Kind::kInteger, "songplay_id::text"},
        {"start_time", Kind::kTimestamp, Micros("start_time")},
        {"user_id", Kind::kText, "user_id"},
        {"level", Kind::kText, "level"},
        {"song_id", Kind::kText, "song_id"},
        {"artist_id", Kind::kText, "artist_id"},
        {"session_id", Kind::kInteger, "session_id::text"},
        {"location", Kind::kText, "location"},
        {"user_agent", Kind::kText, "user_agent"},
        {"unmatched_key", Kind::kInteger, "unmatched_key::text"},
        {"year", Kind::kInteger, "extract(year FROM start_time)::int::text"},
        {"month", Kind::kInteger, "extract(month FROM start_time)::int::text"}},
       "songplay_id"},
      {"time",
       {"year", "month"},
       {{"start_time", Kind::kTimestamp, Micros("start_time")},
        {"hour", Kind::kInteger, "hour::text"},
        {"day", Kind::kInteger, "day::text"},
        {"week", Kind::kInteger, "week::text"},
        {"weekday", Kind::kInteger, "weekday::text"},
        {"year", Kind::kInteger, "year::text"},
        {"month", Kind::kInteger, "month::text"}},
       "start_time"},
      {"songs",
       {"year", "artist_id"},
       {{"song_id", Kind::kText, "song_id"},
        {"title", Kind::kText, "title"},
        {"duration", Kind::kDouble, "duration::text"},
        {"year", Kind::kInteger, "year::text"},
        {"artist_id", Kind::kText, "nullif(artist_id, '')"}},
       "song_id", true},
      {"users",
       {},
       {{"user_id", Kind::kText, "user_id"},
        {"first_name", Kind::kText, "first_name"},
        {"last_name", Kind::kText, "last_name"},
        {"gender", Kind::kText, "gender"},
        {"level", Kind::kText, "level"},
        {"as_of", Kind::kTimestamp, Micros("as_of")}},
       "user_id", true},
      {"artists",
       {},
       {{"artist_id", Kind::kText, "artist_id"},
        {"name", Kind::kText, "name"},
        {"location", Kind::kText, "location"},
        {"latitude", Kind::kDouble, "latitude::text"},
        {"longitude", Kind::kDouble, "longitude::text"}},
       "artist_id", true},
  };
  return *tables;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<std::string> JsonText(simdjson::dom::element e) {
  if (e.is_null()) return std::nullopt;
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::to_string(e);
}

// The star table's rows from PostgreSQL, its columns as `spec` says, in its order.
Rows WarehouseRows(const std::string& schema, const TableSpec& spec) {
  std::string select;
  for (const ColumnSpec& c : spec.columns) select += (select.empty() ? "" : ", ") + c.pg;
  const std::string sql = "SELECT coalesce(json_agg(json_build_array(" + select + ") ORDER BY " + spec.order +
                          (spec.text_order ? " COLLATE \"C\"" : "") + "), '[]') FROM " + schema + "." + spec.name;
  const std::string text = PostgresServer::Shared().Psql(kDatabase, sql);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  Rows rows;
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text.substr(0, 300);
  if (!doc.is_array()) return rows;
  for (simdjson::dom::element r : doc.get_array()) {
    std::vector<Cell> row;
    for (simdjson::dom::element v : r.get_array()) row.push_back(JsonText(v));
    rows.push_back(std::move(row));
  }
  return rows;
}

bool SameValue(Kind kind, const Cell& a, const Cell& b) {
  if (!a || !b) return a.has_value() == b.has_value();
  if (kind != Kind::kDouble) return *a == *b;
  const double x = std::strtod(a->c_str(), nullptr), y = std::strtod(b->c_str(), nullptr);
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  return x == y && std::signbit(x) == std::signbit(y);
}

struct ManifestFile {
  std::string table, key;
  std::map<std::string, Cell> partition;
  uint64_t rows = 0, bytes = 0;
};

struct Manifest {
  std::string folder, method, engine;
  std::map<std::string, uint64_t> table_rows, table_files;
  std::vector<ManifestFile> files;
};

Manifest ParseManifest(const std::string& text) {
  Manifest m;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text.substr(0, 300);
  if (!doc.is_object()) return m;
  m.folder = JsonText(doc["folder"]).value_or("");
  m.method = JsonText(doc["method"]).value_or("");
  m.engine = JsonText(doc["engine"]).value_or("");
  for (simdjson::dom::element t : doc["tables"].get_array()) {
    const std::string name = JsonText(t["table"]).value_or("");
    m.table_rows[name] = t["rows"].get_uint64().value();
    m.table_files[name] = t["files"].get_uint64().value();
  }
  for (simdjson::dom::element f : doc["files"].get_array()) {
    ManifestFile file;
    file.table = JsonText(f["table"]).value_or("");
    file.key = JsonText(f["key"]).value_or("");
    file.rows = f["rows"].get_uint64().value();
    file.bytes = f["bytes"].get_uint64().value();
    for (auto [k, v] : f["partition"].get_object()) file.partition[std::string(k)] = JsonText(v);
    m.files.push_back(std::move(file));
  }
  return m;
}

class ExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s3_ = new LocalS3Server({kSampleBucket, kLakeBucket, kStagingBucket});
    if (!s3_->ok()) return;
    s3_->ExportAwsEnvironment();
    auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, kSampleBucket, ""});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto uploaded = UploadSample(store->get());
    ASSERT_TRUE(uploaded.ok()) << uploaded.status().ToString();
    db_ = new std::string(PostgresServer::Shared().FreshDatabase(kDatabase));
    CommandResult load = RunCommand({LoadstarBinary(), "run", "--songs", std::string("s3://") + kSampleBucket + "/song_data/",
                                     "--events", std::string("s3://") + kSampleBucket + "/log_data/", "--warehouse",
                                     *db_, "--schema", kSchema, "--workers", "2"},
                                    s3_->AwsEnvironment(), 180);
    ASSERT_EQ(load.exit_code, 0) << load.output;
    loaded_ = true;
  }
  static void TearDownTestSuite() {
    delete s3_;
    delete db_;
    s3_ = nullptr;
    db_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(loaded_) << "the sample could not be loaded"; }

  static CommandResult Export(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {LoadstarBinary(), "export"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, s3_->AwsEnvironment(), 180);
  }

  // Every object under s3://lake/PREFIX, downloaded into a fresh folder; returns the folder that
  // stands for PREFIX, and the keys (relative to it) with their sizes in `objects`.
  static std::string Download(const std::string& prefix, std::map<std::string, uint64_t>* objects) {
    const std::string dir = TempDir("lake-download");
    auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, kLakeBucket, ""});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return dir;
    std::vector<std::string> keys;
    Status listed = (*store)->List(prefix, [&](ObjectInfo info) {
      keys.push_back(info.key);
      (*objects)[info.key.substr(prefix.size())] = info.size;
      return Status::Ok();
    });
    EXPECT_TRUE(listed.ok()) << listed.ToString();
    for (const std::string& key : keys) {
      auto body = (*store)->Get(key);
      EXPECT_TRUE(body.ok()) << body.status().ToString();
      if (!body.ok()) continue;
      const fs::path path = fs::path(dir) / key.substr(prefix.size());
      fs::create_directories(path.parent_path());
      std::ofstream(path, std::ios::binary) << *body;
    }
    return dir;
  }

  // Every regular file under `dir`, relative to it, with its size.
  static std::map<std::string, uint64_t> LocalObjects(const std::string& dir) {
    std::map<std::string, uint64_t> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = e.file_size();
    }
    return out;
  }

  // The lake in `dir` (its manifest.json, `objects` what is there) against the star tables.
  static void ExpectLakeMatchesTables(const std::string& dir, const std::map<std::string, uint64_t>& objects,
                                      const std::string& method, const std::string& schema = kSchema) {
    ASSERT_TRUE(objects.count("manifest.json")) << "no manifest.json";
    const Manifest m = ParseManifest(ReadFile(dir + "/manifest.json"));
    EXPECT_EQ(m.method, method);
    ASSERT_FALSE(m.folder.empty());
    // The manifest lists every Parquet file there is, at its size; nothing else is in the folder
    // but UNLOAD's own manifests.
    std::set<std::string> listed;
    for (const ManifestFile& f : m.files) {
      listed.insert(f.key);
      ASSERT_TRUE(objects.count(f.key)) << f.key << " is in the manifest but not in the lake";
      EXPECT_EQ(objects.at(f.key), f.bytes) << f.key;
      EXPECT_EQ(f.key.rfind(m.folder + f.table + "/", 0), 0u) << f.key;
      EXPECT_GT(f.rows, 0u) << f.key;
    }
    for (const auto& [key, size] : objects) {
      if (key == "manifest.json") continue;
      EXPECT_EQ(key.rfind(m.folder, 0), 0u) << key << " is outside the export's folder " << m.folder;
      const bool unload_manifest = method == "unload" && key.size() > 9 && key.substr(key.size() - 9) == "/manifest";
      if (!unload_manifest) {
        EXPECT_TRUE(listed.count(key)) << key << " is in the lake but not in the manifest";
      }
    }

    for (const TableSpec& spec : Tables()) {
      SCOPED_TRACE(spec.name);
      const Rows want = WarehouseRows(schema, spec);
      ASSERT_FALSE(want.empty());
      EXPECT_EQ(m.table_rows.at(spec.name), want.size());
      uint64_t files = 0, rows = 0;
      for (const ManifestFile& f : m.files) {
        if (f.table != spec.name) continue;
        ++files;
        rows += f.rows;
        // The partition values in the manifest are those of the folders.
        std::string folders;
        for (const std::string& p : spec.partition_by) {
          ASSERT_TRUE(f.partition.count(p)) << f.key;
          folders += p + "=" + f.partition.at(p).value_or("__HIVE_DEFAULT_PARTITION__") + "/";
        }
        EXPECT_EQ(f.key.rfind(m.folder + spec.name + "/" + folders, 0), 0u) << f.key;
        EXPECT_EQ(f.key.find('/', (m.folder + spec.name + "/" + folders).size()), std::string::npos) << f.key;
      }
      EXPECT_EQ(m.table_files.at(spec.name), files);
      EXPECT_EQ(rows, want.size());

      // The files hold no partition column.
      for (const ManifestFile& f : m.files) {
        if (f.table != spec.name) continue;
        auto one = ReadParquet(dir + "/" + f.key);
        ASSERT_TRUE(one.ok()) << one.status().ToString();
        for (const std::string& p : spec.partition_by) EXPECT_EQ(one->Column(p), -1) << f.key << " holds " << p;
        EXPECT_EQ(one->rows.size(), f.rows) << f.key;
        break;
      }

      auto read = ReadParquet(dir + "/" + m.folder + spec.name, /*hive=*/true, spec.order);
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      ASSERT_EQ(read->rows.size(), want.size());
      std::vector<int> at;
      for (const ColumnSpec& c : spec.columns) {
        at.push_back(read->Column(c.name));
        ASSERT_GE(at.back(), 0) << "DuckDB reads no column " << c.name;
      }
      EXPECT_EQ(read->names.size(), spec.columns.size());
      size_t differences = 0;
      for (size_t r = 0; r < want.size(); ++r) {
        for (size_t c = 0; c < spec.columns.size(); ++c) {
          const Cell& got = read->rows[r][static_cast<size_t>(at[c])];
          if (!SameValue(spec.columns[c].kind, got, want[r][c]) && ++differences <= 5) {
            ADD_FAILURE() << spec.name << " row " << r << " column " << spec.columns[c].name << ": lake "
                          << got.value_or("NULL") << ", table " << want[r][c].value_or("NULL");
          }
        }
      }
      EXPECT_EQ(differences, 0u);
    }
  }

  static LocalS3Server* s3_;
  static std::string* db_;
  static bool loaded_;
};

LocalS3Server* ExportTest::s3_ = nullptr;
std::string* ExportTest::db_ = nullptr;
bool ExportTest::loaded_ = false;

TEST_F(ExportTest, ToS3TheLakeHoldsTheStarTablesAndARerunReplacesIt) {
  const std::string to = std::string("s3://") + kLakeBucket + "/star/";
  // Something of the user's beside the lake, which the export must leave alone.
  {
    auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, kLakeBucket, ""});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Put("star/README.txt", "the analysts' lake").ok());
  }
  CommandResult first = Export({"--to", to, "--warehouse", *db_, "--schema", kSchema});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("songplays"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("6,820 rows"), std::string::npos) << first.output;  // a progress line

  std::map<std::string, uint64_t> objects;
  std::string dir = Download("star/", &objects);
  const Manifest before = ParseManifest(ReadFile(dir + "/manifest.json"));
  EXPECT_EQ(before.engine, "postgres");
  objects.erase("README.txt");
  ExpectLakeMatchesTables(dir, objects, "parquet");

  // The sample's one song without a year is in the default partition.
  bool default_partition = false;
  for (const ManifestFile& f : before.files) {
    default_partition = default_partition || (f.table == "songs" && !f.partition.at("year").has_value());
  }
  EXPECT_TRUE(default_partition);

  CommandResult second = Export({"--to", to, "--warehouse", *db_, "--schema", kSchema, "--quiet"});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("removed "), std::string::npos) << second.output;
  std::map<std::string, uint64_t> again;
  dir = Download("star/", &again);
  EXPECT_TRUE(again.count("README.txt"));
  again.erase("README.txt");
  const Manifest after = ParseManifest(ReadFile(dir + "/manifest.json"));
  EXPECT_NE(after.folder, before.folder);
  for (const auto& [key, size] : again) {
    EXPECT_NE(key.rfind(before.folder, 0), 0u) << key << " of the first export is still there";
  }
  ExpectLakeMatchesTables(dir, again, "parquet");
}

TEST_F(ExportTest, ToAFolderWithSmallFilesAndRowGroups) {
  const std::string dir = TempDir("lake-folder") + "/lake";
  CommandResult r = Export({"--to", "file://" + dir + "/", "--warehouse", *db_, "--schema", kSchema,
                            "--max-rows-per-file", "500"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectLakeMatchesTables(dir, LocalObjects(dir), "parquet");
  // 6,820 plays of one month in files of at most 500 rows.
  const Manifest m = ParseManifest(ReadFile(dir + "/manifest.json"));
  EXPECT_EQ(m.table_files.at("songplays"), 14u);
  for (const ManifestFile& f : m.files) EXPECT_LE(f.rows, 500u) << f.key;

  // Again: the folder holds the manifest and the new export's folder, no empty directories of
  // the first.
  CommandResult again = Export({"--to", "file://" + dir + "/", "--warehouse", *db_, "--schema", kSchema});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const Manifest m2 = ParseManifest(ReadFile(dir + "/manifest.json"));
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(dir)) top.insert(e.path().filename().string());
  EXPECT_EQ(top, (std::set<std::string>{"manifest.json", m2.folder.substr(0, m2.folder.size() - 1)}));
  ExpectLakeMatchesTables(dir, LocalObjects(dir), "parquet");
}

TEST_F(ExportTest, UsageAndFailuresExitAsTheOtherCommandsDo) {
  EXPECT_EQ(Export({"--warehouse", *db_}).exit_code, 2);  // no --to
  EXPECT_EQ(Export({"--to", "ftp://x/"}).exit_code, 2);
  // No such schema: nothing is written, exit 1.
  const std::string dir = TempDir("lake-none");
  CommandResult r = Export({"--to", "file://" + dir + "/", "--warehouse", *db_, "--schema", "no_such_schema"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(LocalObjects(dir).empty());
}

// An object store that refuses the PUT of any key containing `fail_on`, and otherwise is the
// store it wraps.
class FailingStore : public ObjectStore {
 public:
  FailingStore(ObjectStore* inner, std::string fail_on) : inner_(inner), fail_on_(std::move(fail_on)) {}
  Status List(std::string_view prefix, const std::function<Status(ObjectInfo)>& sink) override {
    return inner_->List(prefix, sink);
  }
  Result<std::string> Get(std::string_view key) override { return inner_->Get(key); }
  void GetMany(const std::vector<std::string>& keys, size_t concurrency,
               const std::function<void(size_t, Result<std::string>)>& done) override {
    inner_->GetMany(keys, concurrency, done);
  }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length, std::string_view etag) override {
    return inner_->GetRange(key, offset, length, etag);
  }
  Result<ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Status Put(std::string_view key, std::string_view body) override {
    if (!fail_on_.empty() && key.find(fail_on_) != std::string_view::npos) {
      return Status::Unavailable("injected: PUT " + std::string(key) + " failed");
    }
    return inner_->Put(key, body);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  std::string UriFor(std::string_view key) const override { return inner_->UriFor(key); }

 private:
  ObjectStore* const inner_;
  const std::string fail_on_;
};

// An export that stops or fails part way leaves the previous one exactly as it was: the same
// manifest, every file it lists, and nothing of the export that did not finish.
TEST_F(ExportTest, AnExportThatStopsOrFailsLeavesThePreviousOneAsItWas) {
  const std::string dir = TempDir("lake-failures") + "/lake";
  auto uri = ParseUri("file://" + dir + "/");
  ASSERT_TRUE(uri.ok());
  auto store = OpenObjectStore(*uri);
  ASSERT_TRUE(store.ok());
  WarehouseOptions wo;
  wo.conninfo = *db_;
  wo.schema = kSchema;
  auto wh = Warehouse::Connect(wo);
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();

  lake::ExportOptions options;
  options.destination = *uri;
  options.max_rows_per_file = 1000;
  auto first = lake::ExportLake(wh->get(), store->get(), options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string manifest = ReadFile(dir + "/manifest.json");
  const std::map<std::string, uint64_t> objects = LocalObjects(dir);

  auto unchanged = [&](const char* what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(ReadFile(dir + "/manifest.json"), manifest);
    EXPECT_EQ(LocalObjects(dir), objects);
  };

  // Stopped while songs are read: songplays and time were written, and are removed.
  StopSource stop;
  options.stop = stop.token();
  options.progress = [&](const std::string& line) {
    if (line == "songs: reading") stop.request_stop();
  };
  auto stopped = lake::ExportLake(wh->get(), store->get(), options);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), StatusCode::kCancelled) << stopped.status().ToString();
  unchanged("stopped");

  // A file that cannot be written, and then the manifest itself.
  options.stop = StopToken();
  options.progress = nullptr;
  for (const char* fail_on : {"/users/", "manifest.json"}) {
    FailingStore failing(store->get(), fail_on);
    auto failed = lake::ExportLake(wh->get(), &failing, options);
    ASSERT_FALSE(failed.ok()) << fail_on;
    EXPECT_NE(failed.status().message().find("injected"), std::string::npos) << failed.status().ToString();
    unchanged(fail_on);
  }

  // The warehouse connection is still good for the next one, which replaces the first.
  auto next = lake::ExportLake(wh->get(), store->get(), options);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_NE(next->folder, first->folder);
  EXPECT_GT(next->stale_objects_deleted, 0u);
  ExpectLakeMatchesTables(dir, LocalObjects(dir), "parquet");
}

TEST_F(ExportTest, ThroughTheRedshiftStandinUnloadWritesTheSameLake) {
  auto standin = RedshiftStandin::Start(PostgresServer::Shared().port(), s3_->endpoint());
  ASSERT_NE(standin, nullptr);
  const std::string to = std::string("s3://") + kLakeBucket + "/unload/";
  const std::vector<std::string> redshift = {"--warehouse", standin->Conninfo(kDatabase), "--schema", kRedshiftSchema,
                                             "--dialect",   "redshift",                    "--region", "us-east-1"};
  // The sample loaded the Redshift way: parts in S3, COPY from manifests, MERGE.
  std::vector<std::string> load = {LoadstarBinary(), "run", "--songs", std::string("s3://") + kSampleBucket + "/song_data/",
                                   "--events", std::string("s3://") + kSampleBucket + "/log_data/", "--workers", "2",
                                   "--staging", std::string("s3://") + kStagingBucket + "/parts/", "--iam-role", kRole};
  load.insert(load.end(), redshift.begin(), redshift.end());
  CommandResult loaded = RunCommand(load, s3_->AwsEnvironment(), 180);
  ASSERT_EQ(loaded.exit_code, 0) << loaded.output << "\n--- the stand-in's log ---\n" << standin->Log();

  // UNLOAD writes to S3 only, and needs a role.
  std::vector<std::string> args = redshift;
  args.insert(args.end(), {"--to", "file://" + TempDir("lake-rs") + "/", "--iam-role", kRole});
  EXPECT_EQ(Export(args).exit_code, 2);
  args = redshift;
  args.insert(args.end(), {"--to", to});
  EXPECT_EQ(Export(args).exit_code, 2);

  args = redshift;
  args.insert(args.end(), {"--to", to, "--iam-role", kRole});
  CommandResult r = Export(args);
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n--- the stand-in's log ---\n" << standin->Log();
  EXPECT_NE(standin->Log().find("UNLOAD"), std::string::npos);
  std::map<std::string, uint64_t> objects;
  const std::string dir = Download("unload/", &objects);
  const Manifest m = ParseManifest(ReadFile(dir + "/manifest.json"));
  EXPECT_EQ(m.engine, "redshift");
  ExpectLakeMatchesTables(dir, objects, "unload", kRedshiftSchema);
  // Redshift's file names, in its partition folders.
  for (const ManifestFile& f : m.files) {
    EXPECT_NE(f.key.find("_part_"), std::string::npos) << f.key;
  }

  // A second export replaces the first.
  CommandResult again = Export(args);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  std::map<std::string, uint64_t> after;
  const std::string dir2 = Download("unload/", &after);
  const Manifest m2 = ParseManifest(ReadFile(dir2 + "/manifest.json"));
  EXPECT_NE(m2.folder, m.folder);
  for (const auto& [key, size] : after) EXPECT_NE(key.rfind(m.folder, 0), 0u) << key;
  ExpectLakeMatchesTables(dir2, after, "unload", kRedshiftSchema);
}

}  // namespace
}  // namespace loadstar::testing
