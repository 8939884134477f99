#!/bin/bash
# 0413: a stream-stream join of topics with different partition counts (payments 3, auths 2)
# cannot start on rill-broker: the app exits non-zero within its start and says which topics
# must be co-partitioned, instead of joining records that are not on the same task.
RILL_TEST_CLUSTER=broker
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

APP=$RILL_BUILDDIR/tests/integration/0410-join-app
[ -x "$APP" ] || fail "no $APP"

start_cluster payments:3 auths:2
start_app join "$APP" -b "$BOOTSTRAP" --application-id copartition-0413 \
    --state-dir "$TEST_TMP/state"
exited() { ! kill -0 "$APP_PID_join" 2>/dev/null; }
wait_for 90 exited || { show_logs; fail "the app is still running with non-co-partitioned inputs"; }
wait "$APP_PID_join"
status=$?
[ "$status" -ne 0 ] || { show_logs; fail "the app exited with status 0"; }
grep -q "must be co-partitioned" "$TEST_TMP/join.log" || { show_logs; fail "no clear error"; }
grep "co-partitioned" "$TEST_TMP/join.log" | head -1
echo "PASS: the app refused to join topics of 3 and 2 partitions (exit status $status)"
