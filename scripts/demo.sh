#!/bin/bash
# demo.sh: the README's first command, the main job. It installs what rill
# needs, builds it, starts rill-broker in a temp dir, creates the topics, feeds
# a generated e-commerce clickstream (users, products, bots, out-of-order
# times, malformed lines) at a steady rate, runs the event-router app over it,
# and prints a live table of where the events went until every one of them is
# accounted for; then it checks the totals against the generator's own counts.
# Ctrl-C stops everything cleanly.
#
#   scripts/demo.sh [--events N] [--rate N] [--keep]
#
# (The demo grows as rill does: stateful enrichment and windowed analytics
# join it as those operators land.)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
events=50000
rate=10000
keep=no
while [ $# -gt 0 ]; do
    case "$1" in
    --events) events=$2; shift ;;
    --rate) rate=$2; shift ;;
    --keep) keep=yes ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

build=$("$top/scripts/build.sh")
make -s -C "$build" examples/event-router >&2 2>/dev/null || true
router="$build/examples/event-router"
[ -x "$router" ] || { echo "demo.sh: examples/event-router was not built" >&2; exit 1; }
rill="$build/rill"

dir=$(mktemp -d "${TMPDIR:-/tmp}/rill-demo.XXXXXX")
pids=()
cleanup() {
    trap - EXIT INT TERM
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$keep" = yes ]; then echo "demo: files kept in $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping"; exit 130' INT TERM

echo "demo: starting rill-broker in $dir"
"$build/rill-broker" --listeners=PLAINTEXT://127.0.0.1:0 --log.dirs="$dir/data" \
    --port.file="$dir/port" >"$dir/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
[ -s "$dir/port" ] || { echo "demo: the broker did not start:"; tail "$dir/broker.log"; exit 1; }
b="127.0.0.1:$(cat "$dir/port")"
echo "demo: broker at $b"

"$rill" topics create clicks --partitions 6 -b "$b" >/dev/null 2>"$dir/topics.log" ||
    { echo "demo: cannot create the input topic:"; cat "$dir/topics.log"; exit 1; }
echo "demo: starting the event-router app (2 threads)"
"$router" -b "$b" --application-id demo-router --input clicks --output clicks \
    --dead-letter clicks.dead-letter --threads 2 --state-dir "$dir/state" >"$dir/router.log" 2>&1 &
pids+=($!)

echo "demo: producing $events events at $rate/s"
/usr/bin/python3 "$top/scripts/gen-clickstream.py" --events "$events" --expect "$dir/expect.json" |
    "$rill" produce clicks -b "$b" --key-separator "$(printf '\t')" --rate "$rate" -q 2>"$dir/produce.log" &
pids+=($!)
producer=$!

# end offsets of a topic, summed over its partitions (0 if it does not exist yet)
total() {
    local out
    out=$("$rill" topics describe "$1" -b "$b" 2>/dev/null) || { echo 0; return 0; }
    printf '%s\n' "$out" | sed -n 's/.*EndOffset: \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}
types=(page_view add_to_cart purchase bot_crawl)
start=$SECONDS
done_at=
while :; do
    in=$(total clicks)
    routed=0
    line=""
    for t in "${types[@]}"; do
        n=$(total "clicks.$t")
        routed=$((routed + n))
        line+=$(printf '%12s' "$n")
    done
    dead=$(total clicks.dead-letter)
    if [ -t 1 ]; then printf '\r'; else printf '\n'; fi
    printf '%4ds  in %8s |%s | dead-letter %6s | accounted %3s%%' $((SECONDS - start)) "$in" "$line" "$dead" \
        $(((routed + dead) * 100 / (events > 0 ? events : 1)))
    if [ "$in" -ge "$events" ] && [ $((routed + dead)) -ge "$events" ]; then done_at=$SECONDS; break; fi
    kill -0 "${pids[1]}" 2>/dev/null || { echo; echo "demo: the app stopped:"; tail "$dir/router.log"; exit 1; }
    [ $((SECONDS - start)) -lt $((events / rate + 120)) ] || { echo; echo "demo: timed out"; exit 1; }
    sleep 1
done
wait "$producer" 2>/dev/null || true
echo
printf '\n%-14s %10s %10s\n' "event type" "expected" "routed"
ok=yes
for t in "${types[@]}" undeliverable; do
    want=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))" "$dir/expect.json" "$t")
    if [ "$t" = undeliverable ]; then got=$(total clicks.dead-letter); else got=$(total "clicks.$t"); fi
    printf '%-14s %10s %10s\n' "$t" "$want" "$got"
    [ "$got" -ge "$want" ] || ok=no
done
if [ "$ok" = yes ]; then
    echo "demo: all $events events accounted for in $((done_at - start)) s (at-least-once: a restart may duplicate, never lose)"
else
    echo "demo: some events are missing"; exit 1
fi
