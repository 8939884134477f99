#!/bin/bash
# 0402: windowed-count killed with kill -9 mid-stream (its input still
# arriving), then restarted on the same state directory: the window store,
# the stream time and the suppression buffer come back from their
# checkpoint and changelogs, the input after the last commit is processed
# again, and no window is lost. What at-least-once allows, and the test
# checks (tests/integration/windowed.py check): every window the killed run
# emitted is exact and emitted once by it; the restarted run emits every
# other reference window once, with a count >= the reference (records after
# the last commit may be counted twice), and may emit again a window that the
# killed run emitted after its last commit; nothing outside the reference.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/windowed-lib.sh"
/usr/bin/python3 -c 'import kafka' 2>/dev/null || { echo "SKIP: python3-kafka is missing"; exit 77; }

N=${RILL_WINDOWED_RECORDS:-100000}
start_cluster events:3 "$OUTPUT_TOPIC":3
windowed gen "$TEST_TMP/input.txt" "$N" 402
windowed reference "$TEST_TMP/input.txt" $WINDOW_MS $GRACE_MS >"$TEST_TMP/ref.txt"
# the input arrives in chunks while the app runs, so that the kill lands mid-stream
( windowed produce "$BOOTSTRAP" events "$TEST_TMP/input.txt" 2000 0.25 &&
    touch "$TEST_TMP/produced" ) >"$TEST_TMP/producer.log" 2>&1 &
PRODUCER_PID=$!

args=(-b "$BOOTSTRAP" --application-id wc-0402 --state-dir "$TEST_TMP/state" --input events
    --output "$OUTPUT_TOPIC" --window-ms $WINDOW_MS --grace-ms $GRACE_MS
    -c commit.interval.ms=300)
start_app wc1 "$WINDOWED_COUNT" "${args[@]}"
some_output() {
    output_ends "$TEST_TMP/ends.now"
    [ "$(awk '{ s += $2 } END { print s + 0 }' "$TEST_TMP/ends.now")" -ge 3000 ]
}
wait_for 120 some_output && wait_for 30 ls "$TEST_TMP"/state/wc-0402/0_0/.checkpoint ||
    { show_logs; fail "no output or no checkpoint before the kill"; }
kill9_app wc1
output_ends "$TEST_TMP/kill-ends.txt"
echo "killed windowed-count after $(awk '{ s += $2 } END { print s }' "$TEST_TMP/kill-ends.txt") windows"
[ -e "$TEST_TMP/produced" ] && fail "the input was all produced before the kill: not mid-stream"

start_app wc2 "$WINDOWED_COUNT" "${args[@]}"
wait_for 60 test -e "$TEST_TMP/produced" || { cat "$TEST_TMP/producer.log"; fail "the input was not produced"; }
wait "$PRODUCER_PID" || fail "producing the input failed"
wait_for 240 output_complete "$TEST_TMP/ref.txt" || { show_logs; fail "the output stays incomplete"; }
sleep 2 # anything emitted twice arrives too
stop_app wc2 || { show_logs; fail "windowed-count did not exit cleanly"; }
grep -q "restored" "$TEST_TMP/wc2.log" || { show_logs; fail "the restart restored nothing"; }

consume_output "$TEST_TMP/output.txt"
windowed check "$TEST_TMP/ref.txt" "$TEST_TMP/output.txt" "$TEST_TMP/kill-ends.txt" ||
    fail "the output after kill -9 and a restart does not match the reference"
echo "PASS: after kill -9 and a restart no window is lost and every count is as allowed"
