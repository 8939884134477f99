#!/bin/bash
# 0009-malformed-input: truncated frames, wrong sizes, unknown API keys and
# versions, garbage bytes, oversized frames and resets over raw sockets
# (tests/integration/malformed.py): rill-broker stays up, still serves other
# clients (kcat round trip afterwards), and exits cleanly.
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"

start_broker
timeout 120 /usr/bin/python3 "$RILL_SRCDIR/tests/integration/malformed.py" "$BROKER_PORT" ||
    fail "malformed input broke the broker"
kill -0 "$BROKER_PID" 2>/dev/null || fail "rill-broker died"
if command -v kcat >/dev/null; then
    echo hello | timeout 30 kcat -b "$BOOTSTRAP" -X broker.address.family=v4 -P -t after ||
        fail "kcat -P after the malformed input failed"
    got=$(timeout 30 kcat -b "$BOOTSTRAP" -X broker.address.family=v4 -C -t after -e -o beginning)
    [ "$got" = hello ] || fail "kcat read '$got' after the malformed input"
    echo "ok - another client is served normally afterwards"
fi
stop_broker || fail "unclean stop after malformed input"

# socket.request.max.bytes from the command line reaches the network layer:
# a 5000-byte request closes its connection, a small one is answered.
start_broker --socket.request.max.bytes=4096
/usr/bin/python3 - "$BROKER_PORT" <<'PY' || fail "socket.request.max.bytes=4096 was not enforced"
import socket, struct, sys
port = int(sys.argv[1])
def api_versions(extra):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    body = struct.pack(">hhih", 18, 0, 1, 1) + b"x" + b"\0" * extra
    s.sendall(struct.pack(">i", len(body)) + body)
    data = b""
    try:
        while len(data) < 4:
            c = s.recv(4 - len(data))
            if not c:
                return "closed"
            data += c
    except ConnectionResetError:
        return "closed"
    return "answered"
assert api_versions(0) == "answered", "a small request was not answered"
assert api_versions(5000) == "closed", "a 5000-byte request was not refused"
assert api_versions(0) == "answered", "the broker stopped answering"
PY
grep -q "over the limit (socket.request.max.bytes=4096)" "$TEST_TMP/broker.log" ||
    fail "no log line for the oversized request"
echo "ok - socket.request.max.bytes=4096 is enforced per connection"
stop_broker || fail "unclean stop"
