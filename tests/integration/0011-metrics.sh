#!/bin/bash
# 0011-metrics: rill-broker with metrics.listener=127.0.0.1:0 serves Prometheus
# metrics over HTTP. kafka-python produces to two partitions, fetches, commits a
# group offset, creates and deletes a topic; metrics.py then scrapes /metrics,
# parses the text format and checks request counts, network bytes, log end
# offsets, per-topic counters, group lag and that a deleted topic's series go.
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"
/usr/bin/python3 -c 'import kafka' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 has no kafka module (Debian package python3-kafka)" >&2; exit 77; }

# a metrics.listener that cannot be served stops the start, with the reason
mkdir -p "$TEST_TMP/bad"
if "$RILL_BROKER" --listeners=PLAINTEXT://127.0.0.1:0 --log.dirs="$TEST_TMP/bad" \
    --port.file="$TEST_TMP/bad-port" --metrics.listener=127.0.0.1:notaport >"$TEST_TMP/bad.log" 2>&1; then
    fail "rill-broker started with metrics.listener=127.0.0.1:notaport"
fi
grep -q "cannot serve metrics.listener 127.0.0.1:notaport" "$TEST_TMP/bad.log" ||
    fail "no reason given for a bad metrics.listener: $(tail -3 "$TEST_TMP/bad.log")"
[ ! -e "$TEST_TMP/bad-port" ] || fail "port.file written although the start failed"

start_broker --metrics.listener=127.0.0.1:0 --metrics.port.file="$TEST_TMP/mport" \
    --num.partitions=2 --group.initial.rebalance.delay.ms=0
# metrics.port.file is written before port.file, which start_broker waited for
test -s "$TEST_TMP/mport" || fail "no metrics.port.file"
MPORT=$(cat "$TEST_TMP/mport")
grep -q "metrics endpoint listening listener=127.0.0.1:0 port=$MPORT" "$TEST_TMP/broker.log" ||
    fail "the bound metrics port is not logged"

timeout 120 /usr/bin/python3 "$RILL_SRCDIR/tests/integration/metrics.py" "$BOOTSTRAP" \
    "http://127.0.0.1:$MPORT/metrics" || fail "metrics.py failed"

# other paths answer 404; the endpoint goes away with the broker
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$MPORT/nope")
[ "$code" = 404 ] || fail "GET /nope answered $code, not 404"
stop_broker || fail "unclean stop"
[ ! -e "$TEST_TMP/mport" ] || fail "metrics.port.file left behind after a clean stop"
curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" >/dev/null &&
    fail "the metrics endpoint still answers after the broker stopped"
echo "ok - metrics over HTTP"
