# integration tests of the stateful core (0300-0399): wordcount against rill-broker.
EXTRA_DIST += tests/integration/wordcount-lib.sh
stateful_integration_tests = \
	tests/integration/0301-wordcount.sh \
	tests/integration/0302-wordcount-kill9.sh \
	tests/integration/0303-wordcount-state-lost.sh \
	tests/integration/0304-wordcount-eos-kill9.sh
TESTS += $(stateful_integration_tests)
EXTRA_DIST += $(stateful_integration_tests)
