#!/bin/bash
# 0207: exactly-once across a crash, stateless. Two event-router instances
# (processing.guarantee=exactly_once_v2) share a 6-partition input that
# arrives in chunks while they run; one is killed with kill -9 mid-stream;
# the other takes over its partitions after the group's session timeout,
# from the offsets committed in the killed instance's last committed
# transaction. The records the killed instance routed in its open
# transaction are aborted (by the broker, after transaction.timeout.ms),
# so the read_committed output has every input record exactly once:
# checked as "the multiset of output keys equals the set of input keys"
# (no record missing, none twice, nothing else), and each record is in the
# topic of its type.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

ROUTER=$RILL_BUILDDIR/examples/event-router
N=20000
start_cluster in:6
router_args=(--bootstrap-servers "$BOOTSTRAP" --application-id eos-0207 --input in
    --output out --threads 2 --processing-guarantee exactly_once_v2
    -c consumer.session.timeout.ms=6000 -c consumer.heartbeat.interval.ms=500)
start_app a "$ROUTER" "${router_args[@]}" --state-dir "$TEST_TMP/a"
start_app b "$ROUTER" "${router_args[@]}" --state-dir "$TEST_TMP/b"
running() { grep -q -- "-> RUNNING" "$TEST_TMP/a.log" && grep -q -- "-> RUNNING" "$TEST_TMP/b.log"; }
wait_for 60 running || { show_logs; fail "the two instances did not both reach RUNNING"; }
sleep 1

awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "k%d\t{\"type\":\"t%d\",\"i\":%d}\n", i, i % 3, i }' \
    >"$TEST_TMP/input.txt"
split -l 250 "$TEST_TMP/input.txt" "$TEST_TMP/chunk."
( for f in "$TEST_TMP"/chunk.*; do produce_lines in "$f"; sleep 0.25; done; touch "$TEST_TMP/produced" ) &
PRODUCER_PID=$!

# read_committed (explicitly: what exactly-once promises is what such readers see)
collect() {
    : >"$TEST_TMP/routed.txt"
    local t
    for t in out.t0 out.t1 out.t2; do
        timeout 60 kcat -C -b "$BOOTSTRAP" -X isolation.level=read_committed -t "$t" -o beginning \
            -e -q -f "$t\t%k\t%s\n" >>"$TEST_TMP/routed.txt" 2>/dev/null
    done
    [ "$(wc -l <"$TEST_TMP/routed.txt")" -ge "$1" ]
}
# the end offsets of the output (records and transaction markers): cheap to poll
output_end() {
    local sum=0 t p n
    for t in out.t0 out.t1 out.t2; do
        for p in 0 1 2 3 4 5; do
            n=$(timeout 10 kcat -Q -b "$BOOTSTRAP" -t "$t:$p:-1" 2>/dev/null | awk '{ print $NF }')
            [ "${n:-0}" -gt 0 ] 2>/dev/null && sum=$((sum + n))
        done
    done
    echo $sum
}
some_output() { [ "$(output_end)" -ge 3000 ]; }
wait_for 120 some_output || { show_logs; fail "the first records were not routed"; }
kill9_app a
echo "killed instance a at $(output_end) offsets of output (of about $N records)"
[ -e "$TEST_TMP/produced" ] && fail "the input was all produced before the kill: not mid-stream"

wait "$PRODUCER_PID" || fail "producing the input failed"
wait_for 180 collect $N || { show_logs; fail "only $(wc -l <"$TEST_TMP/routed.txt") of $N records routed after the crash"; }
sleep 2 # anything extra (a duplicate) would come now
stop_app b || { show_logs; fail "instance b did not exit cleanly"; }
collect $N
grep -q "assigned 3 partitions" "$TEST_TMP/b.log" || { show_logs; fail "instance b never took over a's partitions"; }

/usr/bin/python3 - "$TEST_TMP/input.txt" "$TEST_TMP/routed.txt" <<'PY' || fail "the read_committed output is not exactly-once"
import collections, json, sys
want = {}
with open(sys.argv[1]) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("\t")
        want[k] = "out." + json.loads(v)["type"]
got = collections.Counter()
misrouted = 0
with open(sys.argv[2]) as f:
    for line in f:
        t, k, _ = line.rstrip("\n").split("\t", 2)
        got[k] += 1
        misrouted += want.get(k) != t
dups = sum(n - 1 for n in got.values() if n > 1)
missing = [k for k in want if k not in got]
extra = [k for k in got if k not in want]
print("output: %d records, %d distinct; duplicates %d, missing %d, extra %d, misrouted %d"
      % (sum(got.values()), len(got), dups, len(missing), len(extra), misrouted))
sys.exit(1 if dups or missing or extra or misrouted else 0)
PY
echo "PASS: after kill -9 under exactly_once_v2 every record is routed exactly once"
