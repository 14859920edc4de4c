"""How the reader's aggregates become SQL: which rows of which table each window reads.

Speed on big stores comes from the hour/day rollups (see `schema`): sum, count, avg, min
and max over a window read whole days and hours from the rollups and raw points only at
the edges; bucketed series do the same per bucket (see `_additive_rows`). `last` seeks the
newest point of each series instead of scanning. Survey scores and percentiles need every
response, so they read raw points (percentiles with bounded sorts: see `percentiles`);
over a long window a live board asks for again, the reader keeps what closed between
refreshes (`surveys`, `rank_windows`) and only the window's edges are read as points.

Every function here runs inside the reader's read snapshot (`SqliteReader._read`) and
returns (group, bucket index, value) rows; the reader turns them into the `api` types.
"""

from __future__ import annotations

import sqlite3

from kpitui.store.aggs import PERCENTILES, SURVEYS, Selection
from kpitui.store.checks import DAY, HOUR
from kpitui.store.rank_windows import RankWindows
from kpitui.store.sqlite.percentiles import PercentileHints, percentile_rows
from kpitui.store.sqlite.schema import sql_floor
from kpitui.store.sqlite.surveys import SurveyDays, score


def aggregate_rows(
    con: sqlite3.Connection,
    sel: Selection,
    agg: str,
    lo: int,
    end: int,
    size: int,
    *,
    bucketed: bool = False,
    hints: PercentileHints | None = None,
    surveys: SurveyDays | None = None,
    windows: RankWindows | None = None,
) -> list[tuple[int, int, float | None]]:
    """(group, bucket index, value) rows for points with lo <= ts < end, read by the
    cheapest plan for `agg` and the number of buckets.

    `bucketed` (a `buckets*` call, not one number over the range): a bucket's value must
    not depend on which other buckets the call asks for, because the dashboard keeps
    closed buckets from earlier calls beside new ones. Sums of floats depend on the
    order they are added in, so the plan may depend on the bucket grid (`lo` modulo the
    bucket, its size) but not on how many buckets the range holds.
    """
    many = -(-(end - lo) // size) > MAX_SEEK_BUCKETS
    if agg == "last":
        rows = (
            last_rows(con, sel, lo, size, end, carry=True)
            if bucketed
            else _last_scan_rows(con, sel, lo, size, end)
            if many
            else last_rows(con, sel, lo, size, end)
        )
        return [(g, k, value) for g, k, value, _ in rows]
    if agg in PERCENTILES:

        def counts() -> list[tuple[int, int, float | None]]:
            return aggregate_rows(con, sel, "count", lo, end, size, bucketed=bucketed)

        return percentile_rows(con, sel, PERCENTILES[agg], lo, size, end, counts, hints, windows)
    if agg in SURVEYS:
        if surveys is not None and size >= end - lo:
            kept = surveys.rows(con, sel, agg, SURVEYS[agg], lo, end)
            if kept is not None:
                return kept
        return _survey_rows(con, sel, agg, lo, size, end)
    if many:
        return _additive_scan_rows(con, sel, agg, lo, size, end)
    level = _aligned_level(lo, size)
    if level is not None and (bucketed or size < end - lo):
        return _aligned_rows(con, sel, agg, lo, size, end, level)
    return _additive_rows(con, sel, agg, lo, size, end)


# Beyond this many buckets, per-bucket index seeks cost more than reading the points once.
MAX_SEEK_BUCKETS = 5000


def _bucket_expr(column: str) -> str:
    return f"(({column}) - :lo) / :b"


def _floor(expr: str, size: int) -> str:
    return sql_floor(expr, size)


def _ceil(expr: str, size: int) -> str:
    return sql_floor(f"{expr} + {size - 1}", size)


# Bucket k holds [a, z). Each bucket is cut into raw [a, h1), hours [h1, d1), days
# [d1, d2), hours [d2, h2), raw [h2, z): the coarsest rollup that fits whole, raw points
# only for the partial hours at its ends (empty parts collapse onto h2 or z).
_BUCKET_CTES = f"""WITH RECURSIVE kk(k, a, z) AS (
  SELECT 0, :lo, min(:lo + :b, :end)
  UNION ALL SELECT k + 1, a + :b, min(a + 2 * :b, :end) FROM kk WHERE a + :b < :end),
cut(k, a, z, h1, h2, d1, d2) AS (
  SELECT k, a, z, {_ceil("a", HOUR)}, {_floor("z", HOUR)}, {_ceil("a", DAY)}, {_floor("z", DAY)} FROM kk),
hours(k, a, z, h1, h2, d1, d2) AS (
  SELECT k, a, z, CASE WHEN h1 < h2 THEN h1 ELSE z END, CASE WHEN h1 < h2 THEN h2 ELSE z END, d1, d2
  FROM cut),
seg(k, a, z, h1, h2, d1, d2) AS (
  SELECT k, a, z, h1, h2, CASE WHEN d1 < d2 THEN d1 ELSE h2 END, CASE WHEN d1 < d2 THEN d2 ELSE h2 END
  FROM hours)
"""
_SEGMENTS = (
    ("points", "ts", "a", "h1"),
    ("rollup_hour", "bucket", "h1", "d1"),
    ("rollup_day", "bucket", "d1", "d2"),
    ("rollup_hour", "bucket", "d2", "h2"),
    ("points", "ts", "h2", "z"),
)
_RAW = {"sum": "sum(value)", "count": "count(*)", "min": "min(value)", "max": "max(value)"}
_ROLLUP = {"sum": "sum(total)", "count": "sum(n)", "min": "min(vmin)", "max": "max(vmax)"}
_MEASURES = {
    "sum": ("sum",),
    "count": ("count",),
    "avg": ("sum", "count"),
    "min": ("min",),
    "max": ("max",),
}
_COMBINE = {"sum": sum, "count": sum, "min": min, "max": max}


def _additive_rows(
    con: sqlite3.Connection, sel: Selection, agg: str, lo: int, size: int, end: int
) -> list[tuple[int, int, float | None]]:
    """sum/count/avg/min/max per (group, bucket) from rollups and raw edges.

    One row per bucket and group; each part of the bucket is a correlated aggregate
    over one index range (no sort), evaluated only when the part is not empty. With a
    30-day window ending now and daily buckets that reads ~30 hour rows and two partial
    hours of points per bucket and series, instead of every point.
    """
    measures = _MEASURES[agg]
    selects = []
    for g, ids in enumerate(sel.ids_by_group()):
        cols = [
            f"CASE WHEN {a} < {z} THEN (SELECT {(_RAW if table == 'points' else _ROLLUP)[m]}"
            f" FROM {table} WHERE series_id IN ({ids}) AND {col} >= {a} AND {col} < {z}) END"
            for m in measures
            for table, col, a, z in _SEGMENTS
        ]
        selects.append(f"SELECT {g}, k, " + ", ".join(cols) + " FROM seg")
    sql = _BUCKET_CTES + "\nUNION ALL ".join(selects)
    out = []
    width = len(_SEGMENTS)
    for row in con.execute(sql, {"lo": lo, "b": size, "end": end}):
        found = {}
        for i, m in enumerate(measures):
            parts = [v for v in row[2 + i * width : 2 + (i + 1) * width] if v is not None]
            found[m] = _COMBINE[m](parts) if parts else None
        if agg == "avg":
            value = found["sum"] / found["count"] if found["count"] else None
        elif agg == "count":
            value = found["count"] or None  # no points: no bucket, not a zero
        else:
            value = found[agg]
        if value is not None:
            out.append((row[0], row[1], value))
    return out


def _aligned_level(lo: int, size: int) -> int | None:
    """The rollup whose rows each fall inside one bucket, when buckets start on its
    boundaries and a bucket holds few of its rows; None otherwise."""
    if lo % DAY == 0 and size % DAY == 0:
        return DAY
    if lo % HOUR == 0 and size % HOUR == 0 and size < DAY:
        return HOUR
    return None


def _aligned_rows(
    con: sqlite3.Connection, sel: Selection, agg: str, lo: int, size: int, end: int, level: int
) -> list[tuple[int, int, float | None]]:
    """Buckets on the rollup grid (e.g. daily buckets from a UTC midnight): one range
    scan of that rollup, then the tail after its last whole row from finer levels."""
    top = end - end % level
    hhi = end - end % HOUR
    ids, g, k = sel.id_list(), sel.group_expr("series_id"), _bucket_expr
    table = "rollup_day" if level == DAY else "rollup_hour"
    parts = [
        f"SELECT {g} AS g, {k('bucket')} AS k, n, total, vmin, vmax FROM {table}"
        f" WHERE series_id IN ({ids}) AND bucket >= :lo AND bucket < :top"
    ]
    if level == DAY and top < hhi:
        parts.append(
            f"SELECT {g}, {k('bucket')}, n, total, vmin, vmax FROM rollup_hour"
            f" WHERE series_id IN ({ids}) AND bucket >= :top AND bucket < :hhi"
        )
    if max(top, hhi) < end:
        parts.append(
            f"SELECT {g}, {k('ts')}, 1, value, value, value FROM points"
            f" WHERE series_id IN ({ids}) AND ts >= :raw AND ts < :end"
        )
    sql = (
        "SELECT g, k, sum(n), sum(total), min(vmin), max(vmax) FROM ("
        + " UNION ALL ".join(parts)
        + ") GROUP BY g, k"
    )
    params = {"lo": lo, "b": size, "end": end, "top": top, "hhi": hhi, "raw": max(top, hhi)}
    out = []
    for gi, ki, n, total, vmin, vmax in con.execute(sql, params):
        value = {"sum": total, "count": n, "avg": total / n, "min": vmin, "max": vmax}[agg]
        out.append((gi, ki, value))
    return out


def _additive_scan_rows(
    con: sqlite3.Connection, sel: Selection, agg: str, lo: int, size: int, end: int
) -> list[tuple[int, int, float | None]]:
    """The same from the raw points in one pass, for very many small buckets."""
    expr = {"avg": "avg(value)", **_RAW}[agg]
    sql = (
        f"SELECT {sel.group_expr('series_id')} AS g, {_bucket_expr('ts')} AS k, {expr} FROM points"
        f" WHERE series_id IN ({sel.id_list()}) AND ts >= :lo AND ts < :end GROUP BY g, k"
    )
    return con.execute(sql, {"lo": lo, "b": size, "end": end}).fetchall()


def last_rows(
    con: sqlite3.Connection, sel: Selection, lo: int, size: int, end: int, *, carry: bool = False
) -> list[tuple[int, int, float, int]]:
    """Per (group, bucket): the sum over series of each one's newest value, and the
    newest time. Two index seeks per series and bucket, whatever the store's size.

    `carry`: a series counts with its newest value at or before the bucket's end, however
    old, as the card's `last` does; a plan written monthly must not drop out of a daily
    MRR chart between its points."""
    since = "" if carry else "AND ts >= :lo + kk.k * :b "
    sql = f"""
WITH RECURSIVE kk(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM kk WHERE :lo + (k + 1) * :b < :end),
sel(id, g) AS (VALUES {sel.values_list()})
SELECT sel.g, kk.k, sum(p.value), max(p.ts)
FROM kk CROSS JOIN sel CROSS JOIN points p
  ON p.series_id = sel.id AND p.ts = (
    SELECT max(ts) FROM points WHERE series_id = sel.id
      {since}AND ts < min(:lo + (kk.k + 1) * :b, :end))
GROUP BY sel.g, kk.k ORDER BY sel.g, kk.k"""
    return con.execute(sql, {"lo": lo, "b": size, "end": end}).fetchall()


def _last_scan_rows(
    con: sqlite3.Connection, sel: Selection, lo: int, size: int, end: int
) -> list[tuple[int, int, float, int]]:
    sql = f"""
SELECT g, k, sum(value), max(ts) FROM (
  SELECT {sel.group_expr("series_id")} AS g, {_bucket_expr("ts")} AS k, value, ts,
         row_number() OVER (PARTITION BY series_id, {_bucket_expr("ts")} ORDER BY ts DESC) AS newest
  FROM points WHERE series_id IN ({sel.id_list()}) AND ts >= :lo AND ts < :end)
WHERE newest = 1 GROUP BY g, k"""
    return con.execute(sql, {"lo": lo, "b": size, "end": end}).fetchall()


def _survey_rows(
    con: sqlite3.Connection, sel: Selection, agg: str, lo: int, size: int, end: int
) -> list[tuple[int, int, float | None]]:
    low, high, good_lo, good_hi, bad_lo, bad_hi = SURVEYS[agg]
    sql = f"""
SELECT g, k, sum(value BETWEEN {low} AND {high}), sum(value BETWEEN {good_lo} AND {good_hi}),
       sum(value BETWEEN {bad_lo} AND {bad_hi})
FROM (SELECT {sel.group_expr("series_id")} AS g, {_bucket_expr("ts")} AS k, value
      FROM points WHERE series_id IN ({sel.id_list()}) AND ts >= :lo AND ts < :end)
GROUP BY g, k"""
    out = []
    for g, k, used, good, bad in con.execute(sql, {"lo": lo, "b": size, "end": end}):
        if used:
            out.append((g, k, score(agg, used, good, bad)))
    return out
