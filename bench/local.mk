# bench/: benchmarks, built by `make bench` and never run by `make check`.
# Each benchmark adds itself to EXTRA_PROGRAMS and to bench_targets.
EXTRA_PROGRAMS =
bench_targets =
bench: $(bench_targets)
.PHONY: bench
CLEANFILES += $(bench_targets)

# broker/log/: append and fetch throughput of the partition log vs raw pwrite.
EXTRA_PROGRAMS += bench/bench-log
bench_targets += bench/bench-log
bench_bench_log_SOURCES = bench/bench-log.c
bench_bench_log_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)

# broker/txn/: producer-state cost per produced batch, read_committed lookups,
# snapshot/rebuild, transactions through the coordinator.
EXTRA_PROGRAMS += bench/bench-txn
bench_targets += bench/bench-txn
bench_bench_txn_SOURCES = bench/bench-txn.c
bench_bench_txn_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)
