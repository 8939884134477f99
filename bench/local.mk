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
