# unit tests of broker/server/: request frames in, responses checked (no sockets)
check_PROGRAMS += tests/unit/broker/test-server tests/unit/broker/test-server-coord
TESTS += tests/unit/broker/test-server tests/unit/broker/test-server-coord
SERVER_HARNESS = tests/unit/broker/server-harness.c tests/unit/broker/server-harness.h
tests_unit_broker_test_server_SOURCES = tests/unit/broker/test-server.c $(SERVER_HARNESS)
tests_unit_broker_test_server_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_server_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
tests_unit_broker_test_server_coord_SOURCES = tests/unit/broker/test-server-coord.c $(SERVER_HARNESS)
tests_unit_broker_test_server_coord_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_server_coord_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
$(tests_unit_broker_test_server_OBJECTS) $(tests_unit_broker_test_server_coord_OBJECTS): \
	broker/protocol/messages-gen.h
