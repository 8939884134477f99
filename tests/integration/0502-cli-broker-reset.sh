#!/bin/bash
# 0502: `rill broker` starts the bundled broker with rill-broker's flags and
# stops cleanly on SIGTERM; `rill reset` (dry run, then for real) moves an app's
# input offsets to the earliest, deletes only its internal topics, wipes its
# local state, and refuses while the app is running.
source "$RILL_SRCDIR/tests/integration/lib.sh"
RILL="$RILL_BUILDDIR/rill"

# rill broker = rill-broker, same flags
RILL_BROKER="$RILL_BUILDDIR/rill-broker" "$RILL" broker --listeners=PLAINTEXT://127.0.0.1:0 \
    --log.dirs="$TEST_TMP/data" --port.file="$TEST_TMP/port" >"$TEST_TMP/broker.log" 2>&1 &
BROKER_PID=$!
wait_for 30 test -s "$TEST_TMP/port" || fail "rill broker did not start"
BOOTSTRAP="127.0.0.1:$(cat "$TEST_TMP/port")"
B=(-b "$BOOTSTRAP")
"$RILL" broker --no-such-flag=1 >/dev/null 2>&1 && fail "rill broker accepted a bad flag"

run() { "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || fail "'$*' failed: $(cat "$TEST_TMP/err")"; }
lag() { "$RILL" groups describe app-x "${B[@]}" | sed -n 's/^Total lag: //p'; }
topics() { "$RILL" topics list "${B[@]}" | tr '\n' ' '; }

for t in in other app-x-counts-changelog app-x-by-user-repartition app-y-counts-changelog; do
    run "$RILL" topics create "$t" -p 2 "${B[@]}"
done
seq 1 10 | "$RILL" produce in -q "${B[@]}" || fail "produce"
run timeout 60 "$RILL" consume in --from-beginning --group app-x --max-messages 10 "${B[@]}"
[ "$(lag)" = 0 ] || fail "lag before reset: $(lag)"
mkdir -p "$TEST_TMP/state/app-x/0_0/rocksdb/counts" "$TEST_TMP/state/app-y/0_0"
echo data >"$TEST_TMP/state/app-x/0_0/rocksdb/counts/000001.sst"

# dry run: nothing changes
run "$RILL" reset --application-id app-x --state-dir "$TEST_TMP/state" --dry-run "${B[@]}"
grep -q "would delete internal topic app-x-counts-changelog" "$TEST_TMP/out" || fail "dry run plan: $(cat "$TEST_TMP/out")"
[ "$(lag)" = 0 ] || fail "dry run moved offsets"
[ -d "$TEST_TMP/state/app-x" ] || fail "dry run wiped state"
[ "$(topics)" = "app-x-by-user-repartition app-x-counts-changelog app-y-counts-changelog in other " ] ||
    fail "dry run changed topics: $(topics)"

# refused while a member is active
timeout 60 "$RILL" consume in --group app-x --follow "${B[@]}" >/dev/null 2>&1 &
member=$!
wait_for 30 bash -c "'$RILL' groups describe app-x ${B[*]} | grep -q 'State: Stable'" || fail "member never joined"
"$RILL" reset --application-id app-x --state-dir "$TEST_TMP/state" "${B[@]}" >/dev/null 2>"$TEST_TMP/err" &&
    fail "reset of a running app succeeded"
grep -q "active member" "$TEST_TMP/err" || fail "unclear refusal: $(cat "$TEST_TMP/err")"
kill "$member"; wait "$member" 2>/dev/null
wait_for 30 bash -c "'$RILL' groups describe app-x ${B[*]} | grep -q 'Members: 0'" || fail "member never left"

# the real reset
run "$RILL" reset --application-id app-x --state-dir "$TEST_TMP/state" "${B[@]}"
[ "$(lag)" = 10 ] || fail "lag after reset: $(lag) (want 10: input re-read from the start)"
[ "$(topics)" = "app-y-counts-changelog in other " ] || fail "topics after reset: $(topics)"
[ -e "$TEST_TMP/state/app-x" ] && fail "state of app-x still there"
[ -d "$TEST_TMP/state/app-y/0_0" ] || fail "state of another app was removed"
"$RILL" reset "${B[@]}" >/dev/null 2>&1; [ $? -eq 2 ] || fail "reset without --application-id: not exit 2"

# rill broker stops cleanly on SIGTERM
kill -TERM "$BROKER_PID"
wait "$BROKER_PID"; rc=$?
BROKER_PID=
[ "$rc" -eq 0 ] || fail "rill broker exited $rc on SIGTERM"
echo "0502: rill broker and rill reset OK"
