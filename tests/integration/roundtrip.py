"""roundtrip.py BOOTSTRAP: kafka-python (Debian's python3-kafka) produce + fetch
round trip, used by 0004-kafka-python.sh. Exits non-zero with a reason on any
difference; every wait is bounded."""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap = sys.argv[1]
topic = "py-events"
N = 600


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


for compression in (None, "gzip"):
    t = topic + "-" + (compression or "none")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             compression_type=compression, request_timeout_ms=20000,
                             api_version_auto_timeout_ms=10000)
    sent = {}
    futures = []
    base_ts = int(time.time() * 1000) - 100000
    for i in range(N):
        key = None if i % 11 == 0 else ("key-%d" % (i % 23)).encode()
        value = ("value %d " % i).encode() + bytes(range(i % 200))
        headers = [("idx", str(i).encode())] if i % 3 == 0 else []
        part = i % 2
        futures.append((i, key, value, headers, part, base_ts + i,
                        producer.send(t, key=key, value=value, headers=headers,
                                      partition=part, timestamp_ms=base_ts + i)))
    producer.flush(timeout=30)
    for i, key, value, headers, part, ts, fut in futures:
        md = fut.get(timeout=30)
        if md.partition != part:
            fail("record %d went to partition %d" % (i, md.partition))
        sent[(md.partition, md.offset)] = (key, value, headers, ts)
    producer.close(timeout=10)
    for p in (0, 1):
        offs = sorted(o for (pp, o) in sent if pp == p)
        if offs != list(range(len(offs))):
            fail("partition %d offsets are not dense: %s..." % (p, offs[:5]))

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False, consumer_timeout_ms=1000,
                             api_version_auto_timeout_ms=10000)
    consumer.assign([TopicPartition(t, 0), TopicPartition(t, 1)])
    consumer.seek_to_beginning()
    got = {}
    deadline = time.time() + 60
    while len(got) < N and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            for m in batch:
                got[(m.partition, m.offset)] = (m.key, m.value, list(m.headers), m.timestamp)
    consumer.close()
    if len(got) != N:
        fail("%s: read %d of %d records" % (t, len(got), N))
    for pos, (key, value, headers, ts) in sent.items():
        g = got.get(pos)
        if g is None:
            fail("%s: record at %s missing" % (t, pos))
        if g[0] != key or g[1] != value or g[3] != ts:
            fail("%s: record at %s differs: %r != %r" % (t, pos, g, (key, value, headers, ts)))
        if [(h[0], h[1]) for h in g[2]] != headers:
            fail("%s: headers at %s differ: %r != %r" % (t, pos, g[2], headers))
    print("ok - kafka-python %s: %d records produced and fetched back" % (compression or "none", N))
