#include "coordinator/monitor/status_encoding.h"

#include "common/core/json_text.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>
#include <vector>

namespace loadstar::coordinator {
namespace {

// ---- text ----


// A label value as the exposition format wants it: backslash, double quote and line feed
// escaped, everything else as is (valid UTF-8).
std::string PrometheusLabelValue(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  ForEachUtf8Char(s, [&](std::string_view ch) {
    if (ch == "\\") {
      out.append("\\\\");
    } else if (ch == "\"") {
      out.append("\\\"");
    } else if (ch == "\n") {
      out.append("\\n");
    } else {
      out.append(ch);
    }
  });
  return out;
}

// The shortest decimal text that reads back as `v`. JSON has no infinities nor NaN: callers
// write those as null; Prometheus spells them +Inf, -Inf and NaN.
std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
}

// ---- JSON writer ----

// Writes the members of one object, commas included.
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void Close() { out_->push_back('}'); }

  void String(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(out_, value);
  }
  void Uint(std::string_view key, uint64_t value) {
    Key(key);
    out_->append(std::to_string(value));
  }
  void Int(std::string_view key, int64_t value) {
    Key(key);
    out_->append(std::to_string(value));
  }
  void Double(std::string_view key, double value) {
    Key(key);
    out_->append(std::isfinite(value) ? FormatDouble(value) : "null");
  }
  void Null(std::string_view key) {
    Key(key);
    out_->append("null");
  }
  // Writes the key; the caller appends the value.
  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonString(out_, key);
    out_->push_back(':');
  }

 private:
  std::string* const out_;
  bool first_ = true;
};

// ---- JSON reader ----

using simdjson::dom::element;
using simdjson::dom::object;

Status FieldError(std::string_view key, std::string_view want) {
  return Status::Parse("status document: field \"" + std::string(key) + "\" is not " + std::string(want));
}

// Looks `key` up in `obj`: false when it is absent or null (the default stays).
bool Find(object obj, std::string_view key, element* value) {
  if (obj.at_key(key).get(*value) != simdjson::SUCCESS) return false;
  return !value->is_null();
}

Status ReadUint(object obj, std::string_view key, uint64_t* out) {
  element e;
  if (!Find(obj, key, &e)) return Status::Ok();
  if (e.get_uint64().get(*out) != simdjson::SUCCESS) return FieldError(key, "a non-negative integer");
  return Status::Ok();
}

Status ReadInt(object obj, std::string_view key, int64_t* out) {
  element e;
  if (!Find(obj, key, &e)) return Status::Ok();
  if (e.get_int64().get(*out) != simdjson::SUCCESS) return FieldError(key, "an integer");
  return Status::Ok();
}

Status ReadUint32(object obj, std::string_view key, uint32_t* out) {
  uint64_t v = *out;
  LOADSTAR_RETURN_IF_ERROR(ReadUint(obj, key, &v));
  if (v > UINT32_MAX) return FieldError(key, "a 32-bit count");
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status ReadDouble(object obj, std::string_view key, double* out) {
  element e;
  if (!Find(obj, key, &e)) return Status::Ok();
  if (e.get_double().get(*out) != simdjson::SUCCESS) return FieldError(key, "a number");
  return Status::Ok();
}

Status ReadString(object obj, std::string_view key, std::string* out) {
  element e;
  if (!Find(obj, key, &e)) return Status::Ok();
  std::string_view v;
  if (e.get_string().get(v) != simdjson::SUCCESS) return FieldError(key, "a string");
  out->assign(v);
  return Status::Ok();
}

Status ReadLatency(object obj, StatusSnapshot* s) {
  element e;
  if (!Find(obj, "task_latency", &e)) return Status::Ok();
  object latency;
  if (e.get_object().get(latency) != simdjson::SUCCESS) return FieldError("task_latency", "an object");
  LOADSTAR_RETURN_IF_ERROR(ReadDouble(latency, "sum_s", &s->latency_sum_s));
  element counts_element;
  if (!Find(latency, "counts", &counts_element)) return Status::Ok();
  simdjson::dom::array counts;
  if (counts_element.get_array().get(counts) != simdjson::SUCCESS) return FieldError("task_latency.counts", "an array");
  if (counts.size() != s->latency_counts.size()) {
    return Status::Parse("status document: task_latency.counts has " + std::to_string(counts.size()) +
                         " buckets, this build has " + std::to_string(s->latency_counts.size()));
  }
  size_t i = 0;
  for (element c : counts) {
    if (c.get_uint64().get(s->latency_counts[i++]) != simdjson::SUCCESS) {
      return FieldError("task_latency.counts", "an array of non-negative integers");
    }
  }
  return Status::Ok();
}

Status ReadWorkers(object obj, StatusSnapshot* s) {
  element e;
  if (!Find(obj, "workers", &e)) return Status::Ok();
  simdjson::dom::array workers;
  if (e.get_array().get(workers) != simdjson::SUCCESS) return FieldError("workers", "an array");
  for (element item : workers) {
    object w;
    if (item.get_object().get(w) != simdjson::SUCCESS) return FieldError("workers", "an array of objects");
    WorkerStatus ws;
    LOADSTAR_RETURN_IF_ERROR(ReadString(w, "name", &ws.name));
    LOADSTAR_RETURN_IF_ERROR(ReadUint32(w, "credit", &ws.credit));
    LOADSTAR_RETURN_IF_ERROR(ReadUint32(w, "in_flight", &ws.in_flight));
    LOADSTAR_RETURN_IF_ERROR(ReadUint(w, "tasks_done", &ws.tasks_done));
    LOADSTAR_RETURN_IF_ERROR(ReadUint(w, "tasks_failed", &ws.tasks_failed));
    LOADSTAR_RETURN_IF_ERROR(ReadDouble(w, "last_heartbeat_age_s", &ws.last_heartbeat_age_s));
    s->workers.push_back(std::move(ws));
  }
  return Status::Ok();
}

// ---- Prometheus writer ----

class ExpositionWriter {
 public:
  // Starts a metric family: its HELP and TYPE lines.
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void Sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_.append(name);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    out_.append(" ").append(value).append("\n");
  }
  void Sample(std::string_view name, std::string_view labels, uint64_t value) {
    Sample(name, labels, std::to_string(value));
  }
  void SampleDouble(std::string_view name, std::string_view labels, double value) {
    Sample(name, labels, FormatDouble(value));
  }
  // Family() and one unlabelled sample.
  void Gauge(std::string_view name, std::string_view help, uint64_t value) {
    Family(name, "gauge", help);
    Sample(name, "", value);
  }

  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + PrometheusLabelValue(value) + "\"";
}

}  // namespace

std::string EncodeStatusJson(const StatusSnapshot& s) {
  std::string out;
  out.reserve(1024 + 160 * s.workers.size());
  JsonObjectWriter w(&out);
  w.Int("version", kStatusJsonVersion);
  w.String("schema", s.schema);
  w.Int("run_id", s.run_id);
  w.String("phase", s.phase);
  w.String("error", s.error);
  w.String("step", s.step);
  w.Double("elapsed_s", s.elapsed_s);
  w.Uint("files_total", s.files_total);
  w.Uint("files_done", s.files_done);
  w.Uint("bytes_total", s.bytes_total);
  w.Uint("bytes_done", s.bytes_done);
  w.Uint("records", s.records);
  w.Uint("staged", s.staged);
  w.Uint("rejected", s.rejected);
  w.Uint("tasks_total", s.tasks_total);
  w.Uint("tasks_pending", s.tasks_pending);
  w.Uint("tasks_leased", s.tasks_leased);
  w.Uint("tasks_done", s.tasks_done);
  w.Uint("tasks_failed", s.tasks_failed);
  w.Uint("tasks_retried", s.tasks_retried);
  w.Uint("workers_lost", s.workers_lost);
  w.Double("bytes_per_s", s.bytes_per_s());
  if (s.recent_bytes_per_s >= 0) {
    w.Double("recent_bytes_per_s", s.recent_bytes_per_s);
  } else {
    w.Null("recent_bytes_per_s");
  }
  if (double eta = s.eta_s(); eta >= 0) {
    w.Double("eta_s", eta);
  } else {
    w.Null("eta_s");
  }

  w.Key("task_latency");
  JsonObjectWriter latency(&out);
  latency.Key("bounds_s");
  out.push_back('[');
  for (size_t i = 0; i < kTaskLatencyBuckets.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(FormatDouble(kTaskLatencyBuckets[i]));
  }
  out.push_back(']');
  latency.Key("counts");
  out.push_back('[');
  for (size_t i = 0; i < s.latency_counts.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(std::to_string(s.latency_counts[i]));
  }
  out.push_back(']');
  latency.Double("sum_s", s.latency_sum_s);
  latency.Close();

  w.Key("workers");
  out.push_back('[');
  for (size_t i = 0; i < s.workers.size(); ++i) {
    if (i > 0) out.push_back(',');
    const WorkerStatus& ws = s.workers[i];
    JsonObjectWriter worker(&out);
    worker.String("name", ws.name);
    worker.Uint("credit", ws.credit);
    worker.Uint("in_flight", ws.in_flight);
    worker.Uint("tasks_done", ws.tasks_done);
    worker.Uint("tasks_failed", ws.tasks_failed);
    worker.Double("last_heartbeat_age_s", ws.last_heartbeat_age_s);
    worker.Close();
  }
  out.push_back(']');
  w.Close();
  return out;
}

Result<StatusSnapshot> DecodeStatusJson(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc); err != simdjson::SUCCESS) {
    return Status::Parse(std::string("status document is not JSON: ") + simdjson::error_message(err));
  }
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return Status::Parse("status document is not a JSON object");
  int64_t version = kStatusJsonVersion;
  LOADSTAR_RETURN_IF_ERROR(ReadInt(obj, "version", &version));
  if (version != kStatusJsonVersion) {
    return Status::FailedPrecondition("status document version " + std::to_string(version) +
                                      " is not one this loadstar reads (" + std::to_string(kStatusJsonVersion) +
                                      "); use a loadstar of the coordinator's version");
  }
  StatusSnapshot s;
  LOADSTAR_RETURN_IF_ERROR(ReadString(obj, "schema", &s.schema));
  LOADSTAR_RETURN_IF_ERROR(ReadInt(obj, "run_id", &s.run_id));
  LOADSTAR_RETURN_IF_ERROR(ReadString(obj, "phase", &s.phase));
  LOADSTAR_RETURN_IF_ERROR(ReadString(obj, "error", &s.error));
  LOADSTAR_RETURN_IF_ERROR(ReadString(obj, "step", &s.step));
  LOADSTAR_RETURN_IF_ERROR(ReadDouble(obj, "elapsed_s", &s.elapsed_s));
  LOADSTAR_RETURN_IF_ERROR(ReadDouble(obj, "recent_bytes_per_s", &s.recent_bytes_per_s));
  const std::pair<const char*, uint64_t*> counts[] = {
      {"files_total", &s.files_total},     {"files_done", &s.files_done},     {"bytes_total", &s.bytes_total},
      {"bytes_done", &s.bytes_done},       {"records", &s.records},           {"staged", &s.staged},
      {"rejected", &s.rejected},           {"tasks_total", &s.tasks_total},   {"tasks_pending", &s.tasks_pending},
      {"tasks_leased", &s.tasks_leased},   {"tasks_done", &s.tasks_done},     {"tasks_failed", &s.tasks_failed},
      {"tasks_retried", &s.tasks_retried}, {"workers_lost", &s.workers_lost},
  };
  for (const auto& [key, field] : counts) LOADSTAR_RETURN_IF_ERROR(ReadUint(obj, key, field));
  LOADSTAR_RETURN_IF_ERROR(ReadLatency(obj, &s));
  LOADSTAR_RETURN_IF_ERROR(ReadWorkers(obj, &s));
  return s;
}

std::string RenderPrometheusMetrics(const StatusSnapshot& s) {
  ExpositionWriter w;

  w.Family("loadstar_phase", "gauge", "1 for the phase the run is in (starting, planning, staging, transforming, "
                                      "done, failed), 0 for the others");
  bool known_phase = false;
  for (std::string_view phase : kRunPhases) {
    known_phase |= phase == s.phase;
    w.Sample("loadstar_phase", Label("phase", phase), uint64_t{phase == s.phase ? 1u : 0u});
  }
  if (!known_phase) w.Sample("loadstar_phase", Label("phase", s.phase), 1);
  w.Family("loadstar_run_id", "gauge", "Id of the run in the warehouse's runs table (0 before it is known)");
  w.Sample("loadstar_run_id", "", std::to_string(s.run_id));
  w.Family("loadstar_elapsed_seconds", "gauge", "Seconds since the run started");
  w.SampleDouble("loadstar_elapsed_seconds", "", s.elapsed_s);

  w.Family("loadstar_tasks", "gauge", "Tasks of the run by state");
  w.Sample("loadstar_tasks", Label("state", "pending"), s.tasks_pending);
  w.Sample("loadstar_tasks", Label("state", "leased"), s.tasks_leased);
  w.Sample("loadstar_tasks", Label("state", "done"), s.tasks_done);
  w.Sample("loadstar_tasks", Label("state", "failed"), s.tasks_failed);
  w.Gauge("loadstar_tasks_total", "Tasks planned for the run", s.tasks_total);
  w.Family("loadstar_tasks_retried_total", "counter",
           "Task attempts that did not stick: retryable failures and leases lost with their workers");
  w.Sample("loadstar_tasks_retried_total", "", s.tasks_retried);

  w.Gauge("loadstar_files_total", "Files the run stages", s.files_total);
  w.Gauge("loadstar_files_done", "Files staged and acknowledged", s.files_done);
  w.Gauge("loadstar_bytes_total", "Bytes of the files the run stages", s.bytes_total);
  w.Gauge("loadstar_bytes_done", "Bytes of the files staged and acknowledged", s.bytes_done);
  w.Family("loadstar_records_total", "counter",
           "Records in staged files: read, staged into the staging tables, rejected");
  w.Sample("loadstar_records_total", Label("outcome", "read"), s.records);
  w.Sample("loadstar_records_total", Label("outcome", "staged"), s.staged);
  w.Sample("loadstar_records_total", Label("outcome", "rejected"), s.rejected);

  w.Gauge("loadstar_workers", "Workers connected now", s.workers.size());
  w.Family("loadstar_workers_lost_total", "counter", "Workers declared dead after missing their heartbeats");
  w.Sample("loadstar_workers_lost_total", "", s.workers_lost);

  w.Family("loadstar_task_latency_seconds", "histogram", "Seconds from a task's lease to its acknowledgement");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kTaskLatencyBuckets.size(); ++i) {
    cumulative += s.latency_counts[i];
    w.Sample("loadstar_task_latency_seconds_bucket", Label("le", FormatDouble(kTaskLatencyBuckets[i])), cumulative);
  }
  cumulative += s.latency_counts.back();
  w.Sample("loadstar_task_latency_seconds_bucket", Label("le", "+Inf"), cumulative);
  w.SampleDouble("loadstar_task_latency_seconds_sum", "", s.latency_sum_s);
  w.Sample("loadstar_task_latency_seconds_count", "", cumulative);

  // One label value per worker, unique even when names repeat.
  std::vector<std::string> labels;
  labels.reserve(s.workers.size());
  std::set<std::string, std::less<>> used;
  for (const WorkerStatus& ws : s.workers) {
    const std::string escaped = PrometheusLabelValue(ws.name);
    std::string value = escaped;
    for (int n = 2; used.count(value) > 0; ++n) value = escaped + "#" + std::to_string(n);
    used.insert(value);
    labels.push_back("worker=\"" + value + "\"");
  }
  struct PerWorker {
    const char* name;
    const char* help;
    std::string (*value)(const WorkerStatus&);
  };
  const PerWorker per_worker[] = {
      {"loadstar_worker_tasks_done", "Tasks the worker has staged and acknowledged",
       [](const WorkerStatus& ws) { return std::to_string(ws.tasks_done); }},
      {"loadstar_worker_tasks_failed", "Task failures the worker has reported",
       [](const WorkerStatus& ws) { return std::to_string(ws.tasks_failed); }},
      {"loadstar_worker_in_flight", "Tasks leased to the worker now",
       [](const WorkerStatus& ws) { return std::to_string(ws.in_flight); }},
      {"loadstar_worker_credit", "Tasks the worker may hold at once",
       [](const WorkerStatus& ws) { return std::to_string(ws.credit); }},
      {"loadstar_worker_last_heartbeat_age_seconds", "Seconds since anything was heard from the worker",
       [](const WorkerStatus& ws) { return FormatDouble(ws.last_heartbeat_age_s); }},
  };
  for (const PerWorker& metric : per_worker) {
    w.Family(metric.name, "gauge", metric.help);
    for (size_t i = 0; i < s.workers.size(); ++i) w.Sample(metric.name, labels[i], metric.value(s.workers[i]));
  }
  return w.Take();
}

}  // namespace loadstar::coordinator
