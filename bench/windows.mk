# bench/, windows part (issue 7). Included after bench/local.mk (which starts the lists).
# window-agg-bench: 1-minute tumbling count (emit-final) vs the raw consume->produce loop.
EXTRA_PROGRAMS += bench/window-agg-bench
bench_targets += bench/window-agg-bench$(EXEEXT)
bench_window_agg_bench_SOURCES = bench/window-agg-bench.c
bench_window_agg_bench_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
bench_window_agg_bench_LDADD = librill.la $(RDKAFKA_LIBS)
EXTRA_DIST += bench/window-agg-bench.sh
