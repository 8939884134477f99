# examples/revenue: orders enriched with their customer's region, revenue per region (issue 6's
# enrichment + aggregation example), and its integration tests (0320-0329) against rill-broker.
noinst_PROGRAMS += examples/revenue
examples_revenue_SOURCES = examples/revenue.c
examples_revenue_LDADD = librill.la
