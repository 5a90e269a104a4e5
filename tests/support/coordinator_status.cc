#include "tests/support/coordinator_status.h"

#include <simdjson.h>

#include "tests/support/test_env.h"

namespace loadstar::testing {

const CoordinatorStatus::Worker* CoordinatorStatus::FindWorker(const std::string& name) const {
  for (const Worker& w : workers) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

std::string CoordinatorStatus::ToString() const {
  std::string out = phase + " files " + std::to_string(files_done) + "/" + std::to_string(files_total) + " tasks " +
                    std::to_string(tasks_done) + "/" + std::to_string(tasks_total) + " retried " +
                    std::to_string(tasks_retried) + " lost " + std::to_string(workers_lost) + " workers";
  for (const Worker& w : workers) out += " " + w.name + ":" + std::to_string(w.tasks_done);
  return out;
}

std::optional<CoordinatorStatus> ReadCoordinatorStatus(const std::string& host_port) {
  CommandResult r = RunCommand({"curl", "-sS", "--fail", "--max-time", "5", "http://" + host_port + "/status"}, {}, 10);
  if (r.exit_code != 0) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.output).get(doc) != simdjson::SUCCESS) return std::nullopt;
  CoordinatorStatus s;
  bool ok = true;
  auto text = [&](simdjson::dom::element e, const char* key, std::string* out) {
    std::string_view v;
    if (e[key].get_string().get(v) != simdjson::SUCCESS) ok = false;
    *out = std::string(v);
  };
  auto count = [&](simdjson::dom::element e, const char* key, uint64_t* out) {
    if (e[key].get_uint64().get(*out) != simdjson::SUCCESS) ok = false;
  };
  text(doc, "phase", &s.phase);
  if (doc["run_id"].get_int64().get(s.run_id) != simdjson::SUCCESS) ok = false;
  count(doc, "files_total", &s.files_total);
  count(doc, "files_done", &s.files_done);
  count(doc, "tasks_total", &s.tasks_total);
  count(doc, "tasks_pending", &s.tasks_pending);
  count(doc, "tasks_leased", &s.tasks_leased);
  count(doc, "tasks_done", &s.tasks_done);
  count(doc, "tasks_failed", &s.tasks_failed);
  count(doc, "tasks_retried", &s.tasks_retried);
  count(doc, "workers_lost", &s.workers_lost);
  simdjson::dom::array workers;
  if (doc["workers"].get_array().get(workers) != simdjson::SUCCESS) return std::nullopt;
  for (simdjson::dom::element w : workers) {
    CoordinatorStatus::Worker worker;
    text(w, "name", &worker.name);
    count(w, "in_flight", &worker.in_flight);
    count(w, "tasks_done", &worker.tasks_done);
    count(w, "tasks_failed", &worker.tasks_failed);
    s.workers.push_back(std::move(worker));
  }
  if (!ok) return std::nullopt;
  return s;
}

}  // namespace loadstar::testing
