#!/usr/bin/python3
"""gen-clickstream.py: a realistic e-commerce clickstream for rill's demo.

Prints one record per line as "KEY<TAB>VALUE" (key = user id, value = a JSON
event) for `rill produce --key-separator $'\\t'`, and writes the expected count
of each event type (and of undeliverable lines) as JSON to --expect FILE, so the
demo can check that every event was accounted for.

Users have a region; products a price; most events are page views, some are
cart adds and purchases; bots crawl; event times are out of order by up to a
few seconds, and about 1% of the lines are malformed (not JSON, or no type).
Deterministic for a given --seed."""
import argparse
import json
import random
import sys

REGIONS = ["eu-west", "eu-north", "us-east", "us-west", "ap-south", "sa-east"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50000)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--products", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start-ms", type=int, default=1767225600000)  # 2026-01-01T00:00:00Z
    ap.add_argument("--expect", required=True)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    users = {f"u{i:05d}": rnd.choice(REGIONS) for i in range(args.users)}
    user_ids = list(users)
    bots = [f"bot{i:03d}" for i in range(20)]
    prices = {f"p{i:04d}": round(rnd.uniform(2, 250), 2) for i in range(args.products)}
    product_ids = list(prices)
    expect = {}
    out = sys.stdout
    t = args.start_ms
    for n in range(args.events):
        t += rnd.randint(0, 40)
        ts = t - rnd.randint(0, 3000)  # out of order by up to 3 s
        r = rnd.random()
        if r < 0.01:
            line = rnd.choice(['{"type": ', 'not json at all', '{"user": "u1"}', '[1,2,3]', '{"type": 42}'])
            out.write(f"u00000\t{line}\n")
            expect["undeliverable"] = expect.get("undeliverable", 0) + 1
            continue
        if r < 0.09:
            user, kind = rnd.choice(bots), "bot_crawl"
        else:
            user = rnd.choice(user_ids)
            k = rnd.random()
            kind = "page_view" if k < 0.78 else "add_to_cart" if k < 0.95 else "purchase"
        product = rnd.choice(product_ids)
        ev = {"type": kind, "user": user, "product": product, "ts": ts,
              "region": users.get(user, "unknown")}
        if kind == "purchase":
            ev["qty"] = rnd.randint(1, 3)
            ev["amount"] = round(prices[product] * ev["qty"], 2)
        out.write(f"{user}\t{json.dumps(ev, separators=(',', ':'))}\n")
        expect[kind] = expect.get(kind, 0) + 1
    with open(args.expect, "w") as f:
        json.dump(expect, f, sort_keys=True)


if __name__ == "__main__":
    main()
