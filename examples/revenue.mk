# examples/revenue: orders enriched with their customer's region, revenue per region (issue 6's
# enrichment + aggregation example), and its integration tests (0320-0329) against rill-broker.
noinst_PROGRAMS += examples/revenue
examples_revenue_SOURCES = examples/revenue.c
examples_revenue_LDADD = librill.la
EXTRA_DIST += tests/integration/revenue-lib.sh
revenue_integration_tests = \
	tests/integration/0320-revenue.sh \
	tests/integration/0321-revenue-kill9.sh \
	tests/integration/0322-revenue-state-lost.sh \
	tests/integration/0323-revenue-two-instances.sh \
	tests/integration/0324-revenue-loaded-check.sh
TESTS += $(revenue_integration_tests)
EXTRA_DIST += $(revenue_integration_tests)
