#!/bin/bash
# 0510: the README's demo (scripts/demo.sh --ci) runs end to end in its short bounded
# mode: it starts its own rill-broker, loads the users, streams 30,000 clicks through
# examples/analytics and prints the final table; its printed per-region totals must
# equal those of a reference this test computes itself (scripts/gen-clickstream.py with
# the demo's seed, tests/integration/analytics_reference.py), every window and session
# must match, and the demo must leave no process and no temp dir behind.
. "$RILL_SRCDIR/tests/integration/lib.sh"
command -v setsid >/dev/null || { echo "SKIP: setsid is missing"; exit 77; }
py=/usr/bin/python3
export TMPDIR=$TEST_TMP
# (bounded below run-bounded's 300 s, so that the demo's own cleanup always runs)
timeout 200 "$RILL_SRCDIR/scripts/demo.sh" --ci --build-dir "$RILL_BUILDDIR" >"$TEST_TMP/demo.out" 2>&1
status=$?
cat "$TEST_TMP/demo.out"
[ "$status" -eq 0 ] || fail "demo.sh --ci exited with $status"

# the reference, from the same generator run (--ci: 30000 events, seed 7, 20 min grace)
"$py" "$RILL_SRCDIR/scripts/gen-clickstream.py" --events 30000 --seed 7 --users-out "$TEST_TMP/u" \
    --clicks "$TEST_TMP/c" --closing "$TEST_TMP/cl" --meta "$TEST_TMP/m" || fail "generator"
"$py" "$RILL_SRCDIR/tests/integration/analytics_reference.py" reference "$TEST_TMP/u" "$TEST_TMP/c" \
    "$TEST_TMP/cl" "$TEST_TMP/ref" --grace-ms 1200000 || fail "reference"
"$py" "$RILL_SRCDIR/tests/integration/analytics_reference.py" totals "$TEST_TMP/ref/windows" >"$TEST_TMP/want"
grep '^total [a-z]*-[a-z]* windows=' "$TEST_TMP/demo.out" >"$TEST_TMP/got" || fail "the demo printed no totals"
diff "$TEST_TMP/want" "$TEST_TMP/got" || fail "the printed totals differ from the reference"
want_sessions=$("$py" -c 'import json,sys; s=json.load(open(sys.argv[1])); print("total sessions=%d events=%d" % (s["sessions"], s["session_events"]))' "$TEST_TMP/ref/summary.json")
grep -q "^$want_sessions " "$TEST_TMP/demo.out" || fail "the printed sessions are not '$want_sessions ...'"
grep -q "every window and session equals the reference" "$TEST_TMP/demo.out" || fail "the demo did not check every window"
[ "$(grep -c '^total ' "$TEST_TMP/want")" -ge 5 ] || fail "the reference has fewer than 5 regions"

# nothing left behind: the demo's temp dir is gone and no process runs from it
leftover=$(find "$TEST_TMP" -maxdepth 1 -name 'rill-demo.*')
[ -z "$leftover" ] || fail "the demo left $leftover"
if pgrep -f "$TEST_TMP/rill-demo" >/dev/null; then fail "processes left: $(pgrep -af "$TEST_TMP/rill-demo")"; fi
echo "PASS: the demo's printed results equal the reference"
