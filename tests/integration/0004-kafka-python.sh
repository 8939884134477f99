#!/bin/bash
# 0004-kafka-python: kafka-python (Debian's python3-kafka, run with
# /usr/bin/python3) produces (acks=all, keys, headers, timestamps, gzip) and
# fetches everything back from rill-broker (tests/integration/roundtrip.py).
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"
/usr/bin/python3 -c 'import kafka' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 has no kafka module (Debian package python3-kafka)" >&2; exit 77; }

start_broker --num.partitions=2
timeout 120 /usr/bin/python3 "$RILL_SRCDIR/tests/integration/roundtrip.py" "$BOOTSTRAP" ||
    fail "the kafka-python round trip failed"
stop_broker || fail "unclean stop"
