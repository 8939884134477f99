#!/bin/bash
# 0204: the app's Prometheus endpoint (metrics.listener) against rill-broker:
# the event-router on port 0 logs its bound port. Before the first record
# (empty input topic) the lag of every input partition is already 0, not
# NaN. Once it routed N records, GET /metrics says N consumed and N
# produced, at least one commit, consumer lag 0 on every input partition,
# N/5 dead-lettered (the other 4N/5 sent by the tasks' sinks), the RUNNING state, and latency samples; every line
# parses as the Prometheus text format (a # TYPE before each family's
# samples, no duplicate series), every rill_app_* family is declared, and
# rill_app_dropped_records_total has every reason for every task (0 here).
# One stream thread: a task's counters start with the task, and a second
# thread joining would rebalance the tasks away after some records.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

ROUTER=$RILL_BUILDDIR/examples/event-router
N=500
start_cluster events:3

# 4 of every 5 are routable, the fifth goes to the dead-letter topic: all N
# are produced somewhere.
awk -v n=$N 'BEGIN {
    split("click view purchase", types, " ");
    for (i = 0; i < n; i++) {
        if (i % 5 == 4) v = sprintf("not json %d", i);
        else v = sprintf("{\"type\":\"%s\",\"n\":%d}", types[i % 3 + 1], i);
        printf "k%d\t%s\n", i, v;
    }
}' >"$TEST_TMP/input.txt"
start_app router "$ROUTER" --bootstrap-server "$BOOTSTRAP" --application-id router-0204 \
    --input events --output routed --threads 1 --state-dir "$TEST_TMP/state" \
    -c commit.interval.ms=300 -c metrics.listener=127.0.0.1:0

port_logged() { grep -q "metrics on port [0-9]" "$TEST_TMP/router.log"; }
wait_for 30 port_logged || { show_logs; fail "event-router did not log its metrics port"; }
PORT=$(sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$TEST_TMP/router.log" | head -1)
echo "metrics on port $PORT"

# parse.py: the scrape as (name, labels, value) samples, checking the format.
cat >"$TEST_TMP/parse.py" <<'PY'
import re, urllib.request
def scrape(port):
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
    samples, typed, seen = [], {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            typed[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            raise SystemExit("unparsable line: %r" % line)
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in typed and base not in typed:
            raise SystemExit("sample %s has no # TYPE line before it" % name)
        if line.rsplit(" ", 1)[0] in seen:
            raise SystemExit("duplicate series: %r" % line)
        seen.add(line.rsplit(" ", 1)[0])
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        samples.append((name, labels, float(m.group(4))))
    return samples, typed
PY

# before the first record: every input partition's lag is known, and 0
cat >"$TEST_TMP/lag0.py" <<'PY'
import math, sys
sys.path.insert(0, sys.argv[2])
from parse import scrape
samples, typed = scrape(sys.argv[1])
lags = [(l["partition"], v) for k, l, v in samples if k == "rill_app_consumer_lag_records"]
consumed = sum(v for k, l, v in samples if k == "rill_app_records_consumed_total")
print("lags before the first record: %s, consumed %g" % (sorted(lags), consumed))
ok = sorted(p for p, v in lags) == ["0", "1", "2"] and all(not math.isnan(v) and v == 0 for p, v in lags)
sys.exit(0 if ok and consumed == 0 else 1)
PY
lag0() { /usr/bin/python3 "$TEST_TMP/lag0.py" "$PORT" "$TEST_TMP" >"$TEST_TMP/lag0.out" 2>&1; }
if ! wait_for 60 lag0; then
    cat "$TEST_TMP/lag0.out" >&2
    show_logs
    fail "the lag before the first record is not 0 on every partition"
fi
cat "$TEST_TMP/lag0.out"
produce_lines events "$TEST_TMP/input.txt"

# check.py: scrapes once; exit 0 when every expectation holds, else prints
# what differs (the last attempt's output is shown on failure).
cat >"$TEST_TMP/check.py" <<'PY'
import math, sys
port, n = sys.argv[1], float(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from parse import scrape
samples, typed = scrape(port)
def total(name, **want):
    return sum(v for k, l, v in samples
               if k == name and all(l.get(a) == b for a, b in want.items()))
problems = []
consumed = total("rill_app_records_consumed_total", application_id="router-0204")
produced = total("rill_app_records_produced_total", application_id="router-0204")
commits = total("rill_app_commits_total")
commit_samples = total("rill_app_commit_latency_seconds_count")
process_samples = total("rill_app_process_latency_seconds_count")
lags = [(l, v) for k, l, v in samples if k == "rill_app_consumer_lag_records"]
running = total("rill_app_state", state="RUNNING")
if consumed != n: problems.append("consumed %g != %g" % (consumed, n))
if produced != n: problems.append("produced %g != %g" % (produced, n))
sent = total("rill_app_records_sent_total", application_id="router-0204")
if sent != n * 4 / 5: problems.append("sent by the sinks %g != %g" % (sent, n * 4 / 5))
if commits < 1: problems.append("no commit yet")
if commit_samples != commits: problems.append("commit latency samples %g != commits %g" % (commit_samples, commits))
if process_samples < 1: problems.append("no processing latency sample")
if sorted(l["partition"] for l, v in lags) != ["0", "1", "2"]:
    problems.append("lag partitions: %s" % [l for l, v in lags])
if any(math.isnan(v) or v != 0 for l, v in lags): problems.append("lag not 0: %s" % lags)
dead = total("rill_app_errors_total", kind="dead_lettered")
if dead != n / 5: problems.append("dead_lettered %g != %g" % (dead, n / 5))
if running != 1: problems.append("state RUNNING gauge %g" % running)
tasks = {l["task"] for k, l, v in samples if k == "rill_app_records_consumed_total"}
if tasks != {"0_0", "0_1", "0_2"}: problems.append("tasks %s" % sorted(tasks))
families = {"rill_app_records_consumed_total": "counter", "rill_app_records_produced_total": "counter",
            "rill_app_records_sent_total": "counter",
            "rill_app_process_latency_seconds": "histogram", "rill_app_commit_latency_seconds": "histogram",
            "rill_app_commits_total": "counter", "rill_app_consumer_lag_records": "gauge",
            "rill_app_errors_total": "counter", "rill_app_state": "gauge",
            "rill_app_restored_records_total": "counter", "rill_app_dropped_records_total": "counter",
            "rill_app_restore_planned_records_total": "counter",
            "rill_app_restore_remaining_records": "gauge",
            "rill_app_store_keys": "gauge", "rill_app_store_bytes": "gauge"}
for name, kind in families.items():
    if typed.get(name) != kind: problems.append("family %s: type %s" % (name, typed.get(name)))
reasons = {"late", "deserialization", "processing", "production", "null_key", "invalid_timestamp"}
dropped = {(l["task"], l["reason"]): v for k, l, v in samples if k == "rill_app_dropped_records_total"}
if set(dropped) != {(t, r) for t in ("0_0", "0_1", "0_2") for r in reasons}:
    problems.append("dropped series: %s" % sorted(dropped))
if any(v != 0 for v in dropped.values()): problems.append("dropped: %s" % dropped)
if any(k.startswith("rill_app_store_") for k, l, v in samples): problems.append("store sizes of a stateless app")
for k, l, v in samples:
    if k.startswith("rill_app_") and (math.isnan(v) or v < 0): problems.append("%s %s = %g" % (k, l, v))
if problems:
    print("; ".join(problems)); sys.exit(1)
print("consumed %g produced %g dead_lettered %g commits %g lag %s"
      % (consumed, produced, dead, commits, [v for l, v in lags]))
PY
check() { /usr/bin/python3 "$TEST_TMP/check.py" "$PORT" "$N" "$TEST_TMP" >"$TEST_TMP/check.out" 2>&1; }
if ! wait_for 90 check; then
    cat "$TEST_TMP/check.out" >&2
    show_logs
    fail "the metrics did not reach the expected values within 90 s"
fi
cat "$TEST_TMP/check.out"
stop_app router || { show_logs; fail "event-router did not exit cleanly"; }
# the endpoint goes with the app
if /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/metrics', timeout=2)" 2>/dev/null; then
    fail "the metrics endpoint still answers after the app stopped"
fi
echo "ok"
