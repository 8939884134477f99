# examples/: complete apps a user copies from; they use include/rill only.
# Each example is a program of its own, linked against librill only.
noinst_PROGRAMS += examples/event-router
examples_event_router_SOURCES = examples/event-router.c
examples_event_router_LDADD = librill.la
include examples/stateful.mk
include examples/revenue.mk
include examples/analytics.mk
