#!/bin/bash
# demo.sh: the README's first command, the main job: real-time clickstream analytics on rill.
#
# It installs what rill needs and builds it (scripts/build.sh), starts
# rill-broker in a temp dir, creates the topics, generates an e-commerce
# clickstream (scripts/gen-clickstream.py: users with a region, sessions of
# page views, cart adds and purchases, crawlers, out-of-order and very late
# events, malformed lines), loads the user table, and runs examples/analytics
# over the clickstream while it is produced at --rate events/s: crawlers
# dropped, events enriched with the user's region (stream-table join),
# grouped by region into 1-minute windows (5 minutes of grace) of views, cart
# adds, orders and revenue, and per user into sessions (30-minute gap), each
# window and session emitted once, when it closes. A live table of the latest
# closed window per region and the totals is printed while it runs
# (scripts/demo-summary.py, reading the output topics). At the end the final
# numbers are checked against a reference computed independently in Python
# (tests/integration/analytics_reference.py). Ctrl-C stops everything and
# removes the temp dir.
#
#   scripts/demo.sh [--events N] [--rate N] [--seed N] [--partitions N] [--threads N]
#                   [--grace-ms MS] [--ci] [--build-dir DIR] [--bootstrap-servers HOST:PORT]
#                   [--keep]
#
#   defaults: 200000 events at 5000/s (about 40 s), 4 partitions, 2 threads, 5 min grace
#   --ci          a short bounded run for the test suite: 30000 events at 5000/s, 20 min
#                 grace, 1 thread (a CPU-starved thread of two can let the other push event
#                 time past the grace), plain output; exit status 0 only if the results
#                 match the reference
#   --build-dir   use rill as built there (no package install, no build)
#   --bootstrap-servers  use that Kafka cluster instead of starting rill-broker
#                 (the topics users, clicks, region-stats, user-sessions are created
#                 there if missing; the app's id is rill-demo-<pid>)
#   --keep        keep the temp dir (broker data, logs, generated input)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
events=200000
rate=5000
seed=7
partitions=4
threads=2
grace_ms=300000
limit=600 # seconds to wait for the app to catch up, then for the last windows
ci=no
keep=no
build=
bootstrap=
while [ $# -gt 0 ]; do
    case "$1" in
    --events) events=$2; shift ;;
    --rate) rate=$2; shift ;;
    --seed) seed=$2; shift ;;
    --partitions) partitions=$2; shift ;;
    --threads) threads=$2; shift ;;
    --grace-ms) grace_ms=$2; shift ;;
    --ci) ci=yes; events=30000; rate=5000; grace_ms=1200000; limit=60; threads=1 ;;
    --build-dir) build=$2; shift ;;
    --bootstrap-servers | --bootstrap-server | -b) bootstrap=$2; shift ;;
    --keep) keep=yes ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for n in "$events" "$rate" "$seed" "$partitions" "$threads" "$grace_ms"; do
    case "$n" in '' | *[!0-9]*) echo "demo.sh: '$n' is not a number" >&2; exit 2 ;; esac
done

if [ -z "$build" ]; then
    build=$("$top/scripts/build.sh")
    make -s -C "$build" examples/analytics >&2
fi
app_bin="$build/examples/analytics"
rill="$build/rill"
[ -x "$app_bin" ] && [ -x "$rill" ] || { echo "demo.sh: no examples/analytics or rill in $build" >&2; exit 1; }
py=/usr/bin/python3

dir=$(mktemp -d "${TMPDIR:-/tmp}/rill-demo.XXXXXX")
broker_pid= app_pid= producer_pid= summary_pid= ref_pid=
stop_pid() { # stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < $2 * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    trap - EXIT INT TERM
    stop_pid "$summary_pid" 5
    stop_pid "$producer_pid" 5
    stop_pid "$ref_pid" 5
    stop_pid "$app_pid" 30
    stop_pid "$broker_pid" 10
    if [ "$keep" = yes ]; then echo "demo: files kept in $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping (Ctrl-C)"; exit 130' INT TERM
say() { echo "demo: $*"; }
die() {
    echo "demo: $*" >&2
    for f in "$dir"/*.log; do [ -f "$f" ] && { echo "---- $(basename "$f") (last 15 lines)" >&2; tail -n 15 "$f" >&2; }; done
    exit 1
}

if [ -z "$bootstrap" ]; then
    say "starting rill-broker in $dir"
    # (setsid: Ctrl-C reaches this script only, which then stops the app before the broker)
    setsid "$build/rill-broker" --listeners=PLAINTEXT://127.0.0.1:0 --log.dirs="$dir/data" \
        --port.file="$dir/port" --group.initial.rebalance.delay.ms=0 >"$dir/broker.log" 2>&1 &
    broker_pid=$!
    for _ in $(seq 300); do [ -s "$dir/port" ] && break; sleep 0.1; done
    [ -s "$dir/port" ] || die "the broker did not start"
    bootstrap="127.0.0.1:$(cat "$dir/port")"
    app_id=rill-demo
else
    app_id=rill-demo-$$
fi
say "broker at $bootstrap"
create() { # create TOPIC PARTITIONS [--config k=v]: creates it unless it exists
    "$rill" topics describe "$1" -b "$bootstrap" >/dev/null 2>&1 && return 0
    "$rill" topics create "$@" -b "$bootstrap" >>"$dir/topics.log" 2>&1 || die "cannot create topic $1"
}
create users --partitions "$partitions" --config cleanup.policy=compact
create clicks --partitions "$partitions"
create clicks.dead-letter --partitions 1
create region-stats --partitions "$partitions"
create user-sessions --partitions "$partitions"

say "generating $events clickstream events (seed $seed)"
"$py" "$top/scripts/gen-clickstream.py" --events "$events" --seed "$seed" --users-out "$dir/users.txt" \
    --clicks "$dir/clicks.txt" --closing "$dir/closing.txt" --meta "$dir/meta.json"
"$py" "$top/tests/integration/analytics_reference.py" reference "$dir/users.txt" "$dir/clicks.txt" \
    "$dir/closing.txt" "$dir/ref" --grace-ms "$grace_ms" >"$dir/reference.log" 2>&1 &
ref_pid=$!
nusers=$(wc -l <"$dir/users.txt")
say "loading $nusers users into the table topic 'users'"
"$rill" produce users -f "$dir/users.txt" -K "$(printf '\t')" -q -b "$bootstrap" 2>"$dir/produce-users.log" ||
    die "producing the users failed"

say "starting examples/analytics ($threads stream thread$([ "$threads" = 1 ] || echo s))"
# (small fetches keep the partitions' event times close together: a window
# closes on the largest event time its task has seen)
setsid "$app_bin" -b "$bootstrap" --application-id "$app_id" --state-dir "$dir/state" \
    --threads "$threads" --grace-ms "$grace_ms" -c commit.interval.ms=1000 \
    -c consumer.max.partition.fetch.bytes=65536 >"$dir/analytics.log" 2>&1 &
app_pid=$!

# group_lag TOPIC: "<partitions with a committed offset> <their total lag>" of the app's group
group_lag() {
    "$rill" groups describe "$app_id" -b "$bootstrap" 2>/dev/null |
        awk -v t="$1" '$1 == t { rows++; lag += $5 } END { print rows + 0, lag + 0 }'
}
caught_up() { # caught_up TOPIC: the app committed every partition of TOPIC to its end
    local rows lag
    read -r rows lag < <(group_lag "$1")
    [ "$rows" -ge "$partitions" ] && [ "$lag" -eq 0 ]
}
wait_until() { # wait_until SECONDS WHAT COMMAND...
    local limit=$1 what=$2
    shift 2
    local deadline=$((SECONDS + limit))
    until "$@"; do
        kill -0 "$app_pid" 2>/dev/null || die "the app stopped"
        [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${limit}s waiting for $what"
        sleep 0.5
    done
}
# every stream thread in the group (no rebalance once the clicks flow) and the table loaded
members() {
    "$rill" groups describe "$app_id" -b "$bootstrap" 2>/dev/null |
        sed -n 's/.*State: Stable.*Members: \([0-9]*\).*/\1/p'
}
all_joined() { [ "$(members)" = "$threads" ]; }
wait_until 120 "the app's $threads threads to join its group" all_joined
wait_until 120 "the app to load the user table" caught_up users

say "producing the clickstream at $rate events/s"
"$rill" produce clicks -f "$dir/clicks.txt" -K "$(printf '\t')" --rate "$rate" -q -b "$bootstrap" \
    2>"$dir/produce-clicks.log" &
producer_pid=$!
wait "$ref_pid" || die "the reference failed: $(cat "$dir/reference.log")"
ref_pid=
want_windows=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["windows"])' "$dir/ref/summary.json")
want_sessions=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions"])' "$dir/ref/summary.json")

summary_args=(--bootstrap "$bootstrap" --until-windows "$want_windows" --until-sessions "$want_sessions"
    --timeout $((events / rate + limit)))
if [ "$ci" = yes ]; then
    "$py" "$top/scripts/demo-summary.py" "${summary_args[@]}" >"$dir/summary.out" 2>"$dir/summary.log" &
else
    "$py" "$top/scripts/demo-summary.py" "${summary_args[@]}" 2>"$dir/summary.log" &
fi
summary_pid=$!

wait "$producer_pid" || die "producing the clickstream failed"
producer_pid=
wait_until "$limit" "the app to process every click" caught_up clicks
# the stream ends here: one more event per region, and a crawler's tick in every
# partition, far in the future, close every remaining window and session
close_ms=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["close_ms"])' "$dir/meta.json")
"$rill" produce clicks -f "$dir/closing.txt" -K "$(printf '\t')" -q -b "$bootstrap" || die "closing events"
for ((p = 0; p < partitions; p++)); do
    printf 'tick\t{"type":"page_view","user":"tick","ts":%s,"ua":"rill-demo-clock-bot"}\n' "$close_ms" |
        "$rill" produce clicks -p "$p" -K "$(printf '\t')" -q -b "$bootstrap" || die "closing tick"
done
# (on a terminal the summary redraws its table in place: no lines in between)
[ -t 1 ] || say "all $events events produced; waiting for the last windows to close"
summary_ok=yes
wait "$summary_pid" || summary_ok=no
summary_pid=
[ "$ci" = yes ] && cat "$dir/summary.out"

# check every window and session against the reference
"$rill" consume region-stats --from-beginning -k -b "$bootstrap" --timeout-ms 60000 \
    >"$dir/region-stats.txt" 2>>"$dir/consume.log" || die "reading region-stats"
"$rill" consume user-sessions --from-beginning -k -b "$bootstrap" --timeout-ms 60000 \
    >"$dir/user-sessions.txt" 2>>"$dir/consume.log" || die "reading user-sessions"
compare_ok=yes
"$py" "$top/tests/integration/analytics_reference.py" compare "$dir/ref/windows" "$dir/region-stats.txt" \
    >"$dir/compare.txt" || compare_ok=no
"$py" "$top/tests/integration/analytics_reference.py" compare "$dir/ref/sessions" "$dir/user-sessions.txt" \
    >>"$dir/compare.txt" || compare_ok=no
if [ "$summary_ok" = yes ] && [ "$compare_ok" = yes ]; then
    say "every window and session equals the reference computed independently in Python:"
    sed 's/^/  /' "$dir/compare.txt"
    kill -TERM "$app_pid"
    app_status=0
    wait "$app_pid" || app_status=$?
    app_pid=
    [ "$app_status" -eq 0 ] || die "the app exited with status $app_status"
    say "done: the app stopped cleanly; stopping the broker"
else
    cat "$dir/compare.txt"
    grep -h 'late\|dropped' "$dir/analytics.log" | tail -n 5
    [ "$summary_ok" = yes ] || die "not every window or session was output"
    die "the results differ from the reference"
fi
