# unit tests of stores/
stores_unit_tests = \
	tests/unit/stores/test-kv
check_PROGRAMS += $(stores_unit_tests)
TESTS += $(stores_unit_tests)
STORES_TEST_LIBS = libstores.la libcommon.la $(ROCKSDB_LIBS) $(UNIT_LIBS)
tests_unit_stores_test_kv_CFLAGS = $(UNIT_CFLAGS) $(ROCKSDB_CFLAGS)
tests_unit_stores_test_kv_LDADD = $(STORES_TEST_LIBS)
