#!/bin/bash
# 0104-kafkajs-group: two kafkajs 2.2.4 consumers in one group on a
# 4-partition topic: disjoint assignments that cover the topic, every record
# consumed exactly once across the members, committed offsets (Admin
# fetchOffsets) and a restarted consumer resuming at them (tests/js/group.js).
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"
js="$RILL_SRCDIR/tests/js"
command -v node >/dev/null || { echo "SKIP: node is not installed" >&2; exit 77; }
[ -d "$js/node_modules/kafkajs" ] ||
    { echo "SKIP: kafkajs is not installed in tests/js (run scripts/install-deps.sh)" >&2; exit 77; }

start_broker
KAFKAJS_NO_PARTITIONER_WARNING=1 timeout 120 node "$js/group.js" "$BOOTSTRAP" ||
    fail "the kafkajs consumer-group test failed"
stop_broker || fail "unclean stop"
