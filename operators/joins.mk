# operators/ joins part (issue 7, part 2): stream-stream windowed joins, table-table joins,
# the foreign-key table join; their unit tests and benchmark.
liboperators_la_SOURCES += \
	%reldir%/join-stream.c \
	%reldir%/join-private.h \
	%reldir%/join-table.c \
	%reldir%/join-fk.c
pkginclude_HEADERS += include/rill/join.h

check_PROGRAMS += tests/unit/operators/test-join-stream
TESTS += tests/unit/operators/test-join-stream
tests_unit_operators_test_join_stream_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_join_stream_LDADD = liboperators.la libruntime.la libstores.la \
	libcommon.la $(ROCKSDB_LIBS) $(RDKAFKA_LIBS) $(JSONGLIB_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/operators/test-join-table
TESTS += tests/unit/operators/test-join-table
tests_unit_operators_test_join_table_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_join_table_LDADD = $(tests_unit_operators_test_join_stream_LDADD)
check_PROGRAMS += tests/unit/operators/test-join-fk
TESTS += tests/unit/operators/test-join-fk
tests_unit_operators_test_join_fk_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_join_fk_LDADD = $(tests_unit_operators_test_join_stream_LDADD)

# integration (041x): the join app (0410) on rill-broker: stream-stream join against a reference
# (0411), foreign-key join over differently partitioned topics (0412), co-partitioning (0413),
# kill -9 and restart (0414).
check_PROGRAMS += tests/integration/0410-join-app
tests_integration_0410_join_app_SOURCES = tests/integration/0410-join-app.c
tests_integration_0410_join_app_LDADD = librill.la
join_integration_tests = \
	tests/integration/0411-payment-match.sh \
	tests/integration/0412-fk-join.sh \
	tests/integration/0413-join-copartition.sh \
	tests/integration/0414-payment-match-kill9.sh
TESTS += $(join_integration_tests)
EXTRA_DIST += $(join_integration_tests) tests/integration/0410-join-lib.sh

# join-bench: a stream-stream join of two 1M-record streams against the raw loop (docs/benchmarks.md).
EXTRA_PROGRAMS += bench/join-bench
bench_targets += bench/join-bench$(EXEEXT)
bench_join_bench_SOURCES = bench/join-bench.c
bench_join_bench_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
bench_join_bench_LDADD = librill.la $(RDKAFKA_LIBS)
EXTRA_DIST += bench/join-bench.sh
