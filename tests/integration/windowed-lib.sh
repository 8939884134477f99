# windowed-lib.sh: what the windowed-count tests (04xx) share (source it after
# lib.sh and runtime-lib.sh).
#
#   windowed TOOL-ARGS...        runs tests/integration/windowed.py (input,
#                                reference, checks) with /usr/bin/python3
#   output_ends FILE             "partition<TAB>end offset" of the output topic
#   consume_output FILE          the output as "partition<TAB>offset<TAB>key<TAB>value"
#   output_complete REF          true once the output holds a record for every
#                                reference window (the app emitted them all)
WINDOWED_COUNT=$RILL_BUILDDIR/examples/windowed-count
OUTPUT_TOPIC=${OUTPUT_TOPIC:-window-counts}
WINDOW_MS=1000
GRACE_MS=500

windowed() { /usr/bin/python3 "$RILL_SRCDIR/tests/integration/windowed.py" "$@"; }

output_ends() {
    local p n
    : >"$1"
    for p in 0 1 2; do
        n=$(timeout 10 kcat -Q -b "$BOOTSTRAP" -t "$OUTPUT_TOPIC:$p:-1" 2>/dev/null | awk '{ print $NF }')
        printf '%s\t%s\n' "$p" "${n:-0}" >>"$1"
    done
}

consume_output() {
    timeout 120 kcat -C -b "$BOOTSTRAP" -t "$OUTPUT_TOPIC" -o beginning -e -q \
        -f '%p\t%o\t%k\t%s\n' >"$1" 2>/dev/null || : >"$1"
}

output_complete() {
    local want have
    want=$(grep -vc '^late' "$1")
    output_ends "$TEST_TMP/ends.now"
    have=$(awk '{ s += $2 } END { print s + 0 }' "$TEST_TMP/ends.now")
    [ "$have" -ge "$want" ]
}
