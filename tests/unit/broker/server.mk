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
# metrics.c (Prometheus registry hooks and snapshot), no HTTP
check_PROGRAMS += tests/unit/broker/test-server-metrics
TESTS += tests/unit/broker/test-server-metrics
tests_unit_broker_test_server_metrics_SOURCES = tests/unit/broker/test-server-metrics.c $(SERVER_HARNESS)
tests_unit_broker_test_server_metrics_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_server_metrics_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
$(tests_unit_broker_test_server_metrics_OBJECTS): broker/protocol/messages-gen.h
