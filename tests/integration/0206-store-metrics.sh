#!/bin/bash
# 0206: state store sizes and dropped records in the app's metrics, against
# rill-broker: wordcount (3 partitions, RocksDB stores) with metrics.listener.
# Before the first record every lag gauge (input and repartition topics)
# is 0, not NaN. After the input is counted: rill_app_store_keys of store
# "counts", summed over its tasks 1_0..1_2, is at least the number of
# distinct words and at most the number of updates written (an estimate:
# RocksDB's estimate-num-keys counts overwrites not yet compacted), each of
# those tasks reports bytes > 0, and the families parse; the tasks of
# sub-topology 0 sent one repartition record per word (records out); no
# record was dropped (every reason present, 0). Then the app restarts
# without its state directory: the stores are restored from the changelog
# and the restore progress reads restored == planned > 0 (no compaction ran
# on the changelog: nothing is skipped) and remaining 0, and the store keys
# are back.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/wordcount-lib.sh"

OUTPUT_TOPIC=counts
start_cluster lines:3
gen_lines "$TEST_TMP/lines.txt" 1500 206
reference "$TEST_TMP/lines.txt" >"$TEST_TMP/ref.txt"

# a free port for the listener (wordcount does not print the bound one)
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_app wc "$WORDCOUNT" -b "$BOOTSTRAP" --application-id wc-0206 --state-dir "$TEST_TMP/state" \
    --threads 1 --input lines --output counts -c commit.interval.ms=300 \
    -c metrics.listener=127.0.0.1:$PORT

cat >"$TEST_TMP/check.py" <<'PY'
import math, re, sys, urllib.request
port, phase, ref = sys.argv[1], sys.argv[2], sys.argv[3]
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
samples, typed = [], {}
for line in text.splitlines():
    if line.startswith("# TYPE "):
        typed[line.split(" ")[2]] = line.split(" ")[3]
        continue
    if not line or line.startswith("#"):
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
    if not m:
        sys.exit("unparsable line: %r" % line)
    if re.sub(r"_(bucket|sum|count)$", "", m.group(1)) not in typed and m.group(1) not in typed:
        sys.exit("no # TYPE before %s" % m.group(1))
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    samples.append((m.group(1), labels, float(m.group(4))))
problems = []
lags = [(l["topic"], l["partition"], v) for k, l, v in samples if k == "rill_app_consumer_lag_records"]
want = {("lines", p) for p in "012"} | {("wc-0206-words-repartition", p) for p in "012"}
if {(t, p) for t, p, v in lags} != want: problems.append("lag series %s" % sorted(lags))
if any(math.isnan(v) or v != 0 for t, p, v in lags): problems.append("lag %s" % sorted(lags))
if phase == "empty":
    consumed = sum(v for k, l, v in samples if k == "rill_app_records_consumed_total")
    if consumed != 0: problems.append("consumed %g before any input" % consumed)
else:
    counts = [l.split("\t") for l in open(ref, encoding="utf-8") if l.strip()]
    distinct, updates = len(counts), sum(int(c) for w, c in counts)
    keys = {l["task"]: v for k, l, v in samples if k == "rill_app_store_keys" and l["store"] == "counts"}
    size = {l["task"]: v for k, l, v in samples if k == "rill_app_store_bytes" and l["store"] == "counts"}
    if typed.get("rill_app_store_keys") != "gauge" or typed.get("rill_app_store_bytes") != "gauge":
        problems.append("store families not declared as gauges")
    if set(keys) != {"1_0", "1_1", "1_2"} or set(size) != set(keys):
        problems.append("store tasks: keys %s bytes %s" % (sorted(keys), sorted(size)))
    if not distinct <= sum(keys.values()) <= updates:
        problems.append("keys %g not in [%d, %d]" % (sum(keys.values()), distinct, updates))
    if any(v <= 0 for v in size.values()): problems.append("bytes %s" % size)
    sent = {l["task"]: v for k, l, v in samples if k == "rill_app_records_sent_total"}
    repartitioned = sum(v for t, v in sent.items() if t.startswith("0_"))
    if repartitioned != updates: problems.append("words sent to the repartition topic %g != %d" % (repartitioned, updates))
    if not 0 < sum(v for t, v in sent.items() if t.startswith("1_")) <= updates:
        problems.append("count updates sent %s" % sent)
    dropped = {(l["task"], l["reason"]): v for k, l, v in samples if k == "rill_app_dropped_records_total"}
    tasks = {"0_0", "0_1", "0_2", "1_0", "1_1", "1_2"}
    reasons = {"late", "deserialization", "processing", "production", "null_key", "invalid_timestamp"}
    if set(dropped) != {(t, r) for t in tasks for r in reasons}: problems.append("dropped %s" % sorted(dropped))
    if any(v != 0 for v in dropped.values()): problems.append("dropped %s" % dropped)
    if not problems:
        print("store counts: keys %s (distinct words %d, updates %d), bytes %s"
              % (keys, distinct, updates, size))
if problems:
    print("; ".join(problems)); sys.exit(1)
print("%s: lags %s" % (phase, [v for t, p, v in lags]))
PY
check() { /usr/bin/python3 "$TEST_TMP/check.py" "$PORT" "$1" "$TEST_TMP/ref.txt" >"$TEST_TMP/check.out" 2>&1; }

if ! wait_for 60 check empty; then
    cat "$TEST_TMP/check.out" >&2
    show_logs
    fail "before the first record: the lags are not all 0"
fi
cat "$TEST_TMP/check.out"
produce_lines lines "$TEST_TMP/lines.txt"
wait_for 120 counts_reached "$TEST_TMP/ref.txt" || { show_logs; fail "the counts do not match"; }
# sizes are refreshed every second, lags once the last records are consumed
if ! wait_for 30 check counted; then
    cat "$TEST_TMP/check.out" >&2
    show_logs
    fail "store sizes / dropped records / lag are not as expected"
fi
cat "$TEST_TMP/check.out"
stop_app wc || { show_logs; fail "wordcount did not exit cleanly"; }

rm -rf "$TEST_TMP/state"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_app wc2 "$WORDCOUNT" -b "$BOOTSTRAP" --application-id wc-0206 --state-dir "$TEST_TMP/state" \
    --threads 1 --input lines --output counts -c commit.interval.ms=300 \
    -c metrics.listener=127.0.0.1:$PORT
cat >"$TEST_TMP/restore.py" <<'PY'
import re, sys, urllib.request
port, ref = sys.argv[1], sys.argv[2]
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
def total(name, **want):
    n = 0.0
    for line in text.splitlines():
        m = re.match(r'^([a-z_]+)\{(.*)\} (\S+)$', line)
        if m and m.group(1) == name:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            if all(labels.get(k) == v for k, v in want.items()):
                n += float(m.group(3))
    return n
log = "wc-0206-counts-changelog"
restored = total("rill_app_restored_records_total", changelog=log)
planned = total("rill_app_restore_planned_records_total", changelog=log)
remaining = total("rill_app_restore_remaining_records", changelog=log)
keys = total("rill_app_store_keys", store="counts")
distinct = sum(1 for l in open(ref, encoding="utf-8") if l.strip())
print("restore of %s: restored %g planned %g remaining %g; keys %g (distinct %d)"
      % (log, restored, planned, remaining, keys, distinct))
sys.exit(0 if restored > 0 and planned == restored and remaining == 0 and keys >= distinct else 1)
PY
restored() { /usr/bin/python3 "$TEST_TMP/restore.py" "$PORT" "$TEST_TMP/ref.txt" >"$TEST_TMP/restore.out" 2>&1; }
if ! wait_for 60 restored; then
    cat "$TEST_TMP/restore.out" >&2
    show_logs
    fail "restore progress is not as expected"
fi
cat "$TEST_TMP/restore.out"
stop_app wc2 || { show_logs; fail "wordcount did not exit cleanly after the restore"; }
echo "ok"
