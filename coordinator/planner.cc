#include "coordinator/planner.h"

#include <algorithm>
#include <unordered_map>

#include "common/core/log.h"
#include "common/storage/object_store.h"
#include "common/warehouse/ledger.h"

namespace loadstar::coordinator {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// What planning needs to know of one ledger row, in 32 bytes: a coordinator planning a million
// files keeps a million of these. ETags are compared by a 64-bit hash; a collision (odds about
// 1 in 10^10 at a million files) could only make a changed file look unchanged to one rerun.
struct KnownFile {
  uint64_t etag_hash = 0;
  int64_t run_id = 0;
  int64_t file_id = 0;
  FileState state = FileState::kNew;
};

uint64_t Hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

std::string DateInKey(std::string_view key) {
  auto digits = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n; ++i) {
      if (key[i] < '0' || key[i] > '9') return false;
    }
    return true;
  };
  for (size_t i = key.size(); i >= 10; --i) {
    size_t at = i - 10;
    if (digits(at, 4) && key[at + 4] == '-' && digits(at + 5, 2) && key[at + 7] == '-' && digits(at + 8, 2)) {
      return std::string(key.substr(at, 10));
    }
  }
  return "";
}

Status ValidateDate(std::string_view date) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(date) + "' is not a date; write it as YYYY-MM-DD, e.g. 2018-11-05");
  };
  if (date.size() != 10 || DateInKey(date) != date) return bad();
  int month = (date[5] - '0') * 10 + (date[6] - '0');
  int day = (date[8] - '0') * 10 + (date[9] - '0');
  if (month < 1 || month > 12 || day < 1 || day > 31) return bad();
  return Status::Ok();
}

bool IsJsonKey(std::string_view key) {
  if (EndsWith(key, ".gz")) key.remove_suffix(3);
  return EndsWith(key, ".json") || EndsWith(key, ".jsonl") || EndsWith(key, ".ndjson");
}

Result<Plan> BuildPlan(const std::vector<SourceSpec>& sources, Warehouse* wh, int64_t run_id,
                       const PlanOptions& options) {
  // Keyed by the hash of the URI (see KnownFile).
  std::unordered_map<uint64_t, KnownFile> ledger;
  int64_t plan_max_file_id = 0;
  bool checked = false;
  LOADSTAR_RETURN_IF_ERROR(wh->QueryFileEach("ledger_all", {}, [&](const QueryResult& row) {
    if (!checked) {
      Status columns = row.RequireColumns({"file_id", "uri", "etag", "state", "run_id"})
                           .WithContext(SqlFilePath("ledger_all", wh->dialect()));
      if (!columns.ok()) return columns;
      checked = true;
    }
    auto state = ParseFileState(row.text(0, "state"));
    if (!state.ok()) return state.status().WithContext("the ledger (load_files) row of " + row.text(0, "uri"));
    const int64_t file_id = row.integer(0, "file_id");
    plan_max_file_id = std::max(plan_max_file_id, file_id);
    ledger.emplace(Hash(row.text(0, "uri")), KnownFile{Hash(row.text(0, "etag")), row.integer(0, "run_id"), file_id, *state});
    return Status::Ok();
  }));

  Plan plan;
  for (const SourceSpec& source : sources) {
    LOADSTAR_ASSIGN_OR_RETURN(Uri root, ParseUri(source.uri));
    LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> store, OpenObjectStore(root));
    SourceListing listing{source.uri, source.kind, 0, 0};
    Status listed = store->List(root.path, [&](ObjectInfo info) -> Status {
      if (!IsJsonKey(info.key)) {
        ++plan.ignored_not_json;
        ++listing.other_objects;
        return Status::Ok();
      }
      ++listing.json_files;
      if (source.kind == FileKind::kEvent && (!options.since.empty() || !options.until.empty())) {
        std::string date = DateInKey(info.key);
        if (date.empty() || (!options.since.empty() && date < options.since) ||
            (!options.until.empty() && date > options.until)) {
          ++plan.outside_dates;
          return Status::Ok();
        }
      }
      ++plan.listed_files;
      plan.listed_bytes += info.size;
      std::string uri = store->UriFor(info.key);
      std::optional<LedgerFacts> known;
      int64_t file_id = 0;
      if (auto it = ledger.find(Hash(uri)); it != ledger.end()) {
        known = LedgerFacts{it->second.state, it->second.run_id, it->second.etag_hash == Hash(info.etag)};
        file_id = it->second.file_id;
      }
      if (options.staged_elsewhere != nullptr) {
        // Staged by this run outside the warehouse (S3 staging): that counts as staged with the
        // ETag it had then.
        if (auto it = options.staged_elsewhere->find(uri); it != options.staged_elsewhere->end()) {
          if (it->second == info.etag) {
            ++plan.skipped_staged;
            return Status::Ok();
          }
          plan.changed_since_staged.push_back(uri);
        }
      }
      switch (Decide(known, run_id, options.full_refresh)) {
        case PlanDecision::kSkipLoaded:
          ++plan.skipped_loaded;
          return Status::Ok();
        case PlanDecision::kSkipStaged:
          ++plan.skipped_staged;
          return Status::Ok();
        case PlanDecision::kStage:
          break;
      }
      plan.Add(uri, info.etag, info.size, source.kind, file_id);
      return Status::Ok();
    });
    if (!listed.ok()) return listed.WithContext("listing " + source.uri);
    if (listing.json_files == 0) {
      log::Warn("no JSON files under " + source.uri + " (" + std::to_string(listing.other_objects) +
                " other objects); loadstar reads keys ending in .json, .jsonl or .ndjson, optionally .gz");
    }
    plan.sources.push_back(std::move(listing));
  }

  plan.max_file_id = plan_max_file_id;
  if (options.task_multiple <= 1) {
    std::vector<PackInput> inputs;
    inputs.reserve(plan.files.size());
    for (size_t i = 0; i < plan.files.size(); ++i) {
      inputs.push_back(PackInput{i, plan.files[i].size, plan.files[i].kind});
    }
    plan.tasks = PackTasks(std::move(inputs), options.pack);
    return plan;
  }
  for (FileKind kind : {FileKind::kSong, FileKind::kEvent}) {
    std::vector<PackInput> inputs;
    uint64_t bytes = 0;
    for (size_t i = 0; i < plan.files.size(); ++i) {
      if (plan.files[i].kind != kind) continue;
      inputs.push_back(PackInput{i, plan.files[i].size, kind});
      bytes += plan.files[i].size;
    }
    if (inputs.empty()) continue;
    const uint64_t budget = std::max<uint64_t>(options.pack.byte_budget, 1);
    const uint64_t most = std::max<uint64_t>(options.pack.max_files, 1);
    uint64_t tasks = std::max<uint64_t>((bytes + budget - 1) / budget, (inputs.size() + most - 1) / most);
    tasks = std::max<uint64_t>(tasks, 1);
    if (tasks < options.task_multiple) {
      std::vector<PackedTask> packed = PackTasks(std::move(inputs), options.pack);
      plan.tasks.insert(plan.tasks.end(), std::make_move_iterator(packed.begin()), std::make_move_iterator(packed.end()));
      continue;
    }
    // Exactly `tasks` tasks (a multiple; never more than there are files), filled in order: each
    // takes files until it holds its share of the bytes left (the bytes left over the tasks
    // left) or `max_files`, always at least one, and leaves at least one file for every task
    // after it. The last task takes what remains.
    tasks = (tasks + options.task_multiple - 1) / options.task_multiple * options.task_multiple;
    if (tasks > inputs.size()) tasks = inputs.size() / options.task_multiple * options.task_multiple;
    if (tasks < options.task_multiple) {
      std::vector<PackedTask> packed = PackTasks(std::move(inputs), options.pack);
      plan.tasks.insert(plan.tasks.end(), std::make_move_iterator(packed.begin()), std::make_move_iterator(packed.end()));
      continue;
    }
    uint64_t bytes_left = bytes;
    size_t next = 0;
    for (uint64_t k = 0; k < tasks; ++k) {
      const uint64_t tasks_left = tasks - k;
      const double share = static_cast<double>(bytes_left) / static_cast<double>(tasks_left);
      PackedTask t;
      t.kind = kind;
      while (next < inputs.size()) {
        const size_t files_left = inputs.size() - next;
        if (!t.files.empty()) {
          if (tasks_left > 1 && files_left <= tasks_left - 1) break;  // one each for the rest
          if (tasks_left > 1 && (t.files.size() >= most || t.bytes + inputs[next].size / 2.0 > share)) break;
        }
        t.bytes += inputs[next].size;
        t.files.push_back(inputs[next].index);
        ++next;
      }
      bytes_left -= t.bytes;
      plan.tasks.push_back(std::move(t));
    }
  }
  return plan;
}

}  // namespace loadstar::coordinator
