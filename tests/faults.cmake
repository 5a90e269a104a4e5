# Tests that break things on purpose: workers and coordinators killed mid-run, S3 answering with
# errors, resets, truncated and slow bodies, warehouse connections dropped, transforms that fail;
# and bad input, error limits and incremental loads. Each compares the star tables with a clean
# load's, row for row.

# A fault-injecting HTTP proxy to put between loadstar and the local S3 server (a test tool, not
# run by ctest itself).
add_executable(fault_proxy tools/fault_proxy.cc)
target_link_libraries(fault_proxy PRIVATE loadstar_options Threads::Threads)

# Fingerprints of the star tables, generated data sets in memory, the proxy as a child process,
# a running coordinator's /status.
add_library(loadstar_faults_support STATIC support/star_fingerprint.cc support/generated_objects.cc
            support/fault_proxy_process.cc support/loadstar_schema.cc support/coordinator_status.cc
            support/sample_upload.cc)
target_link_libraries(loadstar_faults_support PUBLIC loadstar_test_support loadstar_generator loadstar_storage)
target_link_libraries(loadstar_faults_support PRIVATE simdjson::simdjson)

loadstar_test(NAME faults_e2e_test SOURCES e2e/faults_test.cc LIBS loadstar_faults_support LABEL e2e TIMEOUT 900)
add_dependencies(faults_e2e_test loadstar fault_proxy)
set_property(TEST faults_e2e_test APPEND PROPERTY ENVIRONMENT "LOADSTAR_FAULT_PROXY=$<TARGET_FILE:fault_proxy>")

loadstar_test(NAME input_e2e_test SOURCES e2e/input_test.cc LIBS loadstar_faults_support ZLIB::ZLIB
              LABEL e2e TIMEOUT 900)
add_dependencies(input_e2e_test loadstar)

# Dirty input with --max-errors high: every record the star cannot hold is rejected by the worker,
# and the run succeeds.
loadstar_test(NAME dirty_input_e2e_test SOURCES e2e/dirty_input_test.cc LIBS loadstar_faults_support
              LABEL e2e TIMEOUT 600)
add_dependencies(dirty_input_e2e_test loadstar)

# The fault proxy itself, between a raw client and a scripted upstream: each fault as described,
# counted exactly when delivered.
loadstar_test(NAME fault_proxy_test
              SOURCES integration/fault_proxy_test.cc integration/scripted_http_server.cc support/fault_proxy_process.cc
              LIBS loadstar_test_support LABEL integration TIMEOUT 120)
add_dependencies(fault_proxy_test fault_proxy)
set_property(TEST fault_proxy_test APPEND PROPERTY ENVIRONMENT "LOADSTAR_FAULT_PROXY=$<TARGET_FILE:fault_proxy>")
