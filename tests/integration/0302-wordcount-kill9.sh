#!/bin/bash
# 0302: wordcount killed with kill -9 mid-stream, then restarted on the same
# state directory: the stores come back from their checkpoint + changelog,
# the uncommitted input is processed again, and the final count of every
# word is >= the reference (at-least-once: nothing lost; duplicates counted
# and printed). The first run has caching off (every update is sent), so
# that the kill lands mid-stream and after some commits; the second runs
# with the default cache.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/wordcount-lib.sh"

OUTPUT_TOPIC=counts
start_cluster lines:3
gen_lines "$TEST_TMP/first.txt" 20000 302
gen_lines "$TEST_TMP/second.txt" 5000 3020
reference "$TEST_TMP/first.txt" "$TEST_TMP/second.txt" >"$TEST_TMP/ref.txt"
# the input arrives in chunks while the app runs, so that the kill lands mid-stream
cat "$TEST_TMP/first.txt" "$TEST_TMP/second.txt" | split -l 500 - "$TEST_TMP/chunk."
( for f in "$TEST_TMP"/chunk.*; do produce_lines lines "$f"; sleep 0.1; done; touch "$TEST_TMP/produced" ) &
PRODUCER_PID=$!

args=(-b "$BOOTSTRAP" --application-id wc-0302 --state-dir "$TEST_TMP/state" --threads 2
    --input lines --output counts -c commit.interval.ms=300)
start_app wc1 "$WORDCOUNT" "${args[@]}" -c statestore.cache.max.bytes=0
output_end() {
    local sum=0 p n
    for p in 0 1 2; do
        n=$(timeout 10 kcat -Q -b "$BOOTSTRAP" -t "counts:$p:-1" 2>/dev/null | awk '{ print $NF }')
        sum=$((sum + ${n:-0}))
    done
    echo $sum
}
some_output() { [ "$(output_end)" -ge 30000 ]; }
wait_for 120 some_output && wait_for 30 ls "$TEST_TMP"/state/wc-0302/1_0/.checkpoint ||
    { show_logs; fail "no output or no checkpoint before the kill"; }
kill9_app wc1
echo "killed wordcount after $(output_end) updates (a complete run sends about 150000)"
[ -e "$TEST_TMP/produced" ] && fail "the input was all produced before the kill: not mid-stream"

start_app wc2 "$WORDCOUNT" "${args[@]}"
reached() {
    final_counts "$TEST_TMP/final.txt"
    at_least "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" >/dev/null
}
wait_for 60 test -e "$TEST_TMP/produced" || fail "the input was not produced"
wait_for 180 reached || {
    show_logs
    at_least "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt"
    fail "after the restart some counts stay below the reference"
}
wait "$PRODUCER_PID" || fail "producing the input failed"
stop_app wc2 || { show_logs; fail "wordcount did not exit cleanly"; }
final_counts "$TEST_TMP/final.txt"
at_least "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" || fail "counts below the reference"
grep -q "restor" "$TEST_TMP/wc2.log" || { show_logs; fail "the restart restored nothing"; }
echo "PASS: after kill -9 and a restart every count is >= the reference"
