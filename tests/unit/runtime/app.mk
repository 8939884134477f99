# unit tests of the runtime app side
check_PROGRAMS += tests/unit/runtime/test-config
TESTS += tests/unit/runtime/test-config
tests_unit_runtime_test_config_CFLAGS = $(UNIT_CFLAGS) $(RDKAFKA_CFLAGS)
tests_unit_runtime_test_config_LDADD = libruntime.la libcommon.la $(RDKAFKA_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/runtime/test-app
TESTS += tests/unit/runtime/test-app
tests_unit_runtime_test_app_CFLAGS = $(UNIT_CFLAGS) $(RDKAFKA_CFLAGS)
tests_unit_runtime_test_app_LDADD = librill.la $(RDKAFKA_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/runtime/test-eos
TESTS += tests/unit/runtime/test-eos
tests_unit_runtime_test_eos_CFLAGS = $(UNIT_CFLAGS) $(RDKAFKA_CFLAGS)
tests_unit_runtime_test_eos_LDADD = librill.la $(RDKAFKA_LIBS) $(UNIT_LIBS)
