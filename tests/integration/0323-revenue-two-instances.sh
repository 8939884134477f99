#!/bin/bash
# 0323: two instances of examples/revenue (same application.id, one stream
# thread each, separate state directories). a runs alone over the first half
# of the orders; b joins: half of the tasks move to b, which restores their
# stores (customers and revenue) from the changelogs before processing them.
# Then a stops cleanly: its tasks move to b, which restores them too, and
# after the second half the final totals equal the reference exactly.
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
wait_for 60 wait_loaded rev-0323 customers 4 || { show_logs; fail "the customers were not loaded"; }
produce_lines orders "$TEST_TMP/first.txt"
wait_for 100 totals_reached "$TEST_TMP/ref1.txt" || { show_logs; fail "first half: totals differ"; }
grep -q "assigned 12 partitions, 8 tasks" "$TEST_TMP/a.log" || { show_logs; fail "a alone has not every task"; }

# b joins: half of a's tasks move to b, which restores their state from the changelogs
restores() { grep "restored store=$2 .* records=[1-9]" "$TEST_TMP/$1.log" 2>/dev/null | wc -l; }
joined() { [ "$(restores b customers)" -ge 1 ] && [ "$(restores b revenue)" -ge 1 ] &&
    grep -q -- "-> RUNNING" "$TEST_TMP/b.log"; }
start_app b "$REVENUE" "${args[@]}" --state-dir "$TEST_TMP/b"
wait_for 90 joined || { show_logs; fail "b did not take over tasks with their state"; }
wait_for 60 grep -q "assigned [0-9]* partitions, [1-9]" "$TEST_TMP/b.log" ||
    { show_logs; fail "b has no task"; }
echo "b joined: restores of a's state on b:"
grep "restored store=" "$TEST_TMP/b.log" | sed 's/.*restored /  /'

# a stops: its tasks move to b, which restores their state from the changelogs
before=$(grep -c "restored store=" "$TEST_TMP/b.log")
stop_app a || { show_logs; fail "instance a did not exit cleanly"; }
moved() {
    [ "$(grep -c "restored store=" "$TEST_TMP/b.log")" -gt "$before" ] &&
        grep -q "assigned 12 partitions, 8 tasks" "$TEST_TMP/b.log"
}
wait_for 90 moved || { show_logs; fail "instance b did not take over a's tasks"; }
produce_lines orders "$TEST_TMP/second.txt"
wait_for 100 totals_reached "$TEST_TMP/ref.txt" || {
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
