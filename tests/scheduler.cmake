# Tests of this area are registered here with loadstar_test(...).
# The scheduler and task packer: pure logic, driven by a fake clock; no sockets, no sleeps.
loadstar_test(NAME loadstar_scheduler_test SOURCES unit/scheduler_test.cc LIBS loadstar_scheduler LABEL unit)
loadstar_test(NAME loadstar_task_packer_test SOURCES unit/task_packer_test.cc LIBS loadstar_scheduler LABEL unit)

