#!/bin/bash
# 0009-malformed-input: truncated frames, wrong sizes, unknown API keys and
# versions, garbage bytes, oversized frames and resets over raw sockets
# (tests/integration/malformed.py): rill-broker stays up, still serves other
# clients (kcat round trip afterwards), and exits cleanly.
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"

start_broker
timeout 120 /usr/bin/python3 "$RILL_SRCDIR/tests/integration/malformed.py" "$BROKER_PORT" ||
    fail "malformed input broke the broker"
kill -0 "$BROKER_PID" 2>/dev/null || fail "rill-broker died"
if command -v kcat >/dev/null; then
    echo hello | timeout 30 kcat -b "$BOOTSTRAP" -X broker.address.family=v4 -P -t after ||
        fail "kcat -P after the malformed input failed"
    got=$(timeout 30 kcat -b "$BOOTSTRAP" -X broker.address.family=v4 -C -t after -e -o beginning)
    [ "$got" = hello ] || fail "kcat read '$got' after the malformed input"
    echo "ok - another client is served normally afterwards"
fi
stop_broker || fail "unclean stop after malformed input"
