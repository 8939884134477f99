#!/bin/bash
# window-agg-bench.sh: runs bench/window-agg-bench (a 1-minute tumbling windowed count with
# emit-final against the raw consume->produce loop) on a rill-broker in a temp dir.
#   RILL_BUILDDIR=_build RILL_SRCDIR=. bench/window-agg-bench.sh [window-agg-bench options]
# Not part of make check (timings are not tests).
. "$RILL_SRCDIR/tests/integration/lib.sh"
start_broker --group.initial.rebalance.delay.ms=0 --auto.create.topics.enable=true >/dev/null
"$RILL_BUILDDIR/bench/window-agg-bench" -b "$BOOTSTRAP" --state-dir "$TEST_TMP/state" "$@"
status=$?
stop_broker
exit $status
