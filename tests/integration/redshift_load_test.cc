// The coordinator's Redshift publish (RunStore::LoadFromS3AndTransform) against the Redshift
// stand-in, with manifests and parts made by hand: a COPY that fails is explained from
// stl_load_errors (file, line, column, reason) and publishes nothing; a manifest whose parts hold
// other row counts than the accepted attempts said is refused; a run another coordinator
// committed meanwhile is not loaded twice; a schema in an older layout is refused.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/core/uri.h"
#include "common/storage/object_store.h"
#include "common/warehouse/warehouse.h"
#include "coordinator/run_store.h"
#include "tests/support/postgres_server.h"
#include "tests/support/redshift_standin.h"
#include "tests/support/s3_server.h"
#include "worker/parse/decompress.h"

namespace loadstar::testing {
namespace {

constexpr const char* kBucket = "staging";
constexpr const char* kDatabase = "redshift_load";

class RedshiftLoadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s3_ = new LocalS3Server({kBucket});
    if (!s3_->ok()) return;
    s3_->ExportAwsEnvironment();
    PostgresServer::Shared().FreshDatabase(kDatabase);
    standin_ = RedshiftStandin::Start(PostgresServer::Shared().port(), s3_->endpoint()).release();
  }
  static void TearDownTestSuite() {
    delete standin_;
    delete s3_;
  }

  void SetUp() override {
    ASSERT_TRUE(s3_ != nullptr && s3_->ok() && standin_ != nullptr);
    WarehouseOptions wo;
    wo.conninfo = standin_->Conninfo(kDatabase);
    wo.schema = schema_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : schema_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    wo.schema = schema_;
    wo.expect_dialect = Dialect::kRedshift;
    auto wh = Warehouse::Connect(wo, /*create_schema=*/true);
    ASSERT_TRUE(wh.ok()) << wh.status().ToString();
    wh_ = std::move(wh).value();
    store_ = std::make_unique<coordinator::RunStore>(wh_.get());
    ASSERT_TRUE(store_->Prepare().ok());
    bool resumed = false;
    auto run = store_->StartRun("test", &resumed);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    run_id_ = *run;
    auto s3 = OpenObjectStore(Uri{Uri::Scheme::kS3, kBucket, ""});
    ASSERT_TRUE(s3.ok());
    s3_store_ = std::move(s3).value();
  }

  // Puts a gzip part and a manifest naming it; returns the manifest's URI.
  std::string PutPartAndManifest(const std::string& name, const std::string& csv) {
    worker::GzipWriter gz;
    gz.Append(csv);
    const std::string part = schema_ + "/" + name + ".csv.gz";
    std::string body = gz.Finish();
    EXPECT_TRUE(s3_store_->Put(part, body).ok());
    const std::string manifest = schema_ + "/" + name + ".manifest";
    EXPECT_TRUE(s3_store_->Put(manifest, "{\"entries\": [{\"url\": \"s3://" + std::string(kBucket) + "/" + part +
                                             "\", \"mandatory\": true, \"meta\": {\"content_length\": " +
                                             std::to_string(body.size()) + "}}]}")
                    .ok());
    return "s3://" + std::string(kBucket) + "/" + manifest;
  }

  std::string Sql(const std::string& sql) { return PostgresServer::Shared().Psql(kDatabase, sql); }

  static coordinator::CopyAuthorization Auth() {
    return {"arn:aws:iam::123456789012:role/loadstar-copy", "us-east-1"};
  }

  static LocalS3Server* s3_;
  static RedshiftStandin* standin_;
  std::string schema_;
  std::unique_ptr<Warehouse> wh_;
  std::unique_ptr<coordinator::RunStore> store_;
  std::unique_ptr<ObjectStore> s3_store_;
  int64_t run_id_ = 0;
};

LocalS3Server* RedshiftLoadTest::s3_ = nullptr;
RedshiftStandin* RedshiftLoadTest::standin_ = nullptr;

// A staging_plays row (docs/STAGING_ROWS.md): run_id, file_id, line, songplay_id, ts, user_id,
// level, session_id, location, user_agent, match_key.
std::string PlayRow(int64_t run, int line, const std::string& ts) {
  return "\"" + std::to_string(run) + "\",\"1\",\"" + std::to_string(line) + "\",\"" +
         std::to_string(77LL * 16777216 + line) + "\",\"" + ts + "\",\"9\",\"free\",\"77\",\"X\",\"UA\",\"-4242\"\n";
}

TEST_F(RedshiftLoadTest, AFailedCopyIsExplainedFromStlLoadErrorsAndPublishesNothing) {
  const std::string csv = PlayRow(run_id_, 1, "1541990000000") + PlayRow(run_id_, 2, "yesterday");
  const std::string manifest = PutPartAndManifest("bad-plays", csv);
  Status s = store_->LoadFromS3AndTransform(run_id_, {{"staging_plays", manifest, 2, 1}}, Auth());
  ASSERT_FALSE(s.ok());
  const std::string m = s.message();
  EXPECT_NE(m.find("rolled back"), std::string::npos) << m;
  EXPECT_NE(m.find("bad-plays.csv.gz line 2, column ts"), std::string::npos) << m;
  EXPECT_NE(m.find("value 'yesterday'"), std::string::npos) << m;
  EXPECT_EQ(Sql("SELECT count(*) FROM " + schema_ + ".staging_plays"), "0");
  EXPECT_EQ(Sql("SELECT count(*) FROM " + schema_ + ".songplays"), "0");
  EXPECT_EQ(Sql("SELECT state FROM " + schema_ + ".runs WHERE run_id = " + std::to_string(run_id_)), "staging");
}

TEST_F(RedshiftLoadTest, PartsHoldingOtherRowCountsThanAcceptedAreRefused) {
  const std::string manifest = PutPartAndManifest("short-plays", PlayRow(run_id_, 1, "1541990000000"));
  Status s = store_->LoadFromS3AndTransform(run_id_, {{"staging_plays", manifest, 2, 1}}, Auth());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("loaded 1 rows, but the accepted parts hold 2"), std::string::npos) << s.message();
  EXPECT_EQ(Sql("SELECT count(*) FROM " + schema_ + ".staging_plays"), "0");
}

TEST_F(RedshiftLoadTest, ARunCommittedByAnotherCoordinatorIsNotLoadedAgain) {
  ASSERT_TRUE(store_->SetState(run_id_, coordinator::RunState::kDone).ok());
  const std::string manifest = PutPartAndManifest("plays", PlayRow(run_id_, 1, "1541990000000"));
  Status s = store_->LoadFromS3AndTransform(run_id_, {{"staging_plays", manifest, 1, 1}}, Auth());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("was committed by another coordinator"), std::string::npos) << s.message();
  EXPECT_EQ(Sql("SELECT count(*) FROM " + schema_ + ".staging_plays"), "0");
}

TEST_F(RedshiftLoadTest, ASchemaInAnOlderLayoutIsRefusedWithWhatToDo) {
  // The layout an older loadstar made: an events staging table and text match keys.
  Sql("CREATE TABLE " + schema_ + ".staging_events (run_id bigint NOT NULL, ts bigint NOT NULL)");
  Sql("DROP TABLE " + schema_ + ".song_matches");
  Sql("CREATE TABLE " + schema_ + ".song_matches (match_key varchar(32) NOT NULL, song_id text NOT NULL)");
  Status s = store_->Prepare();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("made by an older loadstar (song_matches, staging_events)"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("load into a new --schema"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace loadstar::testing
