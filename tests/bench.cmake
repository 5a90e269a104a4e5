# The benchmark harness (bench/run) on tiny data: every case must still produce its figure and
# build the same star tables as the PostgreSQL-only baseline, with the row counts the generator
# says the data must give (the memory cases too), so the harness cannot rot unnoticed.
# Timings are not judged here. It needs what the integration tests need (PostgreSQL server
# binaries, the local S3 server from scripts/setup) and the two microbenchmarks built with the tests.
add_test(NAME bench_smoke COMMAND ${PROJECT_SOURCE_DIR}/bench/run --smoke)
set_tests_properties(bench_smoke PROPERTIES LABELS e2e TIMEOUT 300
  ENVIRONMENT "LOADSTAR_BUILD_DIR=${PROJECT_BINARY_DIR}")

# The coordinator capacity bench (bench/capacity.sh) on a small fleet: 50 simulated workers and
# 200 tasks, staged by the workers and then pre-staged. Every task must be acknowledged, every
# worker told the run is over, and the ledger and the songs table must hold every file. Rates
# are not judged here. It needs PostgreSQL's server binaries and psql.
add_test(NAME capacity_smoke COMMAND ${PROJECT_SOURCE_DIR}/bench/capacity.sh --smoke)
set_tests_properties(capacity_smoke PROPERTIES LABELS e2e TIMEOUT 120
  ENVIRONMENT "LOADSTAR_BUILD_DIR=${PROJECT_BINARY_DIR}")
