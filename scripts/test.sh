#!/bin/bash
# test.sh [--sanitizers]: the README's test command. Installs what rill needs,
# builds, and runs the whole suite (`make check`: unit and integration tests).
# Ends with one line "tests: N passed, N failed, N skipped" and exits non-zero
# if any test failed, printing the failed tests' logs.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$("$top/scripts/build.sh" "$@") || { echo "test.sh: build failed" >&2; exit 1; }
cd "$build"
make -j"$(nproc)" check >make-check.out 2>&1
rc=$?
grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' make-check.out || cat make-check.out | tail -n 60
count() { sed -n "s/^# $1: *\([0-9]*\).*/\1/p" test-suite.log 2>/dev/null | head -n 1; }
pass=$(count PASS); fail=$(count FAIL); skip=$(count SKIP); err=$(count ERROR); xpass=$(count XPASS); xfail=$(count XFAIL)
pass=$(( ${pass:-0} + ${xfail:-0} )); fail=$(( ${fail:-0} + ${err:-0} + ${xpass:-0} ))
if [ "$rc" -ne 0 ]; then
    for log in $(grep -lE '^:test-result: (FAIL|ERROR|XPASS)' $(find . -name '*.trs') 2>/dev/null); do
        echo "==== ${log%.trs}.log ===="
        tail -n 120 "${log%.trs}.log"
    done
    [ "$fail" -gt 0 ] || { echo "make check failed before running tests:"; tail -n 60 make-check.out; fail=1; }
fi
echo "tests: $pass passed, $fail failed, ${skip:-0} skipped"
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ]
