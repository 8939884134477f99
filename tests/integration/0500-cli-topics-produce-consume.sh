#!/bin/bash
# 0500: the `rill` CLI against a real rill-broker: topics create/list/describe/
# alter/delete, produce (keys, headers, file input) and consume (from the
# beginning, offsets, partitions, JSON, counts), and clear errors with a
# non-zero exit for bad arguments and a missing broker.
source "$RILL_SRCDIR/tests/integration/lib.sh"
RILL="$RILL_BUILDDIR/rill"
start_broker

expect_rc() { # expect_rc CODE CMD... : runs CMD, checks its exit code
    local want=$1
    shift
    "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
    local rc=$?
    [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$TEST_TMP/err")"
}

# topics
expect_rc 0 "$RILL" topics create orders --partitions 3 --config retention.ms=86400000 -b "$BOOTSTRAP"
grep -q "Created topic orders" "$TEST_TMP/out" || fail "create said: $(cat "$TEST_TMP/out")"
expect_rc 1 "$RILL" topics create orders --partitions 3 --bootstrap-server "$BOOTSTRAP"
grep -q "already exists" "$TEST_TMP/err" || fail "duplicate create error: $(cat "$TEST_TMP/err")"
expect_rc 0 "$RILL" topics create orders --partitions 3 --if-not-exists --bootstrap-servers "$BOOTSTRAP"
expect_rc 0 "$RILL" topics create other -p 1 -b "$BOOTSTRAP"
expect_rc 0 "$RILL" topics list -b "$BOOTSTRAP"
[ "$(cat "$TEST_TMP/out")" = "$(printf 'orders\nother')" ] || fail "list: $(cat "$TEST_TMP/out")"

# produce: keys, headers, from stdin and from a file
printf 'k1:v1\nk2:v2\nk3:v3\nk1:v4\n' | "$RILL" produce orders --key-separator : -H src=test -b "$BOOTSTRAP" 2>"$TEST_TMP/err" ||
    fail "produce: $(cat "$TEST_TMP/err")"
grep -q "4 records written to orders" "$TEST_TMP/err" || fail "produce summary: $(cat "$TEST_TMP/err")"
seq 1 1000 >"$TEST_TMP/lines"
expect_rc 0 "$RILL" produce other --file "$TEST_TMP/lines" -q -b "$BOOTSTRAP"

# consume: everything from the beginning, exactly once
expect_rc 0 "$RILL" consume other --from-beginning -b "$BOOTSTRAP"
diff <(sort -n "$TEST_TMP/out") "$TEST_TMP/lines" >/dev/null || fail "consume other: not the 1000 lines produced"
expect_rc 0 "$RILL" consume orders --from-beginning --print-key --key-separator = -b "$BOOTSTRAP"
[ "$(sort "$TEST_TMP/out")" = "$(printf 'k1=v1\nk1=v4\nk2=v2\nk3=v3')" ] || fail "keys: $(cat "$TEST_TMP/out")"
# same key → same partition, in order
expect_rc 0 "$RILL" consume orders --from-beginning --print-key --print-partition -b "$BOOTSTRAP"
p1=$(grep -P '\tk1\t' "$TEST_TMP/out" | cut -d: -f1 | sort -u | wc -l)
[ "$p1" -eq 1 ] || fail "key k1 spread over $p1 partitions"
grep -P '\tk1\t' "$TEST_TMP/out" | cut -f3 | tr '\n' ' ' | grep -q '^v1 v4 $' || fail "k1 out of order"
# headers and JSON
expect_rc 0 "$RILL" consume orders --from-beginning --max-messages 4 --json -b "$BOOTSTRAP"
[ "$(wc -l <"$TEST_TMP/out")" -eq 4 ] || fail "--max-messages 4 printed $(wc -l <"$TEST_TMP/out")"
/usr/bin/python3 - "$TEST_TMP/out" <<'PY' || fail "JSON output"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["topic"] == "orders" and r["headers"] == {"src": "test"} for r in recs), recs
assert sorted(r["key"] + r["value"] for r in recs) == ["k1v1", "k1v4", "k2v2", "k3v3"], recs
assert all(isinstance(r["offset"], int) and r["timestamp"] > 0 for r in recs)
PY
# offsets and one partition
expect_rc 0 "$RILL" consume other --partition 0 --offset 990 -b "$BOOTSTRAP"
[ "$(wc -l <"$TEST_TMP/out")" -eq 10 ] || fail "--offset 990 printed $(wc -l <"$TEST_TMP/out") lines"
expect_rc 0 "$RILL" consume other --partition 0 --offset -3 -b "$BOOTSTRAP"
[ "$(cat "$TEST_TMP/out")" = "$(printf '998\n999\n1000')" ] || fail "--offset -3: $(cat "$TEST_TMP/out")"

# describe and alter
expect_rc 0 "$RILL" topics describe orders -b "$BOOTSTRAP"
grep -q "PartitionCount: 3" "$TEST_TMP/out" || fail "describe: $(cat "$TEST_TMP/out")"
grep -q "retention.ms=86400000" "$TEST_TMP/out" || fail "describe configs: $(cat "$TEST_TMP/out")"
total=$(grep -o 'EndOffset: [0-9]*' "$TEST_TMP/out" | awk '{s+=$2} END {print s}')
[ "$total" -eq 4 ] || fail "end offsets add up to $total, not 4"
expect_rc 0 "$RILL" topics alter orders --config cleanup.policy=compact -b "$BOOTSTRAP"
expect_rc 0 "$RILL" topics describe orders -b "$BOOTSTRAP"
grep -q "cleanup.policy=compact" "$TEST_TMP/out" || fail "alter lost: $(cat "$TEST_TMP/out")"
grep -q "retention.ms=86400000" "$TEST_TMP/out" || fail "alter dropped an earlier config"
expect_rc 1 "$RILL" topics describe nosuch -b "$BOOTSTRAP"
grep -q "no such topic" "$TEST_TMP/err" || fail "describe nosuch: $(cat "$TEST_TMP/err")"

# delete
expect_rc 0 "$RILL" topics delete other -b "$BOOTSTRAP"
expect_rc 0 "$RILL" topics list -b "$BOOTSTRAP"
[ "$(cat "$TEST_TMP/out")" = "orders" ] || fail "after delete: $(cat "$TEST_TMP/out")"

# bad arguments: a clear message and exit 2, before any connection
expect_rc 2 "$RILL" topics create -b "$BOOTSTRAP"
grep -q "expected NAME" "$TEST_TMP/err" || fail "$(cat "$TEST_TMP/err")"
expect_rc 2 "$RILL" topics frobnicate
expect_rc 2 "$RILL" produce
expect_rc 2 "$RILL" produce orders --no-such-flag
grep -q "Unknown option" "$TEST_TMP/err" || fail "$(cat "$TEST_TMP/err")"
expect_rc 2 "$RILL" consume orders --from-beginning --offset 3
expect_rc 2 "$RILL" consume orders -X nonsense
expect_rc 2 "$RILL" nosuchcommand
expect_rc 0 "$RILL" --help
expect_rc 0 "$RILL" consume --help
grep -q -- "--from-beginning" "$TEST_TMP/out" || fail "consume --help lacks --from-beginning"

# a broker that is not there: a clear failure, bounded in time
stop_broker
expect_rc 1 timeout 30 "$RILL" topics list -b "$BOOTSTRAP" --timeout-ms 2000
grep -q "metadata from" "$TEST_TMP/err" || fail "no-broker error: $(cat "$TEST_TMP/err")"
echo "0500: CLI topics/produce/consume OK"
