#include "coordinator/monitor/status_encoding.h"

#include "common/core/json_text.h"
#include "proto/message_json.h"


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

// The shortest decimal text that reads back as `v`; infinities and NaN as Prometheus spells
// them, +Inf, -Inf and NaN.
std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
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
  StatusSnapshot doc = s;
  doc.set_version(kStatusJsonVersion);
  doc.set_bytes_per_s(AverageBytesPerSecond(s));
  if (const double eta = EtaSeconds(s); eta >= 0) {
    doc.set_eta_s(eta);
  } else {
    doc.clear_eta_s();
  }
  // The histogram as this build counts it, whatever the snapshot was made with.
  status::TaskLatency* latency = doc.mutable_task_latency();
  latency->clear_bounds_s();
  latency->mutable_bounds_s()->Add(kTaskLatencyBuckets.begin(), kTaskLatencyBuckets.end());
  latency->mutable_counts()->Resize(static_cast<int>(kTaskLatencyBuckets.size() + 1), 0);
  return proto::MessageToJson(doc);
}

Result<StatusSnapshot> DecodeStatusJson(std::string_view json) {
  // The version first, from the document as any JSON object: a newer document may not fit
  // this build's message, and then the version is what to tell.
  auto version = proto::JsonTopLevelNumber(json, "version");
  if (!version.ok()) return Status::Parse("status document: " + version.status().message());
  if (version->has_value() && **version != kStatusJsonVersion) {
    return Status::FailedPrecondition("status document version " + FormatDouble(**version) +
                                      " is not one this loadstar reads (" + std::to_string(kStatusJsonVersion) +
                                      "); use a loadstar of the coordinator's version");
  }
  StatusSnapshot s;
  if (Status parsed = proto::JsonToMessage(json, &s); !parsed.ok()) {
    return Status::Parse("status document: " + parsed.message());
  }
  const int buckets = static_cast<int>(kTaskLatencyBuckets.size() + 1);
  if (const int n = s.task_latency().counts_size(); n != 0 && n != buckets) {
    return Status::Parse("status document: task_latency.counts has " + std::to_string(n) +
                         " buckets, this build has " + std::to_string(buckets));
  }
  return s;
}

std::string RenderPrometheusMetrics(const StatusSnapshot& s) {
  ExpositionWriter w;

  w.Family("loadstar_phase", "gauge", "1 for the phase the run is in (starting, planning, staging, transforming, "
                                      "done, failed), 0 for the others");
  bool known_phase = false;
  for (RunPhase phase : kRunPhases) {
    known_phase |= phase == s.phase();
    w.Sample("loadstar_phase", Label("phase", PhaseName(phase)), uint64_t{phase == s.phase() ? 1u : 0u});
  }
  if (!known_phase) w.Sample("loadstar_phase", Label("phase", PhaseName(s.phase())), 1);
  w.Family("loadstar_run_id", "gauge", "Id of the run in the warehouse's runs table (0 before it is known)");
  w.Sample("loadstar_run_id", "", std::to_string(s.run_id()));
  w.Family("loadstar_elapsed_seconds", "gauge", "Seconds since the run started");
  w.SampleDouble("loadstar_elapsed_seconds", "", s.elapsed_s());

  w.Family("loadstar_tasks", "gauge", "Tasks of the run by state");
  w.Sample("loadstar_tasks", Label("state", "pending"), s.tasks_pending());
  w.Sample("loadstar_tasks", Label("state", "leased"), s.tasks_leased());
  w.Sample("loadstar_tasks", Label("state", "done"), s.tasks_done());
  w.Sample("loadstar_tasks", Label("state", "failed"), s.tasks_failed());
  w.Gauge("loadstar_tasks_total", "Tasks planned for the run", s.tasks_total());
  w.Family("loadstar_tasks_retried_total", "counter",
           "Task attempts that did not stick: retryable failures and leases lost with their workers");
  w.Sample("loadstar_tasks_retried_total", "", s.tasks_retried());

  w.Gauge("loadstar_files_total", "Files the run stages", s.files_total());
  w.Gauge("loadstar_files_done", "Files staged and acknowledged", s.files_done());
  w.Gauge("loadstar_bytes_total", "Bytes of the files the run stages", s.bytes_total());
  w.Gauge("loadstar_bytes_done", "Bytes of the files staged and acknowledged", s.bytes_done());
  w.Family("loadstar_records_total", "counter",
           "Records in staged files: read, staged into the staging tables, rejected");
  w.Sample("loadstar_records_total", Label("outcome", "read"), s.records());
  w.Sample("loadstar_records_total", Label("outcome", "staged"), s.staged());
  w.Sample("loadstar_records_total", Label("outcome", "rejected"), s.rejected());

  w.Gauge("loadstar_workers", "Workers connected now", static_cast<size_t>(s.workers_size()));
  w.Family("loadstar_workers_lost_total", "counter", "Workers declared dead after missing their heartbeats");
  w.Sample("loadstar_workers_lost_total", "", s.workers_lost());
  w.Gauge("loadstar_workers_unfit", "Workers that came only to say they cannot take part (e.g. no route to the warehouse)",
          static_cast<size_t>(s.workers_unfit_size()));

  w.Family("loadstar_task_latency_seconds", "histogram", "Seconds from a task's lease to its acknowledgement");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kTaskLatencyBuckets.size(); ++i) {
    cumulative += TaskLatencyCount(s, i);
    w.Sample("loadstar_task_latency_seconds_bucket", Label("le", FormatDouble(kTaskLatencyBuckets[i])), cumulative);
  }
  cumulative += TaskLatencyCount(s, kTaskLatencyBuckets.size());
  w.Sample("loadstar_task_latency_seconds_bucket", Label("le", "+Inf"), cumulative);
  w.SampleDouble("loadstar_task_latency_seconds_sum", "", s.task_latency().sum_s());
  w.Sample("loadstar_task_latency_seconds_count", "", cumulative);

  // One label value per worker, unique even when names repeat.
  std::vector<std::string> labels;
  labels.reserve(static_cast<size_t>(s.workers_size()));
  std::set<std::string, std::less<>> used;
  for (const WorkerStatus& ws : s.workers()) {
    const std::string escaped = PrometheusLabelValue(ws.name());
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
       [](const WorkerStatus& ws) { return std::to_string(ws.tasks_done()); }},
      {"loadstar_worker_tasks_failed", "Task failures the worker has reported",
       [](const WorkerStatus& ws) { return std::to_string(ws.tasks_failed()); }},
      {"loadstar_worker_in_flight", "Tasks leased to the worker now",
       [](const WorkerStatus& ws) { return std::to_string(ws.in_flight()); }},
      {"loadstar_worker_credit", "Tasks the worker may hold at once",
       [](const WorkerStatus& ws) { return std::to_string(ws.credit()); }},
      {"loadstar_worker_last_heartbeat_age_seconds", "Seconds since anything was heard from the worker",
       [](const WorkerStatus& ws) { return FormatDouble(ws.last_heartbeat_age_s()); }},
  };
  for (const PerWorker& metric : per_worker) {
    w.Family(metric.name, "gauge", metric.help);
    for (int i = 0; i < s.workers_size(); ++i) {
      w.Sample(metric.name, labels[static_cast<size_t>(i)], metric.value(s.workers(i)));
    }
  }
  return w.Take();
}

}  // namespace loadstar::coordinator
