# unit tests of broker/group/: membership and offsets, on a fake clock and a file store.
check_PROGRAMS += tests/unit/broker/test-group tests/unit/broker/test-group-offsets
TESTS += tests/unit/broker/test-group tests/unit/broker/test-group-offsets
tests_unit_broker_test_group_SOURCES = tests/unit/broker/test-group.c \
	tests/unit/broker/group-harness.c tests/unit/broker/group-harness.h
tests_unit_broker_test_group_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_group_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
tests_unit_broker_test_group_offsets_SOURCES = tests/unit/broker/test-group-offsets.c \
	tests/unit/broker/group-harness.c tests/unit/broker/group-harness.h
tests_unit_broker_test_group_offsets_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_group_offsets_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
# the group APIs on the wire (broker/server/h-group.c), without sockets
check_PROGRAMS += tests/unit/broker/test-server-group
TESTS += tests/unit/broker/test-server-group
tests_unit_broker_test_server_group_SOURCES = tests/unit/broker/test-server-group.c
tests_unit_broker_test_server_group_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_server_group_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
