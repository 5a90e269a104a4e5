// The monitor server over real HTTP: /metrics fetched with curl and read by a parser of the
// Prometheus text exposition format (0.0.4) written here, /healthz, /status read by simdjson,
// and `loadstar status` (in process) against the server.
#include "tests/support/status_fixture.h"
#include "coordinator/monitor/monitor_server.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/monitor/progress_view.h"
#include "cli/status_command.h"
#include "coordinator/monitor/status_query.h"
#include "coordinator/monitor/status_encoding.h"
#include "tests/integration/scripted_http_server.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"

namespace loadstar::coordinator {
namespace {

using loadstar::testing::RunCommand;

// ---- a reader of the Prometheus text exposition format, version 0.0.4 ----

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

struct Family {
  std::string help;
  std::string type;
  bool has_help = false;
  bool has_type = false;
  bool has_samples = false;
};

struct Exposition {
  std::map<std::string, Family> families;
  std::vector<Sample> samples;
  std::vector<std::string> errors;  // every rule broken, with its line

  // The value of the one sample `name{labels}`; fails the test if there is none.
  double Value(const std::string& name, const Labels& labels = {}) const {
    for (const Sample& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    ADD_FAILURE() << "no sample " << name << " with the labels asked for";
    return std::nan("");
  }
  std::vector<Sample> All(const std::string& name) const {
    std::vector<Sample> out;
    for (const Sample& s : samples) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }
};

const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
const std::regex kFloat(R"([+-]?(Inf|NaN|([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?))");
const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};

std::optional<double> ParseValue(const std::string& text) {
  if (!std::regex_match(text, kFloat)) return std::nullopt;
  if (text == "+Inf" || text == "Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  return std::strtod(text.c_str(), nullptr);
}

// The family a sample belongs to: its own name, or for histograms and summaries the name
// without _bucket, _sum or _count.
std::string FamilyOf(const std::map<std::string, Family>& families, const std::string& sample) {
  if (families.count(sample) > 0) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s(suffix);
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      std::string base = sample.substr(0, sample.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() && (it->second.type == "histogram" || it->second.type == "summary")) return base;
    }
  }
  return sample;
}

// Parses `{a="x",b="y\"z"}` starting at text[*pos] == '{'; leaves *pos after the '}'.
bool ParseLabels(const std::string& text, size_t* pos, Labels* labels, std::string* error) {
  size_t i = *pos + 1;
  while (true) {
    if (i >= text.size()) return *error = "unterminated label set", false;
    if (text[i] == '}') break;
    size_t eq = text.find('=', i);
    if (eq == std::string::npos) return *error = "label without '='", false;
    std::string name = text.substr(i, eq - i);
    if (!std::regex_match(name, kLabelName) || name.rfind("__", 0) == 0) {
      return *error = "bad label name '" + name + "'", false;
    }
    i = eq + 1;
    if (i >= text.size() || text[i] != '"') return *error = "label value not quoted", false;
    std::string value;
    for (++i;; ++i) {
      if (i >= text.size()) return *error = "unterminated label value", false;
      char c = text[i];
      if (c == '"') break;
      if (c == '\n') return *error = "raw line feed in a label value", false;
      if (c == '\\') {
        if (++i >= text.size()) return *error = "dangling backslash", false;
        if (text[i] == '\\') value += '\\';
        else if (text[i] == '"') value += '"';
        else if (text[i] == 'n') value += '\n';
        else return *error = std::string("bad escape \\") + text[i], false;
      } else {
        value += c;
      }
    }
    ++i;  // the closing quote
    if (!labels->emplace(name, value).second) return *error = "label '" + name + "' given twice", false;
    if (i < text.size() && text[i] == ',') ++i;
    else if (i >= text.size() || text[i] != '}') return *error = "expected ',' or '}' after a label", false;
  }
  *pos = i + 1;
  return true;
}

Exposition ParseExposition(const std::string& text) {
  Exposition e;
  if (!text.empty() && text.back() != '\n') e.errors.push_back("the last line does not end in a line feed");
  std::istringstream in(text);
  std::string line;
  std::string current_family;  // of the samples just read
  std::set<std::string> finished_families;
  std::set<std::string> series;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto fail = [&](const std::string& why) { e.errors.push_back("line " + std::to_string(number) + ": " + why + ": " + line); };
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string keyword, name;
      words >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a plain comment
      if (!std::regex_match(name, kMetricName)) {
        fail("bad metric name");
        continue;
      }
      Family& f = e.families[name];
      std::string rest = line.substr(std::min(line.size(), line.find(name) + name.size() + 1));
      if (keyword == "HELP") {
        if (f.has_help) fail("second HELP");
        if (rest.find("\\") != std::string::npos && !std::regex_search(rest, std::regex(R"(\\[\\n])"))) {
          fail("bad escape in HELP");
        }
        f.has_help = true;
        f.help = rest;
      } else {
        if (f.has_type) fail("second TYPE");
        if (f.has_samples) fail("TYPE after the family's samples");
        if (kTypes.count(rest) == 0) fail("unknown type '" + rest + "'");
        f.has_type = true;
        f.type = rest;
      }
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, kMetricName)) {
      fail("bad metric name");
      continue;
    }
    std::string error;
    if (i < line.size() && line[i] == '{' && !ParseLabels(line, &i, &s.labels, &error)) {
      fail(error);
      continue;
    }
    if (i >= line.size() || line[i] != ' ') {
      fail("no value");
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    std::optional<double> value = ParseValue(value_text);
    if (!value) {
      fail("bad value '" + value_text + "'");
      continue;
    }
    if (!timestamp.empty() && !std::regex_match(timestamp, std::regex("-?[0-9]+"))) fail("bad timestamp");
    if (!extra.empty()) fail("trailing text");
    s.value = *value;

    const std::string family = FamilyOf(e.families, s.name);
    if (family != current_family) {
      if (finished_families.count(family) > 0) fail("the family's samples are not one group");
      if (!current_family.empty()) finished_families.insert(current_family);
      current_family = family;
    }
    Family& f = e.families[family];
    f.has_samples = true;
    if (!f.has_help || !f.has_type) fail("sample before its family's HELP and TYPE");
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
    if (!series.insert(key).second) fail("duplicate series");
    e.samples.push_back(std::move(s));
  }
  for (const auto& [name, f] : e.families) {
    if (!f.has_help || !f.has_type) e.errors.push_back(name + ": no HELP or no TYPE");
  }
  // Histograms: per label set (le aside), buckets ascending and cumulative, ending in +Inf,
  // whose count _count repeats; a _sum.
  for (const auto& [name, f] : e.families) {
    if (f.type != "histogram") continue;
    std::map<Labels, std::vector<std::pair<double, double>>> buckets;  // labels -> (le, count)
    for (const Sample& s : e.All(name + "_bucket")) {
      Labels rest = s.labels;
      auto le = rest.find("le");
      if (le == rest.end()) {
        e.errors.push_back(name + "_bucket without le");
        continue;
      }
      std::optional<double> bound = ParseValue(le->second);
      if (!bound) e.errors.push_back(name + ": bad le '" + le->second + "'");
      rest.erase(le);
      buckets[rest].emplace_back(bound.value_or(NAN), s.value);
    }
    if (buckets.empty()) e.errors.push_back(name + ": a histogram without buckets");
    for (const auto& [labels, list] : buckets) {
      for (size_t i = 1; i < list.size(); ++i) {
        if (!(list[i].first > list[i - 1].first)) e.errors.push_back(name + ": le not ascending");
        if (list[i].second < list[i - 1].second) e.errors.push_back(name + ": buckets not cumulative");
      }
      if (list.empty() || !std::isinf(list.back().first)) e.errors.push_back(name + ": no +Inf bucket");
      double count = NAN;
      bool has_sum = false;
      for (const Sample& s : e.samples) {
        if (s.name == name + "_count" && s.labels == labels) count = s.value;
        if (s.name == name + "_sum" && s.labels == labels) has_sum = true;
      }
      if (list.empty() || count != list.back().second) e.errors.push_back(name + ": _count is not the +Inf bucket");
      if (!has_sum) e.errors.push_back(name + ": no _sum");
    }
  }
  return e;
}

// ---- HTTP with curl ----

struct Fetched {
  int status = 0;
  std::string content_type;
  std::string body;
};

Fetched Fetch(const std::string& url) {
  auto r = RunCommand({"curl", "-sS", "-i", "--max-time", "20", url}, {}, 30);
  Fetched f;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  size_t end = r.output.find("\r\n\r\n");
  if (end == std::string::npos) {
    ADD_FAILURE() << "not an HTTP response: " << r.output;
    return f;
  }
  std::string head = r.output.substr(0, end);
  f.body = r.output.substr(end + 4);
  std::smatch m;
  if (std::regex_search(head, m, std::regex(R"(^HTTP/1\.[01] ([0-9]{3}))"))) f.status = std::stoi(m[1]);
  if (std::regex_search(head, m, std::regex(R"(\r\n[Cc]ontent-[Tt]ype: *([^\r]*))"))) f.content_type = m[1];
  return f;
}

// ---- HTTP over a raw socket, for clients that misbehave and for timing ----

// A TCP connection to 127.0.0.1:`port`, closed by the destructor; fd() is -1 when the connect
// failed.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  int fd() const { return fd_; }
  bool Send(std::string_view bytes) {
    return fd_ >= 0 && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything the server sends until it closes the connection, or until `timeout` passes.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fd_ >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // True once ReadUntilClosed saw the server close the connection.
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
};

// One request on a connection of its own; the whole response (the server closes it).
std::string RawRequest(int port, std::string_view request, std::chrono::milliseconds timeout) {
  RawConnection c(port);
  if (!c.Send(request)) return "";
  return c.ReadUntilClosed(timeout);
}

// ---- the snapshot served ----

StatusSnapshot KnownSnapshot() { return testing::KnownSnapshot("odd \"name\" \\ with\nbreak"); }

class MonitorServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    board_.Publish(KnownSnapshot());
    MonitorServerOptions options;
    options.listen = {"127.0.0.1", 0};
    auto started = MonitorServer::Start(board_, options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    ASSERT_GT(server_->port(), 0);
  }

  std::string Url(const std::string& path) const { return server_->url() + path; }
  std::string Address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  StatusBoard board_;
  std::unique_ptr<MonitorServer> server_;
};

TEST_F(MonitorServerTest, MetricsAreValidExpositionWithTheSnapshotsFigures) {
  Fetched f = Fetch(Url("/metrics"));
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(f.content_type, "text/plain; version=0.0.4; charset=utf-8");
  Exposition e = ParseExposition(f.body);
  for (const std::string& error : e.errors) ADD_FAILURE() << error;
  ASSERT_TRUE(e.errors.empty()) << f.body;

  const StatusSnapshot s = KnownSnapshot();
  const std::map<std::string, std::string> types = {
      {"loadstar_tasks", "gauge"},
      {"loadstar_tasks_total", "gauge"},
      {"loadstar_tasks_retried_total", "counter"},
      {"loadstar_files_total", "gauge"},
      {"loadstar_files_done", "gauge"},
      {"loadstar_bytes_total", "gauge"},
      {"loadstar_bytes_done", "gauge"},
      {"loadstar_records_total", "counter"},
      {"loadstar_workers", "gauge"},
      {"loadstar_workers_lost_total", "counter"},
      {"loadstar_phase", "gauge"},
      {"loadstar_run_id", "gauge"},
      {"loadstar_elapsed_seconds", "gauge"},
      {"loadstar_task_latency_seconds", "histogram"},
      {"loadstar_worker_tasks_done", "gauge"},
      {"loadstar_worker_in_flight", "gauge"},
      {"loadstar_worker_last_heartbeat_age_seconds", "gauge"},
  };
  for (const auto& [name, type] : types) {
    ASSERT_EQ(e.families.count(name), 1u) << name;
    EXPECT_EQ(e.families.at(name).type, type) << name;
    EXPECT_FALSE(e.families.at(name).help.empty()) << name;
  }

  EXPECT_EQ(e.Value("loadstar_tasks", {{"state", "pending"}}), 5);
  EXPECT_EQ(e.Value("loadstar_tasks", {{"state", "leased"}}), 4);
  EXPECT_EQ(e.Value("loadstar_tasks", {{"state", "done"}}), 11);
  EXPECT_EQ(e.Value("loadstar_tasks", {{"state", "failed"}}), 0);
  EXPECT_EQ(e.Value("loadstar_tasks_total"), 20);
  EXPECT_EQ(e.Value("loadstar_tasks_retried_total"), 2);
  EXPECT_EQ(e.Value("loadstar_files_total"), 30);
  EXPECT_EQ(e.Value("loadstar_files_done"), 12);
  EXPECT_EQ(e.Value("loadstar_bytes_total"), 472'000'000);
  EXPECT_EQ(e.Value("loadstar_bytes_done"), 193'520'000);
  EXPECT_EQ(e.Value("loadstar_records_total", {{"outcome", "read"}}), 120'400);
  EXPECT_EQ(e.Value("loadstar_records_total", {{"outcome", "staged"}}), 120'334);
  EXPECT_EQ(e.Value("loadstar_records_total", {{"outcome", "rejected"}}), 3);
  EXPECT_EQ(e.Value("loadstar_workers"), 3);
  EXPECT_EQ(e.Value("loadstar_workers_lost_total"), 1);
  EXPECT_EQ(e.Value("loadstar_run_id"), 42);
  EXPECT_EQ(e.Value("loadstar_elapsed_seconds"), 12.5);
  EXPECT_EQ(e.All("loadstar_phase").size(), kRunPhases.size());
  for (RunPhase phase : kRunPhases) {
    EXPECT_EQ(e.Value("loadstar_phase", {{"phase", PhaseName(phase)}}), phase == StatusSnapshot::STAGING ? 1 : 0)
        << PhaseName(phase);
  }

  // The histogram: cumulative sums of the snapshot's per-bucket counts.
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kTaskLatencyBuckets.size(); ++i) {
    cumulative += s.task_latency().counts(static_cast<int>(i));
    std::vector<Sample> bucket;
    for (const Sample& b : e.All("loadstar_task_latency_seconds_bucket")) {
      if (ParseValue(b.labels.at("le")).value() == kTaskLatencyBuckets[i]) bucket.push_back(b);
    }
    ASSERT_EQ(bucket.size(), 1u) << kTaskLatencyBuckets[i];
    EXPECT_EQ(bucket[0].value, static_cast<double>(cumulative)) << "le=" << kTaskLatencyBuckets[i];
  }
  cumulative += s.task_latency().counts(static_cast<int>(kTaskLatencyBuckets.size()));
  EXPECT_EQ(e.Value("loadstar_task_latency_seconds_bucket", {{"le", "+Inf"}}), cumulative);
  EXPECT_EQ(e.Value("loadstar_task_latency_seconds_count"), cumulative);
  EXPECT_EQ(e.Value("loadstar_task_latency_seconds_sum"), 31.25);

  // Per worker, the odd name read back through the format's escapes.
  for (const WorkerStatus& w : s.workers()) {
    EXPECT_EQ(e.Value("loadstar_worker_tasks_done", {{"worker", w.name()}}), w.tasks_done()) << w.name();
    EXPECT_EQ(e.Value("loadstar_worker_in_flight", {{"worker", w.name()}}), w.in_flight()) << w.name();
    EXPECT_EQ(e.Value("loadstar_worker_last_heartbeat_age_seconds", {{"worker", w.name()}}), w.last_heartbeat_age_s());
  }
}

TEST_F(MonitorServerTest, MetricsFollowTheBoard) {
  StatusSnapshot s = KnownSnapshot();
  s.set_phase(StatusSnapshot::TRANSFORMING);
  s.set_files_done(30);
  s.clear_workers();
  board_.Publish(s);
  Exposition e = ParseExposition(Fetch(Url("/metrics")).body);
  ASSERT_TRUE(e.errors.empty()) << e.errors.front();
  EXPECT_EQ(e.Value("loadstar_phase", {{"phase", "transforming"}}), 1);
  EXPECT_EQ(e.Value("loadstar_phase", {{"phase", "staging"}}), 0);
  EXPECT_EQ(e.Value("loadstar_files_done"), 30);
  EXPECT_EQ(e.Value("loadstar_workers"), 0);
  EXPECT_TRUE(e.All("loadstar_worker_tasks_done").empty());
  EXPECT_EQ(e.families.count("loadstar_worker_tasks_done"), 1u) << "HELP and TYPE even with no worker";
}

TEST_F(MonitorServerTest, HealthzTurns503WhenTheRunFails) {
  Fetched ok = Fetch(Url("/healthz"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok\n");

  StatusSnapshot s = KnownSnapshot();
  s.set_phase(StatusSnapshot::FAILED);
  s.set_error("task 3 failed on attempt 3: no such bucket");
  board_.Publish(s);
  Fetched failed = Fetch(Url("/healthz"));
  EXPECT_EQ(failed.status, 503);
  EXPECT_NE(failed.body.find("task 3 failed on attempt 3: no such bucket"), std::string::npos) << failed.body;
  Exposition e = ParseExposition(Fetch(Url("/metrics")).body);
  EXPECT_EQ(e.Value("loadstar_phase", {{"phase", "failed"}}), 1);
}

TEST_F(MonitorServerTest, StatusIsTheSnapshotAsJson) {
  Fetched f = Fetch(Url("/status"));
  ASSERT_EQ(f.status, 200);
  EXPECT_EQ(f.content_type, "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(f.body).get(doc), simdjson::SUCCESS) << f.body;
  const StatusSnapshot s = KnownSnapshot();
  EXPECT_EQ(std::string_view(doc["phase"]), "staging");
  EXPECT_EQ(int64_t(doc["run_id"]), 42);
  EXPECT_EQ(uint64_t(doc["bytes_done"]), s.bytes_done());
  EXPECT_EQ(uint64_t(doc["tasks_retried"]), s.tasks_retried());
  EXPECT_EQ(simdjson::dom::array(doc["workers"]).size(), 3u);
  EXPECT_EQ(std::string_view(doc["workers"].at(2)["name"]), s.workers(2).name());
  auto decoded = DecodeStatusJson(f.body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->staged(), s.staged());
}

TEST_F(MonitorServerTest, UnknownPathsAre404) {
  EXPECT_EQ(Fetch(Url("/nothing-here")).status, 404);
  Fetched index = Fetch(Url("/"));
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("/metrics"), std::string::npos);
}

TEST_F(MonitorServerTest, OtherMethodsOnKnownPathsAre405WithAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    for (const char* path : {"/healthz", "/metrics", "/status", "/"}) {
      auto r = RunCommand({"curl", "-sS", "-i", "--max-time", "20", "-X", method, "--data", "x", Url(path)}, {}, 30);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(^HTTP/1\.1 405 )"))) << method << " " << path << "\n"
                                                                                    << r.output;
      EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\r\nAllow: GET, HEAD\r\n)"))) << r.output;
    }
  }
  // HEAD is GET without the body.
  auto head = RunCommand({"curl", "-sS", "-I", "--max-time", "20", Url("/healthz")}, {}, 30);
  EXPECT_TRUE(std::regex_search(head.output, std::regex(R"(^HTTP/1\.1 200 )"))) << head.output;
  // Unknown paths stay 404 whatever the method.
  auto unknown = RunCommand({"curl", "-sS", "-i", "--max-time", "20", "-X", "POST", Url("/nothing-here")}, {}, 30);
  EXPECT_TRUE(std::regex_search(unknown.output, std::regex(R"(^HTTP/1\.1 404 )"))) << unknown.output;
}

// Idle clients and clients that never finish their request must not hold up the others: a
// health check answers at once with 100 of each connected.
TEST_F(MonitorServerTest, HealthzAnswersAtOnceBesideIdleAndHalfSentConnections) {
  std::vector<std::unique_ptr<RawConnection>> idle, half_sent;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_GE(idle.back()->fd(), 0) << "connection " << i;
    half_sent.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(half_sent.back()->Send("GET /heal")) << "connection " << i;
  }
  std::chrono::steady_clock::duration slowest{};
  for (int i = 0; i < 10; ++i) {
    const auto start = std::chrono::steady_clock::now();
    std::string response =
        RawRequest(server_->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::seconds(20));
    slowest = std::max(slowest, std::chrono::steady_clock::now() - start);
    ASSERT_EQ(response.rfind("HTTP/1.1 200 ", 0), 0u) << response;
    EXPECT_NE(response.find("\r\n\r\nok\n"), std::string::npos) << response;
  }
  EXPECT_LT(slowest, std::chrono::milliseconds(100))
      << "the slowest of 10 health checks took "
      << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count() << " ms";
  // The connections are still served once they finish their request.
  ASSERT_TRUE(half_sent.front()->Send("thz HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string late = half_sent.front()->ReadUntilClosed(std::chrono::seconds(20));
  EXPECT_EQ(late.rfind("HTTP/1.1 200 ", 0), 0u) << late;
}

TEST(MonitorServerLimitsTest, ARequestNotFinishedInTimeIsDropped) {
  StatusBoard board;
  MonitorServerOptions options;
  options.request_timeout = std::chrono::milliseconds(200);
  auto server = MonitorServer::Start(board, options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  RawConnection idle((*server)->port());
  RawConnection trickling((*server)->port());
  ASSERT_TRUE(trickling.Send("GET /healthz HTTP/1.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  // Trickling bytes does not buy more time: the whole request has to arrive in time.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    trickling.Send("X");
  }
  EXPECT_EQ(trickling.ReadUntilClosed(std::chrono::seconds(10)), "");
  EXPECT_TRUE(trickling.closed());
  EXPECT_EQ(idle.ReadUntilClosed(std::chrono::seconds(10)), "");
  EXPECT_TRUE(idle.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(MonitorServerLimitsTest, ANewClientIsServedWhenEveryConnectionIsTaken) {
  StatusBoard board;
  MonitorServerOptions options;
  options.max_connections = 8;
  auto server = MonitorServer::Start(board, options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(std::make_unique<RawConnection>((*server)->port()));
  std::string response =
      RawRequest((*server)->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::seconds(2));
  EXPECT_EQ(response.rfind("HTTP/1.1 200 ", 0), 0u) << response;
  // The oldest idle connection made room.
  EXPECT_EQ(idle.front()->ReadUntilClosed(std::chrono::seconds(2)), "");
  EXPECT_TRUE(idle.front()->closed());
}

TEST(MonitorServerLimitsTest, OversizedRequestHeadersAreRefused) {
  StatusBoard board;
  auto server = MonitorServer::Start(board, {});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::string request = "GET /healthz HTTP/1.1\r\nX-Filler: " + std::string(64 << 10, 'a') + "\r\n\r\n";
  std::string response = RawRequest((*server)->port(), request, std::chrono::seconds(5));
  EXPECT_EQ(response.rfind("HTTP/1.1 431 ", 0), 0u) << response.substr(0, 200);
}

TEST_F(MonitorServerTest, ASecondServerCannotTakeTheSamePort) {
  MonitorServerOptions options;
  options.listen = {"127.0.0.1", server_->port()};
  auto second = MonitorServer::Start(board_, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(Address()), std::string::npos) << second.status().message();
}

TEST_F(MonitorServerTest, StopsAndStartsAgainOnTheSamePort) {
  const int port = server_->port();
  server_->Stop();
  server_->Stop();  // idempotent
  EXPECT_NE(RunCommand({"curl", "-sS", "--max-time", "5", Url("/healthz")}).exit_code, 0);
  server_.reset();
  MonitorServerOptions options;
  options.listen = {"127.0.0.1", port};
  auto again = MonitorServer::Start(board_, options);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Fetch((*again)->url() + "/healthz").status, 200);
}

// ---- loadstar status ----

TEST_F(MonitorServerTest, StatusCommandText) {
  StatusQuery query;
  query.coordinator = Address();
  auto text = QueryStatus(query);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  // The same picture as the live view, every worker listed.
  EXPECT_EQ(*text, RenderStatusText(KnownSnapshot(), 0, SIZE_MAX));
  EXPECT_NE(text->find("loadstar run 42 (schema sparkify): staging, 13 s\n"), std::string::npos) << *text;
  EXPECT_TRUE(std::regex_search(*text, std::regex("\nworker-2 +2 +5 +1  1\\.5 s ago\n"))) << *text;
}

TEST_F(MonitorServerTest, StatusCommandJsonThroughTheCli) {
  CLI::App app;
  auto* cmd = app.add_subcommand("status");
  auto run = cli::AddStatusCommand(cmd);
  app.parse("status --coordinator " + Address() + " --format json", /*program_name_included=*/false);
  ::testing::internal::CaptureStdout();
  int code = run();
  std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_EQ(code, 0) << out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  EXPECT_EQ(uint64_t(doc["files_total"]), 30u);
  EXPECT_EQ(out.back(), '\n');
}

TEST_F(MonitorServerTest, StatusCommandTextThroughTheCli) {
  CLI::App app;
  auto* cmd = app.add_subcommand("status");
  auto run = cli::AddStatusCommand(cmd);
  app.parse("status --coordinator " + Address(), /*program_name_included=*/false);
  ::testing::internal::CaptureStdout();
  int code = run();
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, RenderStatusText(KnownSnapshot(), 0, SIZE_MAX));
}

TEST(StatusCommandTest, NothingListening) {
  int port = loadstar::testing::FreeTcpPort();
  ASSERT_GT(port, 0);
  StatusQuery query;
  query.coordinator = "127.0.0.1:" + std::to_string(port);
  auto out = QueryStatus(query);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(out.status().message().rfind("no coordinator answering at 127.0.0.1:" + std::to_string(port) +
                                             ": is it running with --metrics-listen?",
                                         0),
            0u)
      << out.status().message();

  CLI::App app;
  auto run = cli::AddStatusCommand(app.add_subcommand("status"));
  app.parse("status --coordinator " + query.coordinator, /*program_name_included=*/false);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run(), 1);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("loadstar status: no coordinator answering"),
            std::string::npos);
}

TEST(StatusCommandTest, SomethingElseAnswering) {
  loadstar::testing::ScriptedHttpServer other({loadstar::testing::ScriptedHttpServer::Respond(404, "not here")});
  StatusQuery query;
  query.coordinator = "127.0.0.1:" + std::to_string(other.port());
  auto out = QueryStatus(query);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(out.status().message().find("HTTP 404"), std::string::npos) << out.status().message();

  loadstar::testing::ScriptedHttpServer html(
      {loadstar::testing::ScriptedHttpServer::Respond(200, "<html>hello</html>", "Content-Type: text/html\r\n")});
  query.coordinator = "127.0.0.1:" + std::to_string(html.port());
  out = QueryStatus(query);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(out.status().message().find("did not answer with a loadstar status document"), std::string::npos)
      << out.status().message();
}

TEST(StatusCommandTest, BadAddresses) {
  for (const char* bad : {"localhost", "host:port", "1.2.3.4:70000", "::1:9464", "[::1]9464", ""}) {
    StatusQuery query;
    query.coordinator = bad;
    EXPECT_EQ(QueryStatus(query).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HostPortTest, Forms) {
  auto a = ParseHostPort("0.0.0.0:9464");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 9464);
  auto b = ParseHostPort("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->ToString(), "[::1]:0");
  auto c = ParseHostPort(":9464");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "");
  auto d = ParseHostPort("http://coordinator.internal:9464/");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->host, "coordinator.internal");
  EXPECT_EQ(d->port, 9464);
}

}  // namespace
}  // namespace loadstar::coordinator
