"""The reader's answers (rollups + raw edges, per-bucket plans) equal a brute-force
computation over the raw points, whatever the window, bucket and alignment."""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitui.store import open_reader, open_writer
from kpitui.store.sqlite import queries

HOUR, DAY = 3600, 86400
AGGS = ("sum", "count", "avg", "min", "max", "last", "nps", "csat", "p50", "p90", "p99")
LABELS = ({}, {"plan": "pro"}, {"plan": "starter"}, {"plan": "pro", "region": "eu"})


def aggregate_rows(rows: list[tuple], agg: str) -> float | None:
    """`agg` over (series, ts, value) rows, the slow, obvious way."""
    if agg == "last":
        newest: dict = {}
        for series, ts, v in rows:
            if series not in newest or ts > newest[series][0]:
                newest[series] = (ts, v)
        return sum(v for _, v in newest.values()) if newest else None
    values = sorted(v for _, _, v in rows)
    if agg in ("nps", "csat"):
        low, high = (0, 10) if agg == "nps" else (1, 5)
        used = [v for v in values if low <= v <= high]
        if not used:
            return None
        if agg == "nps":
            return 100 * (sum(v >= 9 for v in used) - sum(v <= 6 for v in used)) / len(used)
        return sum(v >= 4 for v in used) / len(used)
    if not values:
        return None
    if agg.startswith("p"):
        return values[math.ceil(int(agg[1:]) / 100 * len(values)) - 1]
    return {
        "sum": sum(values),
        "count": len(values),
        "avg": sum(values) / len(values),
        "min": values[0],
        "max": values[-1],
    }[agg]


def window_rows(points: dict, labels: dict, lo: int, hi: int) -> list[tuple]:
    return [
        (series, ts, v)
        for (series, ts), v in points.items()
        if lo <= ts <= hi and all(dict(series).get(a) == b for a, b in labels.items())
    ]


def oracle(points: dict, labels: dict, agg: str, lo: int, hi: int) -> float | None:
    return aggregate_rows(window_rows(points, labels, lo, hi), agg)


def oracle_buckets(points, labels, agg, lo, hi, size):
    if agg == "last":
        # Each series counts with its newest value at or before the bucket's end.
        out = []
        for k in range((hi - lo) // size + 1):
            end = min(lo + (k + 1) * size - 1, hi)
            value = aggregate_rows(window_rows(points, labels, -(2**62), end), "last")
            if value is not None:
                out.append((lo + k * size, value))
        return out
    grouped = defaultdict(list)
    for row in window_rows(points, labels, lo, hi):
        grouped[(row[1] - lo) // size].append(row)
    out = []
    for k in sorted(grouped):
        value = aggregate_rows(grouped[k], agg)
        if value is not None:
            out.append((lo + k * size, value))
    return out


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def write_rows(db: Path, rows: list[tuple]) -> None:
    """(metric, labels, ts, value) rows in one batch, as `write_points` would, but
    without its checks: any time a store may hold."""
    with open_writer(db) as writer, writer.batch() as batch:
        for metric, labels, ts, value in rows:
            batch.add(batch.series_id(metric, labels), [ts], [value])


# Points cluster around one of two origins: a 2026 date, and 1970-01-01 (negative
# times check the floor arithmetic of the rollup buckets). Writers refuse times before
# 1971 now, but stores written before that rule hold them, so `write_rows` writes below
# the checks.
ORIGINS = (1_767_225_600, 0)
batch = st.lists(
    st.tuples(
        st.sampled_from(range(len(LABELS))),
        st.one_of(st.integers(-3 * DAY, 4 * DAY), st.integers(-200, 200)),
        st.integers(-2, 12).map(float),
    ),
    min_size=1,
    max_size=60,
)
window = st.tuples(st.integers(-4 * DAY, 4 * DAY), st.integers(0, 6 * DAY))
sizes = st.sampled_from([60, 900, 3600, 5000, 7200, DAY, DAY + 1, 2 * DAY, 7 * DAY])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    origin=st.sampled_from(ORIGINS),
    batches=st.lists(batch, min_size=1, max_size=3),
    windows=st.lists(window, min_size=1, max_size=3),
    size=sizes,
    labels=st.sampled_from(({}, {"plan": "pro"}, {"region": "eu"})),
    align=st.booleans(),
)
def test_reader_matches_brute_force(origin, batches, windows, size, labels, align):
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "m.db"
        points: dict = {}
        # Given several batches, later ones overwriting some earlier points
        for points_batch in batches:
            rows = [("m", LABELS[i], origin + dt, v) for i, dt, v in points_batch]
            write_rows(db, rows)
            for _, lab, ts, v in rows:
                points[(tuple(sorted(lab.items())), ts)] = v
        reader = open_reader(db)
        try:
            for start, length in windows:
                lo = origin + start
                if align:
                    lo -= lo % size  # buckets on the rollup grid: the aligned plan
                hi = lo + length
                # Then every aggregate, bucketed or not, equals the brute-force answer
                for agg in AGGS:
                    got = reader.aggregate("m", labels, agg, lo, hi)
                    assert same(got, oracle(points, labels, agg, lo, hi)), (agg, lo, hi)
                    got_b = [
                        (b.start, b.value) for b in reader.buckets("m", labels, agg, lo, hi, size)
                    ]
                    want_b = oracle_buckets(points, labels, agg, lo, hi, size)
                    assert [s for s, _ in got_b] == [s for s, _ in want_b], (agg, lo, hi, size)
                    assert all(same(a, b) for (_, a), (_, b) in zip(got_b, want_b, strict=True)), (
                        agg,
                        size,
                    )
        finally:
            reader.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(batch, min_size=1, max_size=2), win=window, size=sizes)
def test_by_label_matches_brute_force(batches, win, size):
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "m.db"
        points: dict = {}
        origin = ORIGINS[0]
        for points_batch in batches:
            rows = [("m", LABELS[i], origin + dt, v) for i, dt, v in points_batch]
            with open_writer(db) as writer:
                writer.write_points(rows)
            for _, lab, ts, v in rows:
                points[(tuple(sorted(lab.items())), ts)] = v
        lo, hi = origin + win[0], origin + win[0] + win[1]
        reader = open_reader(db)
        try:
            for agg in ("sum", "avg", "last", "p90", "nps"):
                by_plan = reader.aggregate_by_label("m", None, agg, lo, hi, "plan")
                series_by_plan = defaultdict(list)
                for lab in LABELS:
                    series_by_plan[lab.get("plan", "")].append(lab)
                for plan, members in series_by_plan.items():
                    subset = {k: v for k, v in points.items() if dict(k[0]) in members}
                    want = oracle(subset, {}, agg, lo, hi)
                    assert same(by_plan.get(plan), want), (agg, plan)
                split = reader.buckets_by_label("m", None, agg, lo, hi, size, "plan")
                for plan, members in series_by_plan.items():
                    subset = {k: v for k, v in points.items() if dict(k[0]) in members}
                    want_b = oracle_buckets(subset, {}, agg, lo, hi, size)
                    got_b = [(b.start, b.value) for b in split.get(plan, [])]
                    assert [s for s, _ in got_b] == [s for s, _ in want_b]
                    assert all(same(a, b) for (_, a), (_, b) in zip(got_b, want_b, strict=True))
        finally:
            reader.close()


def test_rollup_rows_equal_their_points(write, db):
    # Given points spread over three hours of two days, written in two batches
    t0 = 1_767_225_600
    write([("m", {}, t0 + s, float(s % 7)) for s in range(0, 3 * HOUR, 61)])
    write([("m", {}, t0 + DAY + s, 1.5) for s in range(0, HOUR, 600)] + [("m", {}, t0, 100.0)])
    import sqlite3

    with sqlite3.connect(db) as con:
        # Then each hour row holds the count/sum/min/max of the points in that hour
        want_h = con.execute(
            "SELECT ts - ts % 3600, count(*), sum(value), min(value), max(value) FROM points"
            " GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert (
            con.execute(
                "SELECT bucket, n, total, vmin, vmax FROM rollup_hour ORDER BY 1"
            ).fetchall()
            == want_h
        )
        want_d = con.execute(
            "SELECT ts - ts % 86400, count(*), sum(value), min(value), max(value) FROM points"
            " GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert (
            con.execute("SELECT bucket, n, total, vmin, vmax FROM rollup_day ORDER BY 1").fetchall()
            == want_d
        )


def _rollup_tables(db: Path) -> tuple[list, list]:
    import sqlite3

    with sqlite3.connect(db) as con:
        return tuple(
            con.execute(f"SELECT * FROM {t} ORDER BY series_id, bucket").fetchall()
            for t in ("rollup_hour", "rollup_day")
        )


def _truth(db: Path) -> tuple[list, list]:
    import sqlite3

    with sqlite3.connect(db) as con:
        return tuple(
            con.execute(
                f"SELECT series_id, ts - ts % {size}, count(*), sum(value), min(value),"
                " max(value) FROM points GROUP BY 1, 2 ORDER BY 1, 2"
            ).fetchall()
            for size in (HOUR, DAY)
        )


@pytest.mark.parametrize("plan", ["dense", "chosen", "sparse"])
def test_sparse_points_refresh_the_same_rollups(tmp_path, monkeypatch, plan):
    # Given a series with a point every 10 hours over 100 days (most hours of its span
    # empty), then a second batch over part of it: some points replaced, a dense hour
    # added, and a series with an hour of points in the middle of an existing span
    from kpitui.store.sqlite import writer

    if plan != "chosen":
        monkeypatch.setattr(writer, "_sparse", lambda *_: plan == "sparse")
        monkeypatch.setattr(writer, "_DENSE_POINTS_PER_HOUR", 10**6 if plan == "sparse" else 2)
    db, t0 = tmp_path / "m.db", 1_767_225_600
    with open_writer(db) as w:
        w.write_points([("m", {"s": str(i % 3)}, t0 + i * 36_000, float(i)) for i in range(240)])
    with open_writer(db) as w:
        w.write_points(
            [("m", {"s": "0"}, t0 + i * 36_000, -1.0) for i in range(0, 240, 9)]
            + [("m", {"s": "1"}, t0 + 50 * DAY + s, 2.5) for s in range(0, HOUR, 300)]
            + [("n", {}, t0 + s * 7_000, float(s)) for s in range(300)]
        )
    with open_writer(db) as w:
        w.write_points([("n", {}, t0 + 10 * DAY + s, 1.0) for s in range(0, HOUR, 60)])
    # Then whichever plan refreshed them, every rollup row holds exactly its points
    assert _rollup_tables(db) == _truth(db)


@pytest.mark.parametrize("agg", ["sum", "avg", "count", "min", "max", "last"])
def test_many_small_buckets_read_the_points_once(write, reader, monkeypatch, agg):
    # Given more buckets than the per-bucket plan is meant for
    monkeypatch.setattr(queries, "MAX_SEEK_BUCKETS", 3)
    t0 = 1_767_225_600
    rows = [("m", {"k": str(i % 2)}, t0 + i * 50, float(i)) for i in range(40)]
    write(rows)
    points = {(tuple(sorted(lab.items())), ts): v for _, lab, ts, v in rows}
    got = [(b.start, b.value) for b in reader().buckets("m", None, agg, t0, t0 + 2000, 300)]
    # Then the single-scan plan gives the same buckets
    want = oracle_buckets(points, {}, agg, t0, t0 + 2000, 300)
    assert [s for s, _ in got] == [s for s, _ in want]
    assert all(same(a, b) for (_, a), (_, b) in zip(got, want, strict=True))


def test_dense_store_every_plan_and_alignment(tmp_path):
    # Given four series with a point every ~7 minutes for five days (some hours empty)
    t0 = 1_767_225_600
    rows = []
    for i, lab in enumerate(LABELS):
        for n in range(0, 5 * DAY, 420):
            ts = t0 + n + (n * 7919 + i * 13) % 300
            if (ts // HOUR) % 11 != i:
                rows.append(("m", lab, ts, float((ts * 31 + i) % 13 - 2)))
    origins = (t0 - 1000, t0, t0 + HOUR, t0 + 5000, t0 + DAY, t0 + DAY + 7 * HOUR)
    sizes = (900, HOUR, 7200, DAY, DAY + 1, 2 * DAY)
    # and points on both sides of every bucket edge visited below
    edges = {
        lo + k * size + d
        for lo in origins
        for size in sizes
        for k in range(1, 4 * DAY // size)
        for d in (-1, 0)
    }
    rows += [("m", {"plan": "pro"}, ts, float(ts % 5)) for ts in sorted(edges)]
    db = tmp_path / "m.db"
    with open_writer(db) as writer:
        writer.write_points(rows)
    points = {(tuple(sorted(lab.items())), ts): v for _, lab, ts, v in rows}
    reader = open_reader(db)
    try:
        for lo in origins:
            for length in (0, 1799, HOUR, DAY - 1, DAY + 5000, 3 * DAY + 17):
                hi = lo + length
                # Then single numbers agree for every agg…
                for agg in AGGS:
                    assert same(
                        reader.aggregate("m", {}, agg, lo, hi), oracle(points, {}, agg, lo, hi)
                    ), (agg, lo, hi)
                # …and so do buckets of every size, on and off the rollup grid
                for size in sizes:
                    for agg in ("sum", "count", "avg", "min", "max", "last", "p90"):
                        got = [
                            (b.start, b.value) for b in reader.buckets("m", {}, agg, lo, hi, size)
                        ]
                        want = oracle_buckets(points, {}, agg, lo, hi, size)
                        assert [s for s, _ in got] == [s for s, _ in want], (agg, lo, hi, size)
                        assert all(same(a, b) for (_, a), (_, b) in zip(got, want, strict=True)), (
                            agg,
                            lo,
                            hi,
                            size,
                        )
    finally:
        reader.close()
