# The AWS control-plane stand-in (tests/tools/aws_control_plane): the Redshift and IAM Query APIs
# on one loopback port, every request checked against botocore's service models and its SigV4
# signature verified (see docs/AWS_CONTROL_PLANE_STANDIN.md). Its own test drives it with
# botocore's clients and with hand-made requests that break one rule each.
add_test(NAME aws_control_plane_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/aws_control_plane_test.py)
set_tests_properties(aws_control_plane_test PROPERTIES LABELS integration TIMEOUT 60
  ENVIRONMENT "LOADSTAR_SOURCE_DIR=${PROJECT_SOURCE_DIR}")

# `loadstar cluster create|status|delete` against it: every request conforms, create and delete
# are idempotent, throttling is retried, the password goes nowhere but its parameter.
add_test(NAME cluster_e2e_test COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/cluster_test.py)
set_tests_properties(cluster_e2e_test PROPERTIES LABELS e2e TIMEOUT 300
  ENVIRONMENT "LOADSTAR_SOURCE_DIR=${PROJECT_SOURCE_DIR};LOADSTAR_BINARY=$<TARGET_FILE:loadstar>")

# The README's walkthrough against both stand-ins: cluster create, run, report, export (UNLOAD to
# Parquet, read back by DuckDB), cluster delete.
add_test(NAME walkthrough_e2e_test COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/walkthrough_test.py)
set_tests_properties(walkthrough_e2e_test PROPERTIES LABELS e2e TIMEOUT 600
  ENVIRONMENT "LOADSTAR_SOURCE_DIR=${PROJECT_SOURCE_DIR};LOADSTAR_BINARY=$<TARGET_FILE:loadstar>")
