#!/bin/bash
# 0310: global tables and queryable state on a real rill-broker, two
# instances of one app (tests/integration/global-query-app.c):
#  - products (the global table's topic) and orders are produced BEFORE the
#    instances start: every order is joined (inner join), so the first
#    stream record already saw the bootstrapped table, and each instance
#    logs "global tables bootstrapped" before it goes RUNNING;
#  - a product updated while they run reaches later orders (global thread);
#  - application.server set on both: for each key of the click-counts store
#    both instances name the same owner, the owner's read handle returns
#    the expected count and the other's says the partition is not local
#    (clicks are produced with murmur2, the partitioning owners assume);
#    store hosts list both; all() over both instances covers every key once;
#  - a restarted instance resumes its global store from the checkpoint.
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/runtime-lib.sh"

APP=$RILL_BUILDDIR/tests/integration/global-query-app
[ -x "$APP" ] || fail "no $APP"
KEYS=20
start_cluster products:3 orders:4 clicks:4 enriched:4

printf 'p1\twidget\np2\tgadget\np3\tgizmo\n' >"$TEST_TMP/products.txt"
produce_lines products "$TEST_TMP/products.txt"
awk 'BEGIN { for (i = 0; i < 40; i++) printf "o%d\tp%d:%d\n", i, i % 3 + 1, i }' >"$TEST_TMP/orders.txt"
produce_lines orders "$TEST_TMP/orders.txt"
awk -v k=$KEYS 'BEGIN { for (i = 0; i < 10 * k; i++) printf "u%d\tclick\n", i % k }' >"$TEST_TMP/clicks.txt"
# murmur2, as Kafka's default partitioner: the partitioning key owners assume
kcat -P -b "$BOOTSTRAP" -t clicks -K $'\t' -X partitioner=murmur2_random -l "$TEST_TMP/clicks.txt" ||
    fail "producing the clicks"

mkdir -p "$TEST_TMP/a" "$TEST_TMP/b"
start_app a "$APP" -b "$BOOTSTRAP" --application-id gq-0310 --state-dir "$TEST_TMP/a" \
    --server 127.0.0.1:7001 --keys $KEYS
start_app b "$APP" -b "$BOOTSTRAP" --application-id gq-0310 --state-dir "$TEST_TMP/b" \
    --server 127.0.0.1:7002 --keys $KEYS
running() { grep -q -- "-> RUNNING" "$TEST_TMP/a.log" && grep -q -- "-> RUNNING" "$TEST_TMP/b.log"; }
wait_for 90 running || { show_logs; fail "the two instances did not both reach RUNNING"; }

# bootstrapped (with the 3 products) before RUNNING, on both
for i in a b; do
    boot=$(grep -n "global tables bootstrapped: 3 records" "$TEST_TMP/$i.log" | head -1 | cut -d: -f1)
    run=$(grep -n -- "-> RUNNING" "$TEST_TMP/$i.log" | head -1 | cut -d: -f1)
    [ -n "$boot" ] || { show_logs; fail "instance $i did not log the bootstrap of 3 records"; }
    [ "$boot" -lt "$run" ] || { show_logs; fail "instance $i went RUNNING before its global tables were bootstrapped"; }
done

# every order joined, with the product it names (inner join: none dropped)
awk -F'\t' '{ split($2, a, ":"); n = (a[1] == "p1" ? "widget" : a[1] == "p2" ? "gadget" : "gizmo");
              printf "%s\t%s x%s\n", $1, n, a[2] }' "$TEST_TMP/orders.txt" | sort >"$TEST_TMP/want.txt"
joined() { consume_lines enriched "$TEST_TMP/enriched.txt"; [ "$(sort -u "$TEST_TMP/enriched.txt" | wc -l)" -ge 40 ]; }
wait_for 60 joined || { show_logs; fail "only $(wc -l <"$TEST_TMP/enriched.txt") of 40 orders were enriched"; }
sort -u "$TEST_TMP/enriched.txt" | diff "$TEST_TMP/want.txt" - || fail "enriched orders differ from the expected join"

# a table update while running reaches later orders
printf 'p1\twidget v2\n' >"$TEST_TMP/update.txt"
produce_lines products "$TEST_TMP/update.txt"
sleep 1
printf 'o100\tp1:1\n' >"$TEST_TMP/late.txt"
produce_lines orders "$TEST_TMP/late.txt"
updated() { consume_lines enriched "$TEST_TMP/enriched.txt"; grep -q $'^o100\twidget v2 x1$' "$TEST_TMP/enriched.txt"; }
wait_for 60 updated || { show_logs; fail "the order after the product update did not see it"; }

# queries: ask both instances until the answers are complete and agree
ask() {
    rm -f "$TEST_TMP/a/answers" "$TEST_TMP/b/answers"
    touch "$TEST_TMP/a/ask" "$TEST_TMP/b/ask"
    wait_for 15 test -s "$TEST_TMP/a/answers" -a -s "$TEST_TMP/b/answers" || return 1
    consistent
}
consistent() {
    local a=$TEST_TMP/a/answers b=$TEST_TMP/b/answers
    ! grep -q ERROR "$a" "$b" || return 1
    [ "$(grep -c '^OWNER' "$a")" -eq $KEYS ] && [ "$(grep -c '^OWNER' "$b")" -eq $KEYS ] || return 1
    # same owner on both; the owner has it locally with 10 clicks, the other not
    diff <(awk '/^OWNER/ {print $2, $3}' "$a") <(awk '/^OWNER/ {print $2, $3}' "$b") >/dev/null || return 1
    awk '/^OWNER/ { if (($3 == "127.0.0.1:7001") != ($4 == "LOCAL")) exit 1;
                    if ($4 == "LOCAL" && $5 != 10) exit 1 }' "$a" || return 1
    awk '/^OWNER/ { if (($3 == "127.0.0.1:7002") != ($4 == "LOCAL")) exit 1;
                    if ($4 == "LOCAL" && $5 != 10) exit 1 }' "$b" || return 1
    grep -qx 'HOSTS 127.0.0.1:7001 127.0.0.1:7002' "$a" && grep -qx 'HOSTS 127.0.0.1:7001 127.0.0.1:7002' "$b" || return 1
    # all(): each instance's keys, together every key once, 10 clicks each
    local keys sum
    keys=$(awk '/^ALL/ {k += $2} END {print k}' "$a" "$b")
    sum=$(awk '/^ALL/ {s += $3} END {print s}' "$a" "$b")
    [ "$keys" -eq $KEYS ] && [ "$sum" -eq $((10 * KEYS)) ] || return 1
    grep -qx 'GLOBAL p1 widget v2' "$a" && grep -qx 'GLOBAL p1 widget v2' "$b"
}
ok=0
deadline=$((SECONDS + 120)) # the whole exchange is bounded, whatever each answer takes
while [ $SECONDS -lt $deadline ]; do
    if ask; then ok=1; break; fi
    sleep 1
done
if [ $ok -ne 1 ]; then
    echo "---- answers of a ----" >&2; cat "$TEST_TMP/a/answers" >&2
    echo "---- answers of b ----" >&2; cat "$TEST_TMP/b/answers" >&2
    show_logs
    fail "the instances' answers were not complete and consistent"
fi
owners_a=$(grep -c '^OWNER .* 127.0.0.1:7001 ' "$TEST_TMP/a/answers")
owners_b=$(grep -c '^OWNER .* 127.0.0.1:7002 ' "$TEST_TMP/a/answers")
echo "keys owned: a=$owners_a b=$owners_b; $(grep '^ALL' "$TEST_TMP/a/answers") on a, $(grep '^ALL' "$TEST_TMP/b/answers") on b"
[ "$owners_a" -gt 0 ] && [ "$owners_b" -gt 0 ] || fail "one instance owns every key: partitions not shared"

stop_app a || { show_logs; fail "instance a did not exit cleanly"; }
stop_app b || { show_logs; fail "instance b did not exit cleanly"; }
[ -f "$TEST_TMP/a/gq-0310/global/.checkpoint" ] || fail "no global checkpoint in a's state.dir"

# restart a: its global store resumes from the checkpoint (only the record
# produced meanwhile is read) and still holds what it had
printf 'p4\tdoohickey\n' >"$TEST_TMP/p4.txt"
produce_lines products "$TEST_TMP/p4.txt"
start_app a2 "$APP" -b "$BOOTSTRAP" --application-id gq-0310 --state-dir "$TEST_TMP/a" \
    --server 127.0.0.1:7001 --keys $KEYS
wait_for 90 grep -q -- "-> RUNNING" "$TEST_TMP/a2.log" || { show_logs; fail "a did not restart"; }
grep -q "global tables bootstrapped: 1 records" "$TEST_TMP/a2.log" ||
    { show_logs; fail "the restarted instance did not resume its global store from the checkpoint"; }
rm -f "$TEST_TMP/a/answers"
touch "$TEST_TMP/a/ask"
wait_for 20 test -s "$TEST_TMP/a/answers" || { show_logs; fail "the restarted instance did not answer"; }
grep -qx 'GLOBAL p1 widget v2' "$TEST_TMP/a/answers" ||
    { cat "$TEST_TMP/a/answers"; fail "the restarted instance lost its global store"; }
stop_app a2 || { show_logs; fail "instance a did not exit cleanly after its restart"; }
echo "PASS: global table bootstrapped before RUNNING and joined; owners and reads agree on 2 instances"
