# tests/unit/operators, stateful part (issue 6): aggregations, tables and stores in tasks.
check_PROGRAMS += tests/unit/operators/test-aggregate
TESTS += tests/unit/operators/test-aggregate
tests_unit_operators_test_aggregate_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_aggregate_LDADD = liboperators.la libruntime.la libstores.la libcommon.la \
	$(ROCKSDB_LIBS) $(RDKAFKA_LIBS) $(JSONGLIB_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/operators/test-store
TESTS += tests/unit/operators/test-store
tests_unit_operators_test_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_store_LDADD = $(tests_unit_operators_test_aggregate_LDADD)
check_PROGRAMS += tests/unit/operators/test-table
TESTS += tests/unit/operators/test-table
tests_unit_operators_test_table_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_table_LDADD = $(tests_unit_operators_test_aggregate_LDADD)
