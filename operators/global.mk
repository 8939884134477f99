# Global tables, the stream-global-table join, and queryable state (issue 6):
# runtime/global*.c (the store set, its specs), runtime/global-thread.c and
# runtime/kafka/global.c (the app's global consumer), runtime/query.c (read
# handles and key owners), operators/global-table.c (the DSL).
libruntime_la_SOURCES += \
	runtime/global.h runtime/global-spec.c runtime/global.c runtime/global-thread.c \
	runtime/kafka/global.h runtime/kafka/global.c \
	runtime/query.c runtime/kafka/groups.h runtime/kafka/groups.c
liboperators_la_SOURCES += operators/global-table.c
pkginclude_HEADERS += include/rill/global.h include/rill/query.h
libruntime_la_CFLAGS += $(ROCKSDB_CFLAGS)

# tests
GLOBAL_TEST_LIBS = liboperators.la libruntime.la libstores.la libcommon.la $(ROCKSDB_LIBS) \
	$(JSONGLIB_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/runtime/test-global
TESTS += tests/unit/runtime/test-global
tests_unit_runtime_test_global_CFLAGS = $(UNIT_CFLAGS)
tests_unit_runtime_test_global_LDADD = $(GLOBAL_TEST_LIBS)

# integration (0310-0319): the app they run, and the tests
check_PROGRAMS += tests/integration/global-query-app
tests_integration_global_query_app_SOURCES = tests/integration/global-query-app.c
tests_integration_global_query_app_LDADD = librill.la
global_integration_tests = tests/integration/0310-global-query.sh
TESTS += $(global_integration_tests)
EXTRA_DIST += $(global_integration_tests)
check_PROGRAMS += tests/unit/runtime/test-query
TESTS += tests/unit/runtime/test-query
tests_unit_runtime_test_query_CFLAGS = $(UNIT_CFLAGS) $(RDKAFKA_CFLAGS)
tests_unit_runtime_test_query_LDADD = librill.la $(RDKAFKA_LIBS) $(UNIT_LIBS)
