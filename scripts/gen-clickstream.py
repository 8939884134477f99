#!/usr/bin/python3
"""gen-clickstream.py: a realistic e-commerce clickstream for rill's analytics demo and tests.

Writes three files of "KEY<TAB>VALUE" lines (for `rill produce -K $'\\t'` or
`kcat -K $'\\t'`), deterministic for a given --seed:

  --users FILE    the user table: key = user id, value = {"user", "region", "plan"}
  --clicks FILE   the clickstream in arrival order: key = user id, value = an event
                  {"type", "user", "product", "ts", "ua"} (+ "qty", "amount" for purchases)
  --closing FILE  one page view per region at --meta's close_ms, produced last: it moves
                  the stream time of every region's task past every real window

and --meta FILE, a JSON object with close_ms and the generator's own counts.

The stream: users have a region and visit in sessions (a dozen events, tens of
seconds apart; page views, cart adds, purchases with a price and quantity).
Event times are out of order by up to --disorder-ms (phones, proxies and
batching delay them); a few sessions arrive very late (an offline phone
uploading its buffer 60-120 minutes later: later than any grace period, so
windows drop them); crawlers with "bot" in their user agent make about 6% of
the traffic; a few events come from visitors that are not in the user table;
and about 0.1% of the lines are malformed (not JSON, not an object, a field
missing or of the wrong type).

The separation the tests rely on: every event is either on time (at most
--disorder-ms behind the latest event time before it) or very late (at least
60 minutes behind), and very late sessions belong to users with no other
activity, so that whether an event is dropped does not depend on how the
partitions interleave (see tests/integration/analytics_reference.py)."""
import argparse
import json
import random

REGIONS = ["eu-west", "eu-north", "us-east", "us-west", "ap-south", "sa-east"]
REGION_WEIGHTS = [28, 9, 27, 16, 13, 7]
PLANS = ["free", "free", "free", "plus", "pro"]
HUMAN_UA = [
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36",
    "shop-app/4.2 (Android 13)",
]
BOT_UA = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "price-scraper-bot/0.3",
]
MALFORMED = ['{"type": ', "not json at all", "[1,2,3]", '{"user": "u000001"}',
             '{"type": 42, "user": "u000001", "ts": 5}', '{"type": "page_view", "ts": "soon"}']
MINUTE = 60000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200000, help="clickstream lines (about)")
    ap.add_argument("--users", type=int, default=0, help="users in the table (default events/20)")
    ap.add_argument("--products", type=int, default=500)
    ap.add_argument("--span-minutes", type=float, default=0,
                    help="event time covered (default events/1500, within 100..240)")
    ap.add_argument("--disorder-ms", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start-ms", type=int, default=1767225600000)  # 2026-01-01T00:00:00Z
    ap.add_argument("--users-out", "--users-file", dest="users_file", required=True)
    ap.add_argument("--clicks", required=True)
    ap.add_argument("--closing", required=True)
    ap.add_argument("--meta", required=True)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    n_users = args.users or max(100, args.events // 20)
    span = int((args.span_minutes or min(240.0, max(100.0, args.events / 1500))) * MINUTE)
    t0 = args.start_ms

    users = {}
    for i in range(n_users):
        users[f"u{i:06d}"] = rnd.choices(REGIONS, REGION_WEIGHTS)[0]
    user_ids = list(users)
    # 2% of the users only ever show up very late (offline phones); one user per
    # region is reserved for the closing events
    n_late = max(2, n_users // 50)
    late_users = user_ids[-n_late - len(REGIONS):-len(REGIONS)]
    closing_users = {}
    for r, uid in zip(REGIONS, user_ids[-len(REGIONS):]):
        users[uid] = r
        closing_users[r] = uid
    active = user_ids[:-n_late - len(REGIONS)]
    weights = [rnd.paretovariate(1.5) for _ in active]  # a few users are much more active
    prices = {f"p{i:04d}": rnd.randint(199, 24999) for i in range(args.products)}
    product_ids = list(prices)

    def session(uid, start, ua):
        """The events of one visit: (ts, user, event dict) tuples."""
        out = []
        t = start
        n = 1 + min(int(rnd.expovariate(1 / 11)), 80)
        for _ in range(n):
            k = rnd.random()
            kind = "page_view" if k < 0.78 else "add_to_cart" if k < 0.94 else "purchase"
            product = rnd.choice(product_ids)
            ev = {"type": kind, "user": uid, "product": product, "ts": t0 + t, "ua": ua}
            if kind == "purchase":
                ev["qty"] = rnd.randint(1, 3)
                ev["amount"] = round(prices[product] * ev["qty"] / 100, 2)
            out.append((t, uid, ev))
            t += min(int(rnd.expovariate(1 / 25000)), 20 * MINUTE)
        return out

    human = int(args.events * 0.935)
    events = []  # (arrival, seq, key, value-or-line)
    seq = 0
    late_sessions = []
    while len(events) < human:
        if rnd.random() < 0.006 and span > 3 * 60 * MINUTE // 2:
            uid = rnd.choice(late_users)
            late_sessions.append(session(uid, rnd.randint(0, span - 80 * MINUTE), rnd.choice(HUMAN_UA)))
            continue
        uid = rnd.choices(active, weights)[0] if rnd.random() < 0.995 else f"v{rnd.randint(0, 99999):05d}"
        for t, key, ev in session(uid, rnd.randint(0, span), rnd.choice(HUMAN_UA)):
            if t < span:
                events.append([t, seq, key, ev])
                seq += 1
    for i in range(args.events - human):  # crawlers: steady page views all over the catalogue
        b = rnd.randint(0, 11)
        ev = {"type": "page_view", "user": f"bot-{b:02d}", "product": rnd.choice(product_ids),
              "ts": 0, "ua": BOT_UA[b % len(BOT_UA)]}
        t = rnd.randint(0, span - 1)
        ev["ts"] = t0 + t
        events.append([t, seq, ev["user"], ev])
        seq += 1
    # arrival order: each event delayed by up to disorder_ms
    for e in events:
        e[0] += rnd.randint(0, args.disorder_ms)
    events.sort()
    # very late sessions arrive when the stream is 60-120 minutes past their events
    arrivals = [e[0] for e in events]
    late_lines = []
    for s in late_sessions:
        last = max(t for t, _, _ in s)
        at = last + rnd.randint(60 * MINUTE, 120 * MINUTE)
        if at > arrivals[-1]:
            continue
        for t, key, ev in s:
            late_lines.append([at, seq, key, ev])
            seq += 1
    events.extend(late_lines)
    events.sort()

    counts = {"lines": 0, "malformed": 0, "bot": 0, "unknown_user": 0, "late": 0, "events": 0}
    late_keys = {id(e[3]) for e in late_lines}
    with open(args.clicks, "w") as f:
        for arrival, _, key, ev in events:
            if rnd.random() < 0.001:
                f.write(f"{rnd.choice(user_ids)}\t{rnd.choice(MALFORMED)}\n")
                counts["malformed"] += 1
                counts["lines"] += 1
            f.write(f"{key}\t{json.dumps(ev, separators=(',', ':'))}\n")
            counts["lines"] += 1
            if "bot" in ev["ua"].lower():
                counts["bot"] += 1
            elif key not in users:
                counts["unknown_user"] += 1
            elif id(ev) in late_keys:
                counts["late"] += 1
            else:
                counts["events"] += 1
    with open(args.users_file, "w") as f:
        for uid, region in users.items():
            plan = rnd.choice(PLANS)
            f.write(f"{uid}\t{json.dumps({'user': uid, 'region': region, 'plan': plan}, separators=(',', ':'))}\n")
    # closing: far beyond every event, late delivery and grace period
    close_ms = t0 + ((max(a for a in arrivals) + 180 * MINUTE) // MINUTE) * MINUTE + MINUTE // 2
    with open(args.closing, "w") as f:
        for region, uid in closing_users.items():
            ev = {"type": "page_view", "user": uid, "product": product_ids[0], "ts": close_ms,
                  "ua": HUMAN_UA[0]}
            f.write(f"{uid}\t{json.dumps(ev, separators=(',', ':'))}\n")
    with open(args.meta, "w") as f:
        json.dump({"close_ms": close_ms, "start_ms": t0, "span_ms": span, "users": len(users),
                   "counts": counts}, f, sort_keys=True)


if __name__ == "__main__":
    main()
