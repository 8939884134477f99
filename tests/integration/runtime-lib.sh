# runtime-lib.sh: helpers for the runtime's integration tests (source it
# after lib.sh).
#
#   start_cluster TOPIC:PARTITIONS...  starts a cluster with those topics; sets
#                                      BOOTSTRAP
#   produce_lines TOPIC FILE           produces "key<TAB>value" lines
#   consume_lines TOPIC OUT            all records of TOPIC so far, as
#                                      "key<TAB>value" lines, into OUT
#   start_app NAME CMD...              runs CMD in the background, output in
#                                      $TEST_TMP/NAME.log; sets APP_PID_<NAME>
#   stop_app NAME                      SIGTERM, bounded wait; returns CMD's status
#   kill9_app NAME                     SIGKILL
#
# The cluster: rill-broker (default), or librdkafka's mock cluster in a
# process of its own (rill-mock-cluster) with RILL_TEST_CLUSTER=mock, which
# the tests ran against before rill-broker served consumer groups; the
# choice is the one line below.
RILL_TEST_CLUSTER=${RILL_TEST_CLUSTER:-broker}

MOCK=$RILL_BUILDDIR/tests/integration/rill-mock-cluster
CLUSTER_PID=
APP_PIDS=()

cleanup_runtime() {
    local pid
    for pid in "${APP_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    if [ -n "$CLUSTER_PID" ]; then kill -TERM "$CLUSTER_PID" 2>/dev/null; wait "$CLUSTER_PID" 2>/dev/null; fi
}
trap 'cleanup_runtime; cleanup_test' EXIT

command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }

start_cluster() {
    local args=() spec
    case "$RILL_TEST_CLUSTER" in
    mock)
        for spec in "$@"; do args+=(--topic "$spec"); done
        "$MOCK" "${args[@]}" --bootstrap-file "$TEST_TMP/bootstrap" >"$TEST_TMP/cluster.log" 2>&1 &
        CLUSTER_PID=$!
        wait_for 30 test -s "$TEST_TMP/bootstrap" || fail "rill-mock-cluster did not start"
        BOOTSTRAP=$(cat "$TEST_TMP/bootstrap")
        ;;
    broker)
        start_broker --group.initial.rebalance.delay.ms=0
        for spec in "$@"; do
            "$RILL_BUILDDIR/rill" topics create "${spec%:*}" --partitions "${spec##*:}" \
                -b "$BOOTSTRAP" >>"$TEST_TMP/cluster.log" 2>&1 || fail "cannot create topic $spec"
        done
        ;;
    esac
    echo "cluster ($RILL_TEST_CLUSTER) at $BOOTSTRAP"
}

produce_lines() {
    kcat -P -b "$BOOTSTRAP" -t "$1" -K $'\t' -l "$2" || fail "producing $2 to $1"
}

consume_lines() {
    # -e: stop at the end of every partition; a topic that does not exist yet is empty
    timeout 60 kcat -C -b "$BOOTSTRAP" -t "$1" -o beginning -e -q -f '%k\t%s\n' >"$2" 2>/dev/null || : >"$2"
}

start_app() {
    local name=$1
    shift
    "$@" >"$TEST_TMP/$name.log" 2>&1 &
    local pid=$!
    APP_PIDS+=("$pid")
    eval "APP_PID_$name=$pid"
}

stop_app() {
    local pid
    eval "pid=\$APP_PID_$1"
    kill -TERM "$pid" 2>/dev/null
    local i
    for i in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "app $1 did not stop within 60 s" >&2
        kill -9 "$pid"
    fi
    wait "$pid"
}

kill9_app() {
    local pid
    eval "pid=\$APP_PID_$1"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

show_logs() {
    local f
    for f in "$TEST_TMP"/*.log; do
        echo "---- $(basename "$f") (last 30 lines) ----" >&2
        tail -n 30 "$f" >&2
    done
}
