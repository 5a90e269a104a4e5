#include "cli/flags.h"

#include <charconv>
#include <exception>
#include <limits>

#include "common/core/log.h"
#include "common/core/uri.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/planner.h"

namespace loadstar::cli {

CLI::Validator Between(int64_t lo, int64_t hi, std::string lo_means) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::string allowed = lo_means.empty() ? std::to_string(lo) : std::to_string(lo) + " (" + lo_means + ")";
  allowed = hi == kMax ? allowed + " or more" : allowed + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, allowed](std::string& value) -> std::string {
        int64_t v = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec == std::errc() && end == value.data() + value.size() && v >= lo && v <= hi) return "";
        return value + " is out of range (allowed: whole numbers, " + allowed + ")";
      },
      hi == kMax ? "INT >= " + std::to_string(lo) : "INT in " + std::to_string(lo) + ".." + std::to_string(hi));
}

CLI::Validator NonNegativeSeconds() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          size_t used = 0;
          double v = std::stod(value, &used);
          if (used == value.size() && v >= 0) return "";
        } catch (const std::exception&) {
        }
        return value + " is out of range (allowed: a number of seconds, 0 or more)";
      },
      "SECONDS >= 0");
}

CLI::Validator SourceLocation() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto uri = ParseUri(value);
        return uri.ok() ? "" : uri.status().message();
      },
      "URI");
}

CLI::Validator Date() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        Status s = coordinator::ValidateDate(value);
        return s.ok() ? "" : s.message();
      },
      "YYYY-MM-DD");
}

CLI::Validator ListenEndpoint() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (value.rfind("tcp://", 0) == 0 && value.find(':', 6) != std::string::npos) return "";
        if (value.rfind("ipc://", 0) == 0 && value.size() > 6) return "";
        return "'" + value + "' is not an endpoint workers can connect to: give tcp://HOST:PORT (e.g. tcp://*:5570; "
               "port *: any free port) or ipc:///path";
      },
      "ENDPOINT");
}

void CheckWarehouseFlags(CLI::App* app) {
  for (CLI::App* cmd : app->get_subcommands([](CLI::App*) { return true; })) {
    if (CLI::Option* schema = cmd->get_option_no_throw("--schema"); schema != nullptr) {
      schema->check(CLI::Validator(
          [](std::string& value) -> std::string {
            Status s = ValidateSchemaName(value);
            return s.ok() ? "" : s.message();
          },
          "NAME"));
    }
    if (CLI::Option* warehouse = cmd->get_option_no_throw("--warehouse"); warehouse != nullptr) {
      warehouse->check(CLI::Validator(
          [](std::string& value) -> std::string {
            Status s = ValidateConninfo(value);
            return s.ok() ? "" : s.message();
          },
          "URI"));
    }
  }
}

void WarnOfPasswordOnCommandLine(const CLI::App* cmd) {
  const CLI::Option* option = cmd->get_option_no_throw("--warehouse");
  if (option == nullptr || option->count() == 0) return;
  const std::string value = option->as<std::string>();
  if (log::RedactConnectionString(value) == value) return;
  log::Warn(
      "--warehouse holds a password, which other users of this machine can read in the process list (ps); "
      "keep it in PGPASSWORD or ~/.pgpass, or pass the whole connection string in LOADSTAR_WAREHOUSE");
}

void AddLogFlags(CLI::App* cmd, LogFlags* flags) {
  cmd->add_option("--log-level", flags->level, "debug, info, warn or error")->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->add_option("--log-format", flags->format, "text or json (one object per line)")->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
}

void ApplyLogFlags(const LogFlags& flags, const std::string& component) {
  using log::Level;
  log::SetLevel(flags.level == "debug" ? Level::kDebug : flags.level == "warn" ? Level::kWarn
                          : flags.level == "error" ? Level::kError : Level::kInfo);
  log::SetFormat(flags.format == "json" ? log::Format::kJson : log::Format::kText);
  log::SetComponent(component);
}

}  // namespace loadstar::cli
