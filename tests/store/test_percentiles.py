"""Percentiles by bounded seeks and hints: the reader's answers equal a brute-force
nearest rank, exactly, whatever the hint and the plan."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitui.store import open_reader, open_writer
from kpitui.store.sqlite import percentiles
from tests.store.test_rollups import oracle, oracle_buckets

HOUR, DAY = 3600, 86400
T0 = 1_790_000_000 - 1_790_000_000 % DAY  # a UTC midnight: rollup-aligned buckets too
PLANS = {"seeks": 0, "window": 10**9}  # MIN_POINTS_PER_SEEK forcing each plan


def test_worked_example_p90_of_one_to_ten(db, write, reader):
    # Given the values 1..10, shuffled in time
    write([("lat", {}, T0 + i, float(v)) for i, v in enumerate([7, 3, 10, 1, 9, 2, 8, 4, 6, 5])])
    r = reader()
    # When asked twice (the second time with the first answer as its hint)
    # Then p90 is the value of rank ceil(0.9 * 10) = 9, both times; p50 rank 5, p99 rank 10
    assert r.aggregate("lat", {}, "p90", T0, T0 + 9) == 9.0
    assert r.aggregate("lat", {}, "p90", T0, T0 + 9) == 9.0
    assert r.aggregate("lat", {}, "p50", T0, T0 + 9) == 5.0
    assert r.aggregate("lat", {}, "p99", T0, T0 + 9) == 10.0
    # And a window without 7, 3, 10 (1, 2, 4, 5, 6, 8, 9: rank ceil(6.3) = 7) gives 9
    assert r.aggregate("lat", {}, "p90", T0 + 3, T0 + 9) == 9.0


def test_any_hint_gives_the_same_nearest_rank(db, write):
    # Given the values 1..10 in one series (rank 9 of 10 is 9)
    write([("lat", {}, T0 + i, float(i + 1)) for i in range(10)])
    with sqlite3.connect(db) as con:
        # When the rank is looked for from hints on the answer, one value below it, far
        # below, above, between two values and outside the range
        # Then the answer is 9 every time: a hint only chooses where to look
        for hint in (None, 9.0, 8.0, 1.0, 10.0, 5.5, 100.0, -5.0):
            assert percentiles._cell_value(con, "1", T0, T0 + 10, 10, 9, hint) == 9.0, hint


def test_a_hint_far_from_the_answer_is_only_a_detour(db, write, reader):
    # Given 100 values 0..99 in the first hour and 100 values 1000..1099 in the second
    write([("v", {}, T0 + i, float(i)) for i in range(100)])
    write([("v", {}, T0 + HOUR + i, 1000.0 + i) for i in range(100)])
    r = reader()
    # When a window of the same length slides from the first hour to the second
    first = r.aggregate("v", {}, "p50", T0, T0 + 99)
    second = r.aggregate("v", {}, "p50", T0 + HOUR, T0 + HOUR + 99)
    # Then each answer is its own window's
    assert (first, second) == (49.0, 1049.0)


values = st.one_of(
    st.integers(0, 12).map(float),  # many ties, survey scales
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
point = st.tuples(
    st.sampled_from(({}, {"plan": "pro"}, {"plan": "team"})), st.integers(0, 3 * DAY), values
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(point, min_size=1, max_size=300),
    agg=st.sampled_from(["p50", "p90", "p99"]),
    start=st.integers(0, DAY),
    length=st.integers(HOUR, 2 * DAY),
    steps=st.lists(st.integers(0, 2 * HOUR), min_size=1, max_size=12),
    plan=st.sampled_from(sorted(PLANS)),
)
def test_sliding_percentiles_equal_brute_force(rows, agg, start, length, steps, plan):
    # Given random points (ties included) in a store
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.object(percentiles, "MIN_POINTS_PER_SEEK", PLANS[plan]),
    ):
        db = Path(tmp) / "m.db"
        points = {}
        with open_writer(db) as writer:
            for labels, ts, v in rows:
                writer.write_points([("m", labels, T0 + ts, v)])
                points[(tuple(sorted(labels.items())), T0 + ts)] = v
        r = open_reader(db)
        try:
            # When a window slides (each answer becomes the next one's hint) and a
            # bucketed series is asked over it
            lo = T0 + start
            for step in steps:
                lo += step
                hi = lo + length - 1
                for labels in ({}, {"plan": "pro"}):
                    # Then every answer is the brute-force nearest rank, exactly
                    assert r.aggregate("m", labels, agg, lo, hi) == oracle(
                        points, labels, agg, lo, hi
                    )
                got = [(b.start, b.value) for b in r.buckets("m", {}, agg, lo, hi, 6 * HOUR)]
                assert got == oracle_buckets(points, {}, agg, lo, hi, 6 * HOUR)
                split = r.buckets_by_label("m", {}, agg, lo, hi, DAY, "plan")
                for group, found in split.items():
                    rows_of_group = {
                        k: v for k, v in points.items() if dict(k[0]).get("plan", "") == group
                    }
                    want = oracle_buckets(rows_of_group, {}, agg, lo, hi, DAY)
                    assert [(b.start, b.value) for b in found] == want
        finally:
            r.close()
