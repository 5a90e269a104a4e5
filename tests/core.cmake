# Staging and transforms against a real PostgreSQL.
loadstar_test(NAME staging_integration_test SOURCES integration/staging_test.cc
              LIBS loadstar_test_support loadstar_coordinator loadstar_worker LABEL integration)

loadstar_test(NAME sql_catalog_test SOURCES unit/sql_catalog_test.cc LIBS loadstar_warehouse loadstar_parse LABEL unit)
