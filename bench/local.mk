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
