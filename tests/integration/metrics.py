"""metrics.py BOOTSTRAP METRICS_URL: traffic with kafka-python (Debian's
python3-kafka) against a rill-broker started with metrics.listener, then
scrapes METRICS_URL and checks the Prometheus text against what was done.
Used by 0011-metrics.sh. The partition and group gauges are a snapshot the
broker refreshes every second, so checks on them are retried for up to 15 s.
Exits non-zero with a reason on any difference; every wait is bounded."""
import re
import sys
import time
import urllib.request

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

bootstrap, url = sys.argv[1], sys.argv[2]
topic = "metered"
group = "metered-group"
P0, P1 = 6, 4  # records produced to partitions 0 and 1
COMMIT0 = 2    # the group's committed offset on partition 0 (partition 1: all)

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def scrape():
    """{(name, frozenset(labels)): value} of one scrape; checks the format."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        if resp.status != 200:
            fail("GET %s: status %d" % (url, resp.status))
        ctype = resp.headers.get("Content-Type", "")
        if not ctype.startswith("text/plain; version=0.0.4"):
            fail("unexpected Content-Type %r" % ctype)
        text = resp.read().decode("utf-8")
    out = {}
    typed = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        m = SERIES.match(line)
        if not m:
            fail("not a Prometheus sample line: %r" % line)
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        if name not in typed and base not in typed:
            fail("sample %s has no # TYPE line before it" % name)
        pairs = frozenset(LABEL.findall(labels))
        key = (name, pairs)
        if key in out:
            fail("duplicate series %r" % line)
        out[key] = float(value)
    return out


def get(s, name, **labels):
    return s.get((name, frozenset(labels.items())))


def total(s, name, **labels):
    """Sum over the series of name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in s.items() if n == name and want <= ls)


def eventually(what, check):
    """Scrapes until check(scrape) returns None (ok) or 15 s pass."""
    deadline = time.monotonic() + 15
    while True:
        s = scrape()
        why = check(s)
        if why is None:
            return s
        if time.monotonic() > deadline:
            fail("%s: %s" % (what, why))
        time.sleep(0.2)


# ---- traffic -------------------------------------------------------------------------
admin = KafkaAdminClient(bootstrap_servers=bootstrap, api_version_auto_timeout_ms=10000)
admin.create_topics([NewTopic(topic, 2, 1), NewTopic("doomed", 3, 1)])

producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0,
                         api_version_auto_timeout_ms=10000)
for i in range(P0):
    producer.send(topic, value=b"zero-%d" % i, partition=0).get(timeout=30)
for i in range(P1):
    producer.send(topic, value=b"one-%d" % i, partition=1).get(timeout=30)
producer.send("doomed", value=b"x", partition=2).get(timeout=30)
producer.flush(timeout=30)
producer.close(timeout=10)

consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         api_version_auto_timeout_ms=10000)
tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
consumer.assign(tps)
got = 0
deadline = time.monotonic() + 30
while got < P0 + P1 and time.monotonic() < deadline:
    for recs in consumer.poll(timeout_ms=500).values():
        got += len(recs)
if got != P0 + P1:
    fail("consumed %d records, expected %d" % (got, P0 + P1))
consumer.commit({tps[0]: OffsetAndMetadata(COMMIT0, ""), tps[1]: OffsetAndMetadata(P1, "")})
consumer.close(autocommit=False)

# ---- what the broker says --------------------------------------------------------------


def counters(s):
    produce_ok = total(s, "rill_broker_requests_total", api="Produce", outcome="ok")
    if produce_ok < P0 + P1 + 1:
        return "Produce requests ok = %s, expected >= %d" % (produce_ok, P0 + P1 + 1)
    if total(s, "rill_broker_requests_total", api="OffsetCommit", outcome="ok") < 1:
        return "no OffsetCommit request counted"
    if total(s, "rill_broker_requests_total", api="Fetch", outcome="ok") < 1:
        return "no Fetch request counted"
    if total(s, "rill_broker_requests_total", outcome="error") != 0:
        return "requests counted as errors"
    n = get(s, "rill_broker_request_duration_seconds_count", api="Produce")
    if n is None or n < P0 + P1 + 1:
        return "Produce latency count = %s" % n
    inf = get(s, "rill_broker_request_duration_seconds_bucket", api="Produce", le="+Inf")
    if inf != n:
        return "Produce latency +Inf bucket %s != count %s" % (inf, n)
    if not get(s, "rill_broker_request_duration_seconds_sum", api="Produce") > 0:
        return "Produce latency sum is not positive"
    for name in ("rill_broker_network_in_bytes_total", "rill_broker_network_out_bytes_total"):
        if not get(s, name) > 0:
            return "%s = %s" % (name, get(s, name))
    if not get(s, "rill_broker_connections_accepted_total") >= 3:
        return "connections accepted = %s" % get(s, "rill_broker_connections_accepted_total")
    records = get(s, "rill_broker_produce_records_total", topic=topic)
    if records != P0 + P1:
        return "produce records of %s = %s, expected %d" % (topic, records, P0 + P1)
    pbytes = get(s, "rill_broker_produce_bytes_total", topic=topic)
    if not pbytes or pbytes <= 0:
        return "produce bytes of %s = %s" % (topic, pbytes)
    fbytes = get(s, "rill_broker_fetch_bytes_total", topic=topic)
    if not fbytes or fbytes < pbytes:
        return "fetch bytes of %s = %s, less than produced %s" % (topic, fbytes, pbytes)
    return None


def snapshot(s):
    for p, n in ((0, P0), (1, P1)):
        end = get(s, "rill_broker_log_end_offset", topic=topic, partition=str(p))
        if end != n:
            return "log end offset of %s-%d = %s, expected %d" % (topic, p, end, n)
        start = get(s, "rill_broker_log_start_offset", topic=topic, partition=str(p))
        if start != 0:
            return "log start offset of %s-%d = %s" % (topic, p, start)
        size = get(s, "rill_broker_log_size_bytes", topic=topic, partition=str(p))
        if not size or size <= 0:
            return "log size of %s-%d = %s" % (topic, p, size)
    if get(s, "rill_broker_topics") != 2 or get(s, "rill_broker_partitions") != 5:
        return "topics = %s partitions = %s, expected 2 and 5" % (
            get(s, "rill_broker_topics"), get(s, "rill_broker_partitions"))
    lag0 = get(s, "rill_broker_group_lag", group=group, topic=topic, partition="0")
    lag1 = get(s, "rill_broker_group_lag", group=group, topic=topic, partition="1")
    if lag0 != P0 - COMMIT0 or lag1 != 0:
        return "group lag = %s, %s, expected %d, 0" % (lag0, lag1, P0 - COMMIT0)
    c0 = get(s, "rill_broker_group_committed_offset", group=group, topic=topic, partition="0")
    if c0 != COMMIT0:
        return "committed offset = %s, expected %d" % (c0, COMMIT0)
    if not get(s, "rill_broker_groups", state="Empty") >= 1:
        return "no Empty group counted: %s" % get(s, "rill_broker_groups", state="Empty")
    if get(s, "rill_broker_group_members", group=group) != 0:
        return "members of %s = %s" % (group, get(s, "rill_broker_group_members", group=group))
    if get(s, "rill_broker_transactions_open") != 0:
        return "open transactions = %s" % get(s, "rill_broker_transactions_open")
    if get(s, "rill_broker_log_end_offset", topic="doomed", partition="2") != 1:
        return "no log end offset 1 for doomed-2"
    return None


eventually("counters", counters)
eventually("snapshot gauges", snapshot)

# a deleted topic's series go away at the next refresh
admin.delete_topics(["doomed"], timeout_ms=30000)
admin.close()


def doomed_gone(s):
    left = [k for k in s if ("topic", "doomed") in k[1]]
    if left:
        return "series of the deleted topic remain: %s" % sorted(left)[:3]
    if get(s, "rill_broker_topics") != 1 or get(s, "rill_broker_partitions") != 2:
        return "topics/partitions not updated after the delete"
    return None


eventually("deleted topic", doomed_gone)
print("ok - metrics match the traffic")
