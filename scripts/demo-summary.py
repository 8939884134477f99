#!/usr/bin/python3
"""demo-summary.py: the live summary table of scripts/demo.sh, read from examples/analytics' output topics.

    demo-summary.py --bootstrap HOST:PORT [--windows region-stats] [--sessions user-sessions]
                    [--clicks clicks] [--until-windows N --until-sessions N] [--timeout S]

Follows the output topics from the beginning (kafka-python, no consumer
group), and every second prints the latest closed window of each region
(views, cart adds, orders, revenue) with the totals over all closed windows,
and the closed sessions. On a terminal the table is redrawn in place; when
stdout is not a terminal it appends one progress line per 5 seconds instead.
It stops when it has seen --until-windows windows and --until-sessions
sessions (then prints the final table, whose "total" lines scripts/demo.sh
and tests/integration/0510 check), on SIGTERM/SIGINT (prints it too), or
after --timeout seconds (exit 1)."""
import argparse
import json
import signal
import sys
import time

from kafka import KafkaConsumer, TopicPartition


def money(cents):
    return f"{cents / 100:,.2f}"


def hhmm(ms):
    return time.strftime("%H:%M", time.gmtime(ms / 1000))


class Summary:
    def __init__(self):
        self.windows = {}   # key -> value
        self.sessions = {}
        self.clicks_in = 0

    def table(self):
        latest, totals = {}, {}
        for v in self.windows.values():
            r = v["region"]
            if r not in latest or v["start"] > latest[r]["start"]:
                latest[r] = v
            t = totals.setdefault(r, [0, 0, 0, 0, 0])
            t[0] += 1
            t[1] += v["views"]
            t[2] += v["carts"]
            t[3] += v["orders"]
            t[4] += v["revenue_cents"]
        lines = [f"{'region':<10} {'last closed window':<18} {'views':>6} {'carts':>6} "
                 f"{'orders':>6} {'revenue':>11} | {'windows':>7} {'views':>8} {'orders':>7} "
                 f"{'revenue':>14}"]
        all_t = [0, 0, 0, 0, 0]
        for r in sorted(latest):
            v, t = latest[r], totals[r]
            lines.append(f"{r:<10} {hhmm(v['start']) + '-' + hhmm(v['end']) + ' UTC':<18} "
                         f"{v['views']:>6} {v['carts']:>6} {v['orders']:>6} "
                         f"{money(v['revenue_cents']):>11} | {t[0]:>7} {t[1]:>8} {t[3]:>7} "
                         f"{money(t[4]):>14}")
            all_t = [a + b for a, b in zip(all_t, t)]
        lines.append(f"{'all':<10} {'':<18} {'':>6} {'':>6} {'':>6} {'':>11} | {all_t[0]:>7} "
                     f"{all_t[1]:>8} {all_t[3]:>7} {money(all_t[4]):>14}")
        s = list(self.sessions.values())
        if s:
            events = sum(x["events"] for x in s)
            minutes = sum(x["end"] - x["start"] for x in s) / len(s) / 60000
            buying = sum(1 for x in s if x["orders"] > 0)
            lines.append(f"sessions closed: {len(s)}, {events / len(s):.1f} events and "
                         f"{minutes:.1f} min on average, {100 * buying / len(s):.1f}% with an order")
        else:
            lines.append("sessions closed: 0")
        return lines, totals

    def final(self):
        lines, totals = self.table()
        out = ["", "final results (closed windows and sessions):"] + lines
        for r in sorted(totals):
            t = totals[r]
            out.append(f"total {r} windows={t[0]} views={t[1]} carts={t[2]} orders={t[3]} "
                       f"revenue_cents={t[4]}")
        s = self.sessions.values()
        out.append(f"total sessions={len(s)} events={sum(x['events'] for x in s)} "
                   f"orders={sum(x['orders'] for x in s)} "
                   f"revenue_cents={sum(x['revenue_cents'] for x in s)}")
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--windows", default="region-stats")
    ap.add_argument("--sessions", default="user-sessions")
    ap.add_argument("--clicks", default="clicks")
    ap.add_argument("--until-windows", type=int, default=-1)
    ap.add_argument("--until-sessions", type=int, default=-1)
    ap.add_argument("--timeout", type=float, default=0)
    args = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             api_version_auto_timeout_ms=10000)
    parts = []
    for topic in (args.windows, args.sessions):
        for p in sorted(consumer.partitions_for_topic(topic) or []):
            parts.append(TopicPartition(topic, p))
    consumer.assign(parts)
    consumer.seek_to_beginning()
    clicks = [TopicPartition(args.clicks, p)
              for p in sorted(consumer.partitions_for_topic(args.clicks) or [])]
    tty = sys.stdout.isatty()
    summary = Summary()
    started = last_line = time.monotonic()
    drawn = 0
    done = False
    while not stop:
        for tp, records in consumer.poll(timeout_ms=500).items():
            target = summary.windows if tp.topic == args.windows else summary.sessions
            for m in records:
                key = m.key.decode() if m.key is not None else ""
                if m.value is None:
                    target.pop(key, None)
                else:
                    target[key] = json.loads(m.value)
        if clicks:
            summary.clicks_in = sum(consumer.end_offsets(clicks).values())
        now = time.monotonic()
        done = (args.until_windows >= 0 and len(summary.windows) >= args.until_windows
                and len(summary.sessions) >= args.until_sessions)
        status = (f"{time.strftime('%H:%M:%S')}  clicks in: {summary.clicks_in}  "
                  f"closed windows: {len(summary.windows)}  closed sessions: {len(summary.sessions)}")
        if tty and (now - last_line >= 1 or done):
            lines, _ = summary.table()
            sys.stdout.write("\033[%dA\033[J" % drawn if drawn else "")
            sys.stdout.write("\n".join([status] + lines) + "\n")
            sys.stdout.flush()
            drawn = len(lines) + 1
            last_line = now
        elif not tty and now - last_line >= 5:
            print(status, flush=True)
            last_line = now
        if done:
            break
        if args.timeout and now - started > args.timeout:
            print(f"demo-summary: timed out after {args.timeout:.0f} s with {len(summary.windows)}/"
                  f"{args.until_windows} windows and {len(summary.sessions)}/{args.until_sessions} "
                  "sessions", flush=True)
            break
    print("\n".join(summary.final()), flush=True)
    consumer.close()
    sys.exit(0 if done or (stop and args.until_windows < 0) else 1)


if __name__ == "__main__":
    main()
