# Tests of the data generator (bench/) and of the multi-container deployment (compose/).

loadstar_test(NAME generator_test SOURCES unit/generator_test.cc LIBS loadstar_generator simdjson::simdjson
              LABEL unit)

# `docker-compose config` validates compose/docker-compose.yml offline (no Docker engine needed);
# the script also checks that the image is built by scripts/setup.
add_test(NAME compose_config_test COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/compose_config_test.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(compose_config_test PROPERTIES LABELS unit TIMEOUT 60)
