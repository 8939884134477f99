EXTRA_DIST += docs/benchmarks.md
