// The export's pure parts: timestamps as PostgreSQL prints them, Hive partition folder values,
// the JSON reader for UNLOAD's manifests, the manifest written, and the SQL of both dialects.
#include <gtest/gtest.h>

#include <string>

#include "common/warehouse/sql_catalog.h"
#include "coordinator/lake/json_value.h"
#include "coordinator/lake/lake_export.h"

namespace loadstar::lake {
namespace {

TEST(LakeExportTest, TimestampsAsPostgresPrintsThem) {
  EXPECT_EQ(*ParseTimestampMicros("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(*ParseTimestampMicros("2018-11-01 21:01:46.796"), 1541106106796000);
  EXPECT_EQ(*ParseTimestampMicros("1969-12-31 23:59:59.999999"), -1);
  EXPECT_EQ(*ParseTimestampMicros("1960-01-01 00:00:01.5"), -315619198500000);
  EXPECT_EQ(*ParseTimestampMicros("2000-02-29 12:00:00"), 951825600000000);
  EXPECT_EQ(*ParseTimestampMicros("0001-01-01 00:00:00"), -62135596800000000);
  EXPECT_EQ(*ParseTimestampMicros("9999-12-31 23:59:59.999999"), 253402300799999999);
  EXPECT_EQ(*ParseTimestampMicros("10000-01-01 00:00:00"), 253402300800000000);
  // 1 BC is the year 0 of the proleptic Gregorian calendar, a leap year: 366 days before 0001.
  EXPECT_EQ(*ParseTimestampMicros("0001-01-01 00:00:00 BC"), -62135596800000000 - 366LL * 86400 * 1000000);
  for (const char* bad : {"infinity", "-infinity", "", "2018-11-01", "2018-13-01 00:00:00", "2018-11-01T00:00:00",
                          "2018-11-01 00:00:00.1234567", "2018-11-01 00:00:00+00", "18-11-01 00:00:00",
                          "2018-11-01 24:00:00", "2018-11-01 00:00:00."}) {
    EXPECT_FALSE(ParseTimestampMicros(bad).ok()) << bad;
  }
}

TEST(LakeExportTest, HivePartitionValues) {
  EXPECT_EQ(HiveEscape(std::nullopt), "__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(HiveEscape(std::string()), "__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(HiveEscape(std::string("2018")), "2018");
  EXPECT_EQ(HiveEscape(std::string("ARJIE2Y1187B994AB7")), "ARJIE2Y1187B994AB7");
  EXPECT_EQ(HiveEscape(std::string("a/b=c%d:e\n")), "a%2Fb%3Dc%25d%3Ae%0A");
  EXPECT_EQ(HiveEscape(std::string("Björk é")), "Björk é");  // UTF-8 and spaces stay
  for (const std::string v : {"a/b=c%d:e\n", "x#y?z*[]^{'\"\\", "plain", "Björk"}) {
    EXPECT_EQ(HiveUnescape(HiveEscape(v)), v) << v;
  }
  EXPECT_EQ(HiveUnescape("__HIVE_DEFAULT_PARTITION__"), std::nullopt);
  EXPECT_EQ(HiveUnescape("100%"), "100%");  // not an escape
}

TEST(LakeExportTest, ReadsUnloadManifests) {
  // The MANIFEST VERBOSE example of r_UNLOAD_command_examples, made valid JSON.
  const char* text = R"({
    "entries": [
      {"url":"s3://mybucket/venue_pipe_0000_part_00", "meta": { "content_length": 32295, "record_count": 10 }},
      {"url":"s3://mybucket/venue_pipe_0001_part_00", "meta": { "content_length": 32771, "record_count": 20 }}
    ],
    "schema": {"elements": [{"name": "venueid", "type": { "base": "integer" }}]},
    "meta": {"content_length": 65066, "record_count": 30},
    "author": {"name": "Amazon Redshift", "version": "1.0.0"}
  })";
  auto doc = internal::ParseJson(text);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const internal::JsonValue* entries = doc->Get("entries");
  ASSERT_NE(entries, nullptr);
  ASSERT_EQ(entries->items.size(), 2u);
  EXPECT_EQ(entries->items[1].Get("url")->text, "s3://mybucket/venue_pipe_0001_part_00");
  EXPECT_EQ(entries->items[1].Get("meta")->Get("record_count")->text, "20");
  EXPECT_EQ(doc->Get("author")->Get("name")->text, "Amazon Redshift");

  auto escapes = internal::ParseJson(R"(["a\"b\\c\/d\n", "\u00e9\ud83c\udfb5", true, false, null, -1.5e3])");
  ASSERT_TRUE(escapes.ok()) << escapes.status().ToString();
  EXPECT_EQ(escapes->items[0].text, "a\"b\\c/d\n");
  EXPECT_EQ(escapes->items[1].text, "\xC3\xA9\xF0\x9F\x8E\xB5");
  EXPECT_TRUE(escapes->items[2].boolean);
  EXPECT_EQ(escapes->items[4].kind, internal::JsonValue::Kind::kNull);
  EXPECT_EQ(escapes->items[5].text, "-1.5e3");

  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "\"unterminated", "[\"\\ud83c\"]", "{} x", "[\"\x01\"]",
                          "tru"}) {
    EXPECT_FALSE(internal::ParseJson(bad).ok()) << bad;
  }
}

TEST(LakeExportTest, TheManifestListsTablesAndFiles) {
  ExportSummary s;
  s.export_id = "20261201T234500Z-abcdef";
  s.exported_at = "2026-12-01T23:45:00Z";
  s.folder = "export-20261201T234500Z-abcdef/";
  s.method = "parquet";
  s.tables.push_back({"songs", {"year", "artist_id"}, 1, 3, 1234});
  LakeFile f;
  f.table = "songs";
  f.key = s.folder + "songs/year=__HIVE_DEFAULT_PARTITION__/artist_id=A%2FB/part-00000.parquet";
  f.url = "s3://lake/star/" + f.key;
  f.partition = {{"year", std::nullopt}, {"artist_id", std::string("A/B")}};
  f.rows = 3;
  f.bytes = 1234;
  s.files.push_back(f);
  auto doc = internal::ParseJson(ManifestJson(s, "sparkify", "postgres"));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->Get("folder")->text, s.folder);
  EXPECT_EQ(doc->Get("engine")->text, "postgres");
  EXPECT_EQ(doc->Get("schema")->text, "sparkify");
  const internal::JsonValue& table = doc->Get("tables")->items.at(0);
  EXPECT_EQ(table.Get("path")->text, s.folder + "songs/");
  EXPECT_EQ(table.Get("partition_by")->items.at(1).text, "artist_id");
  EXPECT_EQ(table.Get("rows")->text, "3");
  const internal::JsonValue& file = doc->Get("files")->items.at(0);
  EXPECT_EQ(file.Get("key")->text, f.key);
  EXPECT_EQ(file.Get("partition")->Get("year")->kind, internal::JsonValue::Kind::kNull);
  EXPECT_EQ(file.Get("partition")->Get("artist_id")->text, "A/B");
  EXPECT_EQ(file.Get("bytes")->text, "1234");
}

// The SELECT inside each Redshift UNLOAD is the text of the common SELECT: the two paths export
// the same rows.
std::string Normalise(std::string_view sql) {
  std::string out;
  bool space = false;
  size_t i = 0;
  while (i < sql.size()) {
    if (sql.substr(i, 2) == "--") {
      while (i < sql.size() && sql[i] != '\n') ++i;
      continue;
    }
    const char c = sql[i++];
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (!out.empty() && out.back() == ';') out.pop_back();
  return out;
}

TEST(LakeExportTest, UnloadQueriesAreTheCommonSelects) {
  SqlVars vars;
  vars.schema = "s";
  vars.dialect = Dialect::kRedshift;
  vars.literals = {{"to", "s3://b/p/export-x/t/"}, {"iam_role", "arn:aws:iam::123456789012:role/r"}, {"region", "us-east-1"}};
  for (const LakeTable& table : LakeTables()) {
    SCOPED_TRACE(table.name);
    auto common = SqlText(std::string("common/lake/") + table.name);
    auto unload = SqlText(std::string("lake/unload_") + table.name, vars);
    ASSERT_TRUE(common.ok()) << common.status().ToString();
    ASSERT_TRUE(unload.ok()) << unload.status().ToString();
    const std::string u = Normalise(*unload);
    const size_t open = u.find("UNLOAD ('"), close = u.find("') TO 's3://b/p/export-x/t/'");
    ASSERT_NE(open, std::string::npos) << u;
    ASSERT_NE(close, std::string::npos) << u;
    EXPECT_EQ(u.substr(open + 9, close - open - 9), Normalise(*common));
    EXPECT_EQ(u.find("''"), std::string::npos) << "a quote inside the UNLOAD query";
    std::string partition = "PARTITION BY (";
    for (size_t p = 0; p < table.partition_by.size(); ++p) partition += std::string(p ? ", " : "") + table.partition_by[p];
    partition += ")";
    EXPECT_EQ(u.find(partition) != std::string::npos, !table.partition_by.empty()) << u;
    EXPECT_NE(u.find("FORMAT AS PARQUET"), std::string::npos);
    EXPECT_NE(u.find("MANIFEST VERBOSE"), std::string::npos);
    EXPECT_NE(u.find("IAM_ROLE 'arn:aws:iam::123456789012:role/r'"), std::string::npos);
  }
}

}  // namespace
}  // namespace loadstar::lake
