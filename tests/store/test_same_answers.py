"""Both backends give the same answers: the same random points written to a SQLite file
and to a PostgreSQL database, every reader query asked of both, compared exactly.

One store of each kind serves the whole module; each example writes a metric of its own
(a fresh database per example would cost more than the example)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitui.store import open_reader, open_writer
from tests.pg_server import PgServer
from tests.store.test_rollups import LABELS, oracle

HOUR, DAY = 3600, 86400
T0 = 1_790_000_000 - 1_790_000_000 % DAY
AGGS = ("sum", "count", "avg", "min", "max", "last", "nps", "csat", "p50", "p90", "p95", "p99")
_names = itertools.count()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, pg_cluster: PgServer):
    """(SQLite writer, PostgreSQL writer, SQLite reader opener, PostgreSQL URL)."""
    lite = tmp_path_factory.mktemp("same") / "m.db"
    url = pg_cluster.new_database("same_answers")
    with open_writer(lite) as a, open_writer(url) as b:
        yield a, b, lite, url


def write_both(stores, rows) -> None:
    for writer in stores[:2]:
        with writer.batch() as batch:
            for metric, labels, ts, value in rows:
                batch.add(batch.series_id(metric, labels), [ts], [value])


def answers(reader, metric: str, lo: int, hi: int, size: int) -> dict:
    """Every question the engine asks, over one window and bucket size."""
    out: dict = {
        "series": [(s.metric, dict(s.labels)) for s in reader.series(metric)],
        "last": reader.last(metric, None, hi),
        "last pro": reader.last(metric, {"plan": "pro"}, hi),
        "last_ts_in": reader.last_ts_in(metric, None, lo, hi),
    }
    for agg in AGGS:
        out[agg] = reader.aggregate(metric, None, agg, lo, hi)
        out[agg, "pro"] = reader.aggregate(metric, {"plan": "pro"}, agg, lo, hi)
        out[agg, "by"] = reader.aggregate_by_label(metric, None, agg, lo, hi, "plan")
        out[agg, "buckets"] = reader.buckets(metric, None, agg, lo, hi, size)
        out[agg, "split"] = reader.buckets_by_label(metric, None, agg, lo, hi, size, "region")
        out[agg, "scale"] = reader.out_of_scale(metric, None, agg, lo, hi)
    return out


values = st.one_of(
    st.integers(-2, 12).map(float),
    st.sampled_from([0.5, 2.25, 1e6, -7.5]),
)
rows = st.lists(
    st.tuples(
        st.sampled_from(range(len(LABELS))),
        st.one_of(st.integers(-3 * DAY, 4 * DAY), st.integers(-200, 200)),
        values,
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(rows, min_size=1, max_size=2),
    window=st.tuples(st.integers(-4 * DAY, 4 * DAY), st.integers(0, 6 * DAY)),
    size=st.sampled_from([900, HOUR, 5000, DAY, DAY + 1, 7 * DAY]),
    align=st.booleans(),
)
def test_every_query_answers_the_same_on_both_backends(stores, batches, window, size, align):
    # Given the same batches written into a SQLite store and a PostgreSQL one
    metric = f"m{next(_names)}"
    points: dict = {}
    for batch in batches:
        written = [(metric, LABELS[i], T0 + dt, v) for i, dt, v in batch]
        write_both(stores, written)
        for _, labels, ts, v in written:
            points[(tuple(sorted(labels.items())), ts)] = v
    lo = T0 + window[0]
    if align:
        lo -= lo % size
    hi = lo + window[1]
    # When every reader query is asked of both
    lite, pg = open_reader(stores[2]), open_reader(stores[3])
    try:
        got_lite, got_pg = answers(lite, metric, lo, hi, size), answers(pg, metric, lo, hi, size)
    finally:
        lite.close()
        pg.close()
    # Then they agree to the last bit, and with the brute-force answer
    for key, want in got_lite.items():
        assert got_pg[key] == want, key
    for agg in ("count", "p90", "last"):
        assert got_pg[agg] == oracle(points, {}, agg, lo, hi)


def test_stats_checkins_annotations_and_events_read_the_same(stores):
    # Given the same points and records in both stores
    rows = [("s1", {"plan": "b"}, T0 + i * 600, float(i)) for i in range(50)]
    rows += [("s1", {"plan": "a"}, T0 - DAY, 3.0), ("s2", {}, T0, 1.0)]
    for writer in stores[:2]:
        writer.write_points(rows)
        writer.write_checkin("kr-é", T0, 0.5, "at_risk", "note")
        writer.write_checkin("kr-a", T0 + 1, 0.7)
        writer.write_annotation(T0, "deploy", ["s1"], {"env": "prod"})
    # When both are read / Then the same rows come back, in the same order
    readers = [open_reader(stores[2]), open_reader(stores[3])]
    try:
        got = [
            (
                [(s.series.metric, dict(s.series.labels), s.count, s.first_ts, s.last_ts)
                 for s in r.stats() if s.series.metric in ("s1", "s2")],
                [(c.kr_id, c.ts, c.value, c.confidence, c.note) for c in r.checkins()],
                [(a.ts, a.text, a.metrics, dict(a.labels)) for a in r.annotations(T0, T0)],
                r.read_points(r.series("s1", {"plan": "b"})[0].id, T0 + 600, 3),
            )
            for r in readers
        ]  # fmt: skip
    finally:
        for r in readers:
            r.close()
    assert got[0] == got[1]
    assert got[1][3] == [(T0 + 1200, 2.0), (T0 + 1800, 3.0), (T0 + 2400, 4.0)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.tuples(
            st.sampled_from(({}, {"plan": "pro"})),
            st.integers(0, 6 * DAY),
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=200,
    ),
    agg=st.sampled_from(["sum", "avg", "last", "p90"]),
    size=st.sampled_from([HOUR, DAY, 2 * DAY]),
    skip=st.integers(0, 10),
)
def test_a_postgresql_bucket_does_not_depend_on_the_other_buckets_asked(
    stores, data, agg, size, skip
):
    # Given random float points (whose sums depend on the order they are added in)
    metric = f"f{next(_names)}"
    with stores[1].batch() as batch:
        for labels, ts, v in data:
            batch.add(batch.series_id(metric, labels), [T0 + ts], [v])
    r = open_reader(stores[3])
    try:
        lo, hi = T0 + 1800, T0 + 6 * DAY
        start = lo + min(skip, (hi - lo) // size) * size
        # When the buckets are asked from the start and from a later bucket
        full = {b.start: b.value for b in r.buckets(metric, {}, agg, lo, hi, size)}
        tail = r.buckets(metric, {}, agg, start, hi, size)
    finally:
        r.close()
    # Then each bucket of the later call has exactly the value it had in the first
    assert {b.start: b.value for b in tail} == {s: v for s, v in full.items() if s >= start}
