#!/bin/bash
# 0321: examples/revenue killed with kill -9 mid-stream (orders still
# arriving, commits done, caching off so that every update is sent), then
# restarted on the same state directory: the stores come back from their
# checkpoints + changelogs, the uncommitted input is processed again, and no
# order is lost: every region's final count and sum are >= the reference
# (at-least-once). The overcount is bounded: it is at most the input the
# group had not committed when the app was killed (its lag on orders and on
# the repartition topic, read right after the kill).
# Size: REVENUE_ORDERS orders (default 1,000,000) for 20,000 customers.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/revenue-lib.sh"

N=${REVENUE_ORDERS:-1000000}
OUTPUT_TOPIC=revenue
start_cluster customers:4 orders:4
gen_customers "$TEST_TMP/customers.txt" 20000 321
gen_orders "$TEST_TMP/orders.txt" "$N" 20000 3210
reference "$TEST_TMP/customers.txt" "$TEST_TMP/orders.txt" >"$TEST_TMP/ref.txt"
produce_lines customers "$TEST_TMP/customers.txt"

args=(-b "$BOOTSTRAP" --application-id rev-0321 --state-dir "$TEST_TMP/state" --threads 2
    --customers customers --orders orders --output revenue -c commit.interval.ms=300)
start_app rev1 "$REVENUE" "${args[@]}" -c statestore.cache.max.bytes=0
wait_for 60 wait_loaded rev-0321 customers 4 || { show_logs; fail "the customers were not loaded"; }
# the orders arrive in 20 chunks while the app runs; the second half only after
# the kill, so that the kill lands mid-stream however fast the app is
split -n l/20 "$TEST_TMP/orders.txt" "$TEST_TMP/chunk."
(
    i=0
    for f in "$TEST_TMP"/chunk.*; do
        if [ $i -eq 10 ]; then wait_for 200 test -e "$TEST_TMP/killed" || exit 1; fi
        produce_lines orders "$f"
        sleep 0.2
        i=$((i + 1))
    done
    touch "$TEST_TMP/produced"
) &
PRODUCER_PID=$!
output_end() {
    timeout 10 kcat -Q -b "$BOOTSTRAP" -t "revenue:0:-1" 2>/dev/null | awk '{ print $NF }'
}
some_output() { local n; n=$(output_end); [ "${n:-0}" -ge $((N / 5)) ]; }
# (the first half of the orders, cache off: about N / 2 updates in all)
wait_for 120 some_output && wait_for 30 ls "$TEST_TMP"/state/rev-0321/1_*/.checkpoint >/dev/null ||
    { show_logs; fail "no output or no checkpoint before the kill"; }
[ -e "$TEST_TMP/produced" ] && fail "the orders were all produced before the kill: not mid-stream"
kill9_app rev1
touch "$TEST_TMP/killed"
"$RILL_CLI" groups describe rev-0321 -b "$BOOTSTRAP" >"$TEST_TMP/at-kill.txt" ||
    fail "cannot describe the group after the kill"
uncommitted=$(sed -n 's/^Total lag: //p' "$TEST_TMP/at-kill.txt")
echo "killed revenue after $(output_end) updates; uncommitted input at the kill: $uncommitted records"

start_app rev2 "$REVENUE" "${args[@]}"
reached() {
    final_totals "$TEST_TMP/final.txt" && at_least "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" >/dev/null
}
wait_for 60 test -e "$TEST_TMP/produced" || fail "the orders were not produced"
wait "$PRODUCER_PID" || fail "producing the orders failed"
wait_for 150 reached || {
    show_logs
    at_least "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt"
    diagnose rev-0321 "$TEST_TMP/customers.txt"
    fail "after the restart some totals stay below the reference"
}
stop_app rev2 || { show_logs; fail "revenue did not exit cleanly"; }
final_totals "$TEST_TMP/final.txt"
at_least "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" | tee "$TEST_TMP/at-least.txt" ||
    fail "totals below the reference"
dups=$(sed -n 's/.*duplicates): //p' "$TEST_TMP/at-least.txt")
[ "$dups" -le "$uncommitted" ] ||
    fail "$dups orders counted twice, more than the $uncommitted records uncommitted at the kill"
grep -q "restored store=revenue .* records=[1-9]" "$TEST_TMP/rev2.log" ||
    { show_logs; fail "the restart restored nothing of the revenue store"; }
echo "PASS: after kill -9 and a restart no order is lost; $dups counted twice (bound $uncommitted)"
