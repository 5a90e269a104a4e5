// Encodings of a StatusSnapshot for programs: JSON (GET /status, `loadstar status --format
// json`) and the Prometheus text exposition format, version 0.0.4 (GET /metrics). Pure
// functions, no I/O.
//
// Text taken from the snapshot (schema, error, step, worker names) is emitted as valid UTF-8:
// any byte that is not part of a well-formed UTF-8 sequence is replaced by U+FFFD, so a worker
// name made of raw bytes never makes the whole document unreadable.
#pragma once

#include <string>
#include <string_view>

#include "common/core/status.h"
#include "coordinator/monitor/status_board.h"

namespace loadstar::coordinator {

// The version of the JSON document below. A reader accepts any document whose version it
// knows; fields added later do not change the version, removed or re-typed ones do.
inline constexpr int kStatusJsonVersion = 1;

// The snapshot as one JSON object (no trailing newline), as proto::MessageToJson prints the
// message (proto/message_json.h) with `version`, `bytes_per_s`, `eta_s` and the latency
// histogram's bounds filled in:
//
//   {"version":1, "schema":"sparkify", "run_id":12, "phase":"staging", "error":"",
//    "step":"" (or the transform step running, e.g. "songplays"), "elapsed_s":42.5,
//    "files_total":30, "files_done":12, "bytes_total":..., "bytes_done":...,
//    "records":..., "staged":..., "rejected":..., "tasks_total":..., "tasks_pending":...,
//    "tasks_leased":..., "tasks_done":..., "tasks_failed":..., "tasks_retried":...,
//    "workers_lost":..., "bytes_per_s":... (the average since the start),
//    "recent_bytes_per_s":... (over the last 20 s) or null when not measured yet,
//    "eta_s":12.1 (at the recent rate) or null when unknown,
//    "task_latency":{"bounds_s":[0.01,...,10], "counts":[... one more than bounds ...], "sum_s":...},
//    "workers":[{"name":"worker-1", "credit":2, "in_flight":1, "tasks_done":10,
//                "tasks_failed":0, "last_heartbeat_age_s":0.3}, ...]}
//
// Counts are JSON integers; `counts[i]` is the number of tasks in bucket i alone (not
// cumulative), the last one above every bound. Non-finite numbers are written as null. The
// phase is one of "starting", "planning", "staging", "transforming", "done", "failed".
std::string EncodeStatusJson(const StatusSnapshot& snapshot);

// Reads a document written by EncodeStatusJson. Fields that are missing keep their defaults;
// unknown fields are ignored; the derived fields (bytes_per_s, eta_s) are read back as the
// coordinator wrote them, and null ones (recent_bytes_per_s, eta_s) are left unset.
// Errors: Parse when `json` is not JSON, not an object, has a field of the wrong type, or a
// task_latency with the wrong number of buckets; FailedPrecondition when its version is not
// one this build can read.
Result<StatusSnapshot> DecodeStatusJson(std::string_view json);

// The snapshot in the Prometheus text exposition format, version 0.0.4: for every metric a
// `# HELP` and a `# TYPE` line, then its samples, one per line, each `name{labels} value`.
// Metrics (all prefixed `loadstar_`):
//   tasks{state="pending|leased|done|failed"}   gauge
//   tasks_total, files_total, files_done, bytes_total, bytes_done, workers,
//   run_id, elapsed_seconds                     gauges
//   phase{phase=...}                            gauge, 1 for the current phase and 0 for every
//                                               other one of kRunPhases (a phase outside that
//                                               list, by its number, is listed too, with 1)
//   tasks_retried_total, workers_lost_total     counters
//   records_total{outcome="read|staged|rejected"}  counter
//   task_latency_seconds                        histogram: cumulative _bucket{le=...} for every
//                                               bound and +Inf, _sum, _count (== the +Inf bucket)
//   worker_tasks_done, worker_tasks_failed, worker_in_flight, worker_credit,
//   worker_last_heartbeat_age_seconds           gauges, one sample per worker{worker="name"}
// Label values are escaped as the format requires (backslash, double quote, line feed). Two
// workers announcing the same name would make duplicate series, which Prometheus rejects for
// the whole scrape: the second and later ones are labelled "name#2", "name#3", ...
std::string RenderPrometheusMetrics(const StatusSnapshot& snapshot);

// The content type of RenderPrometheusMetrics' output.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace loadstar::coordinator
