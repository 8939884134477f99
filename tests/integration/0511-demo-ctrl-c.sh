#!/bin/bash
# 0511: Ctrl-C in the middle of scripts/demo.sh (SIGINT to its process group, as a
# terminal sends it) stops the summary, the producer, the app and the broker, removes
# the temp dir and exits 130 within a bounded time, leaving no process behind.
. "$RILL_SRCDIR/tests/integration/lib.sh"
command -v setsid >/dev/null || { echo "SKIP: setsid is missing"; exit 77; }
export TMPDIR=$TEST_TMP
# (a shell ignores SIGINT in what it starts in the background, and an ignored signal
# cannot be trapped: restore the default first, as a terminal's shell does)
setsid /usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$RILL_SRCDIR/scripts/demo.sh" --events 200000 --rate 2000 --build-dir "$RILL_BUILDDIR" \
    >"$TEST_TMP/demo.out" 2>&1 &
demo=$!
producing() { grep -q "producing the clickstream" "$TEST_TMP/demo.out"; }
wait_for 120 producing || { cat "$TEST_TMP/demo.out"; kill -9 -- -"$demo"; fail "the demo did not start producing"; }
sleep 3
dir=$(sed -n 's/^demo: starting rill-broker in //p' "$TEST_TMP/demo.out")
[ -n "$dir" ] && [ -d "$dir" ] || fail "no demo dir in the output"
pgrep -f "$dir" >/dev/null || fail "no process runs from $dir before the Ctrl-C"
kill -INT -- -"$demo"
stopped() { ! kill -0 "$demo" 2>/dev/null; }
wait_for 90 stopped || { kill -9 -- -"$demo"; cat "$TEST_TMP/demo.out"; fail "the demo did not stop within 90 s of Ctrl-C"; }
wait "$demo"
status=$?
cat "$TEST_TMP/demo.out"
[ "$status" -eq 130 ] || fail "exit status $status, expected 130"
grep -q "demo: stopping (Ctrl-C)" "$TEST_TMP/demo.out" || fail "the demo did not say it was stopping"
[ ! -e "$dir" ] || fail "the temp dir $dir is still there"
if pgrep -f "$dir" >/dev/null; then fail "processes left: $(pgrep -af "$dir")"; fi
echo "PASS: Ctrl-C stopped the demo cleanly"
