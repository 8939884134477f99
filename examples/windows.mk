# examples, windows part (issue 7): windowed-count (tumbling event-time windows, emit-final).
noinst_PROGRAMS += examples/windowed-count
examples_windowed_count_SOURCES = examples/windowed-count.c
examples_windowed_count_LDADD = librill.la

# Its end-to-end tests against rill-broker (0400-0499).
EXTRA_DIST += tests/integration/windowed.py tests/integration/windowed-lib.sh
windows_integration_tests = \
	tests/integration/0401-windowed-count.sh \
	tests/integration/0402-windowed-count-kill9.sh \
	tests/integration/0403-windowed-count-state-lost.sh
TESTS += $(windows_integration_tests)
EXTRA_DIST += $(windows_integration_tests)

