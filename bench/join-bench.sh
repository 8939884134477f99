#!/bin/bash
# join-bench.sh: bench/join-bench (a stream-stream join of two N-record streams against the raw
# consume→produce loop) on a rill-broker started here in a temp dir.
#   RILL_BUILDDIR=_build RILL_SRCDIR=. bench/join-bench.sh [RECORDS] [PARTITIONS] [join-bench options]
# Not part of make check (timings are not tests). Results: docs/benchmarks.md, "Joins".
RECORDS=${1:-1000000}
PARTITIONS=${2:-4}
shift 2 2>/dev/null || shift $#
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

start_cluster "join-left:$PARTITIONS" "join-right:$PARTITIONS" >/dev/null
echo "broker: rill-broker at $BOOTSTRAP; 2 x $RECORDS records over $PARTITIONS partitions each"
"$RILL_BUILDDIR/bench/join-bench" -b "$BOOTSTRAP" --records "$RECORDS" \
    --state-dir "$TEST_TMP/state" "$@" || fail "join-bench failed"
