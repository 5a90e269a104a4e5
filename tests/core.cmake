# Staging and transforms against a real PostgreSQL.
loadstar_test(NAME staging_integration_test SOURCES integration/staging_test.cc
              LIBS loadstar_test_support loadstar_coordinator loadstar_worker LABEL integration)

loadstar_test(NAME sql_catalog_test SOURCES unit/sql_catalog_test.cc LIBS loadstar_warehouse loadstar_parse LABEL unit)
# Log lines: escaping, the length cap, throttled warnings.
loadstar_test(NAME log_test SOURCES unit/log_test.cc LIBS loadstar_core simdjson::simdjson LABEL unit)
