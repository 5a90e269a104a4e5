// The command line, end to end through the `loadstar` binary: usage errors are refused with the
// flag's name and what it allows before anything reaches the warehouse (so they leave no run
// behind), --version, warehouse strings loadstar cannot use, and passwords on the command line.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/postgres_server.h"
#include "tests/support/test_env.h"

namespace loadstar::testing {
namespace {

constexpr const char* kDatabase = "cli";
// Nothing listens on port 1: a command that gets as far as connecting says "cannot connect".
constexpr const char* kUnreachable = "postgresql://loader@127.0.0.1:1/analytics";

bool Contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// `loadstar ARGS`, with LOADSTAR_WAREHOUSE unset unless `env` sets it.
CommandResult Loadstar(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv = {"env", "-u", "LOADSTAR_WAREHOUSE"};
  for (const auto& [k, v] : env) argv.push_back(k + "=" + v);
  argv.push_back(LoadstarBinary());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, {}, 60);
}

std::vector<std::string> RunArgs(const std::string& warehouse, const std::string& schema) {
  const std::string sample = SampleDir();
  return {"run",         "--songs",  "file://" + sample + "/song_data/", "--events", "file://" + sample + "/log_data/",
          "--warehouse", warehouse, "--schema", schema, "--workers", "1", "--quiet"};
}

TEST(CliTest, VersionPrintsTheProjectVersion) {
  CommandResult r = Loadstar({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "loadstar 0.1.0\n");
}

struct BadFlag {
  std::vector<std::string> args;  // appended to a `run` (or given whole, for `worker`)
  std::string flag;
  std::string allowed;  // what the message must say is allowed
};

TEST(CliTest, OutOfRangeNumbersAreRefusedNamingTheFlagAndTheRange) {
  const std::vector<BadFlag> cases = {
      {{"--max-errors", "-2"}, "--max-errors", "-1 (no limit) or more"},
      {{"--max-attempts", "0"}, "--max-attempts", "1 to 100"},
      {{"--max-record-bytes", "0"}, "--max-record-bytes", "1 to 1073741824"},
      {{"--max-record-bytes", "4294967296"}, "--max-record-bytes", "1 to 1073741824"},
      {{"--task-bytes", "0"}, "--task-bytes", "1 or more"},
      {{"--task-files", "0"}, "--task-files", "1 or more"},
      {{"--workers", "-1"}, "--workers", "0 (only remote workers) to 1024"},
      {{"--worker-concurrency", "0"}, "--worker-concurrency", "1 to 1024"},
      {{"--max-attempts", "two"}, "--max-attempts", "1 to 100"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = RunArgs(kUnreachable, "cli_flags");
    args.insert(args.end(), c.args.begin(), c.args.end());
    CommandResult r = Loadstar(args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.args[1];
    EXPECT_TRUE(Contains(r.output, c.flag + ": ")) << r.output;
    EXPECT_TRUE(Contains(r.output, c.allowed)) << r.output;
    EXPECT_FALSE(Contains(r.output, "cannot connect")) << "checked only after connecting: " << r.output;
  }
  for (const auto& c : std::vector<BadFlag>{{{"--concurrency", "0"}, "--concurrency", "1 to 1024"},
                                            {{"--fetch-concurrency", "0"}, "--fetch-concurrency", "1 to 1024"}}) {
    std::vector<std::string> args = {"worker", "--connect", "tcp://127.0.0.1:1", "--warehouse", kUnreachable,
                                     "--give-up-after", "1"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CommandResult r = Loadstar(args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0];
    EXPECT_TRUE(Contains(r.output, c.flag + ": ")) << r.output;
    EXPECT_TRUE(Contains(r.output, c.allowed)) << r.output;
    EXPECT_FALSE(Contains(r.output, "cannot connect")) << r.output;
  }
}

TEST(CliTest, ZeroWorkersIsStillAValidRun) {
  std::vector<std::string> args = RunArgs(kUnreachable, "cli_flags");
  args[10] = "0";  // --workers 0: only remote workers
  // This test is about flags, not workers: plaintext on loopback spares it an authorized-keys file.
  args.insert(args.end(), {"--max-errors", "-1", "--insecure-plaintext"});
  CommandResult r = Loadstar(args);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "cannot connect")) << "refused before connecting: " << r.output;
}

// Usage errors used to be found only after the coordinator had created the schema, its tables
// and (for a bad source) a failed run, or (for a bad --listen) a run left half started.
TEST(CliTest, UsageErrorsLeaveNothingInTheWarehouse) {
  auto& pg = PostgresServer::Shared();
  const std::string uri = pg.FreshDatabase(kDatabase);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--since", "2018-13-45"}, "--since: "},
      {{"--until", "yesterday"}, "--until: "},
      {{"--since", "2018-11-09", "--until", "2018-11-01"}, "--since 2018-11-09 is after --until 2018-11-01"},
      {{"--songs", "relative/song_data/"}, "--songs: "},
      {{"--events", "http://example.com/log_data/"}, "--events: "},
      {{"--songs", "s3://Not_A_Bucket/song_data/"}, "--songs: "},
      {{"--listen", "bogus"}, "--listen: "},
      {{"--max-errors", "-2"}, "--max-errors: "},
  };
  for (const auto& [extra, message] : cases) {
    std::vector<std::string> args = RunArgs(uri, "usage");
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = Loadstar(args);
    EXPECT_EQ(r.exit_code, 2) << extra[0] << ": " << r.output;
    EXPECT_TRUE(Contains(r.output, message)) << r.output;
    EXPECT_EQ(pg.Psql(kDatabase, "SELECT count(*) FROM pg_namespace WHERE nspname = 'usage'"), "0")
        << extra[0] << " " << extra[1] << " reached the warehouse: " << r.output;
  }
}

// PostgreSQL keeps the first 63 bytes of a name: two longer names that share them would be one
// schema, and the second data set's run would find the first's files "already loaded".
TEST(CliTest, SchemaNamesOverSixtyThreeBytesAreRefusedBeforeAnyWork) {
  auto& pg = PostgresServer::Shared();
  const std::string uri = pg.FreshDatabase(kDatabase);
  const std::string shared(63, 's');
  for (const std::string& schema : {shared + "_a", shared + "_b"}) {
    CommandResult r = Loadstar(RunArgs(uri, schema));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(Contains(r.output, "--schema: ")) << r.output;
    EXPECT_TRUE(Contains(r.output, "63 bytes")) << r.output;
  }
  EXPECT_EQ(pg.Psql(kDatabase, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'sss%'"), "0");
  for (const char* command : {"report", "runs"}) {
    CommandResult r = Loadstar({command, "--warehouse", uri, "--schema", shared + "_a"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(Contains(r.output, "63 bytes")) << r.output;
  }
}

TEST(CliTest, OtherDatabaseSchemesAreRefusedNamingTheSupportedOnes) {
  for (const char* warehouse : {"mysql://root:hunter2@db:3306/sparkify", "redshift://db:5439/dev"}) {
    CommandResult r = Loadstar(RunArgs(warehouse, "cli_scheme"));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(Contains(r.output, "not supported")) << r.output;
    EXPECT_TRUE(Contains(r.output, "postgresql://")) << r.output;
    EXPECT_TRUE(Contains(r.output, "postgres://")) << r.output;
    EXPECT_TRUE(Contains(r.output, "key=value")) << r.output;
    EXPECT_FALSE(Contains(r.output, "socket")) << r.output;
    EXPECT_FALSE(Contains(r.output, "hunter2")) << r.output;
  }
  // From the environment too (checked when connecting).
  std::vector<std::string> args = RunArgs("", "cli_scheme");
  args.erase(args.begin() + 5, args.begin() + 7);  // no --warehouse
  CommandResult r = Loadstar(args, {{"LOADSTAR_WAREHOUSE", "mysql://root@db/sparkify"}});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "not supported")) << r.output;
  EXPECT_FALSE(Contains(r.output, "socket")) << r.output;
}

// Without --quiet, which leaves only errors.
std::vector<std::string> LoudRunArgs(const std::string& warehouse, const std::string& schema) {
  std::vector<std::string> args = RunArgs(warehouse, schema);
  args.pop_back();
  return args;
}

TEST(CliTest, APasswordInTheWarehouseFlagIsWarnedOfOnceAndNeverShown) {
  CommandResult r = Loadstar(LoudRunArgs("postgresql://loader:hunter2@127.0.0.1:1/analytics", "cli_password"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(Count(r.output, "PGPASSWORD or ~/.pgpass"), 1u) << r.output;
  EXPECT_TRUE(Contains(r.output, "LOADSTAR_WAREHOUSE")) << r.output;
  EXPECT_FALSE(Contains(r.output, "hunter2")) << r.output;

  // An '@' in the password, unencoded: refused, without a piece of the password in the message.
  r = Loadstar(RunArgs("postgresql://loader:hun@ter2@127.0.0.1:1/analytics", "cli_password"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "%40")) << r.output;
  EXPECT_FALSE(Contains(r.output, "ter2")) << r.output;
  EXPECT_FALSE(Contains(r.output, "hun@")) << r.output;

  // In LOADSTAR_WAREHOUSE the password is not on the command line: no warning.
  std::vector<std::string> args = LoudRunArgs("", "cli_password");
  args.erase(args.begin() + 5, args.begin() + 7);
  r = Loadstar(args, {{"LOADSTAR_WAREHOUSE", "postgresql://loader:hunter2@127.0.0.1:1/analytics"}});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(Contains(r.output, "PGPASSWORD or ~/.pgpass")) << r.output;
  EXPECT_FALSE(Contains(r.output, "hunter2")) << r.output;
}

// The planner says what it was listing; the object store must not say it again.
TEST(CliTest, AMissingSourceDirectoryIsNamedOnce) {
  auto& pg = PostgresServer::Shared();
  const std::string uri = pg.FreshDatabase(kDatabase);
  std::vector<std::string> args = RunArgs(uri, "missing");
  args[2] = "file:///no/such/song_data/";
  CommandResult r = Loadstar(args);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "directory /no/such/song_data/ does not exist")) << r.output;
  EXPECT_EQ(Count(r.output, "listing file:///no/such/song_data/"), 1u) << r.output;
}

}  // namespace
}  // namespace loadstar::testing
