# Tests of this area are registered here with loadstar_test(...).
# The scheduler and task packer: pure logic, driven by a fake clock; no sockets, no sleeps.
loadstar_test(NAME loadstar_scheduler_test SOURCES unit/scheduler_test.cc LIBS loadstar_scheduler LABEL unit)
loadstar_test(NAME loadstar_task_packer_test SOURCES unit/task_packer_test.cc LIBS loadstar_scheduler LABEL unit)

# A microbenchmark, built with the tests but not run by ctest:
#   build/tests/loadstar_scheduler_bench
find_package(benchmark REQUIRED)
add_executable(loadstar_scheduler_bench ${PROJECT_SOURCE_DIR}/bench/scheduler_bench.cc)
target_link_libraries(loadstar_scheduler_bench PRIVATE loadstar_options loadstar_scheduler benchmark::benchmark)
