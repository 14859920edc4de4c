"""The rollup rows a writer keeps are exactly those of its points, however a batch
arrives: hours split across chunks, series interleaved, times out of order, points
already stored, hours that already held points. The PostgreSQL writer sums the hours of
new, ordered points itself (`_HourSums`) and leaves the rest to the server; either way
each row must equal the points' count, their sum added in time order (bit for bit: both
backends add the same floats in the same order), min and max."""

from __future__ import annotations

from collections import defaultdict
from functools import reduce
from operator import add

import pytest

from kpitui.store import open_writer
from kpitui.store.postgres import writer as pg_writer
from tests.store.conftest import sql

HOUR, DAY = 3600, 86400
T0 = 1_790_000_000 - 1_790_000_000 % DAY

pytestmark = pytest.mark.both_backends


def expected(db) -> tuple[list[tuple], list[tuple]]:
    """(hour rows, day rows) computed here from the stored points."""
    points = sql(db, "SELECT series_id, ts, value FROM points ORDER BY series_id, ts")
    hours: dict[tuple[int, int], list[float]] = defaultdict(list)
    for sid, ts, value in points:
        hours[(sid, ts - ts % HOUR)].append(value)
    hour_rows = [
        (sid, b, len(v), reduce(add, v), min(v), max(v)) for (sid, b), v in sorted(hours.items())
    ]
    days: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for row in hour_rows:
        days[(row[0], row[1] - row[1] % DAY)].append(row)
    day_rows = [
        (
            sid,
            b,
            sum(r[2] for r in rs),
            reduce(add, [r[3] for r in rs]),
            min(r[4] for r in rs),
            max(r[5] for r in rs),
        )
        for (sid, b), rs in sorted(days.items())
    ]
    return hour_rows, day_rows


def stored(db) -> tuple[list[tuple], list[tuple]]:
    q = "SELECT series_id, bucket, n, total, vmin, vmax FROM {} ORDER BY series_id, bucket"
    return sql(db, q.format("rollup_hour")), sql(db, q.format("rollup_day"))


def values(k: int) -> float:
    # Floats whose sum depends on the order they are added in.
    return [0.1, 1e16, 0.3, -1e16, 2.5, 1 / 3, 7.0][k % 7] * (1 + k % 5)


@pytest.mark.parametrize("small", [0, pg_writer.SMALL_BATCH], ids=["summed", "small-by-server"])
def test_rollups_match_the_points_for_every_shape_of_batch(db, small, monkeypatch):
    # (on PostgreSQL every batch's hours summed by the writer, or as shipped: those of
    # batches under SMALL_BATCH points left to the server)
    monkeypatch.setattr(pg_writer, "SMALL_BATCH", small)
    with open_writer(db) as writer:
        # Given a batch: two series one after the other, chunks that end mid-hour
        with writer.batch() as batch:
            a, b = batch.series_id("a", {}), batch.series_id("b", {})
            for start in range(0, 600, 37):  # 37 points a chunk, one every 17 min
                times = [T0 + k * 1020 for k in range(start, min(start + 37, 600))]
                batch.add(a, times, [values(k) for k in range(len(times))])
            batch.add(b, [T0 + 5, T0 + 10, T0 + 4000], [1.0, 2.0, 3.0])
        # And a batch of interleaved series (a file sorted by time), one hour per chunk
        with writer.batch() as batch:
            c, d = batch.series_id("c", {}), batch.series_id("d", {})
            for h in range(30):
                times = [T0 + h * HOUR + k * 600 for k in range(6) for _ in (0, 1)]
                ids = [c, d] * 6
                batch.add(ids, times, [values(h + k) for k in range(12)])
        # And a batch out of order: within a chunk, and across chunks
        with writer.batch() as batch:
            e = batch.series_id("e", {})
            batch.add(e, [T0 + 100, T0 + 50, T0 + 7200], [4.0, 5.0, 6.0])
            f = batch.series_id("f", {})
            batch.add(f, [T0 + 7200, T0 + 7300], [1.5, 2.5])
            batch.add(f, [T0 + 10, T0 + 7250], [0.5, 9.0])
        # And a batch of new points into hours that already hold points (the edge of
        # an append)
        with writer.batch() as batch:
            batch.add(a, [T0 + 599 * 1020 + 1, T0 + 599 * 1020 + 2], [0.7, 1e16])
            batch.add(d, [T0 + 29 * HOUR + 3001], [0.0])
        # And a batch with a chunk of points already stored, one of them changed, then
        # a chunk of new points
        with writer.batch() as batch:
            batch.add(b, [T0 + 5, T0 + 6, T0 + 10], [1.0, -0.0, 2.5])
            batch.add(c, [T0 + 29 * HOUR + 3001, T0 + 31 * HOUR], [0.25, 0.5])
    # Then every hour and day row is that of the stored points, exactly
    hour_rows, day_rows = stored(db)
    want_hours, want_days = expected(db)
    assert hour_rows == want_hours
    assert day_rows == want_days
    assert len(hour_rows) > 200


def test_a_failed_batch_leaves_no_rollups(db):
    with open_writer(db) as writer:
        with pytest.raises(RuntimeError), writer.batch() as batch:
            s = batch.series_id("a", {})
            batch.add(s, [T0, T0 + 1], [1.0, 2.0])
            raise RuntimeError("the import stopped half-way")
        with writer.batch() as batch:
            s = batch.series_id("a", {})
            batch.add(s, [T0 + 2], [3.0])
    assert stored(db) == expected(db)
    assert stored(db)[0] == [(stored(db)[0][0][0], T0, 1, 3.0, 3.0, 3.0)]
