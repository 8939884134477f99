EXTRA_DIST += docs/benchmarks.md
EXTRA_DIST += docs/stores.md
