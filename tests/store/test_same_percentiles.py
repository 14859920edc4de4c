"""PostgreSQL and SQLite give the same pNN, nps and csat for the same points, exactly —
with many tied values, points on a window's first and last second (and one just past
it), a window sliding on as a live board asks it again (kept hour windows, hints), new
points written between two questions, and every plan: one value over a long window,
a few big buckets, many small ones. Each answer is also the brute-force nearest rank
(or survey score) of the points."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitui.store import open_reader, open_writer

HOUR, DAY = 3600, 86400
T0 = 1_790_000_000 - 1_790_000_000 % DAY
REGIONS = ("eu", "us", "apac")
PERCENTS = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}


def answer(k: int) -> float:
    # Answers 0..11 (11 is off the NPS scale, 0 and 6..11 off CSAT's): many ties.
    return float((k * 7 + k // 13) % 12)


def brute(points: list[tuple[str, int, float]], agg: str, lo: int, hi: int, region=None):
    vals = sorted(v for r, t, v in points if lo <= t <= hi and region in (None, r))
    if agg in PERCENTS:
        if not vals:
            return None
        return vals[(len(vals) * PERCENTS[agg] + 99) // 100 - 1]
    if agg == "nps":
        used = [v for v in vals if 0 <= v <= 10]
        if not used:
            return None
        return 100.0 * (sum(v >= 9 for v in used) - sum(v <= 6 for v in used)) / len(used)
    used = [v for v in vals if 1 <= v <= 5]
    return sum(v >= 4 for v in used) / len(used) if used else None


def test_percentiles_and_surveys_are_the_same_on_both_backends(tmp_path: Path, pg_url: str):
    lite = tmp_path / "m.db"
    points: list[tuple[str, int, float]] = []
    # Given three series answering every 5 minutes for 3 days, values with many ties
    k = 0
    for t in range(T0, T0 + 3 * DAY, 300):
        for region in REGIONS:
            points.append((region, t + REGIONS.index(region), answer(k)))
            k += 1
    lo, hi = T0 + 7 * HOUR + 1, T0 + 2 * DAY + 5 * HOUR  # whole hours inside, partial ends
    # And points on the window's first and last second, and one just past its end
    points += [("eu", lo, 11.0), ("us", hi, 0.0), ("apac", hi + 1, 11.0)]
    for store in (lite, pg_url):
        with open_writer(store) as w:
            w.write_points(("score", {"region": r}, t, v) for r, t, v in points)
    a, b = open_reader(lite), open_reader(pg_url)
    try:
        for step in range(4):
            # When the window slides on by a few seconds (and, at step 2, by hours),
            # with a new point at its end before each question after the first
            shift = 2 * step + (5 * HOUR if step == 2 else 0)
            if step:
                new = [("eu", hi + shift - j, float(step + j)) for j in range(2)]
                points += new
                for store in (lite, pg_url):
                    with open_writer(store) as w:
                        w.write_points(("score", {"region": r}, t, v) for r, t, v in new)
            wlo, whi = lo + shift, hi + shift
            for agg in (*PERCENTS, "nps", "csat"):
                # Then one value over the window, and by label, are the same and right
                want = brute(points, agg, wlo, whi)
                assert a.aggregate("score", None, agg, wlo, whi) == want, (agg, step)
                assert b.aggregate("score", None, agg, wlo, whi) == want, (agg, step)
                by = {r: brute(points, agg, wlo, whi, r) for r in REGIONS}
                assert a.aggregate_by_label("score", None, agg, wlo, whi, "region") == by
                assert b.aggregate_by_label("score", None, agg, wlo, whi, "region") == by
                # And so are daily buckets (a few big cells; on a grid that moves with
                # the window, and on one that stays while its last bucket grows, as a
                # sparkline's) and 10-minute ones (many small cells)
                for start, size in ((wlo, DAY), (T0, DAY), (wlo, 600)):
                    got_a = a.buckets("score", None, agg, start, whi, size)
                    got_b = b.buckets("score", None, agg, start, whi, size)
                    assert got_a == got_b, (agg, size, step)
                    for bucket in [*got_a[:: max(1, len(got_a) // 7)], got_a[-1]]:
                        end = min(bucket.start + size - 1, whi)
                        assert bucket.value == brute(points, agg, bucket.start, end), (agg, size)
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("added", [[19.5], [0.5], [21.0, 30.0, 40.0], [0.1, 0.2, 0.3, 0.4]])
def test_a_growing_bucket_moves_its_percentile_as_both_backends_agree(
    tmp_path: Path, pg_url: str, added: list[float]
):
    # Given the values 1..20 in today's bucket (p90: rank 18 of 20, the value 18), asked
    # once so the reader keeps 18 as the next question's hint
    lite = tmp_path / "m.db"
    day = T0 + 10 * DAY
    first = [(day + i, float((i * 7) % 20 + 1)) for i in range(20)]
    for store in (lite, pg_url):
        with open_writer(store) as w:
            w.write_points(("lat", {}, t, v) for t, v in first)
    readers = [open_reader(lite), open_reader(pg_url)]
    try:
        for r in readers:
            assert r.buckets("lat", {}, "p90", T0, day + 100, DAY)[-1].value == 18.0
        # When more points arrive in the bucket (the rank moves up one value, down past
        # the hint, or further up)
        for store in (lite, pg_url):
            with open_writer(store) as w:
                w.write_points(("lat", {}, day + 20 + i, v) for i, v in enumerate(added))
        values = sorted([v for _, v in first] + added)
        want = values[(len(values) * 90 + 99) // 100 - 1]
        # Then both give the nearest rank of all of them
        for r in readers:
            assert r.buckets("lat", {}, "p90", T0, day + 100, DAY)[-1].value == want
    finally:
        for r in readers:
            r.close()
