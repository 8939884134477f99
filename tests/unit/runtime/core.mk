# unit tests of the runtime core (topology, tasks, serdes, the test driver)
RUNTIME_CORE_TEST_LIBS = liboperators.la libruntime.la libcommon.la $(JSONGLIB_LIBS) $(UNIT_LIBS)
RUNTIME_CORE_TESTS = \
	tests/unit/runtime/test-smoke
check_PROGRAMS += $(RUNTIME_CORE_TESTS)
TESTS += $(RUNTIME_CORE_TESTS)
tests_unit_runtime_test_smoke_CFLAGS = $(UNIT_CFLAGS) $(JSONGLIB_CFLAGS)
tests_unit_runtime_test_smoke_LDADD = $(RUNTIME_CORE_TEST_LIBS)
