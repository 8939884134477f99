#!/bin/bash
# 0301: examples/wordcount against rill-broker: 3 input partitions, 2 threads;
# the final count of every word (the last update on the output topic) equals
# a reference computed here in Python; the changelog topic exists, is
# compacted and holds every word's count.
RILL_TEST_CLUSTER=broker
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/wordcount-lib.sh"

OUTPUT_TOPIC=counts
start_cluster lines:3
gen_lines "$TEST_TMP/input.txt" 5000 301
reference "$TEST_TMP/input.txt" >"$TEST_TMP/ref.txt"
produce_lines lines "$TEST_TMP/input.txt"

start_app wc "$WORDCOUNT" -b "$BOOTSTRAP" --application-id wc-0301 --state-dir "$TEST_TMP/state" \
    --threads 2 --input lines --output counts -c commit.interval.ms=500
wait_for 120 counts_reached "$TEST_TMP/ref.txt" || {
    show_logs
    diff "$TEST_TMP/ref.txt" "$TEST_TMP/final.txt" | head -20
    fail "the final counts do not match the reference"
}
stop_app wc || { show_logs; fail "wordcount did not exit cleanly"; }
echo "final counts of $(wc -l <"$TEST_TMP/ref.txt") words match the reference"

# the changelog: compacted, 3 partitions, and its last value per word is the count
/usr/bin/python3 - "$BOOTSTRAP" <<'PY' || fail "the changelog topic is not as expected"
import sys
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
r = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "wc-0301-counts-changelog")])
text = repr(r)
assert "compact" in text, text
meta = a.describe_topics(["wc-0301-counts-changelog"])
assert len(meta[0]["partitions"]) == 3, meta
print("changelog: compacted, 3 partitions")
PY
timeout 60 kcat -C -b "$BOOTSTRAP" -t wc-0301-counts-changelog -o beginning -e -q \
    -f '%k\t%s\n' -s value='>q' >"$TEST_TMP/changelog.txt" 2>/dev/null || fail "cannot read the changelog"
awk -F'\t' '{ last[$1] = $2 } END { for (k in last) printf "%s\t%s\n", k, last[k] }' \
    "$TEST_TMP/changelog.txt" | LC_ALL=C sort >"$TEST_TMP/changelog-final.txt"
LC_ALL=C sort "$TEST_TMP/ref.txt" | cmp -s - "$TEST_TMP/changelog-final.txt" ||
    fail "the changelog's last values are not the counts"
echo "PASS: wordcount counts match the reference; the changelog holds them"
