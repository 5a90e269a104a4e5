// The StatusSnapshot's JSON document, read back by simdjson and by DecodeStatusJson, and the
// parts of the Prometheus rendering that are about text (escaping, names made unique). The
// exposition format as a whole is parsed in integration/monitor_server_test.cc.
#include "tests/support/status_fixture.h"
#include "coordinator/monitor/status_encoding.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>
#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

namespace loadstar::coordinator {
namespace {

StatusSnapshot KnownSnapshot() { return testing::KnownSnapshot("host-b/812"); }

void ExpectSameSnapshot(const StatusSnapshot& a, const StatusSnapshot& b) {
  EXPECT_EQ(a.schema(), b.schema());
  EXPECT_EQ(a.run_id(), b.run_id());
  EXPECT_EQ(a.phase(), b.phase());
  EXPECT_EQ(a.error(), b.error());
  EXPECT_EQ(a.step(), b.step());
  EXPECT_DOUBLE_EQ(a.elapsed_s(), b.elapsed_s());
  EXPECT_EQ(a.has_recent_bytes_per_s(), b.has_recent_bytes_per_s());
  EXPECT_DOUBLE_EQ(a.recent_bytes_per_s(), b.recent_bytes_per_s());
  EXPECT_EQ(a.files_total(), b.files_total());
  EXPECT_EQ(a.files_done(), b.files_done());
  EXPECT_EQ(a.bytes_total(), b.bytes_total());
  EXPECT_EQ(a.bytes_done(), b.bytes_done());
  EXPECT_EQ(a.records(), b.records());
  EXPECT_EQ(a.staged(), b.staged());
  EXPECT_EQ(a.rejected(), b.rejected());
  EXPECT_EQ(a.tasks_total(), b.tasks_total());
  EXPECT_EQ(a.tasks_pending(), b.tasks_pending());
  EXPECT_EQ(a.tasks_leased(), b.tasks_leased());
  EXPECT_EQ(a.tasks_done(), b.tasks_done());
  EXPECT_EQ(a.tasks_failed(), b.tasks_failed());
  EXPECT_EQ(a.tasks_retried(), b.tasks_retried());
  EXPECT_EQ(a.workers_lost(), b.workers_lost());
  EXPECT_EQ(std::vector<uint64_t>(a.task_latency().counts().begin(), a.task_latency().counts().end()),
            std::vector<uint64_t>(b.task_latency().counts().begin(), b.task_latency().counts().end()));
  EXPECT_DOUBLE_EQ(a.task_latency().sum_s(), b.task_latency().sum_s());
  ASSERT_EQ(a.workers_size(), b.workers_size());
  for (int i = 0; i < a.workers_size(); ++i) {
    SCOPED_TRACE("worker " + std::to_string(i));
    EXPECT_EQ(a.workers(i).name(), b.workers(i).name());
    EXPECT_EQ(a.workers(i).credit(), b.workers(i).credit());
    EXPECT_EQ(a.workers(i).in_flight(), b.workers(i).in_flight());
    EXPECT_EQ(a.workers(i).tasks_done(), b.workers(i).tasks_done());
    EXPECT_EQ(a.workers(i).tasks_failed(), b.workers(i).tasks_failed());
    EXPECT_DOUBLE_EQ(a.workers(i).last_heartbeat_age_s(), b.workers(i).last_heartbeat_age_s());
  }
}

uint64_t Uint(simdjson::dom::element e, const char* key) {
  uint64_t v = 0;
  EXPECT_EQ(e[key].get_uint64().get(v), simdjson::SUCCESS) << key;
  return v;
}
double Double(simdjson::dom::element e, const char* key) {
  double v = 0;
  EXPECT_EQ(e[key].get_double().get(v), simdjson::SUCCESS) << key;
  return v;
}
std::string String(simdjson::dom::element e, const char* key) {
  std::string_view v;
  EXPECT_EQ(e[key].get_string().get(v), simdjson::SUCCESS) << key;
  return std::string(v);
}

TEST(StatusJsonTest, EveryFieldReadsBackWithSimdjson) {
  const StatusSnapshot s = KnownSnapshot();
  const std::string json = EncodeStatusJson(s);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;

  EXPECT_EQ(Uint(doc, "version"), 1u);
  EXPECT_EQ(String(doc, "schema"), "sparkify");
  EXPECT_EQ(Uint(doc, "run_id"), 42u);
  EXPECT_EQ(String(doc, "phase"), "staging");
  EXPECT_EQ(String(doc, "error"), "");
  EXPECT_DOUBLE_EQ(Double(doc, "elapsed_s"), 12.5);
  EXPECT_EQ(Uint(doc, "files_total"), 30u);
  EXPECT_EQ(Uint(doc, "files_done"), 12u);
  EXPECT_EQ(Uint(doc, "bytes_total"), 472'000'000u);
  EXPECT_EQ(Uint(doc, "bytes_done"), 193'520'000u);
  EXPECT_EQ(Uint(doc, "records"), 120'400u);
  EXPECT_EQ(Uint(doc, "staged"), 120'334u);
  EXPECT_EQ(Uint(doc, "rejected"), 3u);
  EXPECT_EQ(Uint(doc, "tasks_total"), 20u);
  EXPECT_EQ(Uint(doc, "tasks_pending"), 5u);
  EXPECT_EQ(Uint(doc, "tasks_leased"), 4u);
  EXPECT_EQ(Uint(doc, "tasks_done"), 11u);
  EXPECT_EQ(Uint(doc, "tasks_failed"), 0u);
  EXPECT_EQ(Uint(doc, "tasks_retried"), 2u);
  EXPECT_EQ(Uint(doc, "workers_lost"), 1u);
  // Known from the snapshot's figures, not from the code under test: 193,520,000 bytes in 12.5 s,
  // and 278,480,000 bytes left at that rate.
  EXPECT_DOUBLE_EQ(Double(doc, "bytes_per_s"), 15'481'600.0);
  EXPECT_NEAR(Double(doc, "eta_s"), 17.98780487804878, 1e-9);

  simdjson::dom::element latency = doc["task_latency"];
  simdjson::dom::array bounds = latency["bounds_s"].get_array();
  simdjson::dom::array counts = latency["counts"].get_array();
  ASSERT_EQ(bounds.size(), kTaskLatencyBuckets.size());
  ASSERT_EQ(counts.size(), kTaskLatencyBuckets.size() + 1);
  size_t i = 0;
  for (simdjson::dom::element b : bounds) EXPECT_DOUBLE_EQ(double(b), kTaskLatencyBuckets[i++]);
  i = 0;
  const uint64_t want[] = {0, 1, 2, 3, 0, 4, 0, 1, 0, 0, 1};
  for (simdjson::dom::element c : counts) {
    ASSERT_LT(i, std::size(want));
    EXPECT_EQ(uint64_t(c), want[i++]);
  }
  EXPECT_EQ(i, std::size(want));
  EXPECT_DOUBLE_EQ(Double(latency, "sum_s"), 31.25);

  simdjson::dom::array workers = doc["workers"].get_array();
  ASSERT_EQ(workers.size(), 3u);
  i = 0;
  for (simdjson::dom::element w : workers) {
    const WorkerStatus& expected = s.workers(static_cast<int>(i++));
    EXPECT_EQ(String(w, "name"), expected.name());
    EXPECT_EQ(Uint(w, "credit"), expected.credit());
    EXPECT_EQ(Uint(w, "in_flight"), expected.in_flight());
    EXPECT_EQ(Uint(w, "tasks_done"), expected.tasks_done());
    EXPECT_EQ(Uint(w, "tasks_failed"), expected.tasks_failed());
    EXPECT_DOUBLE_EQ(Double(w, "last_heartbeat_age_s"), expected.last_heartbeat_age_s());
  }
}

TEST(StatusJsonTest, DecodeReadsBackWhatEncodeWrote) {
  const StatusSnapshot s = KnownSnapshot();
  auto decoded = DecodeStatusJson(EncodeStatusJson(s));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameSnapshot(s, *decoded);

  StatusSnapshot empty = NewStatusSnapshot();
  auto decoded_empty = DecodeStatusJson(EncodeStatusJson(empty));
  ASSERT_TRUE(decoded_empty.ok()) << decoded_empty.status().ToString();
  ExpectSameSnapshot(empty, *decoded_empty);
}

TEST(StatusJsonTest, StepAndRecentRateAreCarried) {
  StatusSnapshot s = KnownSnapshot();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string json = EncodeStatusJson(s);
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["step"]), "");
  EXPECT_TRUE(doc["recent_bytes_per_s"].is_null());

  s.set_phase(StatusSnapshot::TRANSFORMING);
  s.set_step("songplays");
  s.set_recent_bytes_per_s(2.5e6);
  json = EncodeStatusJson(s);
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["step"]), "songplays");
  EXPECT_EQ(double(doc["recent_bytes_per_s"]), 2.5e6);
  // The ETA is at the recent rate.
  EXPECT_DOUBLE_EQ(double(doc["eta_s"]), (s.bytes_total() - s.bytes_done()) / 2.5e6);
  EXPECT_DOUBLE_EQ(double(doc["bytes_per_s"]), s.bytes_done() / s.elapsed_s());
  auto decoded = DecodeStatusJson(json);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->step(), "songplays");
  EXPECT_EQ(decoded->recent_bytes_per_s(), 2.5e6);

  // No progress lately: no ETA.
  s.set_recent_bytes_per_s(0);
  ASSERT_EQ(parser.parse(EncodeStatusJson(s)).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(doc["eta_s"].is_null());
}

TEST(StatusJsonTest, TheDocumentOfAKnownSnapshot) {
  // Key by key, in this order, numbers as JSON numbers (64-bit counts too), the phase as its
  // name, unknown figures as null.
  const std::string want =
      R"({"version":1,"schema":"sparkify","run_id":42,"phase":"staging","error":"","step":"","elapsed_s":12.5,)"
      R"("files_total":30,"files_done":12,"bytes_total":472000000,"bytes_done":193520000,"records":120400,)"
      R"("staged":120334,"rejected":3,"tasks_total":20,"tasks_pending":5,"tasks_leased":4,"tasks_done":11,)"
      R"("tasks_failed":0,"tasks_retried":2,"workers_lost":1,"bytes_per_s":15481600,"recent_bytes_per_s":null,)"
      R"("eta_s":17.98780487804878,)"
      R"("task_latency":{"bounds_s":[0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10],"counts":[0,1,2,3,0,4,0,1,0,0,1],)"
      R"("sum_s":31.25},)"
      R"("workers":[{"name":"worker-1","credit":2,"in_flight":1,"tasks_done":6,"tasks_failed":0,)"
      R"("last_heartbeat_age_s":0.25},)"
      R"({"name":"worker-2","credit":2,"in_flight":2,"tasks_done":5,"tasks_failed":1,"last_heartbeat_age_s":1.5},)"
      R"({"name":"host-b/812","credit":4,"in_flight":1,"tasks_done":0,"tasks_failed":0,"last_heartbeat_age_s":0}],"workers_unfit":[]})";
  StatusSnapshot s = KnownSnapshot();
  EXPECT_EQ(EncodeStatusJson(s), want);

  // Read back, it is the snapshot with the figures derived for the document.
  auto decoded = DecodeStatusJson(want);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  StatusSnapshot expected = s;
  expected.set_version(1);
  expected.set_bytes_per_s(15'481'600);
  expected.set_eta_s(17.98780487804878);
  std::string differences;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differ.Compare(expected, *decoded)) << differences;
  EXPECT_EQ(EncodeStatusJson(*decoded), want);

  // A large count stays exact, and a measured rate is a number.
  s.set_bytes_total(18'446'744'073'709'551'615u);
  s.set_recent_bytes_per_s(0);
  const std::string big = EncodeStatusJson(s);
  EXPECT_NE(big.find(R"("bytes_total":18446744073709551615,)"), std::string::npos) << big;
  EXPECT_NE(big.find(R"("recent_bytes_per_s":0,"eta_s":null,)"), std::string::npos) << big;
  auto decoded_big = DecodeStatusJson(big);
  ASSERT_TRUE(decoded_big.ok()) << decoded_big.status().ToString();
  EXPECT_EQ(decoded_big->bytes_total(), 18'446'744'073'709'551'615u);
  EXPECT_TRUE(decoded_big->has_recent_bytes_per_s());
  EXPECT_FALSE(decoded_big->has_eta_s());
}

TEST(StatusJsonTest, PhasesAreSpelledAsBefore) {
  const std::vector<std::string> want = {"starting", "planning", "staging", "transforming", "done", "failed"};
  ASSERT_EQ(kRunPhases.size(), want.size());
  const google::protobuf::EnumDescriptor* phases = StatusSnapshot::Phase_descriptor();
  ASSERT_EQ(phases->value_count(), static_cast<int>(kRunPhases.size())) << "kRunPhases lists every phase";
  for (size_t i = 0; i < kRunPhases.size(); ++i) {
    EXPECT_EQ(PhaseName(kRunPhases[i]), want[i]);
    EXPECT_EQ(phases->value(static_cast<int>(i))->number(), kRunPhases[i]);
    StatusSnapshot s;
    s.set_phase(kRunPhases[i]);
    const std::string json = EncodeStatusJson(s);
    EXPECT_NE(json.find("\"phase\":\"" + want[i] + "\""), std::string::npos) << json;
    auto decoded = DecodeStatusJson(json);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->phase(), kRunPhases[i]);
  }
}

TEST(StatusBoardTest, MeasuresTheRecentRate) {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  StatusBoard board([&now] { return now; });
  StatusSnapshot s = KnownSnapshot();
  s.set_bytes_done(0);
  board.Publish(s);
  EXPECT_FALSE(board.Read().has_recent_bytes_per_s()) << "not measured yet";
  // Two minutes idle, then 10 MB/s for 10 s.
  for (int i = 0; i < 120; ++i) {
    now += std::chrono::seconds(1);
    board.Publish(s);
  }
  EXPECT_EQ(board.Read().recent_bytes_per_s(), 0);
  for (int i = 0; i < 10; ++i) {
    now += std::chrono::seconds(1);
    s.set_bytes_done(s.bytes_done() + 10'000'000);
    board.Publish(s);
  }
  EXPECT_NEAR(board.Read().recent_bytes_per_s(), 5e6, 1) << "100 MB over the 20 s window";
  for (int i = 0; i < 10; ++i) {
    now += std::chrono::seconds(1);
    s.set_bytes_done(s.bytes_done() + 10'000'000);
    board.Publish(s);
  }
  EXPECT_NEAR(board.Read().recent_bytes_per_s(), 10e6, 1);
  // What the publisher measured itself is kept.
  s.set_recent_bytes_per_s(42);
  board.Publish(s);
  EXPECT_EQ(board.Read().recent_bytes_per_s(), 42);
}

TEST(RateMeterTest, WindowInterpolationAndStandingStill) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  RateMeter meter(seconds(10), seconds(1));
  EXPECT_LT(meter.Rate(t0), 0);
  meter.Add(t0, 0);
  EXPECT_LT(meter.Rate(t0 + milliseconds(500)), 0) << "less than a second known";
  meter.Add(t0 + seconds(2), 2000);
  EXPECT_DOUBLE_EQ(meter.Rate(t0 + seconds(2)), 1000);
  // Nothing new for 3 s: the count stood still.
  EXPECT_DOUBLE_EQ(meter.Rate(t0 + seconds(5)), 400);
  meter.Add(t0 + seconds(20), 20000);
  // The window [10 s, 20 s]: 11,000 at 10 s by interpolation between 2 s and 20 s.
  EXPECT_DOUBLE_EQ(meter.Rate(t0 + seconds(20)), 1000);
  EXPECT_DOUBLE_EQ(meter.Rate(t0 + seconds(40)), 0);
  // A smaller count starts over.
  meter.Add(t0 + seconds(41), 5);
  EXPECT_LT(meter.Rate(t0 + seconds(41)), 0);
}

TEST(StatusJsonTest, UnknownEtaIsNull) {
  StatusSnapshot s;  // nothing done yet: no rate, no ETA
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string json = EncodeStatusJson(s);
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS);
  EXPECT_TRUE(doc["eta_s"].is_null());
}

TEST(StatusJsonTest, TextIsEscapedAndKeptValidUtf8) {
  StatusSnapshot s;
  s.set_phase(StatusSnapshot::FAILED);
  s.set_error("COPY failed: \"bad\\value\"\nline 2\ttab \x01 \xc3\xa9t\xc3\xa9");  // quotes, controls, é
  s.set_schema(std::string("bad\xff\xfe") + "byte");                          // not UTF-8
  *s.add_workers() = testing::Worker(std::string("w\xc3"), 1, 0, 0, 0, 0);     // truncated sequence
  *s.add_workers() = testing::Worker("\xf0\x9f\x9a\x80 rocket", 1, 0, 0, 0, 0);  // 4-byte sequence
  const std::string json = EncodeStatusJson(s);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;  // simdjson validates UTF-8
  EXPECT_EQ(String(doc, "error"), s.error());
  EXPECT_EQ(String(doc, "schema"), "bad\xef\xbf\xbd\xef\xbf\xbd" "byte");
  auto decoded = DecodeStatusJson(json);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->workers_size(), 2);
  EXPECT_EQ(decoded->workers(0).name(), "w\xef\xbf\xbd");
  EXPECT_EQ(decoded->workers(1).name(), "\xf0\x9f\x9a\x80 rocket");
}

TEST(StatusJsonTest, DecodeRejectsWhatIsNotAStatusDocument) {
  EXPECT_EQ(DecodeStatusJson("<html>").status().code(), StatusCode::kParse);
  EXPECT_EQ(DecodeStatusJson("[1,2]").status().code(), StatusCode::kParse);
  EXPECT_EQ(DecodeStatusJson(R"({"version":1,"files_done":"many"})").status().code(), StatusCode::kParse);
  EXPECT_EQ(DecodeStatusJson(R"({"version":1,"files_done":-1})").status().code(), StatusCode::kParse);
  EXPECT_EQ(DecodeStatusJson(R"({"version":1,"workers":{}})").status().code(), StatusCode::kParse);
  EXPECT_EQ(DecodeStatusJson(R"({"version":1,"task_latency":{"counts":[1,2]}})").status().code(),
            StatusCode::kParse);
  Status newer = DecodeStatusJson(R"({"version":2})").status();
  EXPECT_EQ(newer.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.message().find("version 2"), std::string::npos) << newer.message();
  // Unknown fields and missing ones are fine.
  auto sparse = DecodeStatusJson(R"({"version":1,"phase":"planning","added_later":[1]})");
  ASSERT_TRUE(sparse.ok()) << sparse.status().ToString();
  EXPECT_EQ(sparse->phase(), StatusSnapshot::PLANNING);
  EXPECT_EQ(sparse->files_total(), 0u);
}

TEST(PrometheusTextTest, LabelValuesAreEscapedAndWorkerSeriesUnique) {
  StatusSnapshot s;
  *s.add_workers() = testing::Worker("we\"ird\\name\nx", 1, 1, 3, 0, 0.5);
  *s.add_workers() = testing::Worker("twin", 1, 0, 1, 0, 0);
  *s.add_workers() = testing::Worker("twin", 1, 0, 2, 0, 0);
  const std::string text = RenderPrometheusMetrics(s);
  EXPECT_NE(text.find("loadstar_worker_tasks_done{worker=\"we\\\"ird\\\\name\\nx\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("loadstar_worker_tasks_done{worker=\"twin\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("loadstar_worker_tasks_done{worker=\"twin#2\"} 2\n"), std::string::npos) << text;
}

TEST(PrometheusTextTest, AnUnknownPhaseIsListedToo) {
  StatusSnapshot s;
  s.set_phase(static_cast<RunPhase>(9));  // from a newer build
  const std::string text = RenderPrometheusMetrics(s);
  EXPECT_NE(text.find("loadstar_phase{phase=\"9\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("loadstar_phase{phase=\"starting\"} 0\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace loadstar::coordinator
