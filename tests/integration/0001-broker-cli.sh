#!/bin/bash
# 0001-broker-cli: rill-broker's command line: --help, bad configurations
# (exit 2, naming the key), a start on an ephemeral port with port.file and a
# startup line, a server.properties file, a clean stop on SIGTERM (exit 0).
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"

out=$("$RILL_BROKER" --help) || fail "--help exited $?"
for key in listeners advertised.listeners log.dirs num.partitions log.retention.ms \
    log.flush.on.ack socket.request.max.bytes port.file log.level; do
    grep -q "^  $key  (" <<<"$out" || fail "--help does not list $key"
done
echo "ok 1 - --help lists the configuration table"

expect_exit2() { # expect_exit2 NEEDLE ARGS...
    local needle=$1
    shift
    local err rc
    err=$("$RILL_BROKER" "$@" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" -eq 2 ] || fail "rill-broker $* exited $rc, expected 2 ($err)"
    grep -qF -- "$needle" <<<"$err" || fail "rill-broker $*: '$err' does not mention '$needle'"
}
expect_exit2 "no.such.key" --no.such.key=1
expect_exit2 "num.partitions" --num.partitions=zero
expect_exit2 "listeners" --listeners=127.0.0.1:9092
expect_exit2 "auto.create.topics.enable" --auto.create.topics.enable=maybe
printf 'num.partitions=2\nlog.segment.bytes=huge\n' >"$TEST_TMP/bad.properties"
expect_exit2 "bad.properties:2" "$TEST_TMP/bad.properties"
expect_exit2 "log.segment.bytes" --config "$TEST_TMP/bad.properties"
echo "ok 2 - bad keys and values exit 2 with the key named"

# a data directory that cannot be created: exit 1 with a reason
touch "$TEST_TMP/afile"
"$RILL_BROKER" --listeners=PLAINTEXT://127.0.0.1:0 --log.dirs="$TEST_TMP/afile/sub" \
    >"$TEST_TMP/cannot.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "an unusable log.dirs exited $rc, expected 1: $(cat "$TEST_TMP/cannot.log")"
echo "ok 3 - an unusable log.dirs exits 1"

# a server.properties file plus flags
cat >"$TEST_TMP/server.properties" <<PROPS
# a Kafka-style file
num.partitions=3
log.retention.hours=24
zookeeper.connect=localhost:2181
PROPS
start_broker --config="$TEST_TMP/server.properties" --log.level=info
[ "$BROKER_PORT" -gt 0 ] || fail "no port in the port file"
grep -q "started listener=PLAINTEXT://127.0.0.1:$BROKER_PORT .*log.dirs=$BROKER_DIR" \
    "$TEST_TMP/broker.log" || fail "no startup line with the address and the log dirs"
grep -q "num.partitions=3" "$TEST_TMP/broker.log" || fail "the file's settings are not logged"
echo "ok 4 - starts on an ephemeral port, writes port.file, logs where it listens"

# answers an ApiVersions request (raw, v0) on that port
/usr/bin/python3 - "$BROKER_PORT" <<'PY' || fail "no ApiVersions answer"
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
req = struct.pack(">hhih", 18, 0, 42, 4) + b"test"
s.sendall(struct.pack(">i", len(req)) + req)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("connection closed")
        b += c
    return b
size, = struct.unpack(">i", recv(4))
body = recv(size)
corr, err = struct.unpack(">ih", body[:6])
assert corr == 42 and err == 0, (corr, err)
PY
echo "ok 5 - answers ApiVersions"

pid=$BROKER_PID
stop_broker
rc=$?
[ "$rc" -eq 0 ] || fail "SIGTERM: exit status $rc, expected 0"
grep -q "stopped" "$TEST_TMP/broker.log" || fail "no 'stopped' line"
[ ! -e "$TEST_TMP/port" ] || fail "port.file left behind after a clean stop"
kill -0 "$pid" 2>/dev/null && fail "still running"
echo "ok 6 - SIGTERM stops cleanly with exit 0"

# SIGINT (Ctrl-C) stops cleanly too, and a restart on the same directory works
restart_broker
kill -INT "$BROKER_PID"
for i in $(seq 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
wait "$BROKER_PID"
rc=$?
BROKER_PID=
[ "$rc" -eq 0 ] || fail "SIGINT: exit status $rc, expected 0"
echo "ok 7 - SIGINT stops cleanly with exit 0"
