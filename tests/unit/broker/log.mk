# unit tests of broker/log/
check_PROGRAMS += tests/unit/broker/test-batch tests/unit/broker/test-log \
	tests/unit/broker/test-log-recovery
TESTS += tests/unit/broker/test-batch tests/unit/broker/test-log \
	tests/unit/broker/test-log-recovery
tests_unit_broker_test_batch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_batch_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
tests_unit_broker_test_log_SOURCES = tests/unit/broker/test-log.c \
	tests/unit/broker/test-log-util.c tests/unit/broker/test-log-util.h
tests_unit_broker_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_log_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
tests_unit_broker_test_log_recovery_SOURCES = tests/unit/broker/test-log-recovery.c \
	tests/unit/broker/test-log-util.c tests/unit/broker/test-log-util.h
tests_unit_broker_test_log_recovery_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_log_recovery_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
check_PROGRAMS += tests/unit/broker/test-log-compact
TESTS += tests/unit/broker/test-log-compact
tests_unit_broker_test_log_compact_SOURCES = tests/unit/broker/test-log-compact.c \
	tests/unit/broker/test-log-util.c tests/unit/broker/test-log-util.h
tests_unit_broker_test_log_compact_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_log_compact_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
check_PROGRAMS += tests/unit/broker/test-log-compact-txn
TESTS += tests/unit/broker/test-log-compact-txn
tests_unit_broker_test_log_compact_txn_SOURCES = tests/unit/broker/test-log-compact-txn.c \
	tests/unit/broker/test-log-util.c tests/unit/broker/test-log-util.h
tests_unit_broker_test_log_compact_txn_CFLAGS = $(UNIT_CFLAGS)
tests_unit_broker_test_log_compact_txn_LDADD = libbroker.la libcommon.la $(UNIT_LIBS)
