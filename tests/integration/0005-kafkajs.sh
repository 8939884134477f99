#!/bin/bash
# 0005-kafkajs: kafkajs 2.2.4 (tests/js, installed by scripts/install-deps.sh)
# creates a topic (Admin), produces (acks=-1, gzip and none, keys, headers,
# timestamps) and fetches everything back (tests/js/roundtrip.js).
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"
js="$RILL_SRCDIR/tests/js"
command -v node >/dev/null || { echo "SKIP: node is not installed" >&2; exit 77; }
[ -d "$js/node_modules/kafkajs" ] ||
    { echo "SKIP: kafkajs is not installed in tests/js (run scripts/install-deps.sh)" >&2; exit 77; }

start_broker
KAFKAJS_NO_PARTITIONER_WARNING=1 timeout 120 node "$js/roundtrip.js" "$BOOTSTRAP" || fail "the kafkajs round trip failed"
stop_broker || fail "unclean stop"
