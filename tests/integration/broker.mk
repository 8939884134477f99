# integration tests of broker (see tests/integration/local.mk for the numbering).
# C tests link librdkafka and tests/integration/harness.c, which starts a real
# rill-broker ($RILL_BROKER) on 127.0.0.1:0 in a temp dir; shell tests use lib.sh.
check_LTLIBRARIES += tests/integration/libitest.la
tests_integration_libitest_la_SOURCES = tests/integration/harness.c tests/integration/harness.h \
	tests/integration/kafka-util.c tests/integration/kafka-util.h
tests_integration_libitest_la_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
ITEST_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
ITEST_LIBS = tests/integration/libitest.la $(RDKAFKA_LIBS) $(GLIB_LIBS)

broker_itests_c = \
	tests/integration/0002-librdkafka-roundtrip \
	tests/integration/0006-restart-durability \
	tests/integration/0008-retention-delete-records \
	tests/integration/0150-idempotence-transactions \
	tests/integration/0152-txn-consume-transform-produce \
	tests/integration/0151-txn-kill9-atomicity \
	tests/integration/0100-consumer-group \
	tests/integration/0102-static-membership \
	tests/integration/0103-cooperative-rebalance \
	tests/integration/0105-group-member-faults
check_PROGRAMS += $(broker_itests_c)
tests_integration_0002_librdkafka_roundtrip_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0002_librdkafka_roundtrip_LDADD = $(ITEST_LIBS)
tests_integration_0006_restart_durability_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0006_restart_durability_LDADD = $(ITEST_LIBS)
tests_integration_0008_retention_delete_records_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0008_retention_delete_records_LDADD = $(ITEST_LIBS)
tests_integration_0150_idempotence_transactions_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0150_idempotence_transactions_LDADD = $(ITEST_LIBS)
tests_integration_0152_txn_consume_transform_produce_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0152_txn_consume_transform_produce_LDADD = $(ITEST_LIBS)
tests_integration_0151_txn_kill9_atomicity_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0151_txn_kill9_atomicity_LDADD = $(ITEST_LIBS)
tests_integration_0100_consumer_group_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0100_consumer_group_LDADD = $(ITEST_LIBS)
tests_integration_0102_static_membership_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0102_static_membership_LDADD = $(ITEST_LIBS)
tests_integration_0103_cooperative_rebalance_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0103_cooperative_rebalance_LDADD = $(ITEST_LIBS)
tests_integration_0105_group_member_faults_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0105_group_member_faults_LDADD = $(ITEST_LIBS)

broker_itests_sh = \
	tests/integration/0001-broker-cli.sh \
	tests/integration/0003-kcat.sh \
	tests/integration/0004-kafka-python.sh \
	tests/integration/0005-kafkajs.sh \
	tests/integration/0007-torn-tail.sh \
	tests/integration/0009-malformed-input.sh \
	tests/integration/0011-metrics.sh \
	tests/integration/0101-kafka-python-group.sh \
	tests/integration/0104-kafkajs-group.sh
EXTRA_DIST += $(broker_itests_sh) tests/integration/malformed.py tests/integration/group.py \
	tests/integration/metrics.py tests/js/package.json \
	tests/js/package-lock.json tests/js/roundtrip.js tests/js/group.js tests/integration/roundtrip.py

# The broker's integration tests need the program: build it before they run.
TESTS += $(broker_itests_c) $(broker_itests_sh)

# compaction (broker/log/cleaner.c) and kill -9 under idempotent load
broker_itests_c_cleaner = tests/integration/0160-compaction tests/integration/0161-kill9-idempotent \
	tests/integration/0162-idempotent-dropped-connections
check_PROGRAMS += $(broker_itests_c_cleaner)
TESTS += $(broker_itests_c_cleaner)
tests_integration_0160_compaction_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0160_compaction_LDADD = $(ITEST_LIBS)
tests_integration_0161_kill9_idempotent_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0161_kill9_idempotent_LDADD = $(ITEST_LIBS)
tests_integration_0162_idempotent_dropped_connections_CFLAGS = $(ITEST_CFLAGS)
tests_integration_0162_idempotent_dropped_connections_LDADD = $(ITEST_LIBS)
