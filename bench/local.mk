# bench/: benchmarks, built by `make bench` and never run by `make check`.
# Each benchmark adds itself to EXTRA_PROGRAMS and to bench_targets.
EXTRA_PROGRAMS =
bench_targets =
bench: $(bench_targets)
.PHONY: bench
CLEANFILES += $(bench_targets)

# store-bench: puts/s (RocksDB defaults, Kafka Streams' options, rill's, memory), restore, RSS.
EXTRA_PROGRAMS += bench/store-bench
bench_targets += bench/store-bench$(EXEEXT)
bench_store_bench_SOURCES = bench/store-bench.c
bench_store_bench_CFLAGS = $(AM_CFLAGS) $(ROCKSDB_CFLAGS)
bench_store_bench_LDADD = libstores.la libcommon.la $(ROCKSDB_LIBS) $(GLIB_LIBS)

# broker-bench: rill-broker against librdkafka's mock cluster (docs/benchmarks.md).
EXTRA_PROGRAMS += bench/broker-bench
bench_targets += bench/broker-bench$(EXEEXT)
bench_broker_bench_SOURCES = bench/broker-bench.c \
	tests/integration/harness.c tests/integration/harness.h
bench_broker_bench_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
bench_broker_bench_LDADD = $(RDKAFKA_LIBS) $(GLIB_LIBS)
bench: rill-broker$(EXEEXT)
# runtime: rill's stream threads against a raw librdkafka consume->produce loop.
EXTRA_PROGRAMS += bench/runtime-bench
bench_targets += bench/runtime-bench$(EXEEXT)
bench_runtime_bench_SOURCES = bench/runtime-bench.c
bench_runtime_bench_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
bench_runtime_bench_LDADD = librill.la $(RDKAFKA_LIBS)

# window-bench: window store puts/s and fetches/s, RocksDB segments vs memory (docs/benchmarks.md).
EXTRA_PROGRAMS += bench/window-bench
bench_targets += bench/window-bench$(EXEEXT)
bench_window_bench_SOURCES = bench/window-bench.c
bench_window_bench_CFLAGS = $(AM_CFLAGS) $(ROCKSDB_CFLAGS)
bench_window_bench_LDADD = libstores.la libcommon.la $(ROCKSDB_LIBS) $(GLIB_LIBS)
# broker/log/: append and fetch throughput of the partition log vs raw pwrite.
EXTRA_PROGRAMS += bench/bench-log
bench_targets += bench/bench-log$(EXEEXT)
bench_bench_log_SOURCES = bench/bench-log.c
bench_bench_log_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)

# broker/txn/: producer-state cost per produced batch, read_committed lookups,
# snapshot/rebuild, transactions through the coordinator.
EXTRA_PROGRAMS += bench/bench-txn
bench_targets += bench/bench-txn
bench_bench_txn_SOURCES = bench/bench-txn.c
bench_bench_txn_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)

# group-bench: the group coordinator in process on the real offsets log (docs/benchmarks.md).
EXTRA_PROGRAMS += bench/group-bench
bench_targets += bench/group-bench$(EXEEXT)
bench_group_bench_SOURCES = bench/group-bench.c
bench_group_bench_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)

# broker/log/cleaner.c: one compaction pass over R records / K keys, any codec.
EXTRA_PROGRAMS += bench/bench-cleaner
bench_targets += bench/bench-cleaner$(EXEEXT)
bench_bench_cleaner_SOURCES = bench/bench-cleaner.c
bench_bench_cleaner_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)

# eos-group-bench: 3-member rebalance time; acks=all vs idempotent vs transactional
# produce throughput, librdkafka against a real rill-broker (docs/benchmarks.md).
EXTRA_PROGRAMS += bench/eos-group-bench
bench_targets += bench/eos-group-bench$(EXEEXT)
bench_eos_group_bench_SOURCES = bench/eos-group-bench.c \
	tests/integration/harness.c tests/integration/harness.h \
	tests/integration/kafka-util.c tests/integration/kafka-util.h
bench_eos_group_bench_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
bench_eos_group_bench_LDADD = $(RDKAFKA_LIBS) $(GLIB_LIBS)
# global-bench: stream-global-table join vs stream-table join, through the driver (docs/benchmarks.md).
EXTRA_PROGRAMS += bench/global-bench
bench_targets += bench/global-bench$(EXEEXT)
bench_global_bench_SOURCES = bench/global-bench.c
bench_global_bench_LDADD = librill.la $(GLIB_LIBS)
