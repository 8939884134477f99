#!/bin/bash
# 0411: a stream-stream left join on rill-broker: payments matched to the authorisations of
# their account within 5 minutes either way (tests/integration/0410-join-app), checked against
# pairs computed independently here in Python.
#
#   phase 1: the first 30 minutes (event time) of both streams; the output must be exactly
#            the matches among them (nothing unmatched yet: the grace is 2 hours);
#   the app stops cleanly and its state directory is wiped, so that the join buffers must
#   come back from their changelog topics;
#   phase 2: the next 30 minutes; matches across the two phases need the restored buffers;
#   then, once every input record is committed as processed, one authorisation far in the
#   future on each partition moves stream time past every window: each payment that matched
#   nothing comes out once, as "<payment>|~". The output must equal the reference exactly
#   (as a multiset: at-least-once with clean stops produces no duplicates).
RILL_TEST_CLUSTER=broker
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/0410-join-lib.sh"

APP=$JOIN_APP
[ -x "$APP" ] || fail "no $APP"
GROUP=payment-match-0411

start_cluster payments:3 auths:3 matched:3
helper gen || fail "generating the data"

run_app() {
    start_app join "$APP" -b "$BOOTSTRAP" --application-id "$GROUP" --state-dir "$TEST_TMP/state" \
        --within-ms 300000 --grace-ms 7200000 -c commit.interval.ms=300
}

# phase 1
helper produce phase1.json || fail "producing phase 1"
run_app
wait_for 120 output_equals "$TEST_TMP/ref-phase1.txt" || {
    explain "$TEST_TMP/ref-phase1.txt"
    fail "phase 1: the output is not the matches among the first 30 minutes"
}
echo "phase 1: $(wc -l <"$TEST_TMP/out.txt") matches, as the reference"
stop_app join || { show_logs; fail "the app did not stop cleanly"; }
rm -rf "$TEST_TMP/state" # the buffers must come back from their changelogs

# phase 2
run_app
helper produce phase2.json || fail "producing phase 2"
wait_for 120 output_contains "$TEST_TMP/ref-inner.txt" || {
    explain "$TEST_TMP/ref-inner.txt"
    fail "phase 2: matches are missing (were the buffers restored?)"
}
grep -q "restoring store match-this-join-store" "$TEST_TMP/join.log" ||
    { show_logs; fail "the join buffer was not restored"; }
wait_for 60 helper committed "$GROUP" || { show_logs; fail "the app did not commit every input"; }
helper ticks || fail "producing the ticks"
wait_for 120 output_equals "$TEST_TMP/ref-all.txt" || {
    explain "$TEST_TMP/ref-all.txt"
    fail "the output is not the reference (matches, then each unmatched payment once)"
}
stop_app join || { show_logs; fail "the app did not stop cleanly"; }
# the buffers' changelogs are windowed changelogs (compact,delete with a retention)
/usr/bin/python3 - "$BOOTSTRAP" "$GROUP-match-this-join-store-changelog" <<'PY' ||
import sys
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
text = repr(a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, sys.argv[2])]))
assert "compact,delete" in text, text
assert "94200001" in text, text  # retention: 2 x 5 min + 2 h + 1 ms, + 24 h
print("%s: compact,delete, retention.ms 94200001" % sys.argv[2])
PY
    fail "the join buffer's changelog is not a windowed changelog"
echo "PASS: $(wc -l <"$TEST_TMP/ref-inner.txt") matches and $(grep -c '|~$' "$TEST_TMP/ref-all.txt") unmatched payments, as the reference"
