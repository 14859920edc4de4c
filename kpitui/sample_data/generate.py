"""The sample store of `kpitui demo`: ~400 days of a SaaS product's metrics.

Run it by hand with `python -m kpitui.sample_data.generate out.db [--end TIME] [--days N]`.
Everything is written through `kpitui.store.open_writer`, exactly like `kpitui import`.
The data is deterministic for a seed and an end time (`random.Random(seed)`), with
trends, weekly (and, for hourly flows, daily) seasonality and noise.

Metrics (UTC; "daily" points sit at 00:00 of their day, hourly at half past the hour):

| metric              | labels                        | points       | reads as (agg)        |
|---------------------|-------------------------------|--------------|-----------------------|
| mrr                 | plan=starter|pro|enterprise   | daily        | last (sums the plans) |
| arpu                | –                             | daily        | last                  |
| signups             | region=eu|us|apac             | hourly count | sum                   |
| visits              | –                             | hourly count | sum                   |
| dau, mau            | –                             | daily        | last                  |
| churn_rate          | –                             | daily        | last (fraction, down) |
| nps_response        | –                             | 3–9 a day    | nps (0–10 responses)  |
| csat_response       | –                             | 4–12 a day   | csat (1–5 responses)  |
| cac                 | –                             | daily        | last / avg (down)     |
| session_minutes     | –                             | daily        | avg                   |
| trial_conversions   | –                             | daily count  | sum                   |
| page_latency_ms     | –                             | every 15 min | p90 (down)            |

Rough levels at the end of the 400 days: MRR ≈ 175k (starter 19k, pro 61k, enterprise
95k), ARPU ≈ 54, signups ≈ 150/day (30d ≈ 4,500), visits ≈ 11k/day, DAU ≈ 3.9k,
MAU ≈ 21k, churn ≈ 0.021, NPS ≈ 35–45, CSAT ≈ 0.8, CAC ≈ 320, sessions ≈ 14 min,
trial conversions ≈ 14/day, p90 latency ≈ 260 ms (1d window).

Manual key results with weekly check-ins in the quarter holding `end`
(SAMPLE_CHECKIN_KRS): `launch-mobile-app` (fraction of the launch plan done: start 0,
target 1), `hire-support-leads` (people hired: start 0, target 4; its last check-in is
10 days old, so with `checkin_every: 7d` it is due), `publish-case-studies` (start 0,
target 6).

The live feed (`feed_step`, called every few seconds by `kpitui demo`) writes new
signups, visits, survey responses and latency samples at `now`. Its latency samples
run at ~450–600 ms, so a `page_latency_ms` p90 KPI over a short window (`1h`, `1d`)
with `warn: 300, crit: 400` crosses into warn and then crit within a minute or so.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

from kpitui.store import open_writer
from kpitui.store.api import StoreWriter as Writer
from kpitui.store.checks import DAY, HOUR
from kpitui.timeutil import quarter_containing

SAMPLE_CHECKIN_KRS = ("launch-mobile-app", "hire-support-leads", "publish-case-studies")
"""Key-result ids that get manual check-ins in the sample store."""

PLANS = {"starter": (12_000, 19_000), "pro": (38_000, 61_000), "enterprise": (55_000, 95_000)}
REGIONS = {"eu": 1.6, "us": 2.0, "apac": 0.9}  # signups per hour at the start
# Monday..Sunday: weekends are quieter for a B2B product.
WEEKLY = (1.04, 1.08, 1.07, 1.05, 0.98, 0.72, 0.66)

Point = tuple[str, dict[str, str], int, float]


def generate(path: str | Path, *, end: int, days: int = 400, seed: int = 7) -> int:
    """Write the sample store at `path` (created if missing), ending at `end` (epoch
    seconds). Returns the number of points written."""
    rng = random.Random(seed)
    first_day = end - end % DAY - (days - 1) * DAY
    with open_writer(path) as writer:
        written = writer.write_points(_points(rng, first_day, days, end))
        for kr_id, ts, value, confidence, note in _checkins(end):
            writer.write_checkin(kr_id, ts, value, confidence, note)
    return written


def _weekday(ts: int) -> int:
    return (ts // DAY + 3) % 7  # 1970-01-01 was a Thursday


def _points(rng: random.Random, first_day: int, days: int, end: int) -> Iterator[Point]:
    mrr_noise = dict.fromkeys(PLANS, 0.0)
    for d in range(days):
        day = first_day + d * DAY
        f = d / max(1, days - 1)  # 0 → 1 over the whole span
        week = WEEKLY[_weekday(day)]
        yield from _daily(rng, day, f, week, mrr_noise)
        yield from _hourly(rng, day, f, week, end)
        yield from _responses(rng, day, f, end)


def _daily(
    rng: random.Random, day: int, f: float, week: float, mrr_noise: dict[str, float]
) -> Iterator[Point]:
    total = 0.0
    for plan, (start, stop) in PLANS.items():
        # A random walk around a slightly convex growth curve: MRR never jumps.
        mrr_noise[plan] = 0.97 * mrr_noise[plan] + rng.gauss(0, 0.004)
        value = (start + (stop - start) * f**1.15) * (1 + mrr_noise[plan])
        total += value
        yield "mrr", {"plan": plan}, day, round(value, 2)
    customers = 2_100 + 1_150 * f + rng.gauss(0, 12)
    yield "arpu", {}, day, round(total / customers, 2)
    yield "dau", {}, day, float(round((2_400 + 1_500 * f) * week + rng.gauss(0, 60)))
    yield "mau", {}, day, float(round(14_000 + 7_000 * f + rng.gauss(0, 90)))
    yield "churn_rate", {}, day, round(max(0.005, 0.028 - 0.007 * f + rng.gauss(0, 0.0012)), 4)
    yield "cac", {}, day, round((380 - 60 * f) * (1 + rng.gauss(0, 0.06)), 2)
    yield "session_minutes", {}, day, round(11 + 3 * f + rng.gauss(0, 0.6) - (1 - week), 2)
    yield "trial_conversions", {}, day, float(max(0, round((8 + 6 * f) * week + rng.gauss(0, 2))))


def _hourly(rng: random.Random, day: int, f: float, week: float, end: int) -> Iterator[Point]:
    for hour in range(24):
        ts = day + hour * HOUR + 1800
        if ts > end:
            return
        # Busiest mid-afternoon UTC, quiet at night.
        shape = 1 + 0.55 * math.sin((hour - 9) / 24 * 2 * math.pi)
        for region, rate in REGIONS.items():
            mean = rate * (1 + 0.4 * f) * week * shape
            yield (
                "signups",
                {"region": region},
                ts,
                float(max(0, round(rng.gauss(mean, math.sqrt(mean) + 0.1)))),
            )
        visits = (330 + 160 * f) * week * shape
        yield "visits", {}, ts, float(max(0, round(rng.gauss(visits, visits * 0.08))))
        for quarter in range(4):
            at = day + hour * HOUR + quarter * 900
            if at <= end:
                yield "page_latency_ms", {}, at, _latency(rng, 150)


def _latency(rng: random.Random, median: float) -> float:
    spike = 2.5 if rng.random() < 0.02 else 1.0
    return round(median * math.exp(rng.gauss(0, 0.35)) * spike, 1)


def _responses(rng: random.Random, day: int, f: float, end: int) -> Iterator[Point]:
    for _ in range(rng.randint(3, 9)):
        ts = day + rng.randrange(DAY)
        if ts <= end:
            yield "nps_response", {}, ts, float(_nps_answer(rng, f))
    for _ in range(rng.randint(4, 12)):
        ts = day + rng.randrange(DAY)
        if ts <= end:
            yield (
                "csat_response",
                {},
                ts,
                float(rng.choices((1, 2, 3, 4, 5), (3, 5, 10, 38, 44))[0]),
            )


def _nps_answer(rng: random.Random, f: float) -> int:
    r = rng.random()
    promoters, detractors = 0.46 + 0.08 * f, 0.18 - 0.04 * f
    if r < promoters:
        return rng.choice((9, 10))
    if r < promoters + detractors:
        return rng.choice((2, 4, 5, 6, 6))
    return rng.choice((7, 8))


def _checkins(end: int) -> list[tuple[str, int, float, str | None, str | None]]:
    """Weekly check-ins since the start of the UTC quarter holding `end`."""
    quarter_start = quarter_containing(end, UTC).start_ts
    weeks = max(1, (end - quarter_start) // (7 * DAY))
    out: list[tuple[str, int, float, str | None, str | None]] = []
    for week in range(weeks + 1):
        ts = min(end, quarter_start + week * 7 * DAY + 10 * HOUR)
        share = week / 13
        confidence = "on_track" if week % 5 != 3 else "at_risk"
        out.append(
            (
                "launch-mobile-app",
                ts,
                round(min(1.0, 0.9 * share), 2),
                confidence,
                _NOTES[week % len(_NOTES)],
            )
        )
        out.append(("publish-case-studies", ts, float(min(6, week // 2)), "on_track", None))
        if ts <= end - 10 * DAY:
            hired = float(min(4, week // 4))
            out.append(
                ("hire-support-leads", ts, hired, "at_risk" if week > 4 else "on_track", None)
            )
    return out


_NOTES = (
    "design review done",
    "beta build with 40 testers",
    "app store assets drafted",
    "payments integration slipped a week",
    "crash-free sessions at 99.2%",
)


def feed_step(writer: Writer, now: int, rng: random.Random) -> int:
    """One batch of "live" points at `now` for the demo feed. Returns points written."""
    points: list[Point] = []
    # A few times the real rate, so the cards move while you watch without one
    # demo minute outweighing a real day.
    if rng.random() < 0.3:
        points.append(("signups", {"region": rng.choice(sorted(REGIONS))}, now, 1.0))
    if rng.random() < 0.03:
        points.append(("trial_conversions", {}, now, 1.0))
    points.append(("visits", {}, now, float(rng.randint(0, 4))))
    # Latency degrades: a bad deploy. A few slow samples per step (distinct seconds).
    for i in range(3):
        points.append(("page_latency_ms", {}, now - i, _latency(rng, 470)))
    if rng.random() < 0.4:
        points.append(("nps_response", {}, now, float(_nps_answer(rng, 1.0))))
    if rng.random() < 0.4:
        points.append(
            ("csat_response", {}, now, float(rng.choices((1, 2, 3, 4, 5), (3, 5, 10, 38, 44))[0]))
        )
    return writer.write_points(points)


def main(argv: list[str] | None = None) -> int:
    from kpitui.errors import KpituiError
    from kpitui.timeutil import parse_time

    parser = argparse.ArgumentParser(
        prog="python -m kpitui.sample_data.generate",
        description="Write the kpitui sample store (about 400 days of SaaS metrics).",
        epilog="example: python -m kpitui.sample_data.generate metrics.db --end 2026-11-24",
    )
    parser.add_argument("path", help="the store to write (created if missing)")
    parser.add_argument("--end", help="the last moment of the data (default: now)")
    parser.add_argument("--days", type=int, default=400, help="how many days (default 400)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)
    try:
        end = parse_time(args.end) if args.end else int(time.time())
        started = time.perf_counter()
        written = generate(args.path, end=end, days=args.days, seed=args.seed)
    except (KpituiError, ValueError) as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    print(f"wrote {written:,} points into {args.path} ({time.perf_counter() - started:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
