# Data-quality checks, `loadstar report` and `loadstar runs`.
# Rendering and SQL wrapping alone: no database.
loadstar_test(NAME query_render_test SOURCES unit/query_render_test.cc LIBS loadstar_report LABEL unit)
# The checks against a private PostgreSQL, each made to fail by a table corrupted on purpose.
loadstar_test(NAME quality_checks_integration_test SOURCES integration/quality_checks_test.cc
              LIBS loadstar_test_support loadstar_report LABEL integration)
# The report and the runs list against a private PostgreSQL, figures checked against the test's own.
loadstar_test(NAME report_integration_test SOURCES integration/report_test.cc
              LIBS loadstar_test_support loadstar_report loadstar_cli simdjson::simdjson LABEL integration)
