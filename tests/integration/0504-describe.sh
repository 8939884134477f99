#!/bin/bash
# 0504: `rill describe` prints the topology of apps built on librill
# (examples/wordcount and examples/event-router), as text and as DOT, without
# the app connecting to anything (a real broker is running: no topic and no
# group appears), keeps the app's own stdout out of the description, and
# fails clearly (non-zero exit, one line) for bad arguments, programs that
# cannot run, exit early, are not librill apps, or hang.
source "$RILL_SRCDIR/tests/integration/lib.sh"
RILL="$RILL_BUILDDIR/rill"
WORDCOUNT=$RILL_BUILDDIR/examples/wordcount
ROUTER=$RILL_BUILDDIR/examples/event-router
start_broker

expect_rc() { # expect_rc CODE CMD... : runs CMD, checks its exit code
    local want=$1
    shift
    "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
    local rc=$?
    [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$TEST_TMP/err")"
}
has() { grep -qF -- "$1" "$TEST_TMP/out" || fail "no '$1' in: $(cat "$TEST_TMP/out")"; }
err_has() { grep -qF -- "$1" "$TEST_TMP/err" || fail "no '$1' on stderr: $(cat "$TEST_TMP/err")"; }

# text: both sub-topologies of wordcount, the repartition topic named with the app's id
expect_rc 0 "$RILL" describe -b "$BOOTSTRAP" -- "$WORDCOUNT" -b "$BOOTSTRAP" --input lines \
    --output counts --application-id wc-describe
has "Topologies:"
has "Sub-topology: 0"
has "Sub-topology: 1"
has "Source: KSTREAM-SOURCE-0000000000 (topics: [lines])"
has "Sink: words-sink (topic: wc-describe-words-repartition)"
has "Source: words-source (topics: [wc-describe-words-repartition])"
has "(stores: [counts])"
has "(topic: counts)"
cp "$TEST_TMP/out" "$TEST_TMP/wordcount.txt"

# DOT: a well-formed graph with the topics as ellipses
expect_rc 0 "$RILL" describe --dot -- "$ROUTER" -b "$BOOTSTRAP" --input events --output routed
head -n 1 "$TEST_TMP/out" | grep -qx "digraph topology {" || fail "DOT header: $(head -n 1 "$TEST_TMP/out")"
tail -n 1 "$TEST_TMP/out" | grep -qx "}" || fail "DOT footer: $(tail -n 1 "$TEST_TMP/out")"
has '"topic:events" -> "KSTREAM-SOURCE-0000000000";'
has '"KSTREAM-SOURCE-0000000000" -> "check-type";'
[ "$(grep -c '{' "$TEST_TMP/out")" -eq "$(grep -c '}' "$TEST_TMP/out")" ] || fail "unbalanced braces"
if command -v dot >/dev/null; then
    dot -Tsvg "$TEST_TMP/out" >/dev/null || fail "graphviz rejects the DOT output"
fi
# --format dot is --dot; text of event-router names its processor
expect_rc 0 "$RILL" describe --format dot -- "$ROUTER" -b "$BOOTSTRAP" --input events --output routed
has "digraph topology {"
expect_rc 0 "$RILL" describe "$ROUTER" -b "$BOOTSTRAP" --input events --output routed
has "Processor: check-type (stores: [])"

# -o FILE: the description goes there, stdout stays empty
expect_rc 0 "$RILL" describe -o "$TEST_TMP/file.txt" -- "$WORDCOUNT" -b "$BOOTSTRAP" --input lines \
    --output counts --application-id wc-describe
[ ! -s "$TEST_TMP/out" ] || fail "stdout with -o: $(cat "$TEST_TMP/out")"
cmp -s "$TEST_TMP/file.txt" "$TEST_TMP/wordcount.txt" || fail "-o wrote something else"

# the app's own stdout goes to stderr, never into the description
expect_rc 0 "$RILL" describe -- /bin/sh -c 'echo app-noise; exec "$0" "$@"' "$WORDCOUNT" \
    -b "$BOOTSTRAP" --input lines --output counts --application-id wc-describe
cmp -s "$TEST_TMP/out" "$TEST_TMP/wordcount.txt" || fail "stdout is not the description: $(cat "$TEST_TMP/out")"
err_has "app-noise"

# the env contract, used directly
RILL_DESCRIBE=text "$WORDCOUNT" -b "$BOOTSTRAP" --input lines --output counts \
    --application-id wc-describe >"$TEST_TMP/out" 2>"$TEST_TMP/err" || fail "RILL_DESCRIBE=text: $(cat "$TEST_TMP/err")"
cmp -s "$TEST_TMP/out" "$TEST_TMP/wordcount.txt" || fail "RILL_DESCRIBE=text printed: $(cat "$TEST_TMP/out")"
expect_rc 2 env RILL_DESCRIBE=svg "$WORDCOUNT" -b "$BOOTSTRAP" --input lines --output counts
err_has "RILL_DESCRIBE=svg: expected 'text' or 'dot'"

# nothing was contacted: no topic created, no group joined
"$RILL" topics list -b "$BOOTSTRAP" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || fail "topics list: $(cat "$TEST_TMP/err")"
[ ! -s "$TEST_TMP/out" ] || fail "describe created topics: $(cat "$TEST_TMP/out")"
"$RILL" groups list -b "$BOOTSTRAP" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || fail "groups list: $(cat "$TEST_TMP/err")"
grep -q "wc-describe\|event-router" "$TEST_TMP/out" && fail "describe joined a group: $(cat "$TEST_TMP/out")"

# bad arguments and bad programs: a clear line, non-zero exit
expect_rc 2 "$RILL" describe
err_has "rill describe: a program to describe is required"
expect_rc 2 "$RILL" describe --
err_has "a program to describe is required"
expect_rc 2 "$RILL" describe --format svg -- "$WORDCOUNT"
err_has "--format svg: expected 'text' or 'dot'"
expect_rc 2 "$RILL" describe --no-such-flag -- "$WORDCOUNT"
err_has "rill describe:"
expect_rc 2 "$RILL" describe --timeout-ms 0 -- "$WORDCOUNT"
err_has "--timeout-ms must be > 0"
expect_rc 1 "$RILL" describe -- "$WORDCOUNT" --input lines
err_has "exited with status 2 before describing its topology"
err_has "wordcount: --bootstrap-servers is required"
expect_rc 1 "$RILL" describe -- "$TEST_TMP/no-such-program"
err_has "cannot run $TEST_TMP/no-such-program: No such file or directory"
expect_rc 1 "$RILL" describe -- true
err_has "exited without describing a topology"
start=$SECONDS
expect_rc 1 "$RILL" describe --timeout-ms 500 -- sleep 61.5
err_has "did not describe its topology within 500 ms (killed)"
[ $((SECONDS - start)) -lt 30 ] || fail "the timeout did not stop the hanging program"
pgrep -x -f "sleep 61.5" >/dev/null && fail "the hanging program is still running"
expect_rc 0 "$RILL" describe --help
grep -q "RILL_DESCRIBE" "$TEST_TMP/out" || fail "--help does not explain the mechanism"

stop_broker
echo "PASS"
