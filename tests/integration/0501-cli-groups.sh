#!/bin/bash
# 0501: `rill groups` against a real rill-broker: list, describe with lag,
# reset (dry run, then --execute: earliest, shift, latest), delete; and a
# reset refused while the group has an active member.
source "$RILL_SRCDIR/tests/integration/lib.sh"
RILL="$RILL_BUILDDIR/rill"
start_broker
B=(-b "$BOOTSTRAP")

run() { "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || fail "'$*' failed: $(cat "$TEST_TMP/err")"; }
lag() { "$RILL" groups describe "$1" "${B[@]}" | sed -n 's/^Total lag: //p'; }

run "$RILL" topics create events --partitions 3 "${B[@]}"
seq 1 300 | sed 's/.*/k&:&/' | "$RILL" produce events --key-separator : -q "${B[@]}" || fail "produce"
run timeout 60 "$RILL" consume events --from-beginning --group app1 --max-messages 300 "${B[@]}"
[ "$(wc -l <"$TEST_TMP/out")" -eq 300 ] || fail "consumed $(wc -l <"$TEST_TMP/out") of 300"

run "$RILL" groups list "${B[@]}"
grep -qP '^app1\tEmpty$' "$TEST_TMP/out" || fail "list: $(cat "$TEST_TMP/out")"
[ "$(lag app1)" = 0 ] || fail "lag after consuming everything: $(lag app1)"
seq 301 350 | sed 's/.*/k&:&/' | "$RILL" produce events --key-separator : -q "${B[@]}" || fail "produce"
[ "$(lag app1)" = 50 ] || fail "lag after 50 more: $(lag app1)"
run "$RILL" groups describe app1 "${B[@]}"
[ "$(grep -c '^events ' "$TEST_TMP/out")" -eq 3 ] || fail "describe rows: $(cat "$TEST_TMP/out")"

# dry run changes nothing
run "$RILL" groups reset app1 --all-topics --to-earliest "${B[@]}"
grep -q "dry run" "$TEST_TMP/out" || fail "no dry-run notice"
[ "$(lag app1)" = 50 ] || fail "dry run changed offsets"
run "$RILL" groups reset app1 --all-topics --to-earliest --execute "${B[@]}"
[ "$(lag app1)" = 350 ] || fail "lag after reset to earliest: $(lag app1)"
run "$RILL" groups reset app1 --topic events --shift-by 10 --execute "${B[@]}"
[ "$(lag app1)" = 320 ] || fail "lag after shift by 10 on 3 partitions: $(lag app1)"
run "$RILL" groups reset app1 --topic events --to-latest --execute "${B[@]}"
[ "$(lag app1)" = 0 ] || fail "lag after reset to latest: $(lag app1)"

# a member is active: the reset is refused with a clear message, nothing changes
run "$RILL" groups reset app1 --topic events --to-earliest --execute "${B[@]}"
timeout 60 "$RILL" consume events --group app1 --follow "${B[@]}" >/dev/null 2>&1 &
member=$!
wait_for 30 bash -c "'$RILL' groups describe app1 ${B[*]} | grep -q 'State: Stable'" || fail "member never joined"
"$RILL" groups reset app1 --topic events --to-latest --execute "${B[@]}" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &&
    fail "reset of an active group succeeded"
grep -qi "member\|running\|rebalance\|non.empty" "$TEST_TMP/err" || fail "unclear refusal: $(cat "$TEST_TMP/err")"
kill "$member"; wait "$member" 2>/dev/null

run "$RILL" groups delete app1 "${B[@]}"
run "$RILL" groups list "${B[@]}"
grep -q app1 "$TEST_TMP/out" && fail "app1 still listed after delete"

# usage errors
"$RILL" groups reset app1 --to-earliest "${B[@]}" 2>/dev/null; [ $? -eq 2 ] || fail "reset without topics: not exit 2"
"$RILL" groups reset app1 --all-topics "${B[@]}" 2>/dev/null; [ $? -eq 2 ] || fail "reset without a target: not exit 2"
"$RILL" groups describe 2>/dev/null; [ $? -eq 2 ] || fail "describe without a group: not exit 2"
echo "0501: CLI groups OK"
