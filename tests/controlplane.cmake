# The AWS control-plane stand-in (tests/tools/aws_control_plane): the Redshift and IAM Query APIs
# on one loopback port, every request checked against botocore's service models and its SigV4
# signature verified (see docs/AWS_CONTROL_PLANE_STANDIN.md). Its own test drives it with
# botocore's clients and with hand-made requests that break one rule each.
add_test(NAME aws_control_plane_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/aws_control_plane_test.py)
set_tests_properties(aws_control_plane_test PROPERTIES LABELS integration TIMEOUT 60
  ENVIRONMENT "LOADSTAR_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
