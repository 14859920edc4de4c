"""Percentiles over long windows keep the sorted values of whole hours between reads:
the answers always equal a nearest-rank percentile of every point, whatever was written
since and however far the window moved."""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest

from kpitui.store import open_reader, open_writer
from kpitui.store.rank_windows import _with, _without, kth_of_two
from tests.store.conftest import is_pg

pytestmark = pytest.mark.both_backends
HOUR, DAY = 3_600, 86_400
T0 = 1_767_225_600  # 2026-01-01, a UTC midnight


def test_kth_of_two_sequences_is_the_kth_of_them_merged():
    a, b = [1.0, 3.0, 3.0, 7.0, 9.0], [2.0, 3.0, 10.0]
    merged = sorted(a + b)  # 1 2 3 3 3 7 9 10
    assert [kth_of_two(a, b, k) for k in range(1, 9)] == merged
    assert kth_of_two(a, [], 4) == 7.0
    assert kth_of_two([], b, 3) == 10.0


def test_values_are_taken_out_and_put_in_in_order():
    values = array("d", [1, 2, 2, 5, 8])
    assert list(_without(values, [2.0, 8.0])) == [1, 2, 5]
    assert list(_without(values, [1.0, 2.0, 2.0])) == [5, 8]
    assert _without(values, [3.0]) is None  # not there: the kept values are stale
    assert list(_with(values, [0.0, 2.0, 9.0])) == [0, 1, 2, 2, 2, 5, 8, 9]


def nearest_rank(points: dict, percent: int, lo: int, hi: int, shard: str | None = None):
    values = sorted(
        v for (s, ts), v in points.items() if lo <= ts <= hi and (shard is None or s == shard)
    )
    if not values:
        return None
    return values[(len(values) * percent + 99) // 100 - 1]


def write(db: Path | str, points: dict, rows: list[tuple[str, int, float]]) -> None:
    with open_writer(db) as writer:
        writer.write_points([("latency", {"shard": s}, ts, v) for s, ts, v in rows])
    points.update({(s, ts): v for s, ts, v in rows})


def check(reader, points: dict, lo: int, hi: int) -> None:
    for agg, percent in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert reader.aggregate("latency", None, agg, lo, hi) == nearest_rank(
            points, percent, lo, hi
        ), (agg, lo, hi)
    by = reader.aggregate_by_label("latency", None, "p90", lo, hi, "shard")
    assert by == {s: nearest_rank(points, 90, lo, hi, s) for s in by}


def test_kept_windows_follow_every_write_and_move(db):
    # Given 20 days of points every 7 minutes in two series, with many equal values
    points: dict = {}
    rows = [("ab"[i % 2], T0 + i * 420, float(i * 37 % 101) / 4) for i in range(20 * DAY // 420)]
    write(db, points, rows)
    reader = open_reader(db)
    lo, hi = T0 + 3 * DAY + 777, T0 + 13 * DAY + 1_234
    check(reader, points, lo, hi)
    if not is_pg(db):
        assert reader._rank_windows._windows  # the whole hours are kept from here on
    # When values are replaced inside a kept hour, added at the edges, and in a new series
    for change in (
        [("a", T0 + 8 * DAY + 840, 1e6), ("b", T0 + 8 * DAY + 1_260, -1e6)],
        [("a", lo + 1, 0.125), ("b", hi, 99.0)],
        [("c", T0 + 9 * DAY + 5, 50.0)],
    ):
        write(db, points, change)
        # Then every later read counts them
        check(reader, points, lo, hi)
    # And a window moved by an hour, by five hours and back, and inside the same hours
    for shift in (HOUR, 5 * HOUR + 17, -2 * HOUR, 30):
        lo, hi = lo + shift, hi + shift
        check(reader, points, lo, hi)
    # And a write into an hour that just entered the window is counted too
    write(db, points, [("b", hi - HOUR - 60, 77.0)])
    check(reader, points, lo, hi)
    reader.close()


@pytest.mark.parametrize("hours", [5, 7])
def test_short_and_long_windows_give_the_same_answers(db, hours):
    # Given points every minute: a window under six whole hours reads its points, a
    # longer one keeps its hours
    points: dict = {}
    write(db, points, [("a", T0 + i * 60, float(i % 13)) for i in range(10 * 60)])
    reader = open_reader(db)
    lo, hi = T0 + 59, T0 + 59 + hours * HOUR
    check(reader, points, lo, hi)
    if not is_pg(db):
        assert bool(reader._rank_windows._windows) == (hours > 6)
    reader.close()
