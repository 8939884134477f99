#!/bin/bash
# 0320: examples/revenue against rill-broker: customers (a table) and orders
# (a stream) on 4 co-partitioned partitions, 2 stream threads; every order
# joined to its customer's region, re-grouped by region (repartition) and
# summed. The final total of every region (orders and cents) equals a
# reference computed here in Python from the input files; the revenue
# changelog is compacted and its restore is what 0322 checks.
# Size: REVENUE_ORDERS orders (default 1,000,000) for 20,000 customers.
RILL_TEST_CLUSTER=broker
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/revenue-lib.sh"

N=${REVENUE_ORDERS:-1000000}
OUTPUT_TOPIC=revenue
start_cluster customers:4 orders:4
gen_customers "$TEST_TMP/customers.txt" 20000 320
gen_orders "$TEST_TMP/orders.txt" "$N" 20000 3200
reference "$TEST_TMP/customers.txt" "$TEST_TMP/orders.txt" >"$TEST_TMP/ref.txt"
produce_lines customers "$TEST_TMP/customers.txt"

start_app rev "$REVENUE" -b "$BOOTSTRAP" --application-id rev-0320 --state-dir "$TEST_TMP/state" \
    --threads 2 --customers customers --orders orders --output revenue -c commit.interval.ms=500
# the customers table is loaded (consumed and committed) before any order arrives
wait_for 60 wait_loaded rev-0320 customers 4 || { show_logs; fail "the customers were not loaded"; }
t0=$SECONDS
produce_lines orders "$TEST_TMP/orders.txt"
wait_for 180 totals_reached "$TEST_TMP/ref.txt" || {
    show_logs
    diff "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" | head -20
    diagnose rev-0320 "$TEST_TMP/customers.txt"
    fail "the final totals do not match the reference"
}
echo "$N orders produced and aggregated in $((SECONDS - t0)) s"
stop_app rev || { show_logs; fail "revenue did not exit cleanly"; }
sed -n 's/.*stopped: /stopped: /p' "$TEST_TMP/rev.log"
echo "final totals of $(wc -l <"$TEST_TMP/ref.txt") regions match the reference:"
cat "$TEST_TMP/ref.txt"

/usr/bin/python3 - "$BOOTSTRAP" <<'PY' || fail "the internal topics are not as expected"
import sys
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
for t in ("rev-0320-revenue-changelog", "rev-0320-customers-changelog"):
    r = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t)])
    assert "compact" in repr(r), (t, r)
for t in ("rev-0320-revenue-changelog", "rev-0320-customers-changelog",
          "rev-0320-orders-by-region-repartition"):
    meta = a.describe_topics([t])
    assert len(meta[0]["partitions"]) == 4, meta
print("changelogs compacted, internal topics have 4 partitions")
PY
echo "PASS: revenue per region of $N orders matches the reference"
