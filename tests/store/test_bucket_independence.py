"""A bucket's value does not depend on which other buckets the same call asks for.

The dashboard keeps closed buckets from earlier refreshes beside buckets asked now
(`kpitui.engine.cache`), so the store must give a bucket the same value, to the last
bit, whether it is asked alone or with its neighbours."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitui.store import open_reader, open_writer

HOUR, DAY = 3600, 86400
T0 = 1_790_000_000 - 1_790_000_000 % DAY  # a UTC midnight: rollup-aligned buckets too


@pytest.mark.both_backends
def test_worked_example_float_sums_in_the_open_bucket(db, write, reader):
    # Given today (a UTC day) with a closed hour holding 1e16 and, in the current
    # partial hour, two points of 1.0 (1e16 + 1 rounds back to 1e16; 1e16 + 2 does not)
    today = T0 + 2 * DAY
    write([("m", {}, T0, 5.0), ("m", {}, today + HOUR, 1e16)])
    write([("m", {}, today + 2 * HOUR + 60, 1.0), ("m", {}, today + 2 * HOUR + 120, 1.0)])
    r = reader()
    hi = today + 2 * HOUR + 1800
    # When today's bucket is asked with the days before it, and alone
    with_others = r.buckets("m", {}, "sum", T0, hi, DAY)
    alone = r.buckets("m", {}, "sum", today, hi, DAY)
    # Then it has one value either way
    assert with_others[-1] == alone[-1]
    assert alone[-1].value in (1e16, 1e16 + 2)


values = st.one_of(
    st.integers(0, 12).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([1e16, -1e16, 1.0, 3e-9]),
)
point = st.tuples(
    st.sampled_from(({}, {"plan": "pro"}, {"plan": "team"})), st.integers(0, 6 * DAY), values
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(point, min_size=1, max_size=300),
    agg=st.sampled_from(["sum", "avg", "count", "min", "max", "last", "nps", "p90"]),
    size=st.sampled_from([HOUR, 6 * HOUR, DAY, 2 * DAY]),
    origin=st.sampled_from([0, HOUR, 1800]),
    hi=st.integers(2 * DAY, 6 * DAY + HOUR),
    skip=st.integers(0, 40),
)
def test_a_bucket_does_not_depend_on_the_other_buckets_asked(rows, agg, size, origin, hi, skip):
    # Given random points with values of all magnitudes (float sums depend on order)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "m.db"
        with open_writer(db) as writer:
            writer.write_points(("m", labels, T0 + ts, v) for labels, ts, v in rows)
        r = open_reader(db)
        try:
            lo, hi = T0 + origin, T0 + hi
            start = lo + min(skip, (hi - lo) // size) * size
            # When the buckets are asked from the window's start and from a later bucket
            full = {b.start: b.value for b in r.buckets("m", {}, agg, lo, hi, size)}
            tail = r.buckets("m", {}, agg, start, hi, size)
            full_split = r.buckets_by_label("m", {}, agg, lo, hi, size, "plan")
            tail_split = r.buckets_by_label("m", {}, agg, start, hi, size, "plan")
            # Then every bucket of the later call has exactly the same value
            assert {b.start: b.value for b in tail} == {s: v for s, v in full.items() if s >= start}
            for group, found in tail_split.items():
                whole = {b.start: b.value for b in full_split[group]}
                assert all(whole[b.start] == b.value for b in found)
        finally:
            r.close()
