# lib.sh: shell helpers for integration tests (source it).
#
#   start_broker [--key=value ...]   starts $RILL_BROKER on 127.0.0.1, an ephemeral
#                                    port, a fresh temp dir; sets BROKER_PID,
#                                    BROKER_PORT, BOOTSTRAP, BROKER_DIR
#   stop_broker                      SIGTERM, then SIGKILL after 10 s
#   kill9_broker                     SIGKILL (for fault tests)
#   restart_broker                   start again on the same dir and port
#
# Every test that sources this gets a trap that stops the broker and removes the
# temp dir on exit, so a failing test never leaves a broker behind.
set -u

RILL_BUILDDIR=${RILL_BUILDDIR:-$(pwd)}
RILL_BROKER=${RILL_BROKER:-$RILL_BUILDDIR/rill-broker}
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rill-test.XXXXXX")
BROKER_PID=
BROKER_PORT=0
BROKER_EXTRA=()

cleanup_test() {
    if [ -n "$BROKER_PID" ]; then kill -9 "$BROKER_PID" 2>/dev/null; wait "$BROKER_PID" 2>/dev/null; fi
    rm -rf "$TEST_TMP"
}
trap cleanup_test EXIT

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$TEST_TMP/broker.log" ]; then
        echo "---- broker log (last 40 lines) ----" >&2
        tail -n 40 "$TEST_TMP/broker.log" >&2
    fi
    exit 1
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
    local limit=$1
    shift
    local deadline=$((SECONDS + limit))
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

_launch_broker() {
    rm -f "$TEST_TMP/port"
    "$RILL_BROKER" --listeners="PLAINTEXT://127.0.0.1:$BROKER_PORT" --log.dirs="$BROKER_DIR" \
        --port.file="$TEST_TMP/port" "${BROKER_EXTRA[@]}" >>"$TEST_TMP/broker.log" 2>&1 &
    BROKER_PID=$!
    wait_for 30 test -s "$TEST_TMP/port" || fail "rill-broker did not start within 30 s"
    BROKER_PORT=$(cat "$TEST_TMP/port")
    BOOTSTRAP="127.0.0.1:$BROKER_PORT"
}

start_broker() {
    [ -x "$RILL_BROKER" ] || fail "no broker at $RILL_BROKER"
    BROKER_DIR="$TEST_TMP/data"
    mkdir -p "$BROKER_DIR"
    BROKER_EXTRA=("$@")
    BROKER_PORT=0
    _launch_broker
}

restart_broker() { _launch_broker; }

stop_broker() {
    [ -n "$BROKER_PID" ] || return 0
    kill -TERM "$BROKER_PID" 2>/dev/null
    local i
    for i in $(seq 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$BROKER_PID" 2>/dev/null
    wait "$BROKER_PID" 2>/dev/null
    local rc=$?
    BROKER_PID=
    return $rc
}

kill9_broker() {
    [ -n "$BROKER_PID" ] || return 0
    kill -9 "$BROKER_PID" 2>/dev/null
    wait "$BROKER_PID" 2>/dev/null
    BROKER_PID=
}
