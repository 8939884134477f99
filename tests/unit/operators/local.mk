# tests/unit/operators: unit tests of operators/ (one cmocka program per module).
OPERATORS_TEST_LIBS = liboperators.la libruntime.la libcommon.la $(JSONGLIB_LIBS) $(UNIT_LIBS)
OPERATORS_TESTS = \
	tests/unit/operators/test-filter \
	tests/unit/operators/test-map \
	tests/unit/operators/test-flat-map \
	tests/unit/operators/test-peek \
	tests/unit/operators/test-branch \
	tests/unit/operators/test-merge \
	tests/unit/operators/test-to \
	tests/unit/operators/test-process
check_PROGRAMS += $(OPERATORS_TESTS)
TESTS += $(OPERATORS_TESTS)
noinst_HEADERS += tests/unit/operators/helpers.h
tests_unit_operators_test_filter_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_filter_LDADD = $(OPERATORS_TEST_LIBS)
tests_unit_operators_test_map_CFLAGS = $(UNIT_CFLAGS) $(JSONGLIB_CFLAGS)
tests_unit_operators_test_map_LDADD = $(OPERATORS_TEST_LIBS)
tests_unit_operators_test_flat_map_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_flat_map_LDADD = $(OPERATORS_TEST_LIBS)
tests_unit_operators_test_peek_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_peek_LDADD = $(OPERATORS_TEST_LIBS)
tests_unit_operators_test_branch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_branch_LDADD = $(OPERATORS_TEST_LIBS)
tests_unit_operators_test_merge_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_merge_LDADD = $(OPERATORS_TEST_LIBS)
tests_unit_operators_test_to_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_to_LDADD = $(OPERATORS_TEST_LIBS)
tests_unit_operators_test_process_CFLAGS = $(UNIT_CFLAGS)
# test-process uses a store (a value transformer's): it links the stores too
tests_unit_operators_test_process_LDADD = liboperators.la libruntime.la libstores.la libcommon.la \
	$(ROCKSDB_LIBS) $(RDKAFKA_LIBS) $(JSONGLIB_LIBS) $(UNIT_LIBS)
include tests/unit/operators/stateful.mk
