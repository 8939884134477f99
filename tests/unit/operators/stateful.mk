# tests/unit/operators, stateful part (issue 6): aggregations, tables and stores in tasks.
check_PROGRAMS += tests/unit/operators/test-aggregate
TESTS += tests/unit/operators/test-aggregate
tests_unit_operators_test_aggregate_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_aggregate_LDADD = liboperators.la libruntime.la libstores.la libcommon.la \
	$(ROCKSDB_LIBS) $(RDKAFKA_LIBS) $(JSONGLIB_LIBS) $(UNIT_LIBS)
