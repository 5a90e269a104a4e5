// End to end over TLS: `loadstar run` loads the Sparkify sample from the local S3 server behind
// a TLS front (https://127.0.0.1:PORT, trusted through AWS_CA_BUNDLE) into a private PostgreSQL
// that has TLS turned on and is reached with libpq's sslmode=verify-full and sslrootcert.
// Without the CA, or with another one, the run is refused at once, saying why.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/core/uri.h"
#include "common/storage/object_store.h"
#include "tests/support/postgres_server.h"
#include "tests/support/s3_server.h"
#include "tests/support/sample_upload.h"
#include "tests/support/test_env.h"
#include "tests/support/tls_front.h"

namespace loadstar::testing {
namespace {
namespace fs = std::filesystem;

constexpr const char* kBucket = "sparkify";

class TlsPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s3_ = new LocalS3Server({kBucket});
    certs_ = new TestCertificates();
    if (!s3_->ok() || !certs_->ok()) return;
    // The sample goes in over plain HTTP, under the same relative keys as on disk.
    s3_->ExportAwsEnvironment();
    ::unsetenv("AWS_CA_BUNDLE");
    auto store = OpenObjectStore(Uri{Uri::Scheme::kS3, kBucket, ""});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto uploaded = UploadSample(store->get());
    ASSERT_TRUE(uploaded.ok()) << uploaded.status().ToString();
    uploaded_ = *uploaded;
    db_ = new std::string(PostgresServer::Shared().FreshDatabase("tls"));
    EnableWarehouseTls();
  }
  static void TearDownTestSuite() {
    delete s3_;
    delete certs_;
    delete db_;
  }
  void SetUp() override {
    ASSERT_TRUE(s3_->ok()) << s3_->status().ToString();
    ASSERT_TRUE(certs_->ok());
    ASSERT_EQ(uploaded_, 101);
    front_ = TlsFrontProcess::Start(s3_->port(), certs_->server_cert(), certs_->server_key());
    ASSERT_NE(front_, nullptr);
  }

  // Turns TLS on in the private server (a reload is enough), with the test CA's certificate for
  // 127.0.0.1. The server may run as another user (postgres, when the tests run as root): it
  // gets its own copy of the key, readable by it alone, as PostgreSQL demands.
  static void EnableWarehouseTls() {
    const std::string dir = TempDir("tls-warehouse");
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    fs::copy_file(certs_->server_cert(), dir + "/server.pem");
    fs::copy_file(certs_->server_key(), dir + "/server.key");
    fs::permissions(dir + "/server.pem", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                             fs::perms::others_read);
    fs::permissions(dir + "/server.key", fs::perms::owner_read | fs::perms::owner_write);
    if (::geteuid() == 0) {
      const passwd* pg = ::getpwnam("postgres");
      ASSERT_NE(pg, nullptr);
      ASSERT_EQ(::chown((dir + "/server.key").c_str(), pg->pw_uid, pg->pw_gid), 0);
    }
    PostgresServer& pg = PostgresServer::Shared();
    pg.Psql("postgres", "ALTER SYSTEM SET ssl_cert_file = '" + dir + "/server.pem'");
    pg.Psql("postgres", "ALTER SYSTEM SET ssl_key_file = '" + dir + "/server.key'");
    pg.Psql("postgres", "ALTER SYSTEM SET ssl = on");
    pg.Psql("postgres", "SELECT pg_reload_conf()");
    ASSERT_EQ(pg.Psql("postgres", "SHOW ssl"), "on") << "the private PostgreSQL did not turn TLS on";
  }

  // The warehouse over TLS, verifying the server's certificate against `root_ca`.
  static std::string VerifiedWarehouse(const std::string& root_ca) {
    return *db_ + "?sslmode=verify-full&sslrootcert=" + root_ca;
  }

  // `loadstar run` over the S3 endpoint `endpoint`, with `extra_env` (AWS_CA_BUNDLE).
  CommandResult Load(const std::string& schema, const std::string& warehouse,
                     std::map<std::string, std::string> extra_env) const {
    std::map<std::string, std::string> env = s3_->AwsEnvironment();
    env["AWS_ENDPOINT_URL_S3"] = front_->endpoint();
    for (auto& [k, v] : extra_env) env[k] = v;
    return RunCommand({LoadstarBinary(), "run", "--songs", std::string("s3://") + kBucket + "/song_data/", "--events",
                       std::string("s3://") + kBucket + "/log_data/", "--warehouse", warehouse, "--schema", schema,
                       "--workers", "2"},
                      env, 300);
  }

  static std::string Sql(const std::string& sql) { return PostgresServer::Shared().Psql("tls", sql); }

  static LocalS3Server* s3_;
  static TestCertificates* certs_;
  static std::string* db_;
  static int uploaded_;
  std::unique_ptr<TlsFrontProcess> front_;
};

LocalS3Server* TlsPipelineTest::s3_ = nullptr;
TestCertificates* TlsPipelineTest::certs_ = nullptr;
std::string* TlsPipelineTest::db_ = nullptr;
int TlsPipelineTest::uploaded_ = 0;

TEST_F(TlsPipelineTest, TheSampleLoadsOverHttpsIntoAVerifiedWarehouse) {
  CommandResult r = Load("tls_ok", VerifiedWarehouse(certs_->ca()), {{"AWS_CA_BUNDLE", certs_->ca()}});
  ASSERT_EQ(r.exit_code, 0) << r.output << "\nTLS front:\n" << front_->Log();
  EXPECT_EQ(Sql("SELECT count(*) FROM tls_ok.songplays"), "6820");
  EXPECT_EQ(Sql("SELECT count(*) FROM tls_ok.songs"), "71");
  EXPECT_EQ(Sql("SELECT count(*) FROM tls_ok.users"), "97");
  EXPECT_EQ(Sql("SELECT count(*) FROM tls_ok.load_files WHERE state = 'loaded'"), "101");
  EXPECT_EQ(Sql("SELECT state FROM tls_ok.runs ORDER BY run_id DESC LIMIT 1"), "done");
  // Every object came through the front: the listing and 101 GETs over kept-alive connections.
  auto stats = front_->Stats();
  EXPECT_GE(stats["handshakes"], 2u);
  EXPECT_EQ(stats["handshake_failed"], 0u) << front_->Log();
}

TEST_F(TlsPipelineTest, WithoutTheCaTheRunIsRefusedAtOnceWithAdvice) {
  CommandResult r = Load("tls_no_ca", *db_, {});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("TLS certificate of 127.0.0.1 could not be verified"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("if the endpoint uses a private CA, set AWS_CA_BUNDLE to its certificate file"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("attempts"), std::string::npos) << "retried:\n" << r.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The coordinator's first listing is refused and the run ends: one connection (a second if
  // the events were listed too), never the five attempts of a transient fault.
  EXPECT_LE(front_->Stats()["accepted"], 2u) << r.output;
  EXPECT_EQ(front_->Stats()["handshakes"], 0u);
}

TEST_F(TlsPipelineTest, AnotherCaIsRefusedForS3AndForTheWarehouse) {
  CommandResult s3 = Load("tls_other_ca", *db_, {{"AWS_CA_BUNDLE", certs_->other_ca()}});
  EXPECT_NE(s3.exit_code, 0) << s3.output;
  EXPECT_NE(s3.output.find("TLS certificate of 127.0.0.1 could not be verified"), std::string::npos) << s3.output;
  EXPECT_NE(s3.output.find(certs_->other_ca() + " (from AWS_CA_BUNDLE)"), std::string::npos) << s3.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(front_->Stats()["accepted"], 2u) << s3.output;

  // libpq's own verification, through the connection string as given: the warehouse's
  // certificate is not signed by the CA named in sslrootcert.
  CommandResult wh = Load("tls_wh_other_ca", VerifiedWarehouse(certs_->other_ca()), {{"AWS_CA_BUNDLE", certs_->ca()}});
  EXPECT_NE(wh.exit_code, 0) << wh.output;
  EXPECT_NE(wh.output.find("cannot connect to the warehouse"), std::string::npos) << wh.output;
  EXPECT_NE(wh.output.find("certificate verify failed"), std::string::npos) << wh.output;
}

}  // namespace
}  // namespace loadstar::testing
