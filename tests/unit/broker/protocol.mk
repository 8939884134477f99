# unit tests of broker/protocol/
check_PROGRAMS += tests/unit/broker/test-protocol
TESTS += tests/unit/broker/test-protocol
tests_unit_broker_test_protocol_SOURCES = tests/unit/broker/test-protocol.c
tests_unit_broker_test_protocol_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_protocol_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
$(tests_unit_broker_test_protocol_OBJECTS): broker/protocol/messages-gen.h
