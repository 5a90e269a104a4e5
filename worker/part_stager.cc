#include "worker/part_stager.h"

#include <cstdlib>

#include "common/core/file_kind.h"
#include "common/core/text.h"
#include "proto/message_json.h"
#include "worker/file_rows.h"

namespace loadstar::worker {
namespace {

// The first `n` tab-separated fields of a COPY text row.
std::vector<std::string_view> LeadingFields(std::string_view row, size_t n) {
  std::vector<std::string_view> fields;
  while (fields.size() < n) {
    size_t tab = row.find('\t');
    fields.push_back(row.substr(0, tab));
    if (tab == std::string_view::npos) break;
    row.remove_prefix(tab + 1);
  }
  return fields;
}

}  // namespace

bool AppendCsvRecord(std::string_view copy_row, size_t max_field_bytes, std::string* out, size_t* field,
                     size_t* bytes) {
  const size_t start = out->size();
  std::string value;
  size_t index = 0;
  size_t pos = 0;
  while (true) {
    size_t tab = copy_row.find('\t', pos);
    std::string_view raw = copy_row.substr(pos, tab == std::string_view::npos ? std::string_view::npos : tab - pos);
    if (index > 0) out->push_back(',');
    if (raw != "\\N") {
      value.clear();
      AppendUnescapedCopyText(raw, &value);
      if (value.size() > max_field_bytes) {
        out->resize(start);
        *field = index;
        *bytes = value.size();
        return false;
      }
      out->push_back('"');
      size_t from = 0;
      for (size_t q = value.find('"'); q != std::string::npos; q = value.find('"', from)) {
        out->append(value, from, q + 1 - from);
        out->push_back('"');
        from = q + 1;
      }
      out->append(value, from, std::string::npos);
      out->push_back('"');
    }
    if (tab == std::string_view::npos) break;
    pos = tab + 1;
    ++index;
  }
  out->push_back('\n');
  return true;
}

// The parts of one staging table for this attempt, written as they fill.
class S3PartStager::Table {
 public:
  Table(const PartTarget& target, const PartOptions& options, std::string name)
      : target_(target), options_(options), name_(std::move(name)) {}

  // Appends CSV records (`count` of them).
  Status Append(std::string_view csv, uint64_t count) {
    if (csv.empty()) return Status::Ok();
    gzip_.Append(csv);
    rows_ += count;
    if (gzip_.compressed_bytes() >= options_.max_part_bytes) return Flush();
    return Status::Ok();
  }

  // Uploads what is pending as one more part (nothing when no row is pending).
  Status Flush() {
    if (rows_ == 0) return Status::Ok();
    const uint64_t raw = gzip_.raw_bytes();
    std::string body = gzip_.Finish();
    staging::Part part;
    part.set_table(name_);
    part.set_key(target_.key_prefix + name_ + "-" + std::to_string(parts_.size()) + ".csv.gz");
    part.set_content_length(body.size());
    part.set_rows(rows_);
    part.set_raw_bytes(raw);
    LOADSTAR_RETURN_IF_ERROR(target_.store->Put(part.key(), body).WithContext("writing staging part " + part.key()));
    parts_.push_back(std::move(part));
    rows_ = 0;
    return Status::Ok();
  }

  const std::vector<staging::Part>& parts() const { return parts_; }
  const std::string& name() const { return name_; }

 private:
  const PartTarget& target_;
  const PartOptions& options_;
  const std::string name_;
  GzipWriter gzip_;
  uint64_t rows_ = 0;
  std::vector<staging::Part> parts_;
};

Status S3PartStager::PutRows(std::string_view rows, Table* table, const std::string& prefix, FileOutcome* out,
                             std::string* rejects) {
  std::string csv;
  csv.reserve(rows.size() + rows.size() / 4);
  uint64_t count = 0;
  while (!rows.empty()) {
    size_t nl = rows.find('\n');
    std::string_view row = rows.substr(0, nl);
    rows.remove_prefix(nl == std::string_view::npos ? rows.size() : nl + 1);
    size_t field = 0, bytes = 0;
    if (AppendCsvRecord(row, kMaxRedshiftFieldBytes, &csv, &field, &bytes)) {
      ++count;
      continue;
    }
    // Too wide for Redshift: the record is rejected here rather than failing the COPY.
    if (rejects == nullptr) {
      return Status::Internal("a " + table->name() + " row has a value of " + std::to_string(bytes) + " bytes");
    }
    std::vector<std::string_view> lead = LeadingFields(row, 3);  // run_id, file_id, line
    RejectedRecord rej;
    rej.line = lead.size() == 3 ? std::strtoull(std::string(lead[2]).c_str(), nullptr, 10) : 0;
    rej.byte_offset = 0;  // not known here; the line says where the record is
    rej.reason = "a value is " + std::to_string(bytes) + " bytes long (column " + std::to_string(field + 1) + " of " +
                 table->name() + "); Redshift holds at most " + std::to_string(kMaxRedshiftFieldBytes) +
                 " bytes in a value";
    rej.excerpt = std::string(Utf8Prefix(row.substr(0, 1024), 256));
    AppendReject(prefix, rej, rejects);
    --out->staged;
    --out->staged_rows;
    ++out->rejected;
  }
  return table->Append(csv, count);
}

Result<std::vector<FileOutcome>> S3PartStager::StageTask(int64_t run_id, std::vector<FetchedFile>& files) {
  const std::string run = std::to_string(run_id);
  Table plays(target_, parts_, "staging_plays");
  Table users(target_, parts_, "staging_users");
  Table times(target_, parts_, "staging_time");
  Table songs(target_, parts_, "staging_songs");
  Table rejects_table(target_, parts_, "rejects");
  Table accounts(target_, parts_, "staging_files");

  staging::StagedParts marker;
  marker.set_run_id(run_id);
  marker.set_task_id(target_.task_id);
  marker.set_attempt(target_.attempt);
  marker.set_worker(target_.worker);

  std::vector<FileOutcome> outcomes;
  outcomes.reserve(files.size());
  std::string account_rows;
  for (auto& f : files) {
    if (f.file_id <= 0) return Status::InvalidArgument("the task names " + f.uri + " without a file id");
    FileOutcome out;
    out.uri = f.uri;
    out.bytes = f.size;
    const std::string prefix = run + '\t' + std::to_string(f.file_id) + '\t';
    std::string rejects;
    // Song rows are one per record: one too wide for Redshift rejects its record. The parser
    // already rejects any record with a value that wide (ParserOptions::max_value_bytes), so for
    // the other tables, whose rows stand for several records or part of one, it is an error.
    auto put = [&](const StagedRows& rows) -> Status {
      LOADSTAR_RETURN_IF_ERROR(PutRows(rows.songs, &songs, prefix, &out, &rejects));
      LOADSTAR_RETURN_IF_ERROR(PutRows(rows.plays, &plays, prefix, &out, nullptr));
      LOADSTAR_RETURN_IF_ERROR(PutRows(rows.users, &users, prefix, &out, nullptr));
      return PutRows(rows.times, &times, prefix, &out, nullptr);
    };
    if (f.store != nullptr) {
      LOADSTAR_RETURN_IF_ERROR(ParseStreamedFile(parser_, options_, f, prefix, put, &out, &rejects));
    } else {
      StagedRows rows;
      ParseWholeFile(parser_, f, prefix, &rows, &rejects, &out);
      std::string().swap(f.body);  // a task's memory is its largest file, not its sum
      LOADSTAR_RETURN_IF_ERROR(put(rows));
    }
    // Rejects are COPY text rows too; none is ever too wide (reasons and excerpts are short).
    LOADSTAR_RETURN_IF_ERROR(PutRows(rejects, &rejects_table, prefix, &out, nullptr));

    staging::StagedFile* sf = marker.add_files();
    sf->set_uri(f.uri);
    sf->set_file_id(f.file_id);
    sf->set_etag(f.etag);
    sf->set_size(f.size);
    sf->set_records(out.records);
    sf->set_staged(out.staged);
    sf->set_rejected(out.rejected);
    sf->set_staged_rows(out.staged_rows);
    // run_id, file_id, uri, kind, etag, size, records, staged, rejected, staged_rows
    account_rows.clear();
    account_rows += prefix;
    AppendCopyText(f.uri, &account_rows);
    account_rows += '\t';
    account_rows += FileKindText(f.kind);
    account_rows += '\t';
    AppendCopyText(f.etag, &account_rows);
    account_rows += '\t' + std::to_string(f.size) + '\t' + std::to_string(out.records) + '\t' +
                    std::to_string(out.staged) + '\t' + std::to_string(out.rejected) + '\t' +
                    std::to_string(out.staged_rows) + '\n';
    LOADSTAR_RETURN_IF_ERROR(PutRows(account_rows, &accounts, prefix, &out, nullptr));
    outcomes.push_back(std::move(out));
  }
  for (Table* t : {&plays, &users, &times, &songs, &rejects_table, &accounts}) {
    LOADSTAR_RETURN_IF_ERROR(t->Flush());
    for (const staging::Part& p : t->parts()) *marker.add_parts() = p;
  }
  // Last: the marker makes the attempt complete.
  const std::string key = target_.key_prefix + "marker.json";
  LOADSTAR_RETURN_IF_ERROR(target_.store->Put(key, proto::MessageToJson(marker)).WithContext("writing the marker " + key));
  marker_ = std::move(marker);
  return outcomes;
}

}  // namespace loadstar::worker
