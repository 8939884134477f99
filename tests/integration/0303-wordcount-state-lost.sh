#!/bin/bash
# 0303: wordcount stopped cleanly, its state directory deleted, restarted:
# every store is rebuilt from its changelog topic, and counting goes on from
# there: after more input the final counts equal the reference of all input
# exactly (clean stops commit everything, so nothing is counted twice).
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/wordcount-lib.sh"

OUTPUT_TOPIC=counts
start_cluster lines:3
gen_lines "$TEST_TMP/first.txt" 5000 303
gen_lines "$TEST_TMP/second.txt" 3000 3030
reference "$TEST_TMP/first.txt" >"$TEST_TMP/ref1.txt"
reference "$TEST_TMP/first.txt" "$TEST_TMP/second.txt" >"$TEST_TMP/ref.txt"

args=(-b "$BOOTSTRAP" --application-id wc-0303 --state-dir "$TEST_TMP/state" --threads 2
    --input lines --output counts -c commit.interval.ms=500)
produce_lines lines "$TEST_TMP/first.txt"
start_app wc1 "$WORDCOUNT" "${args[@]}"
wait_for 120 counts_reached "$TEST_TMP/ref1.txt" || { show_logs; fail "first run: counts do not match"; }
stop_app wc1 || { show_logs; fail "wordcount did not exit cleanly"; }
[ -d "$TEST_TMP/state/wc-0303" ] || fail "no state directory"
rm -rf "$TEST_TMP/state"
echo "state directory deleted"

start_app wc2 "$WORDCOUNT" "${args[@]}"
restored() { grep -q "restored" "$TEST_TMP/wc2.log"; }
wait_for 60 restored || { show_logs; fail "the second run restored nothing"; }
produce_lines lines "$TEST_TMP/second.txt"
wait_for 120 counts_reached "$TEST_TMP/ref.txt" || {
    show_logs
    diff "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" | head -20
    fail "after restoring from the changelog the counts differ from the reference"
}
stop_app wc2 || { show_logs; fail "wordcount did not exit cleanly"; }
records=$(grep -o "restored store=counts [^ ]* [^ ]* records=[0-9]*" "$TEST_TMP/wc2.log" |
    sed 's/.*records=//' | awk '{ s += $1 } END { print s + 0 }')
[ "$records" -gt 0 ] || { show_logs; fail "no changelog record was restored"; }
echo "PASS: state rebuilt from the changelog ($records records), final counts identical to the reference"
