#include "common/sql_catalog.h"

namespace loadstar {
namespace sql_embedded {
const std::map<std::string, std::string>& Files();
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::vector<std::string> SqlFileNames() {
  std::vector<std::string> names;
  for (const auto& [name, text] : sql_embedded::Files()) names.push_back(name);
  return names;
}

Result<std::string> SqlText(std::string_view name, const SqlVars& vars) {
  const auto& files = sql_embedded::Files();
  auto it = files.find(std::string(name));
  if (it == files.end()) return Status::NotFound("no SQL file sql/" + std::string(name) + ".sql in this build");
  const std::string& text = it->second;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open);
    if (close == std::string::npos) break;
    out.append(text, pos, open - pos);
    std::string key = text.substr(open + 2, close - open - 2);
    if (key == "schema") {
      if (vars.schema.empty()) return Status::InvalidArgument("sql/" + std::string(name) + ".sql needs a schema");
      out += QuoteIdentifier(vars.schema);
    } else if (key == "run_id") {
      if (vars.run_id < 0) return Status::InvalidArgument("sql/" + std::string(name) + ".sql needs a run id");
      out += std::to_string(vars.run_id);
    } else {
      return Status::InvalidArgument("sql/" + std::string(name) + ".sql uses unknown placeholder {{" + key + "}}");
    }
    pos = close + 2;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace loadstar
