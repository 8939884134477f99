#!/bin/bash
# wordcount-bench.sh: examples/wordcount end to end against rill-broker: time to count
# LINES lines (until the output's final counts match the reference), then the restore
# rate of the state rebuilt from the changelog after the state directory is deleted.
#   RILL_BUILDDIR=_build RILL_SRCDIR=. bench/wordcount-bench.sh [LINES] [THREADS]
# CACHE_BYTES=0 turns the record cache off (every update is logged: a long changelog).
# GUARANTEE=exactly_once_v2 runs it with transactions (default at_least_once);
# COMMIT_MS sets commit.interval.ms (default 1000; "default": rill's default,
# 30000, or 100 under exactly_once_v2).
# Not part of make check (timings are not tests). Prints one line per figure.
LINES=${1:-200000}
THREADS=${2:-2}
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"
. "$RILL_SRCDIR/tests/integration/wordcount-lib.sh"

OUTPUT_TOPIC=counts
start_cluster lines:6 >/dev/null
gen_lines "$TEST_TMP/input.txt" "$LINES" 7
reference "$TEST_TMP/input.txt" >"$TEST_TMP/ref.txt"
words=$(cut -f2- "$TEST_TMP/input.txt" | wc -w)
produce_lines lines "$TEST_TMP/input.txt"

args=(-b "$BOOTSTRAP" --application-id wc-bench --state-dir "$TEST_TMP/state"
    --threads "$THREADS" --input lines --output counts
    --processing-guarantee "${GUARANTEE:-at_least_once}"
    -c "statestore.cache.max.bytes=${CACHE_BYTES:-10485760}")
[ "${COMMIT_MS:-1000}" = default ] || args+=(-c "commit.interval.ms=${COMMIT_MS:-1000}")
start=$(date +%s.%N)
start_app wc1 "$WORDCOUNT" "${args[@]}"
wait_for 600 counts_reached "$TEST_TMP/ref.txt" || { show_logs; fail "counts never matched"; }
end=$(date +%s.%N)
stop_app wc1
secs=$(echo "$end - $start" | bc)
echo "wordcount: $LINES lines ($words words, $(wc -l <"$TEST_TMP/ref.txt") distinct) in ${secs}s" \
    "(start, group join, restore of empty stores and polling included):" \
    "$(echo "$LINES / $secs" | bc) lines/s, $(echo "$words / $secs" | bc) words/s, threads=$THREADS cache=${CACHE_BYTES:-10485760}" \
    "guarantee=${GUARANTEE:-at_least_once} commit.interval.ms=${COMMIT_MS:-1000}"

rm -rf "$TEST_TMP/state"
start_app wc2 "$WORDCOUNT" "${args[@]}"
restored() { [ "$(grep -c 'restored store=counts' "$TEST_TMP/wc2.log")" -ge 6 ]; }
wait_for 300 restored || { show_logs; fail "not restored"; }
stop_app wc2
grep 'restored store=counts' "$TEST_TMP/wc2.log" |
    sed 's/.*partition=\([0-9]*\) records=\([0-9]*\) records_per_sec=\([0-9]*\).*/\1 \2 \3/' |
    awk '{ r += $2; printf "restore partition %s: %s records at %s records/s\n", $1, $2, $3 }
         END { printf "restore total: %d changelog records\n", r }'
