# The Parquet writer and `loadstar export`, each file read back by an independent reader (DuckDB,
# tests/tools/parquet_read.mjs, from .tools/ as scripts/setup installs it).
add_library(loadstar_parquet_support STATIC support/parquet_reader.cc)
target_link_libraries(loadstar_parquet_support PUBLIC loadstar_test_support PRIVATE simdjson::simdjson)

# Every type with NULLs and edge values, statistics, many row groups and pages, empty files.
loadstar_test(NAME parquet_writer_test SOURCES integration/parquet_writer_test.cc
              LIBS loadstar_parquet loadstar_parquet_support LABEL integration TIMEOUT 120)
