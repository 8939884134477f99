# examples/analytics: the clickstream analytics app of scripts/demo.sh (issues 7 and 8).
noinst_PROGRAMS += examples/analytics
examples_analytics_SOURCES = examples/analytics.c
examples_analytics_LDADD = librill.la -lm
