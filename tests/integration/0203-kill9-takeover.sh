#!/bin/bash
# 0203: at-least-once across a crash. Two instances share a 6-partition
# input; one is killed with kill -9 mid-stream; the other takes over its
# partitions (after the group's session timeout) from the last committed
# offsets, and the output misses no record. Duplicates are allowed
# (at-least-once): they are counted and printed. The commit interval is
# long, so that the killed instance dies with processed, uncommitted
# records: they are processed again by the survivor (duplicates, never gaps).
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

ROUTER=$RILL_BUILDDIR/examples/event-router
HALF=10000
N=$((2 * HALF))
start_cluster in:6
router_args=(--bootstrap-servers "$BOOTSTRAP" --application-id crash-0203 --input in
    --output out --threads 2 -c commit.interval.ms=60000 -c consumer.session.timeout.ms=6000
    -c consumer.heartbeat.interval.ms=500)
start_app a "$ROUTER" "${router_args[@]}" --state-dir "$TEST_TMP/a"
start_app b "$ROUTER" "${router_args[@]}" --state-dir "$TEST_TMP/b"
running() { grep -q -- "-> RUNNING" "$TEST_TMP/a.log" && grep -q -- "-> RUNNING" "$TEST_TMP/b.log"; }
wait_for 60 running || { show_logs; fail "the two instances did not both reach RUNNING"; }
sleep 1

awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "k%d\t{\"type\":\"t%d\",\"i\":%d}\n", i, i % 3, i }' \
    >"$TEST_TMP/input.txt"
head -n $HALF "$TEST_TMP/input.txt" >"$TEST_TMP/first.txt"
tail -n $HALF "$TEST_TMP/input.txt" >"$TEST_TMP/second.txt"

collect() {
    : >"$TEST_TMP/keys.txt"
    local t
    for t in out.t0 out.t1 out.t2; do
        consume_lines "$t" "$TEST_TMP/out.txt"
        cut -f1 "$TEST_TMP/out.txt" >>"$TEST_TMP/keys.txt"
    done
    [ "$(sort -u "$TEST_TMP/keys.txt" | wc -l)" -ge "$1" ]
}

produce_lines in "$TEST_TMP/first.txt"
wait_for 60 collect $((HALF / 2)) || { show_logs; fail "the first records were not routed"; }
kill9_app a
echo "killed instance a after $(sort -u "$TEST_TMP/keys.txt" | wc -l) records were routed"
produce_lines in "$TEST_TMP/second.txt"

wait_for 120 collect $N || { show_logs; fail "only $(sort -u "$TEST_TMP/keys.txt" | wc -l) of $N records routed after the crash"; }
stop_app b || { show_logs; fail "instance b did not exit cleanly"; }
collect $N

# b took over all 6 partitions (2 threads x 3) after a's session expired
grep -q "assigned 3 partitions" "$TEST_TMP/b.log" || { show_logs; fail "instance b never took over a's partitions"; }
total=$(wc -l <"$TEST_TMP/keys.txt")
distinct=$(sort -u "$TEST_TMP/keys.txt" | wc -l)
echo "output: $total records, $distinct distinct, $((total - distinct)) duplicates (allowed under at-least-once)"
awk -F'\t' '{print $1}' "$TEST_TMP/input.txt" | sort >"$TEST_TMP/want.txt"
sort -u "$TEST_TMP/keys.txt" >"$TEST_TMP/got.txt"
missing=$(comm -23 "$TEST_TMP/want.txt" "$TEST_TMP/got.txt" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing records missing after the crash"
[ "$distinct" -eq $N ] || fail "unexpected records in the output"
echo "PASS: instance b took over after kill -9; no record missing"
