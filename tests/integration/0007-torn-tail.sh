#!/bin/bash
# 0007-torn-tail: a torn or garbled tail of the active segment is cut on
# restart, and everything before it is intact.
#
#   50 records in one produce, then one record "last" alone (its own batch);
#   kill -9; garble the last 10 bytes of the active .log (same size, bad CRC);
#   restart: exactly the 50 remain and the next record gets offset 50;
#   kill -9; cut 7 bytes off the end; restart: again the 50 (+ the new one cut).
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed" >&2; exit 77; }

start_broker --num.partitions=1
K=(kcat -b "$BOOTSTRAP" -X broker.address.family=v4 -m 20)

seq 1 50 | sed 's/^/record-/' >"$TEST_TMP/first.txt"
timeout 60 "${K[@]}" -P -t torn -X acks=all -l "$TEST_TMP/first.txt" || fail "kcat -P failed"
echo last | timeout 60 "${K[@]}" -P -t torn -X acks=all || fail "kcat -P (last) failed"

count_records() {
    timeout 60 "${K[@]}" -C -t torn -p 0 -o beginning -e -f '%o %s\n' >"$TEST_TMP/read.txt" ||
        fail "kcat -C failed"
    wc -l <"$TEST_TMP/read.txt"
}
[ "$(count_records)" -eq 51 ] || fail "expected 51 records before the crash"

active_log() {
    local dir="$BROKER_DIR/torn-0"
    [ -d "$dir" ] || fail "no partition directory $dir"
    ls "$dir"/*.log | sort | tail -1
}

kill9_broker
seg=$(active_log)
size=$(stat -c %s "$seg")
printf 'GARBAGE!!!' | dd of="$seg" bs=1 seek=$((size - 10)) conv=notrunc status=none
restart_broker
K=(kcat -b "$BOOTSTRAP" -X broker.address.family=v4 -m 20)
n=$(count_records)
[ "$n" -eq 50 ] || fail "after garbling the tail: $n records, expected 50: $(tail -3 "$TEST_TMP/read.txt")"
seq 1 50 | sed 's/^/record-/' | awk '{print NR-1, $0}' | cmp -s - "$TEST_TMP/read.txt" ||
    fail "the 50 records before the torn batch changed"
grep -q "truncat\|torn\|corrupt" "$TEST_TMP/broker.log" || fail "recovery did not log what it cut"
echo "ok 1 - a garbled tail is cut, the records before it intact"

echo again | timeout 60 "${K[@]}" -P -t torn -X acks=all || fail "kcat -P (again) failed"
off=$(timeout 60 "${K[@]}" -C -t torn -p 0 -o -1 -e -f '%o %s\n')
[ "$off" = "50 again" ] || fail "the next record got '$off', expected offset 50"
echo "ok 2 - the next record continues at offset 50"

kill9_broker
seg=$(active_log)
size=$(stat -c %s "$seg")
truncate -s $((size - 7)) "$seg"
restart_broker
K=(kcat -b "$BOOTSTRAP" -X broker.address.family=v4 -m 20)
n=$(count_records)
[ "$n" -eq 50 ] || fail "after truncating the tail: $n records, expected 50"
echo "ok 3 - a truncated tail is cut"
stop_broker || fail "unclean stop"
