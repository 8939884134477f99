# unit tests of the partition group (no broker: lag and clock come from the test)
check_PROGRAMS += tests/unit/runtime/test-partition-group
TESTS += tests/unit/runtime/test-partition-group
tests_unit_runtime_test_partition_group_CFLAGS = $(UNIT_CFLAGS)
tests_unit_runtime_test_partition_group_LDADD = libruntime.la libcommon.la $(JSONGLIB_LIBS) $(RDKAFKA_LIBS) $(UNIT_LIBS)
