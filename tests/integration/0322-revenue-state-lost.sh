#!/bin/bash
# 0322: examples/revenue stopped cleanly, its state directory deleted,
# restarted: both stores (the customers table and the revenue per region)
# are rebuilt from their changelog topics, and processing goes on from
# there: after the second half of the orders the final totals equal the
# reference of all orders exactly (a clean stop commits everything).
# Size: REVENUE_ORDERS orders in all (default 1,000,000) for 20,000 customers.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/revenue-lib.sh"

N=${REVENUE_ORDERS:-1000000}
OUTPUT_TOPIC=revenue
start_cluster customers:4 orders:4
gen_customers "$TEST_TMP/customers.txt" 20000 322
gen_orders "$TEST_TMP/first.txt" $((N / 2)) 20000 3220
gen_orders "$TEST_TMP/second.txt" $((N - N / 2)) 20000 3221
reference "$TEST_TMP/customers.txt" "$TEST_TMP/first.txt" >"$TEST_TMP/ref1.txt"
reference "$TEST_TMP/customers.txt" "$TEST_TMP/first.txt" "$TEST_TMP/second.txt" >"$TEST_TMP/ref.txt"
produce_lines customers "$TEST_TMP/customers.txt"

args=(-b "$BOOTSTRAP" --application-id rev-0322 --state-dir "$TEST_TMP/state" --threads 2
    --customers customers --orders orders --output revenue -c commit.interval.ms=500)
start_app rev1 "$REVENUE" "${args[@]}"
wait_for 60 wait_loaded rev-0322 customers 4 || { show_logs; fail "the customers were not loaded"; }
produce_lines orders "$TEST_TMP/first.txt"
wait_for 100 totals_reached "$TEST_TMP/ref1.txt" || { show_logs; fail "first run: totals differ"; }
stop_app rev1 || { show_logs; fail "revenue did not exit cleanly"; }
[ -d "$TEST_TMP/state/rev-0322" ] || fail "no state directory"
rm -rf "$TEST_TMP/state"
echo "state directory deleted"

start_app rev2 "$REVENUE" "${args[@]}"
restored() { [ "$(grep -c "restored store=" "$TEST_TMP/rev2.log" 2>/dev/null)" -ge 8 ] 2>/dev/null; }
wait_for 60 restored || { show_logs; fail "the second run did not restore its 8 stores"; }
produce_lines orders "$TEST_TMP/second.txt"
wait_for 100 totals_reached "$TEST_TMP/ref.txt" || {
    show_logs
    diff "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" | head -20
    diagnose rev-0322 "$TEST_TMP/customers.txt"
    fail "after restoring from the changelogs the totals differ from the reference"
}
stop_app rev2 || { show_logs; fail "revenue did not exit cleanly"; }
restored_records() {
    grep -o "restored store=$1 [^ ]* [^ ]* records=[0-9]*" "$TEST_TMP/rev2.log" |
        sed 's/.*records=//' | awk '{ s += $1 } END { print s + 0 }'
}
customers=$(restored_records customers)
revenue=$(restored_records revenue)
# the customers changelog holds one record per customer at least (20,000)
[ "$customers" -ge 20000 ] || { show_logs; fail "restored $customers customer records, want >= 20000"; }
[ "$revenue" -gt 0 ] || { show_logs; fail "no revenue record was restored"; }
echo "PASS: state rebuilt from the changelogs ($customers customer and $revenue revenue records), totals identical to the reference"
