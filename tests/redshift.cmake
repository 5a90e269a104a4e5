# The Redshift stand-in (tests/tools/redshift_standin): a PostgreSQL wire-protocol proxy that makes
# a private PostgreSQL behave like Amazon Redshift where loadstar depends on it (see
# docs/REDSHIFT_STANDIN.md). Its own test starts PostgreSQL, the local S3 server and the stand-in,
# and drives it through libpq (simple and extended query protocols) and psql (TLS).
add_test(NAME redshift_standin_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/redshift_standin_test.py)
set_tests_properties(redshift_standin_test PROPERTIES LABELS integration TIMEOUT 300
  ENVIRONMENT "LOADSTAR_SOURCE_DIR=${PROJECT_SOURCE_DIR}")

# loadstar's Redshift SQL (sql/redshift/) against its PostgreSQL SQL: the same sample loaded both
# ways, the redshift dialect through the stand-in, must give the same star tables.
add_test(NAME redshift_sql_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/redshift_sql_test.py)
set_tests_properties(redshift_sql_test PROPERTIES LABELS integration TIMEOUT 60
  ENVIRONMENT "LOADSTAR_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
