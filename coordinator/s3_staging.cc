#include "coordinator/s3_staging.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/core/json_text.h"
#include "common/core/log.h"
#include "common/core/uri.h"
#include "proto/message_json.h"

namespace loadstar::coordinator {
namespace {

std::string ProcessToken() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%013lld-%08x", static_cast<long long>(ms), static_cast<unsigned>(rd()));
  return buf;
}

std::string MB(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

std::string PartSizes::ToString() const {
  if (parts == 0) return "no parts";
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.1f", bytes > 0 ? static_cast<double>(raw_bytes) / bytes : 0.0);
  return std::to_string(parts) + " parts, " + MB(bytes) + " compressed (" + ratio + "x), min " + MB(min_bytes) +
         ", median " + MB(median_bytes) + ", max " + MB(max_bytes) + "; " + std::to_string(under_1mb) +
         " under 1 MB, " + std::to_string(over_1gb) + " over 1 GB";
}

PartSizes MeasureParts(const std::vector<staging::StagedParts>& chosen) {
  std::vector<uint64_t> sizes;
  PartSizes s;
  for (const auto& m : chosen) {
    for (const auto& p : m.parts()) {
      sizes.push_back(p.content_length());
      s.bytes += p.content_length();
      s.raw_bytes += p.raw_bytes();
      if (p.content_length() < 1000000) ++s.under_1mb;
      if (p.content_length() > 1000000000) ++s.over_1gb;
    }
  }
  s.parts = sizes.size();
  if (sizes.empty()) return s;
  std::sort(sizes.begin(), sizes.end());
  s.min_bytes = sizes.front();
  s.max_bytes = sizes.back();
  s.median_bytes = sizes[sizes.size() / 2];
  return s;
}

Status StagingArea::ValidateUri(const std::string& uri) {
  auto parsed = ParseUri(uri);
  if (!parsed.ok() || !parsed->is_s3() || parsed->path.empty() || parsed->path.back() != '/') {
    return Status::InvalidArgument("--staging must name an S3 prefix, s3://bucket/prefix/ (ending in '/'), where "
                                   "workers write the parts Redshift loads; got '" + uri + "'");
  }
  return Status::Ok();
}

Status StagingArea::Probe(const std::string& uri) {
  LOADSTAR_RETURN_IF_ERROR(ValidateUri(uri));
  LOADSTAR_ASSIGN_OR_RETURN(Uri root, ParseUri(uri));
  LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> store, OpenObjectStore(root));
  const std::string key = root.path + "_loadstar_probe/" + ProcessToken();
  const std::string body = "loadstar checks that it may write, read and delete here\n";
  auto explain = [&](const Status& s, const std::string& what) {
    return Status(s.code(), "the staging area " + uri + " cannot be used: " + what + " " + s.message() +
                                ". The coordinator and every worker need s3:PutObject, s3:GetObject and "
                                "s3:DeleteObject on it and s3:ListBucket on its bucket (see the README's IAM section)");
  };
  if (Status s = store->Put(key, body); !s.ok()) return explain(s, "writing a test object failed:");
  // S3 reads its writes at once; some S3-compatible servers take a moment, so a few tries.
  Result<std::string> read = std::string();
  for (int attempt = 1; attempt <= 10; ++attempt) {
    read = store->Get(key);
    if (read.ok() && *read == body) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
  }
  if (!read.ok()) return explain(read.status(), "reading a test object back failed:");
  if (*read != body) {
    return Status::DataLoss("the staging area " + uri + " returned " + std::to_string(read->size()) +
                            " other bytes than the " + std::to_string(body.size()) + " written");
  }
  if (Status s = store->Delete(key); !s.ok()) return explain(s, "removing a test object failed:");
  return Status::Ok();
}

StagingArea::StagingArea(std::unique_ptr<ObjectStore> store, std::string bucket, std::string run_key_prefix,
                         std::string process)
    : store_(std::move(store)), bucket_(std::move(bucket)), run_key_prefix_(std::move(run_key_prefix)),
      process_(std::move(process)) {}

Result<std::unique_ptr<StagingArea>> StagingArea::Open(const std::string& uri, int64_t run_id) {
  LOADSTAR_RETURN_IF_ERROR(ValidateUri(uri));
  LOADSTAR_ASSIGN_OR_RETURN(Uri root, ParseUri(uri));
  LOADSTAR_ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> store, OpenObjectStore(root));
  return std::unique_ptr<StagingArea>(new StagingArea(std::move(store), root.bucket,
                                                      root.path + "run=" + std::to_string(run_id) + "/",
                                                      ProcessToken()));
}

std::string StagingArea::run_prefix_uri() const { return "s3://" + bucket_ + "/" + run_key_prefix_; }
std::string StagingArea::process_prefix_uri() const { return run_prefix_uri() + "c=" + process_ + "/"; }

std::string StagingArea::AttemptKey(uint64_t task_id, uint32_t attempt) const {
  return run_key_prefix_ + "c=" + process_ + "/task=" + std::to_string(task_id) + "/attempt=" +
         std::to_string(attempt) + "/";
}

Result<std::string> StagingArea::Doubt(uint64_t task_id, uint32_t attempt, const std::vector<ExpectedFile>& files,
                                       const std::vector<ReportedAccount>& reported, staging::StagedParts* marker) {
  const std::string prefix = AttemptKey(task_id, attempt);
  auto body = store_->Get(prefix + "marker.json");
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kNotFound) return "its marker " + prefix + "marker.json is not in S3";
    return body.status();
  }
  staging::StagedParts m;
  if (Status parsed = proto::JsonToMessage(*body, &m); !parsed.ok()) return "its marker cannot be read: " + parsed.message();
  if (m.task_id() != task_id || m.attempt() != attempt) return std::string("its marker names another task or attempt");
  if (static_cast<size_t>(m.files_size()) != files.size()) {
    return "its marker accounts for " + std::to_string(m.files_size()) + " files of the task's " +
           std::to_string(files.size());
  }
  std::unordered_map<std::string_view, const ReportedAccount*> said;
  for (const ReportedAccount& r : reported) said.emplace(r.uri, &r);
  // Rows wanted per table, as the files' accounts give them. An event file's rows are spread over
  // staging_plays, staging_users and staging_time in proportions no account records: those three
  // are checked together, against the event files' staged_rows.
  uint64_t want_files = 0, want_song_rows = 0, want_event_rows = 0, want_rejects = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const ExpectedFile& e = files[i];
    const staging::StagedFile& f = m.files(static_cast<int>(i));
    if (f.uri() != e.uri || f.etag() != e.etag || f.file_id() != e.file_id) {
      return "its marker's file " + std::to_string(i) + " is " + f.uri() + " (ETag " + f.etag() + ", id " +
             std::to_string(f.file_id()) + "), the plan's " + e.uri + " (ETag " + e.etag + ", id " +
             std::to_string(e.file_id) + ")";
    }
    if (f.records() != f.staged() + f.rejected()) return "its marker's account of " + e.uri + " does not add up";
    auto r = said.find(e.uri);
    if (r == said.end()) return "it does not account for " + e.uri;
    if (r->second->records != f.records() || r->second->staged != f.staged() || r->second->rejected != f.rejected()) {
      return "it reports other counts for " + e.uri + " than its marker holds";
    }
    want_files += 1;
    if (e.kind == FileKind::kSong) {
      // One staging_songs row per staged song record.
      if (f.staged_rows() != f.staged()) {
        return "its marker's account of " + e.uri + " has " + std::to_string(f.staged_rows()) + " staged rows for " +
               std::to_string(f.staged()) + " staged song records";
      }
      want_song_rows += f.staged_rows();
    } else {
      want_event_rows += f.staged_rows();
    }
    want_rejects += f.rejected();
  }
  std::map<std::string, uint64_t> got_rows;
  for (const staging::Part& p : m.parts()) {
    auto t = std::find(StagingTables().begin(), StagingTables().end(), p.table());
    if (t == StagingTables().end()) return "its marker lists a part for an unknown table '" + p.table() + "'";
    if (p.key().rfind(prefix, 0) != 0) return "its marker lists a part outside the attempt: " + p.key();
    got_rows[p.table()] += p.rows();
    auto head = store_->Head(p.key());
    if (!head.ok()) {
      if (head.status().code() == StatusCode::kNotFound) return "its part " + p.key() + " is not in S3";
      return head.status();
    }
    if (head->size != p.content_length()) {
      return "its part " + p.key() + " is " + std::to_string(head->size) + " bytes in S3, " +
             std::to_string(p.content_length()) + " in the marker";
    }
  }
  const struct {
    std::string tables;
    uint64_t got, want;
  } sums[] = {
      {"staging_files", got_rows["staging_files"], want_files},
      {"staging_songs", got_rows["staging_songs"], want_song_rows},
      {"staging_plays, staging_users and staging_time",
       got_rows["staging_plays"] + got_rows["staging_users"] + got_rows["staging_time"], want_event_rows},
      {"rejects", got_rows["rejects"], want_rejects},
  };
  for (const auto& sum : sums) {
    if (sum.got != sum.want) {
      return "its " + sum.tables + " parts hold " + std::to_string(sum.got) + " rows, its accounts " +
             std::to_string(sum.want);
    }
  }
  *marker = std::move(m);
  return std::string();
}

Status StagingArea::Accept(uint64_t task_id, uint32_t attempt) {
  staging::AcceptedAttempt a;
  a.set_task_id(task_id);
  a.set_attempt(attempt);
  a.set_marker_key(AttemptKey(task_id, attempt) + "marker.json");
  const std::string key = run_key_prefix_ + "accepted/" + process_ + "-task=" + std::to_string(task_id) + ".json";
  return store_->Put(key, proto::MessageToJson(a)).WithContext("recording the accepted attempt " + key);
}

Status StagingArea::Forget(const std::string& accepted_key) { return store_->Delete(accepted_key); }

Result<std::vector<staging::StagedParts>> StagingArea::LoadAccepted(uint64_t* passed_over,
                                                                    std::vector<std::string>* accepted_keys) {
  std::vector<std::string> keys;
  LOADSTAR_RETURN_IF_ERROR(store_->List(run_key_prefix_ + "accepted/", [&](ObjectInfo info) {
    keys.push_back(info.key);
    return Status::Ok();
  }));
  std::sort(keys.begin(), keys.end());
  std::vector<staging::StagedParts> chosen;
  std::unordered_set<std::string> covered;
  uint64_t skipped = 0;
  for (const std::string& key : keys) {
    LOADSTAR_ASSIGN_OR_RETURN(std::string body, store_->Get(key));
    staging::AcceptedAttempt a;
    if (Status parsed = proto::JsonToMessage(body, &a); !parsed.ok() || a.marker_key().empty()) {
      // A record cut short (an S3-compatible store that keeps what a killed coordinator had sent
      // of it) names no attempt for certain: none is taken from it, and its files are staged again.
      ++skipped;
      log::Warn("passing over the accepted-attempt record " + key + ", which cannot be read (" +
                (parsed.ok() ? std::string("it names no marker") : parsed.message()) +
                "): its files are staged again");
      continue;
    }
    LOADSTAR_ASSIGN_OR_RETURN(std::string marker_body, store_->Get(a.marker_key()));
    staging::StagedParts m;
    LOADSTAR_RETURN_IF_ERROR(proto::JsonToMessage(marker_body, &m).WithContext("reading " + a.marker_key()));
    bool overlaps = false;
    for (const auto& f : m.files()) overlaps = overlaps || covered.count(f.uri()) > 0;
    if (overlaps) {
      ++skipped;
      log::Warn("passing over the accepted attempt " + a.marker_key() + ": an earlier accepted attempt holds one of "
                "its files (two coordinators served this run)");
      continue;
    }
    for (const auto& f : m.files()) covered.insert(f.uri());
    chosen.push_back(std::move(m));
    if (accepted_keys != nullptr) accepted_keys->push_back(key);
  }
  if (passed_over != nullptr) *passed_over = skipped;
  return chosen;
}

Result<std::vector<TableManifest>> StagingArea::WriteManifests(const std::vector<staging::StagedParts>& chosen) {
  std::map<std::string, std::string> entries;  // table -> JSON entries
  std::map<std::string, TableManifest> manifests;
  for (const auto& m : chosen) {
    for (const staging::Part& p : m.parts()) {
      std::string& e = entries[p.table()];
      if (!e.empty()) e += ",\n";
      e += "  {\"url\": ";
      AppendJsonString(&e, "s3://" + bucket_ + "/" + p.key());
      e += ", \"mandatory\": true, \"meta\": {\"content_length\": " + std::to_string(p.content_length()) + "}}";
      TableManifest& t = manifests[p.table()];
      t.table = p.table();
      t.rows += p.rows();
      t.parts += 1;
    }
  }
  std::vector<TableManifest> out;
  for (const std::string& table : StagingTables()) {
    auto it = manifests.find(table);
    if (it == manifests.end()) continue;
    const std::string key = run_key_prefix_ + "c=" + process_ + "/manifests/" + table + ".manifest";
    LOADSTAR_RETURN_IF_ERROR(
        store_->Put(key, "{\"entries\": [\n" + entries[table] + "\n]}\n").WithContext("writing the manifest " + key));
    it->second.uri = "s3://" + bucket_ + "/" + key;
    out.push_back(it->second);
  }
  return out;
}

Result<uint64_t> StagingArea::RemoveRun() {
  std::vector<std::string> keys;
  LOADSTAR_RETURN_IF_ERROR(store_->List(run_key_prefix_, [&](ObjectInfo info) {
    keys.push_back(info.key);
    return Status::Ok();
  }));
  for (const std::string& key : keys) LOADSTAR_RETURN_IF_ERROR(store_->Delete(key));
  return static_cast<uint64_t>(keys.size());
}

}  // namespace loadstar::coordinator
