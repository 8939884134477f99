#!/bin/bash
# 0101-kafka-python-group: kafka-python consumers (JoinGroup v2, OffsetCommit
# v2, the admin client's DescribeGroups/ListGroups/DeleteGroups) in a group on
# rill-broker (tests/integration/group.py).
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"
/usr/bin/python3 -c 'import kafka' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 has no kafka module (Debian package python3-kafka)" >&2; exit 77; }

start_broker --group.initial.rebalance.delay.ms=0
timeout 120 /usr/bin/python3 "$RILL_SRCDIR/tests/integration/group.py" "$BOOTSTRAP" ||
    fail "the kafka-python group test failed"
stop_broker || fail "unclean stop"
