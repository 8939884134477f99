#!/bin/bash
# 0414: the payment-matching join (0410-join-app, as in 0411) killed with SIGKILL once some of
# the first 30 minutes' matches are out; the next 30 minutes are produced while it is down; it
# restarts on the same state directory (its stores come back from the local state at the last
# checkpoint and the changelogs after it): at-least-once loses nothing. Once
# every input is committed and a far-future authorisation per partition has closed every
# window, every match and every unmatched payment of the reference (computed here in Python)
# is in the output, and the output holds nothing else; lines may repeat (the records after
# the last commit are processed again, and their buffered copies join again).
RILL_TEST_CLUSTER=broker
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/0410-join-lib.sh"

[ -x "$JOIN_APP" ] || fail "no $JOIN_APP"
GROUP=payment-match-0414

run_app() {
    start_app "$1" "$JOIN_APP" -b "$BOOTSTRAP" --application-id "$GROUP" \
        --state-dir "$TEST_TMP/state" --within-ms 300000 --grace-ms 7200000 \
        -c commit.interval.ms=1000
}

# at least a third of phase 1's matches are out
some_out() {
    helper output "$TEST_TMP/out.txt" || return 1
    [ "$(wc -l <"$TEST_TMP/out.txt")" -ge $(($(wc -l <"$TEST_TMP/ref-phase1.txt") / 3)) ]
}

start_cluster payments:3 auths:3 matched:3
helper gen 414 || fail "generating the data"
helper produce phase1.json || fail "producing phase 1"
run_app join1
wait_for 120 some_out || { show_logs; fail "no output before the kill"; }
kill9_app join1
echo "killed after $(wc -l <"$TEST_TMP/out.txt") output records"
helper produce phase2.json || fail "producing phase 2"

run_app join2
wait_for 120 output_contains "$TEST_TMP/ref-inner.txt" || {
    explain "$TEST_TMP/ref-inner.txt"
    fail "matches are missing after the restart"
}
wait_for 60 helper committed "$GROUP" || { show_logs; fail "the app did not commit every input"; }
helper ticks || fail "producing the ticks"
wait_for 120 output_covers "$TEST_TMP/ref-all.txt" || {
    explain "$TEST_TMP/ref-all.txt"
    fail "the output does not cover the reference exactly (missing or unexpected lines)"
}
stop_app join2 || { show_logs; fail "the app did not stop cleanly"; }
echo "PASS: $(wc -l <"$TEST_TMP/ref-all.txt") reference lines all in the output, nothing else" \
    "($(wc -l <"$TEST_TMP/out.txt") output records: $(($(wc -l <"$TEST_TMP/out.txt") - $(wc -l <"$TEST_TMP/ref-all.txt"))) repeats)"
