#include "cli/export_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/flags.h"
#include "common/core/text.h"
#include "common/core/uri.h"
#include "common/storage/object_store.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/lake/lake_export.h"

namespace loadstar::cli {
namespace {

struct ExportFlags {
  std::string to;
  std::string warehouse;
  std::string schema = "sparkify";
  std::optional<Dialect> dialect;
  std::string iam_role;
  std::string region;
  uint64_t max_rows_per_file = 1'000'000;
  bool quiet = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "loadstar export: %s\n", s.message().c_str());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

// The summary on stdout: a line per table, the totals, where the manifest is.
void PrintSummary(const lake::ExportSummary& summary) {
  uint64_t files = 0, rows = 0, bytes = 0;
  std::printf("exported %s (%s) to %s\n", summary.folder.c_str(),
              summary.method == "unload" ? "written by Redshift's UNLOAD" : "Parquet", summary.manifest_url.c_str());
  auto line = [](const std::string& table, const std::string& f, const std::string& r, const std::string& b) {
    std::printf("  %-10s %7s %12s %15s\n", table.c_str(), f.c_str(), r.c_str(), b.c_str());
  };
  line("table", "files", "rows", "bytes");
  for (const lake::TableSummary& t : summary.tables) {
    line(t.table, WithThousands(t.files), WithThousands(t.rows), WithThousands(t.bytes));
    files += t.files;
    rows += t.rows;
    bytes += t.bytes;
  }
  line("total", WithThousands(files), WithThousands(rows), WithThousands(bytes));
  if (summary.stale_objects_deleted > 0) {
    std::printf("removed %s objects of earlier exports\n", WithThousands(summary.stale_objects_deleted).c_str());
  }
  std::fflush(stdout);
}

}  // namespace

std::function<int()> AddExportCommand(CLI::App* cmd, StopToken stop) {
  auto flags = std::make_shared<ExportFlags>();
  cmd->add_option("--to", flags->to, "where the lake goes: s3://bucket/prefix/ or file:///path/")
      ->required()
      ->check(CLI::Validator(
          [](std::string& v) {
            auto uri = ParseUri(v);
            return uri.ok() ? std::string() : uri.status().message();
          },
          "URI"));
  cmd->add_option("--warehouse", flags->warehouse,
                  "PostgreSQL or Redshift connection URI (postgresql://user@host:port/db); default: "
                  "$LOADSTAR_WAREHOUSE, then the PG* variables. Keep passwords in PGPASSWORD or ~/.pgpass");
  cmd->add_option("--schema", flags->schema, "schema that holds the star tables")->capture_default_str();
  cmd->add_option_function<std::string>(
         "--dialect",
         [flags](const std::string& v) {
           flags->dialect.reset();
           if (v == "postgres") flags->dialect = Dialect::kPostgres;
           if (v == "redshift") flags->dialect = Dialect::kRedshift;
         },
         "the warehouse's engine: auto (from its version()), postgres or redshift; naming one the server is not "
         "is an error. redshift also makes sslmode=require the default")
      ->check(CLI::IsMember({"auto", "postgres", "redshift"}))
      ->default_str("auto");
  cmd->add_option("--iam-role", flags->iam_role,
                  "Redshift: the ARN of the IAM role, associated with the cluster, that UNLOAD writes to S3 with; "
                  "default: $LOADSTAR_IAM_ROLE")
      ->envname("LOADSTAR_IAM_ROLE");
  cmd->add_option("--region", flags->region, "Redshift: the destination bucket's region; default: $AWS_REGION");
  cmd->add_option("--max-rows-per-file", flags->max_rows_per_file,
                  "PostgreSQL: at most this many rows in one Parquet file (a larger partition gets several)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}));
  cmd->add_flag("--quiet", flags->quiet, "no progress lines on stderr");
  cmd->footer(
      "Writes songplays, time, songs, users and artists as Parquet, in Hive-style partition folders:\n"
      "  PREFIX/export-ID/songplays/year=YYYY/month=M/part-NNNNN.parquet   (year and month of start_time)\n"
      "  PREFIX/export-ID/time/year=YYYY/month=M/part-NNNNN.parquet\n"
      "  PREFIX/export-ID/songs/year=YYYY/artist_id=ID/part-NNNNN.parquet  (no year: __HIVE_DEFAULT_PARTITION__)\n"
      "  PREFIX/export-ID/users/part-NNNNN.parquet\n"
      "  PREFIX/export-ID/artists/part-NNNNN.parquet\n"
      "and PREFIX/manifest.json, which names the folder and lists every file with its table, partition values,\n"
      "rows and bytes. Partition columns are in the folder names, not in the files. All tables are read from one\n"
      "snapshot. A rerun writes a new folder, switches manifest.json to it, then removes the other export-*\n"
      "folders under PREFIX (nothing else); an export that fails leaves the previous one as it was.\n\n"
      "On Redshift the cluster writes the files itself (UNLOAD ... FORMAT PARQUET PARTITION BY, with --iam-role),\n"
      "to s3:// only; loadstar then writes manifest.json from UNLOAD's manifests.\n\n"
      "Examples:\n"
      "  loadstar export --to s3://sparkify-lake/star/ --warehouse postgresql://loadstar@db:5432/analytics\n"
      "  loadstar export --to file:///srv/lake/ --schema sparkify\n"
      "  loadstar export --dialect redshift --to s3://sparkify-lake/star/ \\\n"
      "      --iam-role arn:aws:iam::123456789012:role/redshift-unload --region us-west-2");
  return [cmd, flags, stop]() -> int {
    WarnOfPasswordOnCommandLine(cmd);
    auto uri = ParseUri(flags->to);
    if (!uri.ok()) return Fail(uri.status());
    WarehouseOptions wo;
    wo.conninfo = ResolveWarehouse(flags->warehouse);
    wo.schema = flags->schema;
    wo.application_name = "loadstar-export";
    wo.expect_dialect = flags->dialect;
    auto wh = Warehouse::Connect(wo);
    if (!wh.ok()) return Fail(wh.status());
    auto store = OpenObjectStore(*uri);
    if (!store.ok()) return Fail(store.status());

    lake::ExportOptions options;
    options.destination = *uri;
    options.iam_role = flags->iam_role;
    options.region = flags->region;
    options.max_rows_per_file = flags->max_rows_per_file;
    options.stop = stop;
    if (!flags->quiet) {
      options.progress = [](const std::string& line) {
        std::fprintf(stderr, "export: %s\n", line.c_str());
        std::fflush(stderr);
      };
    }
    auto summary = lake::ExportLake(wh->get(), store->get(), options);
    if (!summary.ok()) return Fail(summary.status());
    PrintSummary(*summary);
    return 0;
  };
}

}  // namespace loadstar::cli
