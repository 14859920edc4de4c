"""Nearest-rank percentiles (p50 … p99) without sorting a window on every refresh — the
plans of `kpitui.store.sqlite.percentiles`, in PostgreSQL's SQL.

`percentile_disc` over a 7-day window sorts every point of it on each call (~17,500 for
five series on the 10M benchmark store: most of a live refresh). Instead, as on SQLite:

- n comes from the hour/day rollups (the `count` plan), not from a scan;
- one value over a long window (a KPI's p90 over 7 days, and its previous period) comes
  from the kept sorted values of its whole hours (`RankWindows`), the two partial hours
  at its ends read as points;
- a bucket asked again (the sparkline's open bucket) is answered with the last answer as
  a hint: one scan counts the points above and equal to it, no sort; when the rank moved
  further, a bounded seek (`ORDER BY value LIMIT 1 OFFSET m`: a top-N sort from the
  nearer end) finds it;
- many small cells at once: `percentile_disc` per cell, one statement.

Every plan returns the value at rank ceil(percent/100 * n) in ascending order, so both
backends give the same answer for the same points (tests/store/test_same_percentiles.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from kpitui.store.aggs import Selection
    from kpitui.store.rank_windows import RankWindows

PercentileHints = dict[Hashable, float]
Counts = Callable[[], Sequence[tuple[int, int, float | None]]]

# As on SQLite: a statement per cell pays from about this many points per cell, and
# beyond this many cells one statement for all of them is cheaper.
MIN_POINTS_PER_SEEK = 16
MAX_PERCENTILE_SEEKS = 1000
HINTS_KEPT = 512


def nearest_rank(n: int, percent: int) -> int:
    """1-based rank of the nearest-rank percentile among n values: ceil(p/100 * n)."""
    return (n * percent + 99) // 100


def values_of(
    con: psycopg.Connection, ids: str, ranges: Sequence[tuple[int, int]], ordered: bool
) -> list[float]:
    """The values of series `ids` in the ranges, for `RankWindows`: one float8[] (a
    binary array is loaded in C, where a row per value costs a Python object each)."""
    spans = [(a, z) for a, z in ranges if a < z]
    if not spans:
        return []
    union = " UNION ALL ".join(
        f"SELECT value FROM points WHERE series_id IN ({ids}) AND ts >= %s AND ts < %s"
        for _ in spans
    )
    order = " ORDER BY value" if ordered else ""
    row = con.execute(
        f"SELECT array_agg(value{order}) FROM ({union}) v",
        [x for span in spans for x in span],
        binary=True,
    ).fetchone()
    return row[0] if row and row[0] is not None else []


def percentile_rows(
    con: psycopg.Connection,
    sel: Selection,
    percent: int,
    lo: int,
    size: int,
    end: int,
    counts: Counts,
    hints: PercentileHints | None,
    windows: RankWindows | None,
    many_cells: Callable[[], list[tuple[int, int, float | None]]],
) -> list[tuple[int, int, float | None]]:
    """(group, bucket index, value) for points with lo <= ts < end; `counts` gives
    (group, bucket index, n) for the non-empty cells, `many_cells` every cell's value
    in one statement."""
    cells = [(g, k, int(n)) for g, k, n in counts() if n]
    if not cells:
        return []
    id_lists = sel.ids_by_group()
    if windows is not None and size >= end - lo:
        kept = [(g, windows.value(con, id_lists[g], percent, lo, end, n)) for g, _, n in cells]
        if all(answered for _, (answered, _) in kept):
            return [(g, 0, value) for g, (_, value) in kept if value is not None]
    single = len(cells) == 1 and size >= end - lo
    total = sum(n for _, _, n in cells)
    if not single and (
        len(cells) > MAX_PERCENTILE_SEEKS or total < MIN_POINTS_PER_SEEK * len(cells)
    ):
        return many_cells()
    if hints is not None and len(hints) > HINTS_KEPT:
        hints.clear()
    out: list[tuple[int, int, float | None]] = []
    for g, k, n in cells:
        a = lo + k * size
        z = min(a + size, end)
        # A growing bucket keeps its start; a sliding window keeps its length, and
        # `a // span` tells a window from the one just before it (the previous period).
        key = (id_lists[g], percent, z - a, a // (z - a)) if single else (id_lists[g], percent, a)
        hint = hints.get(key) if hints is not None else None
        value = cell_value(con, id_lists[g], a, z, n, nearest_rank(n, percent), hint)
        if value is not None:
            if hints is not None:
                hints[key] = value
            out.append((g, k, value))
    return out


def cell_value(
    con: psycopg.Connection, ids: str, a: int, z: int, n: int, rank: int, hint: float | None
) -> float | None:
    """The value at `rank` among the n points of `ids` in [a, z); `hint`, a guess (the
    last answer), only decides where to look."""
    where = f"series_id IN ({ids}) AND ts >= %(a)s AND ts < %(z)s"
    params: dict[str, object] = {"a": a, "z": z}
    if hint is None:
        return _seek(con, where, params, n, rank)
    params["v"] = hint
    row = con.execute(
        "SELECT count(*) FILTER (WHERE value > %(v)s), count(*) FILTER (WHERE value = %(v)s),"
        f" min(value) FILTER (WHERE value > %(v)s) FROM points WHERE {where}"
        " AND value >= %(v)s",
        params,
    ).fetchone()
    assert row is not None
    above, equal, next_up = row
    at_most = n - above  # points <= hint
    below = at_most - equal  # points < hint
    if below < rank <= at_most:
        return hint
    if rank == at_most + 1:
        return next_up  # moved up by one value: the most common change
    if rank > at_most:
        return _seek(con, f"{where} AND value > %(v)s", params, above, rank - at_most)
    return _seek(con, f"{where} AND value < %(v)s", params, below, rank)


def _seek(
    con: psycopg.Connection, where: str, params: dict[str, object], n: int, rank: int
) -> float | None:
    """The value at `rank` (1-based, ascending) among the n points of `where`, sorted
    from the nearer end so the server's top-N sort keeps as few values as possible."""
    if rank - 1 <= n - rank:
        order, offset = "", rank - 1
    else:
        order, offset = " DESC", n - rank
    row = con.execute(
        f"SELECT value FROM points WHERE {where} ORDER BY value{order} LIMIT 1 OFFSET {offset}",
        params,
    ).fetchone()
    return None if row is None else row[0]
