// Connection strings and schema names checked before anything reaches PostgreSQL: passwords
// redacted in every form libpq accepts, schemes other than PostgreSQL's refused, names PostgreSQL
// would cut refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/log.h"
#include "common/warehouse/warehouse.h"

namespace loadstar {
namespace {

struct RedactCase {
  std::string in;
  std::string out;
  std::vector<std::string> secrets;  // none of these may survive
};

TEST(RedactConnectionStringTest, HidesThePasswordInEveryForm) {
  const std::vector<RedactCase> cases = {
      {"postgresql://loader:secret@db:5432/analytics", "postgresql://loader:***@db:5432/analytics", {"secret"}},
      // An unescaped '@' in the password: the last '@' ends the user name and password.
      {"postgresql://loader:p@ss@db/analytics", "postgresql://loader:***@db/analytics", {"p@ss", "ss@", "p@"}},
      {"postgres://loader:a@b@c@db:5432/x", "postgres://loader:***@db:5432/x", {"a@b", "b@c"}},
      {"postgresql://loader:pa/ss:w@db/x", "postgresql://loader:***@db/x", {"pa/ss", "ss:w"}},
      {"postgresql://loader:p%40ss@db/x", "postgresql://loader:***@db/x", {"p%40ss"}},
      {"postgresql://loader:@db/x", "postgresql://loader:***@db/x", {}},
      {"postgresql://loader@db/x", "postgresql://loader@db/x", {}},
      {"postgresql://db:5432/x", "postgresql://db:5432/x", {}},
      {"postgresql://db/x?sslmode=require&password=hunter2&user=u", "postgresql://db/x?sslmode=require&password=***&user=u",
       {"hunter2"}},
      {"postgresql://u:one@db/x?password=two", "postgresql://u:***@db/x?password=***", {"one", "two"}},
      {"host=db password=secret dbname=x", "host=db password=*** dbname=x", {"secret"}},
      {"password=secret host=db", "password=*** host=db", {"secret"}},
      {"host=db password = 'se cret' dbname=x", "host=db password = *** dbname=x", {"se cret", "cret"}},
      {"host=db password='it\\'s here' dbname=x", "host=db password=*** dbname=x", {"it\\'s", "s here"}},
      {"host=db password=a\\ b dbname=x", "host=db password=*** dbname=x", {"a\\ b"}},
      {"host=db password=a&b@c dbname=x", "host=db password=*** dbname=x", {"a&b", "b@c"}},
      {"jdbc:postgresql://u:secret@db/x", "jdbc:postgresql://u:***@db/x", {"secret"}},
      {"host=db dbname=x", "host=db dbname=x", {}},
      {"", "", {}},
  };
  for (const auto& c : cases) {
    std::string got = log::RedactConnectionString(c.in);
    EXPECT_EQ(got, c.out) << c.in;
    for (const auto& secret : c.secrets) EXPECT_EQ(got.find(secret), std::string::npos) << c.in << " -> " << got;
  }
}

TEST(ValidateSchemaNameTest, RefusesNamesPostgresWouldCut) {
  EXPECT_TRUE(ValidateSchemaName("sparkify").ok());
  EXPECT_TRUE(ValidateSchemaName(std::string(63, 'a')).ok());
  Status too_long = ValidateSchemaName(std::string(64, 'a'));
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("63 bytes"), std::string::npos) << too_long.message();
  EXPECT_NE(too_long.message().find("64 bytes"), std::string::npos) << too_long.message();
  // Bytes, not characters: 32 two-byte letters are 64 bytes.
  std::string accented;
  for (int i = 0; i < 32; ++i) accented += "\xC3\xA9";
  EXPECT_EQ(ValidateSchemaName(accented).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateSchemaName(accented.substr(2)).ok());
  EXPECT_EQ(ValidateSchemaName("").code(), StatusCode::kInvalidArgument);
}

TEST(ValidateConninfoTest, AcceptsPostgresUrisAndKeyValueText) {
  for (const char* ok : {"", "postgresql://loader@db:5432/analytics", "postgres://db/x", "postgresql:///x?host=/tmp",
                         "postgresql://loader:p%40ss@db/x", "postgresql://db/x?user=me@corp&sslmode=require",
                         "host=db port=5432 dbname=x user=loader", "analytics"}) {
    EXPECT_TRUE(ValidateConninfo(ok).ok()) << ok << ": " << ValidateConninfo(ok).ToString();
  }
}

TEST(ValidateConninfoTest, RefusesOtherSchemesNamingTheAcceptedOnes) {
  for (const char* bad : {"mysql://root:secret@db/x", "redshift://db:5439/dev", "jdbc:postgresql://db/x",
                          "POSTGRESQL://db/x"}) {
    Status s = ValidateConninfo(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("not supported"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("postgresql://"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("postgres://"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("key=value"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("secret"), std::string::npos) << s.message();
  }
}

TEST(ValidateConninfoTest, RefusesAnUnencodedAtInThePasswordWithoutShowingIt) {
  for (const char* bad : {"postgresql://loader:p@zq@db/x", "postgresql://loader:pa/zq@db/x",
                          "postgresql://loader:pa?zq@db/x", "postgresql://loader:a@b@c@db:5432/x?sslmode=require"}) {
    Status s = ValidateConninfo(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("%40"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("PGPASSWORD"), std::string::npos) << s.message();
    for (const char* part : {"zq", ":pa", "a@b", "b@c"}) EXPECT_EQ(s.message().find(part), std::string::npos) << s.message();
  }
}

// Connect refuses both before it tries to reach a server (this one does not exist).
TEST(WarehouseConnectTest, RefusesBadSchemaAndSchemeBeforeConnecting) {
  WarehouseOptions options;
  options.conninfo = "mysql://root@127.0.0.1:1/x";
  auto wh = Warehouse::Connect(options);
  EXPECT_EQ(wh.status().code(), StatusCode::kInvalidArgument) << wh.status().ToString();
  EXPECT_EQ(wh.status().message().find("socket"), std::string::npos) << wh.status().message();

  options.conninfo = "postgresql://127.0.0.1:1/x";
  options.schema = std::string(64, 's');
  wh = Warehouse::Connect(options, /*create_schema=*/true);
  EXPECT_EQ(wh.status().code(), StatusCode::kInvalidArgument) << wh.status().ToString();
  EXPECT_NE(wh.status().message().find("63 bytes"), std::string::npos) << wh.status().message();
}

}  // namespace
}  // namespace loadstar
