#!/bin/bash
# 0412: the foreign-key table join on rill-broker, over topics partitioned differently: orders
# (3 partitions; value "<customer>|<item>") joined with customers (2 partitions) by the
# customer each order names (tests/integration/0410-join-app --fk). A random stream of order
# upserts, foreign-key changes, deletes, customer updates and deletes; once it is consumed,
# the output table (the last value per order, tombstones removing it) must equal the inner
# join of the final orders and customers, computed here in Python. Then the app stops, its
# state directory is wiped (the subscription store must come back from its changelog), a
# second batch of changes runs, and the output must equal the new reference. The internal
# topics keep Kafka Streams' names and get the partition counts of the side that reads them.
RILL_TEST_CLUSTER=broker
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

APP=$RILL_BUILDDIR/tests/integration/0410-join-app
[ -x "$APP" ] || fail "no $APP"
GROUP=fk-0412

helper() {
    /usr/bin/python3 - "$BOOTSTRAP" "$TEST_TMP" "$@" <<'PY'
import json, random, sys, time
from kafka import KafkaProducer, KafkaConsumer, KafkaAdminClient, TopicPartition

bootstrap, tmp, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
state_path = tmp + "/state.json"

if cmd == "changes":  # a batch of random changes, produced; the reference updated
    seed, n = int(sys.argv[4]), int(sys.argv[5])
    try:
        orders, customers = json.load(open(state_path))
    except FileNotFoundError:
        orders, customers = {}, {}
    rng = random.Random(seed)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(n):
        r = rng.random()
        if r < 0.45:
            o = "o%d" % rng.randrange(300)
            v = "c%d|item%d" % (rng.randrange(35), i)  # c30-c34 never exist
            orders[o] = v
            producer.send("orders", key=o.encode(), value=v.encode())
        elif r < 0.55:
            o = "o%d" % rng.randrange(300)
            orders.pop(o, None)
            producer.send("orders", key=o.encode(), value=None)
        elif r < 0.88:
            c = "c%d" % rng.randrange(30)
            customers[c] = "name%d" % i
            producer.send("customers", key=c.encode(), value=customers[c].encode())
        else:
            c = "c%d" % rng.randrange(30)
            customers.pop(c, None)
            producer.send("customers", key=c.encode(), value=None)
    producer.flush(60)
    producer.close()
    json.dump([orders, customers], open(state_path, "w"))
    ref = {}
    for o, v in orders.items():
        c, _, item = v.partition("|")
        if c in customers:
            ref[o] = "%s for %s" % (item, customers[c])
    with open(tmp + "/ref.txt", "w") as f:
        f.write("".join("%s\t%s\n" % (k, ref[k]) for k in sorted(ref)))
    print("%d changes: %d orders, %d customers, %d joined rows"
          % (n, len(orders), len(customers), len(ref)))
elif cmd == "table":  # the output topic as a table: last value per key, tombstones delete
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False)
    tps = [TopicPartition("enriched", p) for p in (consumer.partitions_for_topic("enriched") or [])]
    table = {}
    if tps:
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        deadline = time.time() + 30
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.time() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                for m in batch:
                    if m.value is None:
                        table.pop(m.key.decode(), None)
                    else:
                        table[m.key.decode()] = m.value.decode()
    consumer.close()
    with open(tmp + "/out.txt", "w") as f:
        f.write("".join("%s\t%s\n" % (k, table[k]) for k in sorted(table)))
elif cmd == "partitions":  # "topic partitions" of the internal topics
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    for t in sys.argv[4:]:
        print(t, len(consumer.partitions_for_topic(t) or []))
    consumer.close()
PY
}

table_equals() {
    helper table && cmp -s "$TEST_TMP/ref.txt" "$TEST_TMP/out.txt"
}

explain() {
    show_logs
    echo "---- reference vs output (first 10 differences) ----" >&2
    diff "$TEST_TMP/ref.txt" "$TEST_TMP/out.txt" | head -10 >&2
}

run_app() {
    start_app fk "$APP" --fk -b "$BOOTSTRAP" --application-id "$GROUP" \
        --state-dir "$TEST_TMP/state" --output enriched -c commit.interval.ms=300
}

start_cluster orders:3 customers:2 enriched:3
helper changes 412 3000 || fail "producing the first changes"
run_app
wait_for 120 table_equals || { explain; fail "the joined table is not the reference"; }
echo "batch 1: $(wc -l <"$TEST_TMP/ref.txt") joined rows, as the reference"
stop_app fk || { show_logs; fail "the app did not stop cleanly"; }
rm -rf "$TEST_TMP/state" # the subscriptions must come back from their changelog

run_app
helper changes 413 3000 || fail "producing the second changes"
wait_for 120 table_equals || { explain; fail "after the restart: the joined table is not the reference"; }
grep -q "restoring store orders-customers-subscription-store" "$TEST_TMP/fk.log" ||
    { show_logs; fail "the subscription store was not restored"; }
stop_app fk || { show_logs; fail "the app did not stop cleanly"; }

helper partitions "$GROUP-orders-customers-subscription-registration-topic" \
    "$GROUP-orders-customers-subscription-response-topic" >"$TEST_TMP/partitions.txt"
printf '%s\n' "$GROUP-orders-customers-subscription-registration-topic 2" \
    "$GROUP-orders-customers-subscription-response-topic 3" | cmp -s - "$TEST_TMP/partitions.txt" ||
    { cat "$TEST_TMP/partitions.txt" >&2; fail "the subscription topics' partition counts"; }
echo "PASS: the foreign-key join equals the reference ($(wc -l <"$TEST_TMP/ref.txt") rows), before and after a restore; registration topic 2 partitions, response topic 3"
