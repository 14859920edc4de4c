"""Closed buckets kept across refreshes: the same Board as without them, fewer questions."""

from __future__ import annotations

import gc
import sqlite3
import tempfile
import weakref
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitui.engine import evaluate
from kpitui.engine.cache import cache_for
from kpitui.store import open_reader, open_writer
from tests.engine.conftest import AS_OF, DAY, HOUR, make_spec


class Uncached:
    """The same reader, minus `changes_since`: evaluate cannot keep anything."""

    def __init__(self, reader) -> None:
        self._reader = reader

    def __getattr__(self, name: str):
        if name == "changes_since":
            raise AttributeError(name)
        return getattr(self._reader, name)


class Recording:
    """The same reader, recording the ranges of bucketed questions."""

    def __init__(self, reader) -> None:
        self._reader = reader
        self.asked: list[tuple[str, int, int, int]] = []

    def __getattr__(self, name: str):
        return getattr(self._reader, name)

    def buckets(self, metric, labels, agg, lo, hi, bucket):
        self.asked.append((metric, lo, hi, bucket))
        return self._reader.buckets(metric, labels, agg, lo, hi, bucket)

    def buckets_by_label(self, metric, labels, agg, lo, hi, bucket, by):
        self.asked.append((metric, lo, hi, bucket))
        return self._reader.buckets_by_label(metric, labels, agg, lo, hi, bucket, by)


def spec_data(timezone: str = "UTC") -> dict:
    return dict(
        timezone=timezone,
        metrics={"ratio": {"formula": "a / b"}},
        kpis=[
            {
                "metric": "a",
                "agg": "sum",
                "window": "7d",
                "spark": {"window": "14d", "bucket": "1d"},
            },
            {
                "id": "a-avg",
                "metric": "a",
                "agg": "avg",
                "window": "1d",
                "spark": {"window": "3d", "bucket": "6h"},
            },
            {"id": "a-pro", "metric": "a", "labels": {"plan": "pro"}},
            {
                "metric": "b",
                "agg": "p90",
                "window": "7d",
                "spark": {"window": "10d", "bucket": "1d"},
            },
            {
                "id": "b-count",
                "metric": "b",
                "agg": "count",
                "window": "30d",
                "spark": {"window": "2d", "bucket": "1h"},
            },
            {"metric": "score", "agg": "nps", "window": "30d"},
            {"metric": "ratio", "agg": "sum", "window": "7d"},
        ],
        charts=[
            {
                "id": "split",
                "metrics": ["a"],
                "split_by": "plan",
                "window": "20d",
                "bucket": "1d",
                "agg": "sum",
            },
            {
                "id": "weekly",
                "metrics": ["a", "b", "ratio"],
                "window": "60d",
                "bucket": "7d",
                "agg": "avg",
            },
            {"id": "last", "metrics": ["a"], "window": "5d", "bucket": "12h"},
        ],
    )


def write_points(db: Path, points) -> None:
    with open_writer(db) as writer:
        writer.write_points(points)


def history(days: int = 40) -> list[tuple]:
    """Every 3 hours: `a` by plan, `b`, survey scores; values of many magnitudes."""
    points = []
    for step in range(days * 8):
        ts = AS_OF - step * 3 * HOUR - 7
        points.append(("a", {"plan": "pro"}, ts, 1000.1 + step * 0.37))
        points.append(("a", {"plan": "team"}, ts, 0.003 * (step % 11) + 1e-7 * step))
        points.append(("b", {}, ts + 60, float((step * 37) % 101) + 0.25))
        points.append(("score", {}, ts + 120, float(step % 11)))
    return points


@pytest.fixture
def store(tmp_path):
    db = tmp_path / "metrics.db"
    write_points(db, history())
    reader = open_reader(db)
    yield db, reader
    reader.close()


def test_worked_example_a_refresh_asks_only_for_the_current_buckets(store):
    db, reader = store
    spec = make_spec(**spec_data())
    recording = Recording(reader)
    # Given a first refresh that reads every bucket
    evaluate(spec, recording, AS_OF)
    assert any(lo <= AS_OF - 10 * DAY for _, lo, _, _ in recording.asked)
    # When a point arrives at "now" and the board refreshes a minute later
    write_points(db, [("a", {"plan": "pro"}, AS_OF + 60, 5.0)])
    recording.asked.clear()
    board = evaluate(spec, recording, AS_OF + 60)
    # Then each bucketed question starts at the bucket holding now (for a chart's
    # comparison line, holding the same moment of its earlier span): nothing older is re-read
    assert recording.asked
    earlier = {AS_OF + 60 - c.window.seconds for c in spec.charts}
    for metric, lo, hi, size in recording.asked:
        assert hi in {AS_OF + 60, *earlier} and hi - size < lo <= hi, (metric, lo, size)
    # And the board is the one a fresh reader computes
    assert board == evaluate(spec, Uncached(reader), AS_OF + 60)


def test_a_sparkline_and_a_chart_on_one_query_ask_for_the_open_bucket_once(store):
    _, reader = store
    # Given a KPI whose sparkline and a chart are the same daily sums of `b`
    spec = make_spec(
        timezone="UTC",
        kpis=[
            {
                "metric": "b",
                "agg": "sum",
                "window": "7d",
                "spark": {"window": "14d", "bucket": "1d"},
            }
        ],
        charts=[{"metrics": ["b"], "agg": "sum", "window": "14d", "bucket": "1d"}],
    )
    recording = Recording(reader)
    evaluate(spec, recording, AS_OF)
    # When the board refreshes a minute later
    recording.asked.clear()
    board = evaluate(spec, recording, AS_OF + 60)
    # Then the current day was asked for once, and both show it (the chart's comparison
    # line asks for the same moment 14 days before, its own open bucket)
    asked = [(metric, hi, size) for metric, _, hi, size in recording.asked]
    assert asked == [("b", AS_OF + 60, DAY), ("b", AS_OF + 60 - 14 * DAY, DAY)]
    assert board.kpi("b").spark[-1] == board.charts[0].series[0].points[-1][1]


def test_a_backfill_into_a_closed_bucket_is_seen_at_the_next_refresh(store):
    db, reader = store
    spec = make_spec(**spec_data())
    before = evaluate(spec, reader, AS_OF)
    # Given a spark bucket 5 days back, kept closed since the first refresh
    day = 5 * DAY
    # When a late point is written into it
    write_points(db, [("a", {"plan": "pro"}, AS_OF - day, 1_000_000.0)])
    after = evaluate(spec, reader, AS_OF)
    # Then that bucket's value moved by the late point, and nothing differs from a fresh read
    moved = [
        (x, y) for x, y in zip(before.kpi("a").spark, after.kpi("a").spark, strict=True) if x != y
    ]
    assert len(moved) == 1 and moved[0][1] - moved[0][0] == pytest.approx(1_000_000.0)
    assert after == evaluate(spec, Uncached(reader), AS_OF)


def test_a_new_series_joins_the_kept_query(store):
    db, reader = store
    spec = make_spec(**spec_data())
    evaluate(spec, reader, AS_OF)
    # When a series of a new plan appears with points in the past
    write_points(db, [("a", {"plan": "free"}, AS_OF - 3 * DAY, 7.0)])
    board = evaluate(spec, reader, AS_OF)
    # Then the split chart gets its line and every total includes it
    assert "free" in [s.name for s in board.chart("split").series]
    assert board == evaluate(spec, Uncached(reader), AS_OF)


def test_two_writers_committing_in_reverse_order_leave_no_stale_bucket_on_postgresql(pg_url):
    """A token that is a growing id (the write log's, or a transaction id) would miss
    writer A here: A took the smaller log id, B the larger, and B committed first."""
    import threading

    from kpitui.store.postgres.writer import PgBatch

    write_points(pg_url, history())
    reader = open_reader(pg_url)
    try:
        spec = make_spec(**spec_data())
        before = evaluate(spec, reader, AS_OF)
        logged, go, failed = threading.Event(), threading.Event(), []
        finish = PgBatch._finish

        def finish_then_wait(batch):
            finish(batch)  # A's write-log row is in, not yet committed
            if threading.current_thread().name == "A":
                logged.set()
                go.wait(30)

        def writer_a():
            try:
                write_points(pg_url, [("a", {"plan": "pro"}, AS_OF - 5 * DAY, 1_000_000.0)])
            except BaseException as exc:
                failed.append(exc)
                logged.set()

        PgBatch._finish = finish_then_wait
        try:
            a = threading.Thread(target=writer_a, name="A")
            a.start()
            assert logged.wait(30) and not failed
            # Given writer A's backfill into a closed bucket of `a`, logged but not
            # committed, when writer B backfills `b` and commits first
            write_points(pg_url, [("b", {}, AS_OF - 4 * DAY, 500.0)])
            middle = evaluate(spec, reader, AS_OF)
            assert middle.kpi("b").spark != before.kpi("b").spark
            assert middle.kpi("a").spark == before.kpi("a").spark
            # And A commits afterwards
            go.set()
            a.join(30)
        finally:
            PgBatch._finish = finish
            go.set()
        assert not failed
        # Then the next refresh shows A's point too: the same board as a fresh read
        after = evaluate(spec, reader, AS_OF)
        assert after.kpi("a").spark != before.kpi("a").spark
        assert after == evaluate(spec, Uncached(reader), AS_OF)
    finally:
        reader.close()


class CountingSeries(Recording):
    """The same reader, counting `series` questions (each its own read of the store)."""

    calls = 0

    def series(self, *args):
        self.calls += 1
        return self._reader.series(*args)


def test_writes_to_series_no_panel_reads_ask_nothing_again(store):
    db, reader = store
    spec = make_spec(**spec_data())
    counting = CountingSeries(reader)
    evaluate(spec, counting, AS_OF)
    # Given another program feeding a metric this board does not show, seen once
    write_points(db, [("elsewhere", {}, AS_OF + 60, 1.0)])
    evaluate(spec, counting, AS_OF + 60)
    # When it writes there again
    counting.calls = 0
    write_points(db, [("elsewhere", {}, AS_OF + 120, 2.0)])
    board = evaluate(spec, counting, AS_OF + 120)
    # Then the board does not ask again which series each kept query holds
    assert counting.calls == 0
    assert board == evaluate(spec, Uncached(reader), AS_OF + 120)


def test_a_store_without_write_log_is_evaluated_without_keeping_anything(store):
    db, reader = store
    reader.close()
    # Given a store as schema version 1 left it
    with sqlite3.connect(db) as con:
        con.execute("DROP TABLE write_log")
        con.execute("PRAGMA user_version = 1")
    old = open_reader(db)
    try:
        spec = make_spec(**spec_data())
        recording = Recording(old)
        evaluate(spec, recording, AS_OF)
        recording.asked.clear()
        # When it refreshes again
        board = evaluate(spec, recording, AS_OF + 60)
        # Then it read every bucket again, and shows what a fresh read shows
        assert any(lo <= AS_OF - 10 * DAY for _, lo, _, _ in recording.asked)
        assert board == evaluate(spec, Uncached(old), AS_OF + 60)
    finally:
        old.close()


def test_the_cache_lives_with_its_reader_and_keeps_only_asked_queries(store):
    db, reader = store
    # Given a board refreshed over one reader
    evaluate(make_spec(**spec_data()), reader, AS_OF)
    cache = cache_for(reader)
    assert cache is cache_for(reader) and cache.queries > 3
    # When the spec shrinks to one sparkline
    evaluate(make_spec(kpis=[{"metric": "a", "agg": "sum", "window": "7d"}]), reader, AS_OF)
    # Then only its query is kept
    assert cache.queries == 1
    # And a reader that is gone takes its cache with it
    other = open_reader(db)
    evaluate(make_spec(**spec_data()), other, AS_OF)
    kept = weakref.ref(cache_for(other))
    other.close()
    del other
    gc.collect()
    assert kept() is None


def test_a_refresh_while_another_holds_the_cache_reads_everything(store, monkeypatch):
    _, reader = store
    spec = make_spec(**spec_data())
    cache = cache_for(reader)
    # Given a warm cache (a cached refresh would ask only for the newest buckets)
    evaluate(spec, reader, AS_OF)
    asked: list[int] = []  # the `lo` of every bucketed question the store is asked
    for name in ("buckets", "buckets_by_label"):
        original = getattr(reader, name)

        def spy(metric, labels, agg, lo, *rest, _original=original):
            asked.append(lo)
            return _original(metric, labels, agg, lo, *rest)

        monkeypatch.setattr(reader, name, spy)
    # And a refresh in progress over the reader (another thread, say)
    with cache.refresh(reader):
        # When another evaluation runs over the same reader
        board = evaluate(spec, reader, AS_OF)
    # Then it did not wait nor use the cache (it read whole windows), and it is right
    assert any(lo <= AS_OF - 10 * DAY for lo in asked)
    assert board == evaluate(spec, Uncached(reader), AS_OF)


# -- the property: cached == uncached after any writes at advancing as-of ---------------

value = st.one_of(
    st.integers(0, 10).map(float),
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False),
    st.sampled_from([1e16, -1e16, 3e-9]),  # sums that depend on the order of addition
)
series = st.sampled_from(
    [
        ("a", {"plan": "pro"}),
        ("a", {"plan": "team"}),
        ("a", {"plan": "new"}),
        ("a", {}),
        ("b", {}),
        ("b", {"plan": "pro"}),
        ("score", {}),
    ]
)
step = st.one_of(
    # a point at now or a little ahead of the last refresh (the current bucket)
    st.tuples(st.just("now"), series, st.integers(-2 * HOUR, 0), value),
    # a late point into the past, up to beyond the longest window
    st.tuples(st.just("backfill"), series, st.integers(1, 70 * DAY), value),
    # time passes: minutes, or days (buckets close, windows slide, grids move)
    st.tuples(st.just("advance"), st.integers(1, 3 * DAY)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(step, min_size=1, max_size=8),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns"]),
)
def test_cached_and_uncached_boards_are_identical(steps, timezone):
    # Given a store with 40 days of history and a board over it (keeping buckets)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "metrics.db"
        write_points(db, history())
        reader = open_reader(db)
        try:
            spec = make_spec(**spec_data(timezone))
            as_of = AS_OF
            evaluate(spec, reader, as_of)
            # When points arrive now, late points land in the past and time passes
            for kind, *args in steps:
                if kind == "advance":
                    as_of += args[0]
                else:
                    (metric, labels), offset, v = args
                    ts = as_of + offset if kind == "now" else as_of - offset
                    write_points(db, [(metric, labels, ts, v)])
                # Then every refresh shows exactly what a fresh evaluation shows
                assert evaluate(spec, reader, as_of) == evaluate(spec, Uncached(reader), as_of)
        finally:
            reader.close()
