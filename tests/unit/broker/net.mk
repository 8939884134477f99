# unit tests of broker/net/ (real loopback sockets) and broker/server/config.c
check_PROGRAMS += tests/unit/broker/test-net
TESTS += tests/unit/broker/test-net
tests_unit_broker_test_net_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_net_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
check_PROGRAMS += tests/unit/broker/test-config
TESTS += tests/unit/broker/test-config
tests_unit_broker_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_config_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
