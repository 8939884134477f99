#!/bin/bash
# 0401: examples/windowed-count on rill-broker over 200,000 out-of-order
# records (60 keys, 3 partitions, 1 s tumbling windows, grace 500 ms; 1 in
# 100 records 3-6 s late): each window is emitted once, after it closes,
# with key "<key>@<start>" and the count of a reference computed
# independently (tests/integration/windowed.py), and the late records the
# app dropped (rill_app_dropped_records_total{reason="late"} on its metrics
# endpoint) are exactly the reference's late records.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/windowed-lib.sh"
/usr/bin/python3 -c 'import kafka' 2>/dev/null || { echo "SKIP: python3-kafka is missing"; exit 77; }

N=${RILL_WINDOWED_RECORDS:-200000}
start_cluster events:3 "$OUTPUT_TOPIC":3
windowed gen "$TEST_TMP/input.txt" "$N" 401
windowed reference "$TEST_TMP/input.txt" $WINDOW_MS $GRACE_MS >"$TEST_TMP/ref.txt"
LATE=$(sed -n 's/^late\t//p' "$TEST_TMP/ref.txt")
[ "$LATE" -gt 0 ] || fail "the input has no late record"
windowed produce "$BOOTSTRAP" events "$TEST_TMP/input.txt" || fail "producing the input"
started=$SECONDS

start_app wc "$WINDOWED_COUNT" -b "$BOOTSTRAP" --application-id wc-0401 \
    --state-dir "$TEST_TMP/state" --input events --output "$OUTPUT_TOPIC" \
    --window-ms $WINDOW_MS --grace-ms $GRACE_MS \
    -c commit.interval.ms=500 -c metrics.listener=127.0.0.1:0
port_logged() { grep -q "metrics on port [0-9]" "$TEST_TMP/wc.log"; }
wait_for 60 port_logged || { show_logs; fail "windowed-count did not log its metrics port"; }
PORT=$(sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$TEST_TMP/wc.log" | head -1)

wait_for 240 output_complete "$TEST_TMP/ref.txt" || {
    show_logs
    cat "$TEST_TMP/ends.now"
    fail "the output did not reach the $(grep -vc '^late' "$TEST_TMP/ref.txt") reference windows"
}
echo "all windows emitted $((SECONDS - started)) s after the start"
# every input record processed: the late ones counted too
late_seen() { [ "$(windowed late "$PORT")" -ge "$LATE" ]; }
wait_for 30 late_seen
dropped=$(windowed late "$PORT")
stop_app wc || { show_logs; fail "windowed-count did not exit cleanly"; }

consume_output "$TEST_TMP/output.txt"
windowed check "$TEST_TMP/ref.txt" "$TEST_TMP/output.txt" ||
    fail "the output differs from the reference"
[ "$dropped" -eq "$LATE" ] || fail "the app dropped $dropped late records, the reference $LATE"
echo "PASS: every window emitted once with the reference count; $dropped late records dropped and counted"
