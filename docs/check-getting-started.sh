#!/bin/bash
# check-getting-started.sh: docs/getting-started.md's hello.c compiles against
# the public headers, links with librill alone, passes its own test-driver
# test, and, run as an app against a real rill-broker with the guide's rill
# commands, writes the upper-cased lines to "shouted" and commits its offsets.
set -u
src=${RILL_SRCDIR:?} build=${RILL_BUILDDIR:?}
. "$src/tests/integration/lib.sh"
rill="$build/rill"

# the first ```c block of the guide is hello.c
awk '/^```c$/ {in_code = 1; next}
     in_code && /^```$/ {exit}
     in_code {print}' "$src/docs/getting-started.md" >"$TEST_TMP/hello.c"
grep -q 'int main' "$TEST_TMP/hello.c" || fail "no hello.c found in docs/getting-started.md"
lib="$build/.libs/librill.so"
[ -e "$lib" ] || fail "librill.so not built at $lib"
flags=()
if nm -D "$lib" | grep -q __asan_init; then # a sanitizer build: the program must match
    flags+=(-fsanitize=address,undefined)
fi
cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror "${flags[@]}" -I"$src/include" \
    "$TEST_TMP/hello.c" -o "$TEST_TMP/hello" -L"$build/.libs" -lrill -Wl,-rpath,"$build/.libs" ||
    fail "hello.c does not compile"

# section 8: the test driver
out=$("$TEST_TMP/hello" --test) || fail "hello --test failed: $out"
[ "$out" = "test passed" ] || fail "hello --test printed '$out'"

# sections 2, 3 and 6 against a real broker
start_broker --group.initial.rebalance.delay.ms=0
"$rill" topics create lines --partitions 3 -b "$BOOTSTRAP" >/dev/null || fail "topics create lines"
"$rill" topics create shouted --partitions 3 -b "$BOOTSTRAP" >/dev/null || fail "topics create shouted"
"$rill" topics list -b "$BOOTSTRAP" | grep -qx lines || fail "topics list does not show lines"
printf 'k1:hello\nk2:\nk3:rill\n' | "$rill" produce lines -K : -q -b "$BOOTSTRAP" || fail "produce"
[ "$("$rill" consume lines --from-beginning -k -n 3 --timeout-ms 10000 -b "$BOOTSTRAP" | wc -l)" = 3 ] ||
    fail "consume lines did not return the 3 records"

"$TEST_TMP/hello" "$BOOTSTRAP" >"$TEST_TMP/app.log" 2>&1 &
app=$!
"$rill" consume shouted --from-beginning -k -n 2 --timeout-ms 60000 -b "$BOOTSTRAP" \
    >"$TEST_TMP/shouted" || { cat "$TEST_TMP/app.log" >&2; fail "no output in shouted"; }
sort "$TEST_TMP/shouted" >"$TEST_TMP/shouted.sorted"
printf 'k1\tHELLO\nk3\tRILL\n' | cmp -s - "$TEST_TMP/shouted.sorted" ||
    fail "shouted holds: $(cat "$TEST_TMP/shouted")"
kill -TERM "$app"
wait "$app" || { cat "$TEST_TMP/app.log" >&2; fail "hello did not close cleanly"; }
# closed: offsets committed, 0 lag
"$rill" groups describe hello -b "$BOOTSTRAP" >"$TEST_TMP/describe" || fail "groups describe"
grep -q 'Total lag: 0' "$TEST_TMP/describe" || fail "lag after close: $(cat "$TEST_TMP/describe")"
# the reset of section 6
"$rill" groups reset hello --all-topics --to-earliest --execute -b "$BOOTSTRAP" >/dev/null ||
    fail "groups reset"
"$rill" groups describe hello -b "$BOOTSTRAP" | grep -q 'Total lag: 3' || fail "lag after reset is not 3"
stop_broker
echo "getting-started: hello.c built, passed its driver test, ran against rill-broker as documented"
