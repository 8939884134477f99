#!/bin/bash
# 0323: two instances of examples/revenue (same application.id, one stream
# thread each, separate state directories) share the 4 partitions; both
# process orders. Then one stops cleanly: its tasks move to the other, which
# restores their stores (customers and revenue) from the changelogs before
# processing them, and the final totals equal the reference exactly.
# Size: REVENUE_ORDERS orders in all (default 1,000,000) for 20,000 customers.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/revenue-lib.sh"

N=${REVENUE_ORDERS:-1000000}
OUTPUT_TOPIC=revenue
start_cluster customers:4 orders:4
gen_customers "$TEST_TMP/customers.txt" 20000 323
gen_orders "$TEST_TMP/first.txt" $((N / 2)) 20000 3230
gen_orders "$TEST_TMP/second.txt" $((N - N / 2)) 20000 3231
reference "$TEST_TMP/customers.txt" "$TEST_TMP/first.txt" >"$TEST_TMP/ref1.txt"
reference "$TEST_TMP/customers.txt" "$TEST_TMP/first.txt" "$TEST_TMP/second.txt" >"$TEST_TMP/ref.txt"
produce_lines customers "$TEST_TMP/customers.txt"

args=(-b "$BOOTSTRAP" --application-id rev-0323 --threads 1 --customers customers
    --orders orders --output revenue -c commit.interval.ms=500
    -c consumer.session.timeout.ms=6000 -c consumer.heartbeat.interval.ms=500)
start_app a "$REVENUE" "${args[@]}" --state-dir "$TEST_TMP/a"
start_app b "$REVENUE" "${args[@]}" --state-dir "$TEST_TMP/b"
both() {
    grep -q "assigned [0-9]* partitions, [1-9]" "$TEST_TMP/a.log" &&
        grep -q "assigned [0-9]* partitions, [1-9]" "$TEST_TMP/b.log" &&
        [ "$(grep -c -- "-> RUNNING" "$TEST_TMP/a.log")" -ge 1 ] &&
        [ "$(grep -c -- "-> RUNNING" "$TEST_TMP/b.log")" -ge 1 ]
}
wait_for 60 both || { show_logs; fail "the two instances did not both get tasks"; }
wait_for 120 wait_loaded rev-0323 customers 4 || { show_logs; fail "the customers were not loaded"; }
both || { show_logs; fail "after loading, one instance has no task"; }
produce_lines orders "$TEST_TMP/first.txt"
wait_for 300 totals_reached "$TEST_TMP/ref1.txt" || { show_logs; fail "first half: totals differ"; }
for i in a b; do
    ls -d "$TEST_TMP/$i"/rev-0323/1_* >/dev/null 2>&1 || { show_logs; fail "instance $i has no revenue task"; }
done
echo "both instances aggregate: a has $(ls "$TEST_TMP/a/rev-0323" | tr '\n' ' '), b has $(ls "$TEST_TMP/b/rev-0323" | tr '\n' ' ')"

# a stops: its tasks move to b, which restores their state from the changelogs
before=$(grep -c "restored store=" "$TEST_TMP/b.log")
stop_app a || { show_logs; fail "instance a did not exit cleanly"; }
moved() {
    [ "$(grep -c "restored store=" "$TEST_TMP/b.log")" -gt "$before" ] &&
        grep -q "assigned 12 partitions, 8 tasks" "$TEST_TMP/b.log"
}
wait_for 120 moved || { show_logs; fail "instance b did not take over a's tasks"; }
produce_lines orders "$TEST_TMP/second.txt"
wait_for 300 totals_reached "$TEST_TMP/ref.txt" || {
    show_logs
    diff "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" | head -20
    diagnose rev-0323 "$TEST_TMP/customers.txt"
    fail "after the move the totals differ from the reference"
}
stop_app b || { show_logs; fail "instance b did not exit cleanly"; }
# b restored a's stores with their content: records for both stores after the move
tail -n +1 "$TEST_TMP/b.log" | awk -v n="$before" '/restored store=/ { if (++c > n) print }' \
    >"$TEST_TMP/moved.txt"
for s in customers revenue; do
    grep -q "restored store=$s .* records=[1-9]" "$TEST_TMP/moved.txt" ||
        { cat "$TEST_TMP/moved.txt"; fail "b restored no $s record after a left"; }
done
echo "restores on b after a left:"
sed 's/.*restored /  /' "$TEST_TMP/moved.txt"
echo "PASS: two instances shared the tasks; a's state moved to b with its partitions; totals exact"
