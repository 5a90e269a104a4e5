#include "common/warehouse/sql_catalog.h"

#include <set>

#include "common/core/text.h"

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

namespace {

bool EndsWithAbbreviation(std::string_view text) {
  for (std::string_view abbreviation : {"e.g", "i.e", "cf", "vs"}) {
    if (text.size() >= abbreviation.size() && text.substr(text.size() - abbreviation.size()) == abbreviation &&
        (text.size() == abbreviation.size() || text[text.size() - abbreviation.size() - 1] == ' ' ||
         text[text.size() - abbreviation.size() - 1] == '(')) {
      return true;
    }
  }
  return false;
}

// The first sentence of `paragraph`: up to the first '.', '!' or '?' that ends a word outside
// parentheses (not "e.g."), else the whole paragraph.
std::string FirstSentence(std::string_view paragraph) {
  int depth = 0;
  for (size_t i = 0; i < paragraph.size(); ++i) {
    char c = paragraph[i];
    if (c == '(') ++depth;
    if (c == ')' && depth > 0) --depth;
    bool ends_word = i + 1 == paragraph.size() || paragraph[i + 1] == ' ';
    if ((c == '.' || c == '!' || c == '?') && ends_word && depth == 0 &&
        !(c == '.' && EndsWithAbbreviation(paragraph.substr(0, i)))) {
      return std::string(paragraph.substr(0, i + 1));
    }
  }
  return std::string(paragraph);
}

// The first sentence of the comment block right above the statement's code (its lines joined; an
// empty comment line ends a paragraph), else the first line of its code. Never cut mid-sentence:
// the label is what a person reads in the log.
std::string LabelOf(std::string_view text) {
  std::string paragraph;       // the block's first paragraph so far, lines joined by spaces
  bool paragraph_done = false;  // an empty comment line ended it
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string line(TrimWhitespace(text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos)));
    if (line.empty()) {
      paragraph.clear();
      paragraph_done = false;
    } else if (line.rfind("--", 0) == 0) {
      std::string words(TrimWhitespace(std::string_view(line).substr(2)));
      if (words.empty()) {
        paragraph_done = paragraph_done || !paragraph.empty();
      } else if (!paragraph_done) {
        paragraph += (paragraph.empty() ? "" : " ") + words;
      }
    } else {
      if (!paragraph.empty()) return FirstSentence(paragraph);
      return line;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return "";
}

bool HasCode(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string line(TrimWhitespace(text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos)));
    if (!line.empty() && line.rfind("--", 0) != 0) return true;
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return false;
}

}  // namespace

std::vector<SqlStatement> SplitSqlStatements(std::string_view script) {
  std::vector<SqlStatement> out;
  size_t start = 0;
  size_t i = 0;
  auto flush = [&](size_t end) {
    std::string_view piece = script.substr(start, end - start);
    if (HasCode(piece)) out.push_back(SqlStatement{LabelOf(piece), std::string(TrimWhitespace(piece))});
  };
  while (i < script.size()) {
    char c = script[i];
    if (c == '-' && i + 1 < script.size() && script[i + 1] == '-') {
      size_t eol = script.find('\n', i);
      i = eol == std::string_view::npos ? script.size() : eol + 1;
    } else if (c == '/' && i + 1 < script.size() && script[i + 1] == '*') {
      size_t close = script.find("*/", i + 2);
      i = close == std::string_view::npos ? script.size() : close + 2;
    } else if (c == '\'' || c == '"') {
      size_t close = script.find(c, i + 1);
      i = close == std::string_view::npos ? script.size() : close + 1;
    } else if (c == '$') {
      size_t tag_end = script.find('$', i + 1);
      bool is_tag = tag_end != std::string_view::npos;
      for (size_t k = i + 1; is_tag && k < tag_end; ++k) {
        char t = script[k];
        is_tag = (t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z') || (t >= '0' && t <= '9') || t == '_';
      }
      if (is_tag && !(tag_end > i + 1 && script[i + 1] >= '0' && script[i + 1] <= '9')) {
        std::string_view tag = script.substr(i, tag_end - i + 1);
        size_t close = script.find(tag, tag_end + 1);
        i = close == std::string_view::npos ? script.size() : close + tag.size();
      } else {
        ++i;  // a positional parameter such as $1
      }
    } else if (c == ';') {
      flush(i);
      start = ++i;
    } else {
      ++i;
    }
  }
  flush(script.size());
  return out;
}

const SqlCatalog& SqlCatalog::Embedded() {
  static const SqlCatalog catalog(&sql_embedded::Files());
  return catalog;
}

namespace {
constexpr std::string_view kCommonFolder = "common/";

bool HasFolder(std::string_view name) {
  for (std::string_view folder : {std::string_view("postgres/"), std::string_view("redshift/"), kCommonFolder}) {
    if (name.substr(0, folder.size()) == folder) return true;
  }
  return false;
}
}  // namespace

Result<std::string> SqlCatalog::Resolve(std::string_view name, Dialect dialect) const {
  if (HasFolder(name)) {
    std::string key(name);
    if (files_->count(key) == 0) return Status::NotFound("no SQL file sql/" + key + ".sql in this build");
    return key;
  }
  std::string own = std::string(DialectName(dialect)) + "/" + std::string(name);
  if (files_->count(own) > 0) return own;
  std::string common = std::string(kCommonFolder) + std::string(name);
  if (files_->count(common) > 0) return common;
  return Status::NotFound("no SQL file sql/" + own + ".sql or sql/" + common + ".sql in this build");
}

std::vector<std::string> SqlCatalog::NamesUnder(std::string_view folder, Dialect dialect) const {
  std::set<std::string> names;
  for (const std::string& prefix : {std::string(DialectName(dialect)) + "/" + std::string(folder),
                                   std::string(kCommonFolder) + std::string(folder)}) {
    for (auto it = files_->lower_bound(prefix); it != files_->end() && it->first.compare(0, prefix.size(), prefix) == 0;
         ++it) {
      names.insert(it->first.substr(prefix.size() - folder.size()));
    }
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> SqlCatalog::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [key, text] : *files_) keys.push_back(key);
  return keys;
}

std::vector<std::string> SqlFileNames() { return SqlCatalog::Embedded().Keys(); }

std::vector<std::string> SqlNamesUnder(std::string_view folder, Dialect dialect) {
  return SqlCatalog::Embedded().NamesUnder(folder, dialect);
}

std::string SqlFilePath(std::string_view name, Dialect dialect) {
  auto key = SqlCatalog::Embedded().Resolve(name, dialect);
  return "sql/" + (key.ok() ? *key : std::string(name)) + ".sql";
}

Result<std::string> SqlText(std::string_view name, const SqlVars& vars) {
  return SqlCatalog::Embedded().Text(name, vars);
}

Result<std::string> SqlCatalog::Text(std::string_view name, const SqlVars& vars) const {
  LOADSTAR_ASSIGN_OR_RETURN(const std::string file, Resolve(name, vars.dialect));
  const std::string& text = files_->at(file);
  const std::string path = "sql/" + file + ".sql";
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
      if (vars.schema.empty()) return Status::InvalidArgument(path + " needs a schema");
      out += QuoteIdentifier(vars.schema);
    } else if (key == "run_id") {
      if (vars.run_id < 0) return Status::InvalidArgument(path + " needs a run id");
      out += std::to_string(vars.run_id);
    } else if (auto lit = vars.literals.find(key); lit != vars.literals.end()) {
      LOADSTAR_ASSIGN_OR_RETURN(std::string quoted, QuoteLiteral(lit->second));
      out += quoted;
    } else {
      return Status::InvalidArgument(path + " uses unknown placeholder {{" + key + "}}");
    }
    pos = close + 2;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

Result<std::string> QuoteLiteral(std::string_view value) {
  for (unsigned char c : value) {
    // Backslashes mean different things to the two engines' string literals; control characters
    // have no business in a role ARN or an S3 URI.
    if (c == '\\' || c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("'" + std::string(value) +
                                     "' cannot be written into SQL: it holds a backslash or a control character");
    }
  }
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace loadstar
