#!/bin/bash
# 0304: wordcount under processing.guarantee=exactly_once_v2, killed with
# kill -9 mid-stream and restarted on the same state directory.
#
# Caching is off, so every input word sends one count update. The property
# checked on the read_committed output (kcat reads read_committed): for
# every word, its successive values on the output topic are exactly
# 1, 2, 3, ..., N where N is the word's count in the reference: no update
# missing (a gap), none repeated (a duplicate, which at-least-once shows
# after a crash), none out of order; and so the final counts equal the
# reference exactly. Also: under exactly-once no .checkpoint exists while
# the app runs (a crash must leave none: state comes back from the
# changelog's committed records), and a clean stop writes one.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/wordcount-lib.sh"

OUTPUT_TOPIC=counts
start_cluster lines:3
gen_lines "$TEST_TMP/first.txt" 20000 304
gen_lines "$TEST_TMP/second.txt" 5000 3040
reference "$TEST_TMP/first.txt" "$TEST_TMP/second.txt" >"$TEST_TMP/ref.txt"
# the input arrives in chunks while the app runs, so that the kill lands mid-stream
cat "$TEST_TMP/first.txt" "$TEST_TMP/second.txt" | split -l 500 - "$TEST_TMP/chunk."
( for f in "$TEST_TMP"/chunk.*; do produce_lines lines "$f"; sleep 0.1; done; touch "$TEST_TMP/produced" ) &
PRODUCER_PID=$!

args=(-b "$BOOTSTRAP" --application-id wc-0304 --state-dir "$TEST_TMP/state" --threads 2
    --input lines --output counts --processing-guarantee exactly_once_v2
    -c statestore.cache.max.bytes=0 -c consumer.session.timeout.ms=6000
    -c consumer.heartbeat.interval.ms=500)
start_app wc1 "$WORDCOUNT" "${args[@]}"
output_end() {
    local sum=0 p n
    for p in 0 1 2; do
        n=$(timeout 10 kcat -Q -b "$BOOTSTRAP" -t "counts:$p:-1" 2>/dev/null | awk '{ print $NF }')
        sum=$((sum + ${n:-0}))
    done
    echo $sum
}
some_output() { [ "$(output_end)" -ge 30000 ]; }
wait_for 120 some_output || { show_logs; fail "no output before the kill"; }
ls "$TEST_TMP"/state/wc-0304/*/.checkpoint 2>/dev/null &&
    fail "a .checkpoint exists while the exactly-once app runs"
kill9_app wc1
echo "killed wordcount after $(output_end) offsets of output (a complete run sends about 150000 updates)"
[ -e "$TEST_TMP/produced" ] && fail "the input was all produced before the kill: not mid-stream"

start_app wc2 "$WORDCOUNT" "${args[@]}"
reached() { counts_reached "$TEST_TMP/ref.txt"; }
wait_for 60 test -e "$TEST_TMP/produced" || fail "the input was not produced"
wait_for 240 reached || {
    show_logs
    at_least "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt"
    fail "after the restart the counts do not reach the reference"
}
wait "$PRODUCER_PID" || fail "producing the input failed"
stop_app wc2 || { show_logs; fail "wordcount did not exit cleanly"; }
grep -q "restor" "$TEST_TMP/wc2.log" || { show_logs; fail "the restart restored nothing"; }
ls "$TEST_TMP"/state/wc-0304/1_*/.checkpoint >/dev/null ||
    fail "no .checkpoint after a clean stop under exactly-once"

# every word's updates, in output order, are exactly 1..N
consume_lines counts "$TEST_TMP/output.txt"
/usr/bin/python3 - "$TEST_TMP/ref.txt" "$TEST_TMP/output.txt" <<'PY' || fail "the read_committed output is not exactly-once"
import sys
ref = {}
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        w, _, n = line.rstrip("\n").partition("\t")
        ref[w] = int(n)
seen, bad, records = {}, [], 0
with open(sys.argv[2], encoding="utf-8") as f:
    for line in f:
        w, _, v = line.rstrip("\n").partition("\t")
        records += 1
        want = seen.get(w, 0) + 1
        if int(v) != want:
            bad.append("%s: got %s after %d" % (w, v, want - 1))
        seen[w] = int(v)
wrong = [w for w in ref if seen.get(w) != ref[w]] + [w for w in seen if w not in ref]
print("output: %d updates of %d words (reference: %d updates of %d words); "
      "%d out of sequence, %d final counts wrong"
      % (records, len(seen), sum(ref.values()), len(ref), len(bad), len(wrong)))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad or wrong or records != sum(ref.values()) else 0)
PY
echo "PASS: after kill -9 under exactly_once_v2 every word's updates are exactly 1..N"
