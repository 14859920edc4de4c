"""Survey scores over long windows keep the counts of whole days between reads: the
answers always equal a count of every point, whatever was written since."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitui.store import open_reader, open_writer

pytestmark = pytest.mark.both_backends
DAY = 86400
T0 = 1_767_225_600  # 2026-01-01, a UTC midnight


def brute(points: dict, agg: str, lo: int, hi: int, shard: str | None = None) -> float | None:
    low, high, good_lo, bad_hi = (0, 10, 9, 6) if agg == "nps" else (1, 5, 4, -1)
    used = [
        v
        for (s, ts), v in points.items()
        if lo <= ts <= hi and low <= v <= high and (shard is None or s == shard)
    ]
    if not used:
        return None
    good = sum(v >= good_lo for v in used)
    if agg == "nps":
        return 100 * (good - sum(v <= bad_hi for v in used)) / len(used)
    return good / len(used)


def write(db: Path | str, points: dict, rows: list[tuple[str, int, float]], metric: str) -> None:
    with open_writer(db) as writer:
        writer.write_points([(metric, {"shard": s}, ts, v) for s, ts, v in rows])
    points.update({(s, ts): v for s, ts, v in rows})


@pytest.mark.parametrize("agg", ["nps", "csat"])
def test_kept_days_follow_every_write(db, agg):
    # Given 30 days of answers in two series, read once over a 20-day window
    points: dict = {}
    rows = [("ab"[i % 2], T0 + i * 3_000, float(i * 7 % 11)) for i in range(30 * DAY // 3_000)]
    write(db, points, rows, agg)
    reader = open_reader(db)
    lo, hi = T0 + 5 * DAY + 777, T0 + 25 * DAY + 123
    assert reader.aggregate(agg, None, agg, lo, hi) == pytest.approx(brute(points, agg, lo, hi))
    # When answers are replaced inside a kept day, added at an edge, and in a new series
    for change in (
        [("a", T0 + 10 * DAY + 3_000, 10.0), ("b", T0 + 10 * DAY + 9_000, 0.0)],
        [("a", lo + 5, 10.0), ("b", hi - 1, 1.0)],
        [("c", T0 + 12 * DAY, 9.0)],
    ):
        write(db, points, change, agg)
        # Then every later read, and a read by label, counts them
        got = reader.aggregate(agg, None, agg, lo, hi)
        assert got == pytest.approx(brute(points, agg, lo, hi))
        by = reader.aggregate_by_label(agg, None, agg, lo, hi, "shard")
        assert by == pytest.approx({s: brute(points, agg, lo, hi, s) for s in "abc" if s in by})
    # And a window that slid on by a day and a half reads its new whole days too
    lo2, hi2 = lo + 36 * 3_600, hi + 36 * 3_600
    assert reader.aggregate(agg, None, agg, lo2, hi2) == pytest.approx(brute(points, agg, lo2, hi2))
    reader.close()


def test_a_store_replaced_in_place_is_counted_anew(tmp_path):
    # Given a reader that kept the days of one store
    db, other = tmp_path / "m.db", tmp_path / "other.db"
    first: dict = {}
    write(db, first, [("a", T0 + i * 3_600, 10.0) for i in range(10 * 24)], "nps")
    reader = open_reader(db)
    lo, hi = T0 + 1_000, T0 + 9 * DAY
    assert reader.aggregate("nps", None, "nps", lo, hi) == 100.0
    # When another store with other answers is moved over it
    second: dict = {}
    write(other, second, [("a", T0 + i * 3_600, 0.0) for i in range(10 * 24)], "nps")
    other.replace(db)
    # Then the reader counts the new store's answers, not the days it kept
    assert reader.aggregate("nps", None, "nps", lo, hi) == -100.0
    reader.close()
