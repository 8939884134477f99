#!/bin/bash
# 0201: the event-router example end to end: every input record ends up in
# exactly one place, its type's topic (unchanged, with its key) or the
# dead-letter topic with the reason in header rill.error.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

ROUTER=$RILL_BUILDDIR/examples/event-router
N=3000
start_cluster events:3

# Input: key k<i>; 6 of every 10 are routable (3 types), 4 are not, each for
# a different reason. expected.txt says where each must go.
awk -v n=$N 'BEGIN {
    split("click view purchase", types, " ");
    for (i = 0; i < n; i++) {
        r = i % 10;
        if (r < 6) { t = types[r % 3 + 1]; v = sprintf("{\"type\":\"%s\",\"n\":%d,\"tags\":[1,2.5e3,\"x\"]}", t, i); dest = "routed." t }
        else if (r == 6) { v = sprintf("not json %d", i); dest = "routed.dead-letter" }
        else if (r == 7) { v = sprintf("{\"kind\":\"click\",\"n\":%d}", i); dest = "routed.dead-letter" }
        else if (r == 8) { v = sprintf("{\"type\":%d}", i); dest = "routed.dead-letter" }
        else { v = sprintf("[\"type\",%d]", i); dest = "routed.dead-letter" }
        printf "k%d\t%s\n", i, v > "'"$TEST_TMP"'/input.txt";
        printf "%s\tk%d\t%s\n", dest, i, v > "'"$TEST_TMP"'/expected.txt";
    }
}'
produce_lines events "$TEST_TMP/input.txt"

start_app router "$ROUTER" --bootstrap-server "$BOOTSTRAP" --application-id router-0201 \
    --input events --output routed --threads 2 --state-dir "$TEST_TMP/state" \
    -c commit.interval.ms=500

# Wait (bounded) until every record arrived somewhere.
topics="routed.click routed.view routed.purchase routed.dead-letter"
collect() {
    : >"$TEST_TMP/actual.txt"
    local t
    for t in $topics; do
        consume_lines "$t" "$TEST_TMP/out.txt"
        sed "s/^/$t\t/" "$TEST_TMP/out.txt" >>"$TEST_TMP/actual.txt"
    done
    [ "$(wc -l <"$TEST_TMP/actual.txt")" -ge $N ]
}
wait_for 120 collect || { show_logs; fail "only $(wc -l <"$TEST_TMP/actual.txt") of $N records were routed within 120 s"; }
stop_app router || { show_logs; fail "event-router did not exit cleanly"; }
collect

# Exactly once in the right place (a duplicate would be allowed by
# at-least-once, but a clean run has none: count them and print).
sort -u "$TEST_TMP/actual.txt" >"$TEST_TMP/actual-unique.txt"
sort "$TEST_TMP/expected.txt" >"$TEST_TMP/expected-sorted.txt"
dups=$(($(wc -l <"$TEST_TMP/actual.txt") - $(wc -l <"$TEST_TMP/actual-unique.txt")))
echo "routed $(wc -l <"$TEST_TMP/actual-unique.txt") distinct records, $dups duplicates"
if ! diff -q "$TEST_TMP/expected-sorted.txt" "$TEST_TMP/actual-unique.txt" >/dev/null; then
    diff "$TEST_TMP/expected-sorted.txt" "$TEST_TMP/actual-unique.txt" | head -20 >&2
    show_logs
    fail "the routed records differ from the expected ones"
fi
# no key in two topics
dupkeys=$(cut -f2 "$TEST_TMP/actual-unique.txt" | sort | uniq -d | head -5)
[ -z "$dupkeys" ] || fail "keys routed to two places: $dupkeys"

# The dead letters say why.
timeout 60 kcat -C -b "$BOOTSTRAP" -t routed.dead-letter -o beginning -e -q -f '%k|%h\n' \
    >"$TEST_TMP/dead.txt" 2>/dev/null
grep -q '^k6|.*rill.error=.*not valid JSON' "$TEST_TMP/dead.txt" || { head -3 "$TEST_TMP/dead.txt"; fail "k6: no reason 'not valid JSON'"; }
grep -q '^k7|.*rill.error=.*no field "type"' "$TEST_TMP/dead.txt" || fail "k7: no reason 'no field type'"
grep -q '^k8|.*rill.error=.*"type" is not a string' "$TEST_TMP/dead.txt" || fail "k8: no reason 'type is not a string'"
grep -q '^k9|.*rill.error=.*not an object' "$TEST_TMP/dead.txt" || fail "k9: no reason 'not an object'"

# Bad arguments are refused clearly, with status 2.
"$ROUTER" --bootstrap-server "$BOOTSTRAP" --input events >"$TEST_TMP/noout.txt" 2>&1
[ $? -eq 2 ] && grep -q -- "--output is required" "$TEST_TMP/noout.txt" || fail "missing --output not refused"
"$ROUTER" -b "$BOOTSTRAP" --input events --output o --threads zero >"$TEST_TMP/bad.txt" 2>&1
[ $? -eq 2 ] && grep -q "num.stream.threads" "$TEST_TMP/bad.txt" || fail "bad --threads not refused"
# A missing input topic fails at start with the reason, never hangs.
"$ROUTER" -b "$BOOTSTRAP" --input no-such-topic --output o >"$TEST_TMP/missing.txt" 2>&1
[ $? -eq 1 ] && grep -q "source topic no-such-topic does not exist" "$TEST_TMP/missing.txt" ||
    { cat "$TEST_TMP/missing.txt"; fail "missing input topic not reported"; }
"$ROUTER" --help | grep -q -- "--dead-letter" || fail "--help does not describe --dead-letter"
echo "PASS: event-router routed $N records; dead letters carry the reason"
