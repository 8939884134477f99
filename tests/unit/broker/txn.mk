# unit tests of broker/txn/: producer state per partition, and the
# transaction coordinator against in-memory partitions with a fake clock.
TXN_UNIT_TESTS = tests/unit/broker/txn/test-pstate tests/unit/broker/txn/test-coordinator \
	tests/unit/broker/txn/test-txn-server
check_PROGRAMS += $(TXN_UNIT_TESTS)
TESTS += $(TXN_UNIT_TESTS)
noinst_HEADERS += tests/unit/broker/txn/txn-test.h
tests_unit_broker_txn_test_pstate_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_txn_test_pstate_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
tests_unit_broker_txn_test_coordinator_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_txn_test_coordinator_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
tests_unit_broker_txn_test_txn_server_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_txn_test_txn_server_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
