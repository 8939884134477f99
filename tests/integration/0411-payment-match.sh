#!/bin/bash
# 0411: a stream-stream left join on rill-broker: payments matched to the authorisations of
# their account within 5 minutes either way (tests/integration/0410-join-app), checked against
# pairs computed independently here in Python.
#
#   phase 1: the first 30 minutes (event time) of both streams; the output must be exactly
#            the matches among them (nothing unmatched yet: the grace is 2 hours);
#   the app stops cleanly and its state directory is wiped, so that the join buffers must
#   come back from their changelog topics;
#   phase 2: the next 30 minutes; matches across the two phases need the restored buffers;
#   then, once every input record is committed as processed, one authorisation far in the
#   future on each partition moves stream time past every window: each payment that matched
#   nothing comes out once, as "<payment>|~". The output must equal the reference exactly
#   (as a multiset: at-least-once with clean stops produces no duplicates).
RILL_TEST_CLUSTER=broker
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

APP=$RILL_BUILDDIR/tests/integration/0410-join-app
[ -x "$APP" ] || fail "no $APP"
GROUP=payment-match-0411

helper() {
    /usr/bin/python3 - "$BOOTSTRAP" "$TEST_TMP" "$@" <<'PY'
import json, random, sys, time
from kafka import KafkaProducer, KafkaConsumer, KafkaAdminClient, TopicPartition

bootstrap, tmp, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
T0 = 1_700_000_000_000
MIN = 60_000
WITHIN = 5 * MIN

def load(name):
    with open("%s/%s" % (tmp, name)) as f:
        return json.load(f)

if cmd == "gen":
    rng = random.Random(411)
    records = []  # [topic, key, value, ts]
    for i in range(1500):
        account = "acct%03d" % rng.randrange(150)
        t = T0 + rng.randrange(60 * MIN)
        records.append(["payments", account, "p%d" % i, t])
        if rng.random() < 0.7:  # most payments have an authorisation near them
            records.append(["auths", account, "a%d" % i, t + rng.randint(-7 * MIN, 7 * MIN)])
    for i in range(300):  # and some authorisations are on their own
        records.append(["auths", "acct%03d" % rng.randrange(150), "x%d" % i,
                        T0 + rng.randrange(60 * MIN)])
    records = [r for r in records if T0 <= r[3] < T0 + 60 * MIN]
    phase1 = [r for r in records if r[3] < T0 + 30 * MIN]
    phase2 = [r for r in records if r[3] >= T0 + 30 * MIN]
    def pairs(recs):
        pays = [r for r in recs if r[0] == "payments"]
        auths = [r for r in recs if r[0] == "auths"]
        out, matched = [], set()
        for p in pays:
            for a in auths:
                if a[1] == p[1] and abs(a[3] - p[3]) <= WITHIN:
                    out.append("%s\t%s|%s" % (p[1], p[2], a[2]))
                    matched.add(p[2])
        return out, [p for p in pays if p[2] not in matched]
    inner1, _ = pairs(phase1)
    inner, unmatched = pairs(records)
    rng.shuffle(phase1)
    rng.shuffle(phase2)
    json.dump(phase1, open(tmp + "/phase1.json", "w"))
    json.dump(phase2, open(tmp + "/phase2.json", "w"))
    with open(tmp + "/ref-phase1.txt", "w") as f:
        f.write("".join(l + "\n" for l in sorted(inner1)))
    with open(tmp + "/ref-inner.txt", "w") as f:
        f.write("".join(l + "\n" for l in sorted(inner)))
    with open(tmp + "/ref-all.txt", "w") as f:
        f.write("".join(l + "\n" for l in sorted(inner + ["%s\t%s|~" % (p[1], p[2]) for p in unmatched])))
    print("%d records; %d matches in phase 1, %d in all, %d payments unmatched"
          % (len(records), len(inner1), len(inner), len(unmatched)))
elif cmd == "produce":
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for topic, key, value, ts in load(sys.argv[4]):
        producer.send(topic, key=key.encode(), value=value.encode(), timestamp_ms=ts)
    producer.flush(60)
    producer.close()
elif cmd == "ticks":
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for p in producer.partitions_for("auths"):
        producer.send("auths", key=b"tick", value=b"tick", partition=p,
                      timestamp_ms=T0 + 600 * MIN)
    producer.flush(60)
    producer.close()
elif cmd == "committed":  # exit 0 when the group has committed the end of both inputs
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    committed = admin.list_consumer_group_offsets(sys.argv[4])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    tps = [TopicPartition(t, p) for t in ("payments", "auths") for p in consumer.partitions_for_topic(t)]
    ends = consumer.end_offsets(tps)
    consumer.close()
    admin.close()
    ok = all(tp in committed and committed[tp].offset >= ends[tp] for tp in tps)
    sys.exit(0 if ok else 1)
elif cmd == "output":  # the output topic so far, sorted, into argv[4]
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=3000, enable_auto_commit=False)
    tps = [TopicPartition("matched", p) for p in (consumer.partitions_for_topic("matched") or [])]
    lines = []
    if tps:
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        deadline = time.time() + 30
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.time() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                lines += ["%s\t%s" % (m.key.decode(), m.value.decode()) for m in batch]
    consumer.close()
    with open(sys.argv[4], "w") as f:
        f.write("".join(l + "\n" for l in sorted(lines)))
PY
}

output_equals() {
    helper output "$TEST_TMP/out.txt" && cmp -s "$1" "$TEST_TMP/out.txt"
}

# every line of $1 is in the output (as often)
output_contains() {
    helper output "$TEST_TMP/out.txt" || return 1
    [ -z "$(comm -23 "$1" "$TEST_TMP/out.txt")" ]
}

explain() {
    show_logs
    echo "---- missing from the output (first 10) ----" >&2
    comm -23 "$1" "$TEST_TMP/out.txt" | head -10 >&2
    echo "---- in the output, not expected (first 10) ----" >&2
    comm -13 "$1" "$TEST_TMP/out.txt" | head -10 >&2
}

start_cluster payments:3 auths:3 matched:3
helper gen || fail "generating the data"

run_app() {
    start_app join "$APP" -b "$BOOTSTRAP" --application-id "$GROUP" --state-dir "$TEST_TMP/state" \
        --within-ms 300000 --grace-ms 7200000 -c commit.interval.ms=300
}

# phase 1
helper produce phase1.json || fail "producing phase 1"
run_app
wait_for 120 output_equals "$TEST_TMP/ref-phase1.txt" || {
    explain "$TEST_TMP/ref-phase1.txt"
    fail "phase 1: the output is not the matches among the first 30 minutes"
}
echo "phase 1: $(wc -l <"$TEST_TMP/out.txt") matches, as the reference"
stop_app join || { show_logs; fail "the app did not stop cleanly"; }
rm -rf "$TEST_TMP/state" # the buffers must come back from their changelogs

# phase 2
run_app
helper produce phase2.json || fail "producing phase 2"
wait_for 120 output_contains "$TEST_TMP/ref-inner.txt" || {
    explain "$TEST_TMP/ref-inner.txt"
    fail "phase 2: matches are missing (were the buffers restored?)"
}
grep -q "restoring store match-this-join-store" "$TEST_TMP/join.log" ||
    { show_logs; fail "the join buffer was not restored"; }
wait_for 60 helper committed "$GROUP" || { show_logs; fail "the app did not commit every input"; }
helper ticks || fail "producing the ticks"
wait_for 120 output_equals "$TEST_TMP/ref-all.txt" || {
    explain "$TEST_TMP/ref-all.txt"
    fail "the output is not the reference (matches, then each unmatched payment once)"
}
stop_app join || { show_logs; fail "the app did not stop cleanly"; }
# the buffers' changelogs are windowed changelogs (compact,delete with a retention)
/usr/bin/python3 - "$BOOTSTRAP" "$GROUP-match-this-join-store-changelog" <<'PY' ||
import sys
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
text = repr(a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, sys.argv[2])]))
assert "compact,delete" in text, text
assert "94200001" in text, text  # retention: 2 x 5 min + 2 h + 1 ms, + 24 h
print("%s: compact,delete, retention.ms 94200001" % sys.argv[2])
PY
    fail "the join buffer's changelog is not a windowed changelog"
echo "PASS: $(wc -l <"$TEST_TMP/ref-inner.txt") matches and $(grep -c '|~$' "$TEST_TMP/ref-all.txt") unmatched payments, as the reference"
