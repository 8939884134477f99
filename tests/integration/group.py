"""group.py BOOTSTRAP: kafka-python (Debian's python3-kafka) consumer groups on
rill-broker, used by 0101-kafka-python-group.sh: two members rebalance, one
leaves, commits with metadata read back, the admin views (ListGroups,
DescribeGroups, OffsetFetch of all partitions) and DeleteGroups. Exits
non-zero with a reason on any difference; every wait is bounded."""
import sys
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

bootstrap = sys.argv[1]
topic = "py-grouped"
group = "py-group"
NPART = 4
PER_PART = 10


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def consumer():
    return KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         session_timeout_ms=6000, heartbeat_interval_ms=300,
                         api_version_auto_timeout_ms=10000)


class Poller:
    """Polls one consumer in its own thread: kafka-python's poll blocks while
    its member joins, and the other member must keep polling to rejoin."""

    def __init__(self, c):
        self.c = c
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            with self.lock:
                self.c.poll(timeout_ms=50)
            time.sleep(0.01)

    def assignment(self):
        with self.lock:
            return set(self.c.assignment())

    def call(self, fn):
        with self.lock:
            return fn(self.c)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=30)
        if self.thread.is_alive():
            fail("a consumer's poll did not return")
        self.c.close()


def wait_until(what, cond, timeout=30):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            fail("timed out waiting for " + what)
        time.sleep(0.05)


admin = KafkaAdminClient(bootstrap_servers=bootstrap, api_version_auto_timeout_ms=10000)
admin.create_topics([NewTopic(topic, NPART, 1)])
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
for p in range(NPART):
    for i in range(PER_PART):
        producer.send(topic, value=b"v%d-%d" % (p, i), partition=p)
producer.flush(timeout=20)
producer.close()

# two members: 2 partitions each (range assignor)
a = Poller(consumer())
b = Poller(consumer())
wait_until("2+2 partitions", lambda: len(a.assignment()) == 2 and len(b.assignment()) == 2)
if a.assignment() & b.assignment():
    fail("both members own %s" % (a.assignment() & b.assignment()))

# commits with metadata, from the member that owns each partition
for c in (a, b):
    owned = c.assignment()
    c.call(lambda k: k.commit({tp: OffsetAndMetadata(PER_PART - 1 - tp.partition,
                                                     "m%d" % tp.partition) for tp in owned}))

# b leaves: a takes over every partition
b.close()
wait_until("4 partitions after LeaveGroup", lambda: len(a.assignment()) == NPART)

groups = admin.list_consumer_groups()
if (group, "consumer") not in groups:
    fail("ListGroups: %s" % groups)
desc = admin.describe_consumer_groups([group])[0]
if desc.error_code != 0 or desc.state != "Stable" or len(desc.members) != 1 \
        or desc.protocol != "range":
    fail("DescribeGroups: %s" % (desc,))
offsets = admin.list_consumer_group_offsets(group)
want = {TopicPartition(topic, p): OffsetAndMetadata(PER_PART - 1 - p, "m%d" % p)
        for p in range(NPART)}
if offsets != want:
    fail("OffsetFetch: %s, want %s" % (offsets, want))

a.close()
# DeleteGroups: Empty now, so it goes, and its offsets with it
res = admin.delete_consumer_groups([group])
if [g for g, _ in res] != [group] or \
        [e for _, e in res if e is not None and getattr(e, "errno", 0) != 0]:
    fail("DeleteGroups: %s" % res)
if admin.list_consumer_group_offsets(group):
    fail("offsets left after DeleteGroups: %s" % admin.list_consumer_group_offsets(group))
if (group, "consumer") in admin.list_consumer_groups():
    fail("group listed after DeleteGroups")
admin.close()
print("kafka-python groups: rebalance, leave, commit metadata, describe, list, delete: ok")
