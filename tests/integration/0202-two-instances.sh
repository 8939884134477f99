#!/bin/bash
# 0202: two instances of one app (same application.id), 2 stream threads
# each, on a 6-partition input: the group shares the partitions between the
# 4 consumers, both instances process records, and the output is complete.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

ROUTER=$RILL_BUILDDIR/examples/event-router
N=6000
start_cluster in:6
router_args=(--bootstrap-servers "$BOOTSTRAP" --application-id shared-0202 --input in
    --output out --threads 2 -c commit.interval.ms=500 -c consumer.session.timeout.ms=6000
    -c consumer.heartbeat.interval.ms=500)
start_app a "$ROUTER" "${router_args[@]}" --state-dir "$TEST_TMP/a"
start_app b "$ROUTER" "${router_args[@]}" --state-dir "$TEST_TMP/b"

# Both running, in one generation of the group.
running() { grep -q -- "-> RUNNING" "$TEST_TMP/a.log" && grep -q -- "-> RUNNING" "$TEST_TMP/b.log"; }
wait_for 60 running || { show_logs; fail "the two instances did not both reach RUNNING"; }
sleep 1

awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "k%d\t{\"type\":\"t%d\",\"i\":%d}\n", i, i % 3, i }' \
    >"$TEST_TMP/input.txt"
produce_lines in "$TEST_TMP/input.txt"

collect() {
    : >"$TEST_TMP/keys.txt"
    local t
    for t in out.t0 out.t1 out.t2; do
        consume_lines "$t" "$TEST_TMP/out.txt"
        cut -f1 "$TEST_TMP/out.txt" >>"$TEST_TMP/keys.txt"
    done
    [ "$(sort -u "$TEST_TMP/keys.txt" | wc -l)" -ge $N ]
}
wait_for 120 collect || { show_logs; fail "only $(sort -u "$TEST_TMP/keys.txt" | wc -l) of $N records routed"; }
stop_app a || { show_logs; fail "instance a did not exit cleanly"; }
stop_app b || { show_logs; fail "instance b did not exit cleanly"; }

processed() { sed -n 's/.*stopped: \([0-9]*\) records processed.*/\1/p' "$TEST_TMP/$1.log"; }
pa=$(processed a)
pb=$(processed b)
total=$(wc -l <"$TEST_TMP/keys.txt")
distinct=$(sort -u "$TEST_TMP/keys.txt" | wc -l)
echo "instance a processed $pa, instance b processed $pb; output $total records, $distinct distinct, $((total - distinct)) duplicates"
[ -n "$pa" ] && [ "$pa" -gt 0 ] || { show_logs; fail "instance a processed nothing: partitions not shared"; }
[ -n "$pb" ] && [ "$pb" -gt 0 ] || { show_logs; fail "instance b processed nothing: partitions not shared"; }
[ $((pa + pb)) -ge $N ] || fail "the instances processed $((pa + pb)) < $N records"
[ "$distinct" -eq $N ] || fail "output has $distinct distinct records, expected $N"
# every input key is in the output
awk -F'\t' '{print $1}' "$TEST_TMP/input.txt" | sort >"$TEST_TMP/want.txt"
sort -u "$TEST_TMP/keys.txt" | diff -q "$TEST_TMP/want.txt" - >/dev/null || fail "output keys differ from input keys"
echo "PASS: 2 instances x 2 threads shared 6 partitions; output complete"
