# bench/: benchmarks, built by `make bench` and never run by `make check`.
# Each benchmark adds itself to EXTRA_PROGRAMS and to bench_targets.
EXTRA_PROGRAMS =
bench_targets =
bench: $(bench_targets)
.PHONY: bench
CLEANFILES += $(bench_targets)
