# operators/ windowed part (issue 7): windowed aggregations, suppression (emit-final),
# windowed keys and serdes. Included from the top Makefile.am after operators/local.mk.
pkginclude_HEADERS += include/rill/window.h
liboperators_la_SOURCES += \
	%reldir%/window-private.h \
	%reldir%/window-key.c \
	%reldir%/window-time.c \
	%reldir%/window-sliding.c \
	%reldir%/window-session.c \
	%reldir%/suppress.c

# Unit tests (kept here: this fragment is the windows part's one build file).
WINDOW_TEST_LIBS = liboperators.la libruntime.la libstores.la libcommon.la \
	$(ROCKSDB_LIBS) $(RDKAFKA_LIBS) $(JSONGLIB_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/operators/test-window
TESTS += tests/unit/operators/test-window
tests_unit_operators_test_window_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_window_LDADD = $(WINDOW_TEST_LIBS)
check_PROGRAMS += tests/unit/operators/test-suppress
TESTS += tests/unit/operators/test-suppress
tests_unit_operators_test_suppress_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_suppress_LDADD = $(WINDOW_TEST_LIBS)
EXTRA_DIST += docs/windows.md
check_PROGRAMS += tests/unit/operators/test-window-commit
TESTS += tests/unit/operators/test-window-commit
tests_unit_operators_test_window_commit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_operators_test_window_commit_LDADD = $(WINDOW_TEST_LIBS)
