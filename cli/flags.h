// Flags the subcommands share, and the checks that make a usage error stop loadstar while the
// command line is parsed, before it touches the warehouse or any source. CLI11 puts the flag's
// name in front of each message ("--max-attempts: ...").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace loadstar::cli {

// A whole number in [lo, hi]; `lo_means` says what lo stands for when it is a special value (-1).
CLI::Validator Between(int64_t lo, int64_t hi, std::string lo_means = "");
// A number of seconds, 0 or more.
CLI::Validator NonNegativeSeconds();
// A source location loadstar can read: s3://bucket/prefix/ or file:///absolute/path/.
CLI::Validator SourceLocation();
// A calendar day, YYYY-MM-DD.
CLI::Validator Date();
// Where workers connect: a ZeroMQ endpoint loadstar can bind.
CLI::Validator ListenEndpoint();

// Checks every subcommand's --schema and --warehouse, wherever the flag was added.
void CheckWarehouseFlags(CLI::App* app);

// A password given in --warehouse is on the command line, which every user of the machine can
// read (ps, /proc/PID/cmdline). Says so once; LOADSTAR_WAREHOUSE and the PG* variables are not
// visible that way.
void WarnOfPasswordOnCommandLine(const CLI::App* cmd);

// --log-level and --log-format.
struct LogFlags {
  std::string level = "info";
  std::string format = "text";
};
void AddLogFlags(CLI::App* cmd, LogFlags* flags);
// Applies them, naming this process `component` in every line.
void ApplyLogFlags(const LogFlags& flags, const std::string& component);

}  // namespace loadstar::cli
