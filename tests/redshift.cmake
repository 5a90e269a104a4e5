# The Redshift stand-in (tests/tools/redshift_standin): a PostgreSQL wire-protocol proxy that makes
# a private PostgreSQL behave like Amazon Redshift where loadstar depends on it (see
# docs/REDSHIFT_STANDIN.md). Its own test starts PostgreSQL, the local S3 server and the stand-in,
# and drives it through libpq (simple and extended query protocols) and psql (TLS).
add_test(NAME redshift_standin_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/redshift_standin_test.py)
set_tests_properties(redshift_standin_test PROPERTIES LABELS integration TIMEOUT 300
  ENVIRONMENT "LOADSTAR_SOURCE_DIR=${PROJECT_SOURCE_DIR}")

# loadstar into the stand-in, end to end: the sample and a generated set give the PostgreSQL
# path's tables, through kills, a COMMIT held and abandoned, S3 faults on part uploads, dirty
# input, incremental and backfill runs.
add_library(loadstar_redshift_support STATIC support/redshift_standin.cc)
target_link_libraries(loadstar_redshift_support PUBLIC loadstar_test_support)
loadstar_test(NAME redshift_e2e_test SOURCES e2e/redshift_test.cc support/tls_front.cc LIBS loadstar_faults_support loadstar_redshift_support
              LABEL e2e TIMEOUT 600)
add_dependencies(redshift_e2e_test loadstar fault_proxy)
set_property(TEST redshift_e2e_test APPEND PROPERTY ENVIRONMENT "LOADSTAR_FAULT_PROXY=$<TARGET_FILE:fault_proxy>")

# A real cluster, only when LOADSTAR_LIVE_* name one (see the file); reported as skipped otherwise.
loadstar_test(NAME redshift_live_test SOURCES e2e/redshift_live_test.cc LIBS loadstar_test_support LABEL e2e
              TIMEOUT 3600)
set_tests_properties(redshift_live_test PROPERTIES SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")

# The publishing transaction alone, with hand-made parts: stl_load_errors explained, row counts
# checked, a run committed elsewhere left alone.
loadstar_test(NAME redshift_load_integration_test SOURCES integration/redshift_load_test.cc
              LIBS loadstar_redshift_support loadstar_coordinator loadstar_parse LABEL integration)

# The pieces of the Redshift path on their own: COPY text rows as CSV records and a task's gzip CSV
# parts and marker (in an object store in memory), the gzip writer, the IAM role and region
# checks, string literals in the SQL catalog, and the Redshift statements against golden files
# (LOADSTAR_UPDATE_GOLDEN=1 rewrites them).
loadstar_test(NAME part_stager_test SOURCES unit/part_stager_test.cc LIBS loadstar_worker LABEL unit)
loadstar_test(NAME gzip_writer_test SOURCES unit/gzip_writer_test.cc LIBS loadstar_parse LABEL unit)
loadstar_test(NAME redshift_options_test SOURCES unit/redshift_options_test.cc LIBS loadstar_coordinator LABEL unit)
loadstar_test(NAME sql_literals_test SOURCES unit/sql_literals_test.cc LIBS loadstar_warehouse LABEL unit)
loadstar_test(NAME redshift_golden_test SOURCES unit/redshift_golden_test.cc LIBS loadstar_warehouse LABEL unit)
target_compile_definitions(redshift_golden_test PRIVATE LOADSTAR_GOLDEN_DIR="${CMAKE_CURRENT_SOURCE_DIR}/golden/redshift")
# Planning with a task multiple (the slices), against a private PostgreSQL for the ledger.
loadstar_test(NAME planner_integration_test SOURCES integration/planner_test.cc
              LIBS loadstar_test_support loadstar_coordinator LABEL integration)
# loadstar's Redshift SQL (sql/redshift/) against its PostgreSQL SQL: the same sample loaded both
# ways, the redshift dialect through the stand-in, must give the same star tables.
add_test(NAME redshift_sql_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/redshift_sql_test.py)
set_tests_properties(redshift_sql_test PROPERTIES LABELS integration TIMEOUT 60
  ENVIRONMENT "LOADSTAR_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
