# integration tests of runtime (see tests/integration/local.mk for the numbering).
# rill-mock-cluster: librdkafka's mock cluster in its own process (until
# rill-broker serves consumer groups), shared by the app instances of a test.
check_PROGRAMS += tests/integration/rill-mock-cluster
tests_integration_rill_mock_cluster_SOURCES = tests/integration/mock-cluster.c
tests_integration_rill_mock_cluster_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
tests_integration_rill_mock_cluster_LDADD = $(RDKAFKA_LIBS)

# The runtime's end-to-end tests (0200-0299). They run the examples against
# the cluster runtime-lib.sh starts (the mock cluster until rill-broker
# serves consumer groups).
EXTRA_DIST += tests/integration/runtime-lib.sh
runtime_integration_tests = \
	tests/integration/0201-event-router.sh \
	tests/integration/0202-two-instances.sh \
	tests/integration/0203-kill9-takeover.sh \
	tests/integration/0204-app-metrics.sh \
	tests/integration/0205-restore-metrics.sh \
	tests/integration/0206-store-metrics.sh
TESTS += $(runtime_integration_tests)
EXTRA_DIST += $(runtime_integration_tests)
