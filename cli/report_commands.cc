#include "cli/report_commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/flags.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/report/report.h"
#include "coordinator/report/runs_list.h"

namespace loadstar::cli {
namespace {

using coordinator::RenderReport;
using coordinator::RenderRunsList;
using coordinator::ReportFormat;

// The flags both commands share.
struct WarehouseFlags {
  std::string warehouse;
  std::string schema = "sparkify";
  std::string format = "text";
};

void AddWarehouseFlags(CLI::App* cmd, WarehouseFlags* flags) {
  cmd->add_option("--warehouse", flags->warehouse,
                  "PostgreSQL connection URI (postgresql://user@host:port/db); default: $LOADSTAR_WAREHOUSE, "
                  "then the PG* variables. Keep passwords in PGPASSWORD or ~/.pgpass");
  cmd->add_option("--schema", flags->schema, "schema that holds the tables")->capture_default_str();
  cmd->add_option("--format", flags->format, "text (aligned tables) or json (one object for programs)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
}

ReportFormat Format(const WarehouseFlags& flags) {
  return flags.format == "json" ? ReportFormat::kJson : ReportFormat::kText;
}

// Connects read-only work to the warehouse; prints why not and returns null on failure.
std::unique_ptr<Warehouse> Connect(const WarehouseFlags& flags, const char* command) {
  WarehouseOptions options;
  options.conninfo = ResolveWarehouse(flags.warehouse);
  options.schema = flags.schema;
  options.application_name = std::string("loadstar-") + command;
  auto wh = Warehouse::Connect(options);
  if (!wh.ok()) {
    std::fprintf(stderr, "loadstar %s: %s\n", command, wh.status().message().c_str());
    return nullptr;
  }
  return std::move(wh).value();
}

int Print(const Result<std::string>& out, const char* command) {
  if (!out.ok()) {
    std::fprintf(stderr, "loadstar %s: %s\n", command, out.status().message().c_str());
    return out.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

std::function<int()> AddReportCommand(CLI::App* cmd) {
  auto flags = std::make_shared<WarehouseFlags>();
  AddWarehouseFlags(cmd, flags.get());
  cmd->footer(
      "Answers, from the star tables: plays per day and per hour (UTC), free versus paid listening, the most\n"
      "played songs and artists, the most active listeners, and the share of plays matched to a catalogue\n"
      "song. Each question is a file in sql/common/report/ or sql/postgres/report/; all are read from\none snapshot.\n\n"
      "Examples:\n  loadstar report --warehouse postgresql://analyst@db:5432/analytics --schema sparkify\n"
      "  loadstar report --format json | jq .top_songs");
  return [cmd, flags]() -> int {
    WarnOfPasswordOnCommandLine(cmd);
    std::unique_ptr<Warehouse> wh = Connect(*flags, "report");
    if (wh == nullptr) return 1;
    return Print(RenderReport(wh.get(), Format(*flags)), "report");
  };
}

std::function<int()> AddRunsCommand(CLI::App* cmd) {
  auto flags = std::make_shared<WarehouseFlags>();
  auto limit = std::make_shared<int64_t>(20);
  AddWarehouseFlags(cmd, flags.get());
  cmd->add_option("--limit", *limit, "how many runs to list")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->footer(
      "Lists, newest first: run id, state, start and finish (UTC), duration in seconds, files listed and\n"
      "skipped as already loaded, records read, staged and rejected (from the file ledger), and the error of\n"
      "a run that failed.\n\n"
      "Examples:\n  loadstar runs --schema sparkify --limit 5\n  loadstar runs --format json | jq '.[0].state'");
  return [cmd, flags, limit]() -> int {
    WarnOfPasswordOnCommandLine(cmd);
    std::unique_ptr<Warehouse> wh = Connect(*flags, "runs");
    if (wh == nullptr) return 1;
    return Print(RenderRunsList(wh.get(), *limit, Format(*flags)), "runs");
  };
}

}  // namespace loadstar::cli
