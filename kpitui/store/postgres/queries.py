"""How the reader's aggregates become PostgreSQL queries — the plans of
`kpitui.store.sqlite.queries`, in PostgreSQL's SQL.

- sum/count/avg/min/max: each bucket is cut (in Python) into raw points at its partial
  hours, hour rollups at its partial days and day rollups in between — exactly the parts
  SQLite's plan reads — and each part is one index range read. Parts are summed in key
  order (`sum(... ORDER BY series_id, ts)`) and combined in the same order as SQLite's,
  so the two backends add the same floats in the same order. A bucket's value depends
  only on its own parts, never on how many buckets a call asks for (the dashboard keeps
  closed buckets across refreshes).
- last: the newest point of each series per bucket, by an index seek (`LATERAL … ORDER
  BY ts DESC LIMIT 1`), summed over series.
- pNN: the nearest rank, found from rollup counts, kept windows and hints (see
  `percentiles`); nps/csat: counts over raw points.
- beyond MAX_SEEK_BUCKETS buckets: one pass over the raw points.

Each function returns (group, bucket index, value) rows for lo <= ts < end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg

from kpitui.store.aggs import PERCENTILES, SURVEYS, Selection
from kpitui.store.checks import DAY, HOUR, floor_to
from kpitui.store.postgres.percentiles import PercentileHints, percentile_rows
from kpitui.store.rank_windows import RankWindows

MAX_SEEK_BUCKETS = 5000

Rows = list[tuple[int, int, float | None]]


def aggregate_rows(
    con: psycopg.Connection,
    sel: Selection,
    agg: str,
    lo: int,
    end: int,
    size: int,
    *,
    bucketed: bool = False,
    hints: PercentileHints | None = None,
    windows: RankWindows | None = None,
) -> Rows:
    many = -(-(end - lo) // size) > MAX_SEEK_BUCKETS
    if agg == "last":
        if bucketed:
            rows = last_rows(con, sel, lo, size, end, carry=True)
        elif many:
            rows = _last_scan_rows(con, sel, lo, size, end)
        else:
            rows = last_rows(con, sel, lo, size, end)
        return [(g, k, value) for g, k, value, _ in rows]
    if agg in PERCENTILES:
        percent = PERCENTILES[agg]
        return percentile_rows(
            con,
            sel,
            percent,
            lo,
            size,
            end,
            lambda: aggregate_rows(con, sel, "count", lo, end, size, bucketed=bucketed),
            hints,
            windows,
            lambda: _percentile_rows(con, sel, percent, lo, size, end),
        )
    if agg in SURVEYS:
        return _survey_rows(con, sel, agg, lo, size, end)
    if many:
        return _additive_scan_rows(con, sel, agg, lo, size, end)
    return _additive_rows(con, sel, agg, lo, size, end)


def _members(sel: Selection) -> tuple[list[int], list[int], list[int]]:
    """(series ids, their groups, their order) as arrays for `unnest`."""
    ids = list(sel.ids)
    return ids, [sel.group_of[s] for s in ids], list(range(len(ids)))


_BUCKET = "((ts - %(lo)s) / %(b)s)::integer"
_GROUP = "m.g"
_FROM_POINTS = (
    "FROM unnest(%(ids)s::integer[], %(gs)s::integer[], %(ord)s::integer[]) AS m(id, g, o)"
    " JOIN points ON series_id = m.id AND ts >= %(lo)s AND ts < %(end)s"
)


def array_text(values: Iterable[int]) -> str:
    """Integers as an array literal, `{1,2,3}`, cast to its type in the SQL: a Python
    list is dumped by psycopg element by element (a fifth of a refresh's client time,
    on ~70 statements a refresh)."""
    return "{" + ",".join(map(str, values)) + "}"


def _params(sel: Selection, lo: int, size: int, end: int) -> dict[str, object]:
    ids, groups, order = map(array_text, _members(sel))
    return {"ids": ids, "gs": groups, "ord": order, "lo": lo, "b": size, "end": end}


# -- sum, count, avg, min, max --------------------------------------------------------

_RAW, _HOURS, _DAYS = 0, 1, 2


def _parts(lo: int, size: int, end: int) -> list[tuple[int, int, int, int, int]]:
    """(bucket, part, level, a, z) of every non-empty part, as SQLite's `_BUCKET_CTES`
    cut them: raw [a, h1), hours [h1, d1), days [d1, d2), hours [d2, h2), raw [h2, z)."""
    out = []
    k, a = 0, lo
    while a < end:
        z = min(a + size, end)
        h1, h2 = -floor_to(-a, HOUR), floor_to(z, HOUR)
        d1, d2 = -floor_to(-a, DAY), floor_to(z, DAY)
        if not h1 < h2:
            h1 = h2 = z
        if not d1 < d2:
            d1 = d2 = h2
        for part, (level, x, y) in enumerate(
            ((_RAW, a, h1), (_HOURS, h1, d1), (_DAYS, d1, d2), (_HOURS, d2, h2), (_RAW, h2, z))
        ):
            if x < y:
                out.append((k, part, level, x, y))
        k, a = k + 1, a + size
    return out


_PART_QUERY = {
    _RAW: "count(*), sum(p.value ORDER BY p.series_id, p.ts), min(p.value), max(p.value)"
    " FROM points p WHERE p.series_id = ANY(%(ids)s::integer[]) AND p.ts >= c.a AND p.ts < c.z",
    _HOURS: "sum(r.n), sum(r.total ORDER BY r.series_id, r.bucket), min(r.vmin), max(r.vmax)"
    " FROM rollup_hour r WHERE r.series_id = ANY(%(ids)s::integer[]) AND r.bucket >= c.a AND r.bucket < c.z",
    _DAYS: "sum(r.n), sum(r.total ORDER BY r.series_id, r.bucket), min(r.vmin), max(r.vmax)"
    " FROM rollup_day r WHERE r.series_id = ANY(%(ids)s::integer[]) AND r.bucket >= c.a AND r.bucket < c.z",
}
# Every part of every bucket in one statement: each part row reads its own level (the
# other branches' `c.level = …` is false for it, a one-time filter that skips the scan).
_PARTS_SQL = (
    "SELECT c.k, c.part, x.* FROM unnest(%(k)s::integer[], %(part)s::integer[],"
    " %(level)s::integer[], %(a)s::bigint[], %(z)s::bigint[]) AS c(k, part, level, a, z)"
    " CROSS JOIN LATERAL ("
    + " UNION ALL ".join(
        f"(SELECT {query} AND c.level = {level})" for level, query in _PART_QUERY.items()
    )
    + ") AS x(n, total, vmin, vmax)"
)


def _additive_rows(
    con: psycopg.Connection, sel: Selection, agg: str, lo: int, size: int, end: int
) -> Rows:
    parts = _parts(lo, size, end)
    if not parts:
        return []
    columns = {
        name: array_text(p[i] for p in parts)
        for i, name in enumerate(("k", "part", "level", "a", "z"))
    }
    found: dict[tuple[int, int], dict[int, tuple]] = {}
    for g, id_text in enumerate(sel.ids_by_group()):
        ids = "{" + id_text.replace(" ", "") + "}"
        for k, part, n, total, vmin, vmax in con.execute(_PARTS_SQL, {"ids": ids, **columns}):
            if n:
                found.setdefault((g, k), {})[part] = (int(n), total, vmin, vmax)
    out: Rows = []
    for (g, k), by_part in sorted(found.items()):
        got = [by_part[p] for p in sorted(by_part)]
        n = sum(x[0] for x in got)
        total = sum(x[1] for x in got)
        value = {
            "sum": total,
            "count": n,
            "avg": total / n,
            "min": min(x[2] for x in got),
            "max": max(x[3] for x in got),
        }[agg]
        out.append((g, k, value))
    return out


def _additive_scan_rows(
    con: psycopg.Connection, sel: Selection, agg: str, lo: int, size: int, end: int
) -> Rows:
    expr = {
        "sum": "sum(value ORDER BY series_id, ts)",
        "count": "count(*)",
        "avg": "sum(value ORDER BY series_id, ts) / count(*)",
        "min": "min(value)",
        "max": "max(value)",
    }[agg]
    sql = f"SELECT {_GROUP}, {_BUCKET} AS k, {expr} {_FROM_POINTS} GROUP BY 1, 2"
    return [(g, k, float(v)) for g, k, v in con.execute(sql, _params(sel, lo, size, end))]


# -- last -------------------------------------------------------------------------------


def last_rows(
    con: psycopg.Connection,
    sel: Selection,
    lo: int,
    size: int,
    end: int,
    *,
    carry: bool = False,
) -> list[tuple[int, int, float, int]]:
    """Per (group, bucket): the sum over series of each one's newest value, and the
    newest time; `carry` as in the SQLite plan (a series counts with its newest value at
    or before the bucket's end, however old)."""
    since = "" if carry else "AND p.ts >= %(lo)s + kk.k * %(b)s "
    count = -(-(end - lo) // size)
    sql = f"""
SELECT m.g, kk.k, sum(p.value ORDER BY m.o), max(p.ts)
FROM generate_series(0, %(count)s - 1) AS kk(k)
CROSS JOIN unnest(%(ids)s::integer[], %(gs)s::integer[], %(ord)s::integer[]) AS m(id, g, o)
CROSS JOIN LATERAL (
  SELECT p.ts, p.value FROM points p WHERE p.series_id = m.id
    {since}AND p.ts < least(%(lo)s + (kk.k + 1) * %(b)s, %(end)s)
  ORDER BY p.ts DESC LIMIT 1) p
GROUP BY m.g, kk.k ORDER BY m.g, kk.k"""
    params = {**_params(sel, lo, size, end), "count": count}
    return [(g, k, v, ts) for g, k, v, ts in con.execute(sql, params)]


def _last_scan_rows(
    con: psycopg.Connection, sel: Selection, lo: int, size: int, end: int
) -> list[tuple[int, int, float, int]]:
    sql = f"""
SELECT g, k, sum(value ORDER BY o), max(ts) FROM (
  SELECT DISTINCT ON (m.id, {_BUCKET}) m.g AS g, m.o AS o, {_BUCKET} AS k, value, ts
  {_FROM_POINTS} ORDER BY m.id, {_BUCKET}, ts DESC) newest
GROUP BY g, k"""
    return con.execute(sql, _params(sel, lo, size, end)).fetchall()


# -- percentiles and surveys ----------------------------------------------------------------


def _percentile_rows(
    con: psycopg.Connection, sel: Selection, percent: int, lo: int, size: int, end: int
) -> Rows:
    """Every cell at once, for many small cells: the value at rank ceil(p/100 * n) by a
    window function, in integers (`percentile_disc` multiplies by a float fraction)."""
    sql = (
        "SELECT g, k, value FROM ("
        f" SELECT {_GROUP} AS g, {_BUCKET} AS k, value,"
        f" row_number() OVER (PARTITION BY {_GROUP}, {_BUCKET} ORDER BY value) AS rank,"
        f" count(*) OVER (PARTITION BY {_GROUP}, {_BUCKET}) AS n {_FROM_POINTS}) cells"
        " WHERE rank = (n * %(p)s + 99) / 100"
    )
    params = {**_params(sel, lo, size, end), "p": percent}
    return con.execute(sql, params).fetchall()


def _survey_rows(
    con: psycopg.Connection, sel: Selection, agg: str, lo: int, size: int, end: int
) -> Rows:
    low, high, good_lo, good_hi, bad_lo, bad_hi = SURVEYS[agg]
    sql = (
        f"SELECT {_GROUP}, {_BUCKET} AS k,"
        f" count(*) FILTER (WHERE value BETWEEN {low} AND {high}),"
        f" count(*) FILTER (WHERE value BETWEEN {good_lo} AND {good_hi}),"
        f" count(*) FILTER (WHERE value BETWEEN {bad_lo} AND {bad_hi})"
        f" {_FROM_POINTS} GROUP BY 1, 2"
    )
    out: Rows = []
    for g, k, used, good, bad in con.execute(sql, _params(sel, lo, size, end)):
        if used:
            out.append((g, k, 100.0 * (good - bad) / used if agg == "nps" else good / used))
    return out


def id_array(ids: Sequence[int]) -> list[int]:
    return list(ids)
