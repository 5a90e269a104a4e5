// The star tables as a Parquet data lake (`loadstar export`).
//
// Layout under the destination prefix, one folder per export:
//
//   PREFIX/manifest.json                                      what the current export holds
//   PREFIX/export-ID/songplays/year=YYYY/month=M/part-NNNNN.parquet
//   PREFIX/export-ID/time/year=YYYY/month=M/part-NNNNN.parquet
//   PREFIX/export-ID/songs/year=YYYY/artist_id=ID/part-NNNNN.parquet
//   PREFIX/export-ID/users/part-NNNNN.parquet
//   PREFIX/export-ID/artists/part-NNNNN.parquet
//
// Partition folders follow the Hive convention: the partition columns are not stored in the
// files (as Redshift's UNLOAD ... PARTITION BY without INCLUDE), a NULL (or empty) value is the
// folder `name=__HIVE_DEFAULT_PARTITION__`, and characters Hive escapes in a path are written as
// %XX. songplays are partitioned by the year and month of start_time, time by its own year and
// month (the same), songs by year and artist_id.
//
// A rerun replaces the previous export: it writes a fresh export-ID folder, then manifest.json
// (one PUT, which is the switch: the manifest names the folder and every file in it), then
// deletes every other export-*/ folder under the prefix. Whatever stops an export part way, the
// manifest describes files that are all there, and nothing else in its folder: a reader that goes
// by the manifest (or by the folder it names) never sees a mix of two exports. Leftovers of an
// export that did not finish are removed by the next one. Nothing else under the prefix is touched.
//
// PostgreSQL: each table is read by one SELECT (sql/common/lake/TABLE.sql) in a read-only
// REPEATABLE READ snapshot (sql/postgres/lake/snapshot.sql), so the five tables are one version;
// rows are streamed, partition by partition, into files of at most `max_rows_per_file` rows.
// Redshift: each table is written by the cluster itself, UNLOAD ... FORMAT PARQUET PARTITION BY
// (sql/redshift/lake/unload_TABLE.sql), all five in one transaction (one snapshot: Redshift's
// transactions are serializable), and the manifest is made from UNLOAD's own manifests.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/core/status.h"
#include "common/core/stop.h"
#include "common/core/uri.h"
#include "common/storage/object_store.h"
#include "common/warehouse/warehouse.h"

namespace loadstar::lake {

struct ExportOptions {
  Uri destination;  // s3://bucket/prefix/ or file:///path/ (Redshift: s3:// only)
  // PostgreSQL: rows per file (a partition of more rows gets several files; so does one whose
  // file would pass 512 MiB) and per row group.
  uint64_t max_rows_per_file = 1'000'000;
  uint64_t rows_per_row_group = 128 * 1024;
  // Redshift: the IAM role UNLOAD writes to S3 with, and the bucket's region (empty:
  // AWS_REGION, else AWS_DEFAULT_REGION).
  std::string iam_role;
  std::string region;
  // A line for a person as the export goes: each table as it starts and ends.
  std::function<void(const std::string& line)> progress;
  // Polled between rows and between statements: once a stop is requested the export ends as
  // Cancelled, like any failure (its files removed, the previous export as it was).
  StopToken stop;
};

// One file of the lake, as the manifest lists it.
struct LakeFile {
  std::string table;
  std::string key;  // relative to the prefix: "export-ID/songplays/year=2018/month=11/part-00000.parquet"
  std::string url;  // the whole URI
  // The partition columns and their values, in folder order; std::nullopt for the default partition.
  std::vector<std::pair<std::string, std::optional<std::string>>> partition;
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

struct TableSummary {
  std::string table;
  std::vector<std::string> partition_by;
  uint64_t files = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

struct ExportSummary {
  std::string export_id;     // "20261201T234500Z-3f9a1c"
  std::string exported_at;   // "2026-12-01T23:45:00Z"
  std::string folder;        // "export-<export_id>/"
  std::string manifest_url;  // PREFIX/manifest.json
  std::string method;        // "parquet" (loadstar wrote the files) or "unload" (Redshift did)
  std::vector<TableSummary> tables;
  std::vector<LakeFile> files;
  uint64_t stale_objects_deleted = 0;  // from earlier exports, after the switch
};

// The tables of the lake in the order they are exported, with their partition columns.
struct LakeTable {
  const char* name;
  std::vector<const char*> partition_by;
};
const std::vector<LakeTable>& LakeTables();

// Exports every star table of `wh`'s schema to `options.destination` through `store` (which
// must be the store of that URI). InvalidArgument for a destination or options that cannot work
// (Redshift to a file:// URI, or without an IAM role or a region); the warehouse's or the store's error
// otherwise, after removing the files this export wrote (the previous export stays as it was).
Result<ExportSummary> ExportLake(Warehouse* wh, ObjectStore* store, const ExportOptions& options);

// The manifest's JSON for `summary` (what ExportLake writes as manifest.json).
std::string ManifestJson(const ExportSummary& summary, const std::string& schema, const std::string& engine);

// A partition folder's value as Hive writes it: NULL and "" become __HIVE_DEFAULT_PARTITION__,
// and '"', '#', '%', '\'', '*', '/', ':', '=', '?', '\\', '[', ']', '^', '{', DEL and control
// characters become %XX (upper-case hex). HiveUnescape reverses it (nullopt for the default).
std::string HiveEscape(const std::optional<std::string>& value);
std::optional<std::string> HiveUnescape(std::string_view folder_value);

// Microseconds since 1970-01-01 00:00:00 of a PostgreSQL `timestamp` in ISO text
// ("2018-11-01 21:01:46.796", "0044-03-15 12:00:00 BC"); InvalidArgument for anything else
// (infinity included: Parquet's timestamp has no such value).
Result<int64_t> ParseTimestampMicros(std::string_view text);

}  // namespace loadstar::lake
