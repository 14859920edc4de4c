"""Nearest-rank percentiles (p50 … p99) in SQL, without sorting every point.

The value at rank r = ceil(percent/100 * n) in ascending order needs every raw point of
the range (rollups cannot answer it), but not a full sort of them:

- n comes from the hour/day rollups (`aggregate_rows` with `count`), not from a scan;
- `ORDER BY value LIMIT 1 OFFSET m` makes SQLite's sorter keep only the m + 1 smallest
  values, so each cell is sorted from whichever end is nearer its rank (10% of the
  points for p90);
- a bucketed series is one such seek per (group, bucket) cell when the cells are big
  enough to pay for a statement each. A window function over all points sorts them all
  (`row_number() OVER (PARTITION BY … ORDER BY value)`): about ten times slower on 30
  daily buckets of 2,500 points, so it is kept for many small cells only;
- a long window asked again and again (a KPI's p95 over 90 days on a live board) keeps
  the sorted values of its whole hours between refreshes (`rank_windows`);
- a range asked again (a sliding 7-day window, today's bucket growing) usually has the
  same answer as last time, or the next value up. With the last answer v as a hint, one
  scan counts the points above and equal to v and finds the smallest value above it;
  only when the rank moved further does a second, still bounded, seek run. The answer
  is exact either way: the hint only picks where to look.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpitui.store.aggs import Selection
    from kpitui.store.rank_windows import RankWindows

PercentileHints = dict[Hashable, float]
"""Last answers by (series ids, percent, range shape); kept by the reader."""

Counts = Callable[[], Sequence[tuple[int, int, float | None]]]

# Cells per statement pay off from about this many points per cell on average.
MIN_POINTS_PER_SEEK = 16
# Above this many cells, statement overhead outweighs the smaller sorts.
MAX_PERCENTILE_SEEKS = 1000
HINTS_KEPT = 512


def nearest_rank(n: int, percent: int) -> int:
    """1-based rank of the nearest-rank percentile among n values: ceil(p/100 * n)."""
    return (n * percent + 99) // 100


def percentile_rows(
    con: sqlite3.Connection,
    sel: Selection,
    percent: int,
    lo: int,
    size: int,
    end: int,
    counts: Counts,
    hints: PercentileHints | None,
    windows: RankWindows | None = None,
) -> list[tuple[int, int, float | None]]:
    """(group, bucket index, value) for points with lo <= ts < end; `counts` gives
    (group, bucket index, n) for the non-empty cells. `windows`: the kept sorted values
    of long windows (see `rank_windows`), for one value per group over the range."""
    cells = [(g, k, int(n)) for g, k, n in counts() if n]
    if not cells:
        return []
    if windows is not None and size >= end - lo:
        id_lists = sel.ids_by_group()
        kept = [(g, windows.value(con, id_lists[g], percent, lo, end, n)) for g, _, n in cells]
        if all(answered for _, (answered, _) in kept):
            return [(g, 0, value) for g, (_, value) in kept if value is not None]
    single = len(cells) == 1 and size >= end - lo
    total = sum(n for _, _, n in cells)
    if not single and (
        len(cells) > MAX_PERCENTILE_SEEKS or total < MIN_POINTS_PER_SEEK * len(cells)
    ):
        return _window_rows(con, sel, percent, lo, size, end)
    if hints is not None and len(hints) > HINTS_KEPT:
        hints.clear()
    id_lists = sel.ids_by_group()
    out: list[tuple[int, int, float | None]] = []
    for g, k, n in cells:
        a = lo + k * size
        z = min(a + size, end)
        # A growing bucket keeps its start; a sliding window keeps its length, and
        # `a // span` tells a window from the one just before it (the previous period).
        key = (id_lists[g], percent, z - a, a // (z - a)) if single else (id_lists[g], percent, a)
        hint = hints.get(key) if hints is not None else None
        value = _cell_value(con, id_lists[g], a, z, n, nearest_rank(n, percent), hint)
        if value is not None:
            if hints is not None:
                hints[key] = value
            out.append((g, k, value))
    return out


def values_of(
    con: sqlite3.Connection, ids: str, ranges: Sequence[tuple[int, int]], ordered: bool
) -> Iterator[float]:
    """The values of series `ids` in the ranges, for `RankWindows`."""
    sql = " UNION ALL ".join(
        f"SELECT value FROM points WHERE series_id IN ({ids}) AND ts >= ? AND ts < ?"
        for _ in ranges
    )
    params = [x for span in ranges for x in span]
    return (v for (v,) in con.execute(sql + (" ORDER BY 1" if ordered else ""), params))


def _cell_value(
    con: sqlite3.Connection, ids: str, a: int, z: int, n: int, rank: int, hint: float | None
) -> float | None:
    where = f"series_id IN ({ids}) AND ts >= :a AND ts < :z"
    params: dict[str, object] = {"a": a, "z": z}
    if hint is None:
        return _seek(con, where, params, n, rank)
    params["v"] = hint
    above, equal, next_up = con.execute(
        "SELECT count(*) FILTER (WHERE value > :v), count(*) FILTER (WHERE value = :v),"
        f" min(value) FILTER (WHERE value > :v) FROM points WHERE {where} AND value >= :v",
        params,
    ).fetchone()
    at_most = n - above  # points <= hint
    below = at_most - equal  # points < hint
    if below < rank <= at_most:
        return hint
    if rank == at_most + 1:
        return next_up  # moved up by one value: the most common change
    if rank > at_most:
        return _seek(con, f"{where} AND value > :v", params, above, rank - at_most)
    return _seek(con, f"{where} AND value < :v", params, below, rank)


def _seek(
    con: sqlite3.Connection, where: str, params: dict[str, object], n: int, rank: int
) -> float | None:
    """The value at `rank` (1-based, ascending) among the n points of `where`, sorting
    from the nearer end so the sorter keeps as few values as possible."""
    if rank - 1 <= n - rank:
        order, offset = "", rank - 1
    else:
        order, offset = " DESC", n - rank
    row = con.execute(
        f"SELECT value FROM points WHERE {where} ORDER BY value{order} LIMIT 1 OFFSET {offset}",
        params,
    ).fetchone()
    return None if row is None else row[0]


def _window_rows(
    con: sqlite3.Connection, sel: Selection, percent: int, lo: int, size: int, end: int
) -> list[tuple[int, int, float | None]]:
    """Every cell at once with a window function: best for many small cells."""
    sql = f"""
SELECT g, k, value FROM (
  SELECT g, k, value, row_number() OVER (PARTITION BY g, k ORDER BY value) AS rank,
         count(*) OVER (PARTITION BY g, k) AS n
  FROM (SELECT {sel.group_expr("series_id")} AS g, ((ts) - :lo) / :b AS k, value
        FROM points WHERE series_id IN ({sel.id_list()}) AND ts >= :lo AND ts < :end))
WHERE rank = (n * :p + 99) / 100"""
    return con.execute(sql, {"lo": lo, "b": size, "end": end, "p": percent}).fetchall()
