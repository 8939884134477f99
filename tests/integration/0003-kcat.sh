#!/bin/bash
# 0003-kcat: kcat against rill-broker: -L (metadata), -P (keys, headers,
# explicit partitions, auto-created topic), -C (reads everything back).
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed" >&2; exit 77; }

start_broker --num.partitions=3
K=(kcat -b "$BOOTSTRAP" -X broker.address.family=v4 -m 20)

meta=$("${K[@]}" -L) || fail "kcat -L failed"
grep -q "1 brokers:" <<<"$meta" || fail "kcat -L: no broker listed: $meta"
grep -q "127.0.0.1:$BROKER_PORT" <<<"$meta" || fail "kcat -L: the broker is not advertised at its port: $meta"
echo "ok 1 - kcat -L lists the broker"

# auto-created topic, keys, 3 partitions
for i in $(seq 1 300); do echo "key$((i % 17)):value number $i"; done >"$TEST_TMP/in.txt"
timeout 60 "${K[@]}" -P -t events -K: -X acks=all -X topic.partitioner=murmur2_random \
    -l "$TEST_TMP/in.txt" || fail "kcat -P failed"
timeout 60 "${K[@]}" -C -t events -e -f '%k:%s\n' -o beginning | sort >"$TEST_TMP/out.txt" ||
    fail "kcat -C failed"
sort "$TEST_TMP/in.txt" | cmp -s - "$TEST_TMP/out.txt" ||
    fail "records read back differ: $(diff <(sort "$TEST_TMP/in.txt") "$TEST_TMP/out.txt" | head)"
meta=$("${K[@]}" -L -t events)
grep -q "3 partitions" <<<"$meta" || fail "events should have num.partitions=3: $meta"
echo "ok 2 - kcat -P to an auto-created topic, kcat -C reads all 300 back"

# explicit partition, headers; -C per partition with offsets
printf 'a\nb\nc\n' | timeout 30 "${K[@]}" -P -t events -p 2 -H trace=xyz -H empty= ||
    fail "kcat -P -p 2 failed"
got=$(timeout 30 "${K[@]}" -C -t events -p 2 -e -o -3 -f '%o %s %h\n') ||
    fail "kcat -C -p 2 failed"
[ "$(wc -l <<<"$got")" -eq 3 ] || fail "expected 3 records from partition 2: $got"
grep -q " c trace=xyz,empty=" <<<"$got" || fail "headers not kept: $got"
first=$(head -1 <<<"$got" | cut -d' ' -f1)
last=$(tail -1 <<<"$got" | cut -d' ' -f1)
[ $((last - first)) -eq 2 ] || fail "offsets are not consecutive: $got"
echo "ok 3 - kcat -P -p with headers, kcat -C -o -3 -p"

stop_broker || fail "unclean stop"
