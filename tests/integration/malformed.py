"""malformed.py PORT: throws malformed input at rill-broker over raw sockets and
checks, after each case, that it still answers a well-formed ApiVersions
request on a fresh connection. Used by 0009-malformed-input.sh."""
import os
import socket
import struct
import sys
import time

PORT = int(sys.argv[1])


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def connect():
    return socket.create_connection(("127.0.0.1", PORT), timeout=10)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b


def frame(body):
    return struct.pack(">i", len(body)) + body


def header(api_key, version, corr, client=b"malformed"):
    return struct.pack(">hhih", api_key, version, corr, len(client)) + client


def api_versions_ok():
    s = connect()
    s.sendall(frame(header(18, 0, 7)))
    size = recv_exact(s, 4)
    if size is None:
        fail("the broker closed a well-formed ApiVersions request")
    (n,) = struct.unpack(">i", size)
    body = recv_exact(s, n)
    s.close()
    corr, err = struct.unpack(">ih", body[:6])
    if corr != 7 or err != 0:
        fail("bad ApiVersions answer: corr=%d err=%d" % (corr, err))


def closed_or_answered(s, timeout=10):
    """Reads until the broker closes or stays silent; never hangs."""
    s.settimeout(timeout)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return "closed"
    except socket.timeout:
        return "open"
    except ConnectionResetError:
        return "reset"


cases = []


def case(fn):
    cases.append(fn)
    return fn


@case
def truncated_frame_then_close():
    s = connect()
    s.sendall(struct.pack(">i", 100) + header(18, 0, 1)[:8])
    s.close()


@case
def size_smaller_than_header():
    s = connect()
    s.sendall(frame(b"\x00\x12"))  # 2 bytes: no room for a header
    closed_or_answered(s, 3)
    s.close()


@case
def size_larger_than_sent_then_close():
    s = connect()
    s.sendall(struct.pack(">i", 5000) + header(3, 1, 2) + b"\x00" * 100)
    s.close()


@case
def zero_size():
    s = connect()
    s.sendall(struct.pack(">i", 0))
    closed_or_answered(s, 3)
    s.close()


@case
def negative_size():
    s = connect()
    s.sendall(struct.pack(">i", -5) + b"abc")
    if closed_or_answered(s) == "open":
        fail("a negative size did not close the connection")
    s.close()


@case
def oversized_frame():
    s = connect()
    s.sendall(struct.pack(">i", 200 * 1024 * 1024) + b"\x00" * 1000)
    if closed_or_answered(s) == "open":
        fail("a 200 MB frame (over socket.request.max.bytes) did not close the connection")
    s.close()


@case
def unknown_api_key():
    s = connect()
    s.sendall(frame(header(999, 0, 3) + b"\x00" * 20))
    closed_or_answered(s, 3)
    s.close()


@case
def unknown_version():
    s = connect()
    s.sendall(frame(header(3, 999, 4) + b"\x00" * 20))
    closed_or_answered(s, 3)
    s.close()


@case
def unknown_api_versions_version():
    # Kafka answers an unknown ApiVersions version with a v0 body, error 35.
    s = connect()
    s.sendall(frame(header(18, 77, 5)))
    size = recv_exact(s, 4)
    if size is not None:
        body = recv_exact(s, struct.unpack(">i", size)[0])
        corr, err = struct.unpack(">ih", body[:6])
        if corr != 5 or err != 35:
            fail("ApiVersions v77: corr=%d err=%d, expected 5 and 35" % (corr, err))
    s.close()


@case
def garbage_bytes():
    s = connect()
    s.sendall(os.urandom(4096))
    closed_or_answered(s, 3)
    s.close()


@case
def garbage_after_valid_header():
    for api in (0, 1, 2, 3, 8, 9, 10, 11, 19, 20, 21, 22, 32):
        for version in (0, 1, 3, 4, 7):
            s = connect()
            body = header(api, version, 100 + api) + os.urandom(64)
            s.sendall(frame(body))
            closed_or_answered(s, 0.5)
            s.close()


@case
def truncated_bodies_of_real_requests():
    # Metadata v1 for topic "t", cut at every length
    full = header(3, 1, 9) + struct.pack(">ih", 1, 1) + b"t"
    for cut in range(8, len(full)):
        s = connect()
        s.sendall(frame(full[:cut]))
        closed_or_answered(s, 0.5)
        s.close()


@case
def many_requests_then_reset():
    s = connect()
    s.sendall(frame(header(18, 0, 1)) * 500)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # RST while answers are queued


for fn in cases:
    fn()
    time.sleep(0.05)
    api_versions_ok()
    print("ok - %s: the broker still answers" % fn.__name__)
