#!/bin/bash
# 0205: restore progress in the app's metrics: wordcount runs, stops, loses
# its state directory and restarts with metrics.listener set; every store is
# rebuilt from its changelog, and rill_app_restored_records_total (summed
# over changelogs) equals the records the restores logged (> 0).
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/wordcount-lib.sh"

OUTPUT_TOPIC=counts
start_cluster lines:3
gen_lines "$TEST_TMP/first.txt" 2000 205
reference "$TEST_TMP/first.txt" >"$TEST_TMP/ref1.txt"

args=(-b "$BOOTSTRAP" --application-id wc-0205 --state-dir "$TEST_TMP/state" --threads 1
    --input lines --output counts -c commit.interval.ms=500)
produce_lines lines "$TEST_TMP/first.txt"
start_app wc1 "$WORDCOUNT" "${args[@]}"
wait_for 120 counts_reached "$TEST_TMP/ref1.txt" || { show_logs; fail "first run: counts do not match"; }
stop_app wc1 || { show_logs; fail "wordcount did not exit cleanly"; }
rm -rf "$TEST_TMP/state"

# a free port for the listener (wordcount does not print the bound one)
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_app wc2 "$WORDCOUNT" "${args[@]}" -c metrics.listener=127.0.0.1:$PORT

cat >"$TEST_TMP/check.py" <<'PY'
import re, sys, urllib.request
port, log = sys.argv[1], sys.argv[2]
logged = sum(int(n) for n in re.findall(r"restored store=\S+ .*?records=(\d+)", open(log).read()))
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
metric = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
             if line.startswith("rill_app_restored_records_total{") and 'application_id="wc-0205"' in line)
print("restored: metric %g, logged %d" % (metric, logged))
sys.exit(0 if logged > 0 and metric == logged else 1)
PY
check() { /usr/bin/python3 "$TEST_TMP/check.py" "$PORT" "$TEST_TMP/wc2.log" >"$TEST_TMP/check.out" 2>&1; }
if ! wait_for 60 check; then
    cat "$TEST_TMP/check.out" >&2
    show_logs
    fail "rill_app_restored_records_total does not match the restored records"
fi
cat "$TEST_TMP/check.out"
stop_app wc2 || { show_logs; fail "wordcount did not exit cleanly"; }
echo "ok"
