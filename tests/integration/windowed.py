#!/usr/bin/python3
"""windowed.py: input, reference and checks for the windowed-count tests (04xx).

    windowed.py gen FILE N SEED              N records "partition<TAB>key<TAB>timestamp"
    windowed.py produce BOOTSTRAP TOPIC FILE [CHUNK PAUSE]
                                            produces them (to their partition, with
                                            their timestamp), CHUNK records at a time
                                            with PAUSE seconds between chunks
    windowed.py reference FILE WINDOW GRACE  prints "key@start<TAB>count" per final
                                            window and "late<TAB>n" (to stderr: a summary)
    windowed.py check REF OUTPUT [KILL_ENDS] compares output ("partition<TAB>offset<TAB>
                                            key<TAB>value" lines) with the reference
    windowed.py late PORT                   prints the sum of
                                            rill_app_dropped_records_total{reason="late"}

The reference is computed here, independently of rill: per partition (a
task), in produce order, stream time = the largest timestamp so far; a
record is late when its window [start, start + WINDOW) has end + GRACE <=
stream time; every other record counts in (key, start). Keys go to partition
crc32(key) % 3, so that each key's records are in one partition, in order.
The input: event time advances 5 ms per record; most records are up to 400 ms
out of order (within a grace of 500); 1 in 100 is 3 to 6 s late (beyond
window + grace, whatever happened to stream time); and one "~flush" record per
partition, far in the future, closes every window at the end.
"""
import random
import re
import sys
import time
import urllib.request
import zlib

PARTITIONS = 3
T0 = 1700000000000


def gen(path, n, seed):
    rng = random.Random(seed)
    keys = ["user-%d" % i for i in range(60)]
    with open(path, "w") as out:
        last = T0
        for i in range(n):
            key = rng.choice(keys)
            t = T0 + i * 5
            r = rng.random()
            if r < 0.01:
                t -= rng.randint(3000, 6000)
            else:
                t -= rng.randint(0, 400)
            last = max(last, t)
            p = zlib.crc32(key.encode()) % PARTITIONS
            out.write("%d\t%s\t%d\n" % (p, key, t))
        for p in range(PARTITIONS):
            out.write("%d\t~flush-%d\t%d\n" % (p, p, last + 3600000))


def read(path):
    with open(path) as f:
        for line in f:
            p, key, t = line.rstrip("\n").split("\t")
            yield int(p), key, int(t)


def produce(bootstrap, topic, path, chunk=0, pause=0.0):
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             max_in_flight_requests_per_connection=1, retries=5,
                             batch_size=65536)
    sent = 0
    for p, key, t in read(path):
        producer.send(topic, key=key.encode(), value=b"v", partition=p, timestamp_ms=t)
        sent += 1
        if chunk and sent % chunk == 0:
            producer.flush(timeout=60)
            time.sleep(pause)
    producer.flush(timeout=60)
    producer.close(timeout=30)
    print("produced %d records to %s" % (sent, topic))


def reference(path, window, grace):
    stream_time = {}
    counts = {}
    late = 0
    for p, key, t in read(path):
        st = max(stream_time.get(p, t), t)
        stream_time[p] = st
        start = t - t % window
        if start + window + grace <= st:
            late += 1
            continue
        if key.startswith("~flush"):
            continue
        counts[(key, start)] = counts.get((key, start), 0) + 1
    for (key, start), n in sorted(counts.items()):
        print("%s@%d\t%d" % (key, start, n))
    print("late\t%d" % late)
    sys.stderr.write("reference: %d windows, %d late records\n" % (len(counts), late))


def load_reference(path):
    ref, late = {}, 0
    with open(path) as f:
        for line in f:
            k, v = line.rstrip("\n").split("\t")
            if k == "late":
                late = int(v)
            else:
                ref[k] = int(v)
    return ref, late


def check(ref_path, output_path, kill_ends_path=None):
    """Exit 0 when the output matches; else print what differs and exit 1.

    Without KILL_ENDS (no crash): every reference window exactly once, with
    its exact count, and nothing else.
    With KILL_ENDS ("partition<TAB>end offset" of the output when the first
    run was killed): what the killed run emitted (offsets below the ends) is
    exact and emitted once; the restarted run may emit a window the killed
    run emitted again (its emission came after the last commit, whose input is
    processed again) and its counts may exceed the reference (at-least-once:
    input after the last commit is counted again), never fall below it; every
    reference window is emitted, nothing outside the reference is, and no run
    emits a window twice."""
    ref, _ = load_reference(ref_path)
    ends = {}
    if kill_ends_path:
        with open(kill_ends_path) as f:
            for line in f:
                p, o = line.split()
                ends[int(p)] = int(o)
    first, second = {}, {}
    problems = []
    with open(output_path) as f:
        for line in f:
            p, o, key, value = line.rstrip("\n").split("\t")
            if not re.match(r"^-?\d+$", value):
                problems.append("bad value %r for %s" % (value, key))
                continue
            run = first if not kill_ends_path or int(o) < ends.get(int(p), 0) else second
            if key in run:
                problems.append("%s emitted twice in one run (%s, %s)" % (key, run[key], value))
            run[key] = int(value)
    emitted = set(first) | set(second)
    missing = [k for k in ref if k not in emitted]
    extra = [k for k in emitted if k not in ref]
    if missing:
        problems.append("%d reference windows never emitted, e.g. %s" % (len(missing), missing[:5]))
    if extra:
        problems.append("%d windows emitted that the reference does not have, e.g. %s"
                        % (len(extra), extra[:5]))
    for key, n in first.items():
        if key in ref and n != ref[key]:
            problems.append("%s = %d, reference %d" % (key, n, ref[key]))
    over = 0
    for key, n in second.items():
        if key not in ref:
            continue
        if kill_ends_path is None:
            if n != ref[key]:
                problems.append("%s = %d, reference %d" % (key, n, ref[key]))
        elif n < ref[key]:
            problems.append("%s = %d after the restart, below the reference %d"
                            % (key, n, ref[key]))
        elif n > ref[key]:
            over += 1
    again = len(set(first) & set(second))
    for line in problems[:20]:
        print(line)
    if kill_ends_path:
        print("windows: reference %d, emitted %d (killed run %d, restarted run %d); emitted "
              "again after the restart: %d; counts above the reference after the restart: %d"
              % (len(ref), len(emitted), len(first), len(second), again, over))
    else:
        print("windows: reference %d, emitted %d" % (len(ref), len(emitted)))
    sys.exit(1 if problems else 0)


def late(port):
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
    total = 0
    for line in text.splitlines():
        if line.startswith("rill_app_dropped_records_total{") and 'reason="late"' in line:
            total += float(line.rsplit(" ", 1)[1])
    print(int(total))


def main(argv):
    cmd = argv[1]
    if cmd == "gen":
        gen(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "produce":
        produce(argv[2], argv[3], argv[4], int(argv[5]) if len(argv) > 5 else 0,
                float(argv[6]) if len(argv) > 6 else 0.0)
    elif cmd == "reference":
        reference(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "check":
        check(argv[2], argv[3], argv[4] if len(argv) > 4 else None)
    elif cmd == "late":
        late(argv[2])
    else:
        sys.exit("unknown command %s" % cmd)


if __name__ == "__main__":
    main(sys.argv)
