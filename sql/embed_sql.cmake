# Writes OUT: a C++ file that maps each sql/<folder>/<name>.sql (folder: a dialect, or common) to
# its text, keyed "<folder>/<name>".
# The product's statements only: sql/bench/ belongs to the benchmarks, which read it from disk.
file(GLOB_RECURSE files RELATIVE ${SQL_DIR} ${SQL_DIR}/*.sql)
list(FILTER files EXCLUDE REGEX "^bench/")
list(SORT files)
set(body "// Generated from sql/*.sql; edit those files, not this one.\n#include <map>\n#include <string>\n\nnamespace loadstar::sql_embedded {\nconst std::map<std::string, std::string>& Files() {\n  static const std::map<std::string, std::string> kFiles = {\n")
foreach(f ${files})
  file(READ ${SQL_DIR}/${f} text)
  string(REGEX REPLACE "\\.sql$" "" name ${f})
  string(APPEND body "    {\"${name}\", R\"loadstar_sql(${text})loadstar_sql\"},\n")
endforeach()
string(APPEND body "  };\n  return kFiles;\n}\n}  // namespace loadstar::sql_embedded\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
