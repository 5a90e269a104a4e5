# The Parquet writer and `loadstar export`, each file read back by an independent reader (DuckDB,
# tests/tools/parquet_read.mjs, from .tools/ as scripts/setup installs it).
add_library(loadstar_parquet_support STATIC support/parquet_reader.cc)
target_link_libraries(loadstar_parquet_support PUBLIC loadstar_test_support PRIVATE simdjson::simdjson)

# Every type with NULLs and edge values, statistics, many row groups and pages, empty files.
loadstar_test(NAME parquet_writer_test SOURCES integration/parquet_writer_test.cc
              LIBS loadstar_parquet loadstar_parquet_support LABEL integration TIMEOUT 120)

# The export's pure parts: timestamps, Hive folder values, JSON, the manifest, both dialects' SQL.
loadstar_test(NAME lake_export_test SOURCES unit/lake_export_test.cc LIBS loadstar_lake LABEL unit)

# `loadstar export` end to end: the sample loaded by `loadstar run`, exported to the local S3
# server, to a folder and through the Redshift stand-in (UNLOAD), each lake read back by DuckDB
# and compared with the star tables, its manifest with the objects there are.
loadstar_test(NAME export_e2e_test SOURCES e2e/export_test.cc
              LIBS loadstar_parquet_support loadstar_redshift_support loadstar_faults_support loadstar_lake
                   simdjson::simdjson LABEL e2e TIMEOUT 300)
add_dependencies(export_e2e_test loadstar)
