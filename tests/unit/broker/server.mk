# unit tests of broker/server/: request frames in, responses checked (no sockets)
check_PROGRAMS += tests/unit/broker/test-server
TESTS += tests/unit/broker/test-server
tests_unit_broker_test_server_SOURCES = tests/unit/broker/test-server.c
tests_unit_broker_test_server_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_server_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
