#include "coordinator/report/query_render_internal.h"

#include "common/core/json_text.h"
#include "common/core/text.h"

#include <algorithm>
#include <cstdio>

namespace loadstar::coordinator::internal {
namespace {

// One line per cell: control characters become spaces; cut to `max` characters.
std::string Cell(std::string_view value, size_t max) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  if (max < 4 || Utf8CharCount(out) <= max) return out;
  size_t keep = max - 3, chars = 0, pos = 0;
  for (; pos < out.size(); ++pos) {
    if ((static_cast<unsigned char>(out[pos]) & 0xC0) != 0x80 && chars++ == keep) break;  // a character starts
  }
  out.resize(pos);
  return out + "...";
}

void Pad(std::string* line, size_t n) { line->append(n, ' '); }

}  // namespace

Result<std::string> WrapQuery(std::string_view wrapper, std::string_view query, const SqlVars& vars) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string outer, SqlText(wrapper, vars));
  LOADSTAR_ASSIGN_OR_RETURN(std::string inner, SqlText(query, vars));
  size_t at = outer.find(kQueryMarker);
  if (at == std::string::npos || outer.find(kQueryMarker, at + 1) != std::string::npos) {
    return Status::Internal(SqlFilePath(wrapper, vars.dialect) + " must hold the line " + std::string(kQueryMarker) +
                            " exactly once");
  }
  std::string_view select = TrimWhitespace(inner);
  if (!select.empty() && select.back() == ';') select.remove_suffix(1);
  // A line break must end any "--" comment on the SELECT's last line before the wrapper goes on.
  const bool line_ends = at + kQueryMarker.size() < outer.size() && outer[at + kQueryMarker.size()] == '\n';
  outer.replace(at, kQueryMarker.size(), std::string(select) + (line_ends ? "" : "\n"));
  return outer;
}

std::string LeadingComment(std::string_view sql) {
  std::string_view text = TrimWhitespace(sql);
  if (text.substr(0, 2) != "--") return "";
  const size_t eol = text.find('\n');
  return std::string(TrimWhitespace(text.substr(2, eol == std::string_view::npos ? eol : eol - 2)));
}

namespace {

// Redshift has no json_agg: the rows are turned into the same JSON here, numbers (by the
// column's type) bare, NULL as null, everything else a string.
Result<std::string> QueryAsJsonHere(Warehouse* wh, std::string_view query, const std::vector<SqlParam>& params,
                                    const SqlVars& vars) {
  LOADSTAR_ASSIGN_OR_RETURN(std::string sql, SqlText(query, vars));
  auto rows = wh->QueryText(sql, params);
  if (!rows.ok()) return rows.status().WithContext(SqlFilePath(query, wh->dialect()));
  std::string json = "[";
  for (size_t r = 0; r < rows->size(); ++r) {
    json += r == 0 ? "{" : ", {";
    for (size_t c = 0; c < rows->columns().size(); ++c) {
      if (c > 0) json += ',';
      AppendJsonString(&json, rows->columns()[c]);
      json += ':';
      const auto& v = rows->at(r, c);
      if (!v) {
        json += "null";
      } else if (rows->numeric(c) && *v != "NaN" && *v != "Infinity" && *v != "-Infinity") {
        json += *v;
      } else {
        AppendJsonString(&json, *v);
      }
    }
    json += '}';
  }
  return json + "]";
}

}  // namespace

Result<std::string> QueryAsJson(Warehouse* wh, std::string_view query, const std::vector<SqlParam>& params,
                                const SqlVars& vars) {
  SqlVars full = vars;
  if (full.schema.empty()) full.schema = wh->schema();
  full.dialect = wh->dialect();
  if (wh->dialect() == Dialect::kRedshift) return QueryAsJsonHere(wh, query, params, full);
  LOADSTAR_ASSIGN_OR_RETURN(std::string sql, WrapQuery("rows_as_json", query, full));
  auto rows = wh->QueryText(sql, params);
  if (!rows.ok()) return rows.status().WithContext(SqlFilePath(query, wh->dialect()));
  if (rows->size() != 1 || rows->columns().size() != 1) {
    return Status::Internal(SqlFilePath("rows_as_json", wh->dialect()) + " returned no single value for " + std::string(query));
  }
  // json_agg puts ", \n " between elements; JSON strings cannot hold a raw line break, so each
  // one is whitespace between values and goes, with the space after it.
  const std::string raw = rows->text(0, 0);
  std::string json;
  json.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\n') {
      json.push_back(raw[i]);
    } else if (i + 1 < raw.size() && raw[i + 1] == ' ') {
      ++i;
    }
  }
  return json;
}

Status ReadScope::Begin() {
  if (wh_->in_transaction()) return Status::Ok();
  LOADSTAR_RETURN_IF_ERROR(wh_->Begin());
  owned_ = true;
  Status s = wh_->ExecFile("read_snapshot");
  if (!s.ok()) (void)End();
  return s;
}

Status ReadScope::End() {
  if (!owned_) return Status::Ok();
  owned_ = false;
  // Nothing was written: rolling back just ends the snapshot.
  return wh_->Rollback();
}

std::string RenderTextTable(const QueryResult& rows, const TextTableOptions& options) {
  const size_t ncols = rows.columns().size();
  std::vector<std::vector<std::string>> cells(rows.size(), std::vector<std::string>(ncols));
  std::vector<size_t> width(ncols, 0);
  std::vector<bool> numeric(ncols, true);
  std::vector<bool> any_value(ncols, false);
  for (size_t c = 0; c < ncols; ++c) width[c] = Utf8CharCount(Cell(rows.columns()[c], options.max_cell_width));
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < ncols; ++c) {
      const auto& v = rows.at(r, c);
      if (v) {
        any_value[c] = true;
        if (!LooksNumeric(*v)) numeric[c] = false;
      }
      cells[r][c] = Cell(v ? std::string_view(*v) : std::string_view(options.null_text), options.max_cell_width);
      width[c] = std::max(width[c], Utf8CharCount(cells[r][c]));
    }
  }
  for (size_t c = 0; c < ncols; ++c) numeric[c] = numeric[c] && any_value[c];

  auto line = [&](const std::vector<std::string>& values) {
    std::string out = options.indent;
    for (size_t c = 0; c < ncols; ++c) {
      const size_t gap = width[c] - Utf8CharCount(values[c]);
      if (c > 0) out += "  ";
      if (numeric[c]) Pad(&out, gap);
      out += values[c];
      if (!numeric[c]) Pad(&out, gap);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };

  std::vector<std::string> header(ncols), rule(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    header[c] = Cell(rows.columns()[c], options.max_cell_width);
    rule[c] = std::string(width[c], '-');
  }
  std::string out = line(header) + line(rule);
  for (const auto& row : cells) out += line(row);
  return out;
}

std::string JsonString(std::string_view s) { return ::loadstar::JsonString(s); }

bool LooksNumeric(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

}  // namespace loadstar::coordinator::internal
