#!/usr/bin/python3
"""analytics_reference.py: what examples/analytics must output, computed independently in Python.

  reference USERS CLICKS CLOSING OUTDIR [--window-ms --grace-ms --gap-ms]
      reads the generated input files (scripts/gen-clickstream.py: "key<TAB>value"
      lines, in the order they are produced) and writes OUTDIR/windows and
      OUTDIR/sessions ("key<TAB>canonical JSON" lines, sorted) and OUTDIR/summary.json
  compare REF GOT [--at-least]
      REF: a reference file; GOT: the "key<TAB>value" records of an output topic (the
      last value of each key counts). Exit 0 if they are equal (--at-least: every
      reference key present with counts >= the reference's, and no other key).
  totals FILE
      prints the per-region totals of a windows file (or of an output topic's records)
      in the layout scripts/demo.sh prints at the end

The rules, written from the app's documentation (examples/analytics.c) and
Kafka Streams' semantics, not from its code: a click is valid if its value is
a JSON object with "type" in page_view/add_to_cart/purchase, a non-empty
string "user" (< 64 bytes), an integer "ts" >= 0, and for purchases a number
"amount" >= 0 (cents = round(amount * 100)); "ua" containing "bot" (any case)
is a crawler, dropped; users missing from the table are dropped (inner join).
Stream time is the largest event time so far. A record is late, and dropped,
when its 1-minute window has end + grace <= stream time (windows) or when
ts + gap + grace <= stream time (sessions: a lone late record cannot merge).
Windows close when end + grace <= the final stream time, sessions when
last event + gap + grace <= it; only closed ones are output.

Stream time is per task in the app, not global as here; the generator keeps
every event either within a minute of the stream time or over 50 minutes
behind it, and this script checks that, so both agree whatever the partitions'
interleaving (a run whose input breaks that assumption fails here, loudly)."""
import argparse
import collections
import json
import os
import sys

KINDS = ("page_view", "add_to_cart", "purchase")
MARGIN = 60000  # the room left on each side of every lateness decision


def parse_click(text):
    try:
        ev = json.loads(text)
    except ValueError:
        return None
    if not isinstance(ev, dict):
        return None
    kind, user, ts = ev.get("type"), ev.get("user"), ev.get("ts")
    if kind not in KINDS or not isinstance(user, str) or not user or len(user.encode()) >= 64:
        return None
    if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        return None
    cents = 0
    if kind == "purchase":
        amount = ev.get("amount")
        if not isinstance(amount, (int, float)) or isinstance(amount, bool) or not 0 <= amount < 9e15:
            return None
        cents = round(amount * 100)
    ua = ev.get("ua", "")
    if not isinstance(ua, str):
        return None
    return kind, user, ts, cents, "bot" in ua.lower()


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            yield key, value


def reference(args):
    size, grace, gap = args.window_ms, args.grace_ms, args.gap_ms
    users = {}
    for key, value in read_lines(args.users):
        try:
            u = json.loads(value)
        except ValueError:
            continue
        if isinstance(u, dict) and isinstance(u.get("region"), str) and 0 < len(u["region"]) < 32:
            users[key] = u["region"]
    windows = collections.defaultdict(lambda: [0, 0, 0, 0, 0])  # events views carts orders cents
    per_user = collections.defaultdict(list)
    counts = collections.Counter()
    stream_time = -1
    lines = list(read_lines(args.clicks)) + list(read_lines(args.closing))
    for key, value in lines:
        c = parse_click(value)
        if c is None:
            counts["malformed"] += 1
            continue
        kind, user, ts, cents, bot = c
        stream_time = max(stream_time, ts)
        if bot:
            counts["bot"] += 1
            continue
        region = users.get(key)
        if region is None:
            counts["unknown_user"] += 1
            continue
        start = ts - ts % size
        w_late = start + size + grace <= stream_time
        s_late = ts + gap + grace <= stream_time
        # the lateness decisions must not be borderline (see the docstring)
        for late, deadline in ((w_late, start + size + grace), (s_late, ts + gap + grace)):
            if late and deadline > stream_time - MARGIN or not late and deadline <= stream_time + MARGIN:
                sys.exit(f"analytics_reference: event {value} is too close to a lateness "
                         f"boundary (stream time {stream_time}); the input breaks the generator's rules")
        if w_late != s_late:
            sys.exit(f"analytics_reference: event {value} is late for one aggregation only")
        if w_late:
            counts["late"] += 1
            continue
        counts["events"] += 1
        w = windows[(region, start)]
        w[0] += 1
        w[1 + KINDS.index(kind)] += 1
        w[4] += cents
        per_user[key].append((ts, kind, cents))
    close = stream_time
    out_w = {}
    for (region, start), w in windows.items():
        if start + size + grace <= close:
            out_w[f"{region}@{start}"] = {"region": region, "start": start, "end": start + size,
                                          "events": w[0], "views": w[1], "carts": w[2],
                                          "orders": w[3], "revenue_cents": w[4]}
    out_s = {}
    for user, evs in per_user.items():
        evs.sort()
        sessions = []
        for ts, kind, cents in evs:
            if sessions and ts - sessions[-1]["end"] <= gap:
                s = sessions[-1]
            else:
                s = {"user": user, "start": ts, "end": ts, "events": 0, "views": 0, "carts": 0,
                     "orders": 0, "revenue_cents": 0}
                sessions.append(s)
            s["end"] = ts
            s["events"] += 1
            s[("views", "carts", "orders")[KINDS.index(kind)]] += 1
            s["revenue_cents"] += cents
        for s in sessions:
            if s["end"] + gap + grace <= close:
                out_s[f"{user}@{s['start']}"] = s
    os.makedirs(args.outdir, exist_ok=True)
    for name, data in (("windows", out_w), ("sessions", out_s)):
        with open(os.path.join(args.outdir, name), "w") as f:
            for k in sorted(data):
                f.write(f"{k}\t{json.dumps(data[k], sort_keys=True)}\n")
    summary = {"counts": counts, "windows": len(out_w), "sessions": len(out_s),
               "session_events": sum(s["events"] for s in out_s.values()),
               "stream_time": close}
    with open(os.path.join(args.outdir, "summary.json"), "w") as f:
        json.dump(summary, f, sort_keys=True)
    print(f"reference: {counts['events']} events counted, {counts['late']} late, {counts['bot']} "
          f"from crawlers, {counts['unknown_user']} of unknown users, {counts['malformed']} "
          f"malformed; {len(out_w)} windows, {len(out_s)} sessions")


def load(path):
    """key -> value (JSON-decoded) of a "key<TAB>value" file; the last value of a key wins;
    null (empty) values delete."""
    out = {}
    for key, value in read_lines(path):
        if value == "":
            out.pop(key, None)
            continue
        out[key] = json.loads(value)
    return out


def compare(args):
    ref, got = load(args.ref), load(args.got)
    missing = sorted(k for k in ref if k not in got)
    extra = sorted(k for k in got if k not in ref)
    fields = ("events", "views", "carts", "orders", "revenue_cents")
    below, above, other = [], [], []
    for k in ref:
        if k not in got:
            continue
        r, g = ref[k], got[k]
        if any(g.get(f) != r[f] for f in r if f not in fields):
            other.append(k)
        elif any(g.get(f, 0) < r[f] for f in fields):
            below.append(k)
        elif any(g.get(f, 0) > r[f] for f in fields):
            above.append(k)
    print(f"{os.path.basename(args.ref)}: {len(ref)} in the reference, {len(got)} output; "
          f"missing {len(missing)}, extra {len(extra)}, different {len(other)}, "
          f"below {len(below)}, above (re-counted after a crash) {len(above)}")
    for name, keys in (("missing", missing), ("extra", extra), ("different", other), ("below", below),
                       ("above", above)):
        for k in keys[:5]:
            print(f"  {name}: {k} reference {ref.get(k)} output {got.get(k)}")
    ok = not (missing or extra or other or below) and (args.at_least or not above)
    sys.exit(0 if ok else 1)


def totals(args):
    data = load(args.file)
    by_region = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    for v in data.values():
        t = by_region[v["region"]]
        t[0] += 1
        t[1] += v["views"]
        t[2] += v["carts"]
        t[3] += v["orders"]
        t[4] += v["revenue_cents"]
    for region in sorted(by_region):
        w, views, carts, orders, cents = by_region[region]
        print(f"total {region} windows={w} views={views} carts={carts} orders={orders} "
              f"revenue_cents={cents}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reference")
    for name in ("users", "clicks", "closing", "outdir"):
        r.add_argument(name)
    r.add_argument("--window-ms", type=int, default=60000)
    r.add_argument("--grace-ms", type=int, default=300000)
    r.add_argument("--gap-ms", type=int, default=1800000)
    c = sub.add_parser("compare")
    c.add_argument("ref")
    c.add_argument("got")
    c.add_argument("--at-least", action="store_true")
    t = sub.add_parser("totals")
    t.add_argument("file")
    args = ap.parse_args()
    {"reference": reference, "compare": compare, "totals": totals}[args.cmd](args)


if __name__ == "__main__":
    main()
