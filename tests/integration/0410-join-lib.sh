# 0410-join-lib.sh: what the payment-matching tests (0411, 0414) share: data, reference, produce,
# read the output (source it after runtime-lib.sh; needs BOOTSTRAP, TEST_TMP).
#
#   helper gen [SEED]          phase1.json / phase2.json (records), ref-phase1.txt, ref-inner.txt
#                              and ref-all.txt ("account<TAB>payment|auth", sorted; "|~" unmatched)
#   helper produce FILE.json   produces the records with their timestamps
#   helper ticks               one authorisation far in the future on each auths partition
#   helper committed GROUP     exit 0 once GROUP has committed the end of both inputs
#   helper output OUT          the output topic so far, sorted, into OUT
#   output_equals REF          the output is exactly REF (as a multiset)
#   output_contains REF        every line of REF is in the output (as often)
#   output_covers REF          every line of REF is in the output, and every output line is in REF
#                              (duplicates allowed: at-least-once after a crash)
#   explain REF                logs and the differences, for a failure
JOIN_APP=$RILL_BUILDDIR/tests/integration/0410-join-app

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
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 411)
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

output_covers() {
    helper output "$TEST_TMP/out.txt" || return 1
    [ -z "$(comm -23 "$1" "$TEST_TMP/out.txt")" ] || return 1
    [ -z "$(comm -13 <(sort -u "$1") <(sort -u "$TEST_TMP/out.txt"))" ]
}

explain() {
    show_logs
    echo "---- missing from the output (first 10) ----" >&2
    comm -23 "$1" "$TEST_TMP/out.txt" | head -10 >&2
    echo "---- in the output, not expected (first 10) ----" >&2
    comm -13 "$1" "$TEST_TMP/out.txt" | head -10 >&2
}

