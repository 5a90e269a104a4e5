# Staging and transforms against a real PostgreSQL.
loadstar_test(NAME staging_integration_test SOURCES integration/staging_test.cc
              LIBS loadstar_test_support loadstar_coordinator loadstar_worker LABEL integration)
# The rows workers shape for the star (worker/star_rows.h): alone, and against what a real
# PostgreSQL computes for the same hashes, float texts and time parts.
loadstar_test(NAME star_rows_test SOURCES unit/star_rows_test.cc LIBS loadstar_worker LABEL unit)
loadstar_test(NAME star_rows_integration_test SOURCES integration/star_rows_test.cc
              LIBS loadstar_test_support loadstar_worker loadstar_warehouse LABEL integration)

loadstar_test(NAME sql_catalog_test SOURCES unit/sql_catalog_test.cc LIBS loadstar_warehouse loadstar_parse LABEL unit)
# Log lines: escaping, the length cap, throttled warnings.
loadstar_test(NAME log_test SOURCES unit/log_test.cc LIBS loadstar_core simdjson::simdjson LABEL unit)

# The warehouse connection against a real PostgreSQL (schema creation, names, connection strings).
loadstar_test(NAME warehouse_integration_test SOURCES integration/warehouse_test.cc
              LIBS loadstar_test_support loadstar_warehouse LABEL integration)
# What each SQLSTATE class becomes as a Status code, and which are retried.
loadstar_test(NAME sql_state_test SOURCES unit/sql_state_test.cc LIBS loadstar_warehouse LABEL unit)
# Query results read by column name.
loadstar_test(NAME query_result_test SOURCES unit/query_result_test.cc LIBS loadstar_warehouse LABEL unit)
# The ledger's rules (planning, staging, confirming a worker's account) and the run states.
loadstar_test(NAME ledger_test SOURCES unit/ledger_test.cc LIBS loadstar_coordinator LABEL unit)
# A file's kind as the ledger spells it and as the wire carries it.
loadstar_test(NAME file_kind_test SOURCES unit/file_kind_test.cc LIBS loadstar_transport LABEL unit)
loadstar_test(NAME connection_string_test SOURCES unit/connection_string_test.cc LIBS loadstar_warehouse LABEL unit)

# The shared text helpers: case, white space, UTF-8, COPY text, thousands.
loadstar_test(NAME text_test SOURCES unit/text_test.cc LIBS loadstar_core LABEL unit)

# The transport over real ZeroMQ sockets: envelopes both ways, bind errors, the message cap.
loadstar_test(NAME transport_integration_test SOURCES integration/transport_test.cc LIBS loadstar_transport
              LABEL integration)
# CURVE on the transport: authorized keys only, refusals logged, the cap over CURVE, plaintext only
# on loopback, key files.
loadstar_test(NAME curve_integration_test SOURCES integration/curve_test.cc
              LIBS loadstar_transport loadstar_test_support LABEL integration)

# The house rules: includes point down, each third-party library wrapped once, the folder lists
# in docs/ARCHITECTURE.md and the README true to the tree.
add_test(NAME layout_test COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/layout_test.py ${PROJECT_SOURCE_DIR})
set_tests_properties(layout_test PROPERTIES LABELS unit TIMEOUT 60)

# `loadstar cluster` without AWS: the Query protocol's encoding and XML, the role's policies, the
# name and password rules.
loadstar_test(NAME provision_test SOURCES unit/provision_test.cc LIBS loadstar_provision LABEL unit)
