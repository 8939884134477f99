# unit tests of the runtime core (topology, tasks, serdes, the test driver)
RUNTIME_CORE_TEST_LIBS = liboperators.la libruntime.la libcommon.la $(JSONGLIB_LIBS) $(UNIT_LIBS)
RUNTIME_CORE_TESTS = \
	tests/unit/runtime/test-smoke \
	tests/unit/runtime/test-serde \
	tests/unit/runtime/test-topology \
	tests/unit/runtime/test-task \
	tests/unit/runtime/test-driver
check_PROGRAMS += $(RUNTIME_CORE_TESTS)
TESTS += $(RUNTIME_CORE_TESTS)
tests_unit_runtime_test_smoke_CFLAGS = $(UNIT_CFLAGS) $(JSONGLIB_CFLAGS)
tests_unit_runtime_test_smoke_LDADD = $(RUNTIME_CORE_TEST_LIBS)
tests_unit_runtime_test_serde_CFLAGS = $(UNIT_CFLAGS) $(JSONGLIB_CFLAGS)
tests_unit_runtime_test_serde_LDADD = $(RUNTIME_CORE_TEST_LIBS)
tests_unit_runtime_test_topology_CFLAGS = $(UNIT_CFLAGS) $(JSONGLIB_CFLAGS)
tests_unit_runtime_test_topology_LDADD = $(RUNTIME_CORE_TEST_LIBS)
tests_unit_runtime_test_task_CFLAGS = $(UNIT_CFLAGS) $(JSONGLIB_CFLAGS)
tests_unit_runtime_test_task_LDADD = $(RUNTIME_CORE_TEST_LIBS)
tests_unit_runtime_test_driver_CFLAGS = $(UNIT_CFLAGS) $(JSONGLIB_CFLAGS)
tests_unit_runtime_test_driver_LDADD = $(RUNTIME_CORE_TEST_LIBS)
# README.md's topology example, compiled against the public API only
TESTS += tests/unit/runtime/test-readme-example.sh
EXTRA_DIST += tests/unit/runtime/test-readme-example.sh
