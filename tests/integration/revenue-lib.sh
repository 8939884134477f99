# revenue-lib.sh: what the revenue tests (0320-0323) share (source after runtime-lib.sh).
#
#   gen_customers FILE N SEED      N customers "c<i><TAB>region", some listed twice (the
#                                  second region wins: same key, same partition, in order)
#   gen_orders FILE N NCUST SEED   N orders "c<j><TAB>amount" (decimal text, > 0), about
#                                  2% for customers that do not exist (the join drops them)
#   reference CUSTOMERS ORDERS... > OUT   "region<TAB>orders<TAB>cents", sorted, computed
#                                  here in Python from the input files only
#   final_totals OUT               the last total per region of $OUTPUT_TOPIC, same format
#   totals_reached REF             whether the final totals equal REF
#   at_least REF GOT               every region of REF in GOT with counts and sums >= REF's
#   diagnose APP CUSTOMERS         after a failure: which orders never reached the repartition topic
#   wait_loaded APP TOPIC N        the group APP has committed offsets on the N partitions
#                                  of TOPIC, each at the partition's log end
#   loaded_in DESCRIBE TOPIC N     the same check on a saved `rill groups describe` output
REVENUE=$RILL_BUILDDIR/examples/revenue
RILL_CLI=$RILL_BUILDDIR/rill

gen_customers() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import random, sys
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
regions = ["emea", "amer-north", "amer-south", "apac", "anz", "india", "japan", "nordics",
           "dach", "iberia", "Zürich Süd", "île-de-france"]
with open(path, "w", encoding="utf-8") as f:
    for i in range(n):
        f.write("c%d\t%s\n" % (i, rng.choice(regions)))
    for i in rng.sample(range(n), n // 20):  # moved: a later record replaces the region
        f.write("c%d\t%s\n" % (i, rng.choice(regions)))
PY
}

gen_orders() {
    /usr/bin/python3 - "$1" "$2" "$3" "$4" <<'PY'
import random, sys
path, n, ncust, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
unknown = ncust + ncust // 50
with open(path, "w") as f:
    for _ in range(n):
        cents = rng.randint(1, 500000)
        form = rng.randint(0, 9)
        if form == 0 and cents % 100 == 0:
            amount = "%d" % (cents // 100)
        elif form == 1 and cents % 10 == 0:
            amount = "%d.%d" % (cents // 100, cents // 10 % 10)
        else:
            amount = "%d.%02d" % (cents // 100, cents % 100)
        f.write("c%d\t%s\n" % (rng.randrange(unknown), amount))
PY
}

reference() {
    /usr/bin/python3 - "$@" <<'PY'
import sys
from decimal import Decimal
region = {}
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        k, v = line.rstrip("\n").split("\t")
        region[k] = v
orders, cents = {}, {}
for path in sys.argv[2:]:
    with open(path) as f:
        for line in f:
            k, v = line.rstrip("\n").split("\t")
            r = region.get(k)
            if r is None:
                continue
            orders[r] = orders.get(r, 0) + 1
            cents[r] = cents.get(r, 0) + int(Decimal(v) * 100)
for r in sorted(orders):
    print("%s\t%d\t%d" % (r, orders[r], cents[r]))
PY
}

final_totals() {
    consume_lines "$OUTPUT_TOPIC" "$TEST_TMP/output.txt"
    /usr/bin/python3 - "$TEST_TMP/output.txt" >"$1" <<'PY'
import json, sys
last = {}
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("\t")
        last[k] = v
for k in sorted(last):
    t = json.loads(last[k])
    c = t["revenue_cents"]
    # the decimal text and the cents agree
    assert t["revenue"] == "%s%d.%02d" % ("-" if c < 0 else "", abs(c) // 100, abs(c) % 100), t
    print("%s\t%d\t%d" % (k, t["orders"], c))
PY
}

totals_reached() {
    final_totals "$TEST_TMP/final.txt" && cmp -s "$1" "$TEST_TMP/final.txt"
}

at_least() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
def load(p):
    with open(p, encoding="utf-8") as f:
        return {l.split("\t")[0]: tuple(map(int, l.rstrip("\n").split("\t")[1:]))
                for l in f if l.strip()}
ref, got = load(sys.argv[1]), load(sys.argv[2])
short = [r for r in ref if r not in got or got[r][0] < ref[r][0] or got[r][1] < ref[r][1]]
extra = [r for r in got if r not in ref]
dup = sum(got[r][0] - ref[r][0] for r in ref if r in got)
print("regions %d, short %d, extra %d, orders counted above the reference (duplicates): %d"
      % (len(ref), len(short), len(extra), dup))
sys.exit(1 if short or extra else 0)
PY
}

wait_loaded() {
    "$RILL_CLI" groups describe "$1" -b "$BOOTSTRAP" >"$TEST_TMP/describe.txt" 2>/dev/null
    loaded_in "$TEST_TMP/describe.txt" "$2" "$3"
}

# loaded_in DESCRIBE TOPIC N: whether the `rill groups describe` output in
# DESCRIBE shows N partitions of TOPIC, each with a committed offset equal to
# its log end. "Total lag: 0" alone is not that: a partition that is assigned
# but has nothing committed yet shows "-" and counts for no lag (this let the
# orders go out before the customers were consumed: the joins then found no
# customer rows and dropped the orders).
loaded_in() {
    awk -v topic="$2" -v n="$3" '
        $1 == topic && $3 ~ /^[0-9]+$/ && $3 == $4 { ok[$2] = 1 }
        END { c = 0; for (p in ok) c++; exit !(c == n) }' "$1"
}

# diagnose APP CUSTOMERS: after a failure, which orders never reached the
# repartition topic (by orders partition and offset range), to tell a loss
# before the join from one after it
diagnose() {
    timeout 60 kcat -C -b "$BOOTSTRAP" -t orders -o beginning -e -q -f '%p\t%o\t%k\t%s\n' \
        >"$TEST_TMP/orders-dump.txt" 2>/dev/null
    timeout 60 kcat -C -b "$BOOTSTRAP" -t "$1-orders-by-region-repartition" -o beginning -e -q \
        -f '%p\t%o\t%k\t%s\n' >"$TEST_TMP/repartition-dump.txt" 2>/dev/null
    "$RILL_CLI" groups describe "$1" -b "$BOOTSTRAP" >&2
    grep -ih "offset reset\|out of range\|OFFSET\|warn\|error" "$TEST_TMP"/*.log 2>/dev/null |
        grep -v "broker.config" | head -20 >&2
    /usr/bin/python3 - "$2" "$TEST_TMP/orders-dump.txt" "$TEST_TMP/repartition-dump.txt" <<'PY' >&2
import sys
from collections import Counter, defaultdict
from decimal import Decimal
region = {}
for l in open(sys.argv[1], encoding="utf-8"):
    k, v = l.rstrip("\n").split("\t"); region[k] = v
want, where = Counter(), defaultdict(list)
for l in open(sys.argv[2]):
    p, o, k, v = l.rstrip("\n").split("\t")
    if k in region:
        key = (region[k], int(Decimal(v) * 100)); want[key] += 1; where[key].append((int(p), int(o)))
got = Counter()
for l in open(sys.argv[3], encoding="utf-8"):
    p, o, k, v = l.rstrip("\n").split("\t")
    c, _, r = v.partition(" "); got[(r, int(c))] += 1
missing, extra = want - got, got - want
print("diagnosis: orders joined %d, in the repartition topic %d; missing there %d, extra %d"
      % (sum(want.values()), sum(got.values()), sum(missing.values()), sum(extra.values())))
pos = defaultdict(list)
for key, n in missing.items():
    if want[key] == n:
        for p, o in where[key]: pos[p].append(o)
for p in sorted(pos):
    L = sorted(pos[p])
    print("  orders partition %d: %d surely missing, offsets %d..%d" % (p, len(L), L[0], L[-1]))
PY
}
# (Waits are bounded so that a failing test reports, with its diagnosis, well
# within tests/run-bounded's 300 s; a passing run takes 15-90 s under ASan.)
