#!/bin/bash
# 0208: a task reading two partitions processes them in timestamp order.
# Topics a and b (1 partition each) are pre-loaded with interleaved
# timestamps, all of a produced before all of b (a: 0, 20, 40 ... ms after
# T; b: 10, 30, 50 ...). The app merges them (one task, two inputs), prints
# each record in processing order, and counts per key in 1 s windows with
# no grace. Checked: every record is processed once, in non-decreasing
# timestamp order, and no record is dropped as late
# (rill_app_dropped_records_total{reason="late"} = 0). Without the
# partition group, all of a runs stream time ~N*20 ms ahead and nearly all
# of b is dropped as late.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
/usr/bin/python3 -c 'import kafka' 2>/dev/null || { echo "SKIP: python3-kafka is missing"; exit 77; }

N=${RILL_0208_RECORDS:-3000}
start_cluster a:1 b:1
/usr/bin/python3 - "$BOOTSTRAP" "$N" <<'PY' || fail "producing the input"
import sys, time
from kafka import KafkaProducer
bootstrap, n = sys.argv[1], int(sys.argv[2])
t0 = int(time.time() * 1000) - 3600 * 1000
p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=65536)
for topic, off in (("a", 0), ("b", 10)):
    for i in range(n):
        p.send(topic, key=b"k%d" % (i % 7), value=b"v", partition=0, timestamp_ms=t0 + 20 * i + off)
    p.flush(timeout=60)
PY

start_app app "$RILL_BUILDDIR/tests/integration/0208-merge-order-app" "$BOOTSTRAP" \
    "$TEST_TMP/state" commit.interval.ms=500 metrics.listener=127.0.0.1:0 "$@"
port_logged() { grep -q "metrics on port [0-9]" "$TEST_TMP/app.log"; }
wait_for 60 port_logged || { show_logs; fail "the app did not log its metrics port"; }
PORT=$(sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$TEST_TMP/app.log" | head -1)
all_seen() { [ "$(grep -c '^[ab]	' "$TEST_TMP/app.log")" -ge $((2 * N)) ]; }
wait_for 120 all_seen || { show_logs; fail "the app processed $(grep -c '^[ab]	' "$TEST_TMP/app.log") of $((2 * N)) records"; }
late=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" |
    awk '/^rill_app_dropped_records_total\{/ && /reason="late"/ { s += $NF } END { print s + 0 }')
stop_app app || { show_logs; fail "the app did not stop cleanly"; }
echo "dropped as late: $late"

grep '^[ab]	' "$TEST_TMP/app.log" >"$TEST_TMP/order.txt"
[ "$(wc -l <"$TEST_TMP/order.txt")" -eq $((2 * N)) ] || fail "records processed more than once"
[ "$(cut -f1,2 "$TEST_TMP/order.txt" | sort -u | wc -l)" -eq $((2 * N)) ] || fail "a record processed twice"
awk -F'\t' 'NR > 1 && $3 < prev { print "out of order at line " NR ": " prev " then " $3; bad = 1 }
    { prev = $3 } END { exit bad }' "$TEST_TMP/order.txt" | head -5
awk -F'\t' 'NR > 1 && $3 < prev { bad = 1 } { prev = $3 } END { exit bad }' "$TEST_TMP/order.txt" ||
    fail "records were not processed in timestamp order"
[ "$late" -eq 0 ] || fail "$late records dropped as late"
echo "first run: $((2 * N)) records processed once, in timestamp order, none late"

# Second run: new records on a only. b has nothing to fetch and, restarted
# from its committed offset, no record consumed yet: the task must learn
# that b is caught up (end-of-partition) and not wait for it forever.
/usr/bin/python3 - "$BOOTSTRAP" "$N" <<'PY' || fail "producing the second input"
import sys, time
from kafka import KafkaProducer
bootstrap, n = sys.argv[1], int(sys.argv[2])
p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
t = int(time.time() * 1000)
for i in range(200):
    p.send("a", key=b"k", value=b"v", partition=0, timestamp_ms=t + i)
p.flush(timeout=60)
PY
mv "$TEST_TMP/app.log" "$TEST_TMP/app1.txt"
start_app app "$RILL_BUILDDIR/tests/integration/0208-merge-order-app" "$BOOTSTRAP" \
    "$TEST_TMP/state" commit.interval.ms=500 "$@"
second_seen() { [ "$(grep -c '^a	' "$TEST_TMP/app.log")" -ge 200 ]; }
wait_for 60 second_seen || { show_logs; fail "with b idle, the restarted app processed $(grep -c '^a	' "$TEST_TMP/app.log") of a's 200 new records"; }
sleep 1
stop_app app || { show_logs; fail "the restarted app did not stop cleanly"; }
[ "$(grep -c '^[ab]	' "$TEST_TMP/app.log")" -eq 200 ] ||
    fail "the restarted app processed $(grep -c '^[ab]	' "$TEST_TMP/app.log") records, want the 200 new ones"
[ "$(grep '^a	' "$TEST_TMP/app.log" | cut -f2 | sort -n | head -1)" -eq "$N" ] ||
    fail "the restarted app did not start at a's committed offset $N"
echo "PASS: $((2 * N)) records of two pre-loaded topics processed once, in timestamp order, none late; after a restart with b idle, a's 200 new records processed"
