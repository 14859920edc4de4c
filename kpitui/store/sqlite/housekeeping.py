"""Deleting, renaming and pruning points in a SQLite store, rollups kept consistent.

Each function runs inside the writer's batch (one transaction) and logs the spans it
changed in `write_log`, so a dashboard that caches closed buckets reads them again.

- `delete_points`: the points go, then every hour and day bucket the deleted span
  touches is recomputed (hours from the points left, days from the hours), so a
  rollup never counts a point that is gone; a series left empty goes too.
- `rename_metric`: the series change their metric name; points and rollups hang on
  the series id and follow; annotations naming the metric are renamed with it.
- `prune`: raw points older than a time go and the rollups stay: long charts and
  sum/count/avg/min/max over whole hours and days still read those times, while
  `last`, percentiles and survey aggs only see the raw points left.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping

from kpitui.errors import InputError
from kpitui.literal import quoted
from kpitui.store.api import Removal
from kpitui.store.checks import DAY, HOUR, MAX_TS, MIN_TS, floor_to, json_labels
from kpitui.store.sqlite import schema

_LOG = "INSERT INTO write_log (series_id, lo, hi) VALUES (?, ?, ?)"


def matching_series(
    con: sqlite3.Connection, metric: str, labels: Mapping[str, str] | None
) -> list[int]:
    wanted = (labels or {}).items()
    return [
        sid
        for sid, text in con.execute("SELECT id, labels FROM series WHERE metric = ?", (metric,))
        if all(json_labels(text).get(k) == v for k, v in wanted)
    ]


def _span(con: sqlite3.Connection, ids: list[int], lo: int, hi: int) -> Removal:
    if not ids:
        return Removal()
    marks = ",".join("?" * len(ids))
    n, first, last, touched = con.execute(
        f"SELECT count(*), min(ts), max(ts), count(DISTINCT series_id) FROM points"
        f" WHERE series_id IN ({marks}) AND ts BETWEEN ? AND ?",
        (*ids, lo, hi),
    ).fetchone()
    return Removal(n, touched, first, last)


def delete_points(
    con: sqlite3.Connection,
    metric: str,
    labels: Mapping[str, str] | None,
    lo: int | None,
    hi: int | None,
    dry_run: bool,
) -> Removal:
    lo = MIN_TS if lo is None else lo
    hi = MAX_TS if hi is None else hi
    ids = matching_series(con, metric, labels)
    found = _span(con, ids, lo, hi)
    whole = lo == MIN_TS and hi == MAX_TS
    if whole:  # every series goes, with the rollups of points pruned before
        found = Removal(found.points, len(ids), found.first_ts, found.last_ts)
    if dry_run or not ids:
        return found
    for sid in ids:
        con.execute("DELETE FROM points WHERE series_id = ? AND ts BETWEEN ? AND ?", (sid, lo, hi))
        _recompute(con, sid, lo, hi, whole)
        con.execute(_LOG, (sid, lo, hi))
    _drop_empty(con, ids)
    return found


def _recompute(con: sqlite3.Connection, sid: int, lo: int, hi: int, whole: bool) -> None:
    """The rollups of series `sid` over [lo, hi] made to match its points again."""
    if whole:
        con.execute("DELETE FROM rollup_hour WHERE series_id = ?", (sid,))
        con.execute("DELETE FROM rollup_day WHERE series_id = ?", (sid,))
        return
    h_lo, h_hi = floor_to(lo, HOUR), floor_to(hi, HOUR) + HOUR
    d_lo, d_hi = floor_to(lo, DAY), floor_to(hi, DAY) + DAY
    con.execute(
        "DELETE FROM rollup_hour WHERE series_id = ? AND bucket >= ? AND bucket < ?",
        (sid, h_lo, h_hi),
    )
    con.execute(
        f"INSERT INTO rollup_hour (series_id, bucket, n, total, vmin, vmax)"
        f" SELECT series_id, {schema.sql_floor('ts', HOUR)} AS b, count(*), sum(value),"
        f" min(value), max(value) FROM points WHERE series_id = ? AND ts >= ? AND ts < ?"
        f" GROUP BY b",
        (sid, h_lo, h_hi),
    )
    con.execute(
        "DELETE FROM rollup_day WHERE series_id = ? AND bucket >= ? AND bucket < ?",
        (sid, d_lo, d_hi),
    )
    con.execute(
        f"INSERT INTO rollup_day (series_id, bucket, n, total, vmin, vmax)"
        f" SELECT series_id, {schema.sql_floor('bucket', DAY)} AS b, sum(n), sum(total),"
        f" min(vmin), max(vmax) FROM rollup_hour WHERE series_id = ? AND bucket >= ?"
        f" AND bucket < ? GROUP BY b",
        (sid, d_lo, d_hi),
    )


def _drop_empty(con: sqlite3.Connection, ids: list[int]) -> None:
    """Delete the series among `ids` left with no points and no rollups."""
    for sid in ids:
        left = con.execute(
            "SELECT EXISTS (SELECT 1 FROM points WHERE series_id = ?)"
            " OR EXISTS (SELECT 1 FROM rollup_day WHERE series_id = ?)",
            (sid, sid),
        ).fetchone()[0]
        if not left:
            con.execute("DELETE FROM rollup_hour WHERE series_id = ?", (sid,))
            con.execute("DELETE FROM series WHERE id = ?", (sid,))
            con.execute(_LOG, (0, 0, 0))  # readers' series indexes: read the table again


def rename_metric(con: sqlite3.Connection, old: str, new: str, dry_run: bool) -> Removal:
    ids = matching_series(con, old, None)
    found = _span(con, ids, MIN_TS, MAX_TS)
    found = Removal(found.points, len(ids), found.first_ts, found.last_ts)
    if not ids:
        return found
    if con.execute("SELECT 1 FROM series WHERE metric = ? LIMIT 1", (new,)).fetchone():
        raise InputError(
            f"the store already has a metric {quoted(new)}",
            hint=f"pick another name, or `kpitui delete {new}` first",
        )
    if dry_run:
        return found
    con.execute("UPDATE series SET metric = ? WHERE metric = ?", (new, old))
    con.executemany(_LOG, ((sid, MIN_TS, MAX_TS) for sid in ids))
    con.execute(_LOG, (0, 0, 0))  # readers' series indexes: read the table again
    rows = con.execute(
        "SELECT id, metrics FROM annotations WHERE metrics LIKE ?", (f"%{_json(old)}%",)
    )
    for aid, text in rows.fetchall():
        names = [new if m == old else m for m in json.loads(text)]
        con.execute(
            "UPDATE annotations SET metrics = ? WHERE id = ?",
            (json.dumps(list(dict.fromkeys(names)), ensure_ascii=False), aid),
        )
    return found


def _json(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def prune(con: sqlite3.Connection, older_than: int, dry_run: bool) -> Removal:
    # Series by series, so each count and delete is a range of the points' primary key.
    ids = [sid for (sid,) in con.execute("SELECT id FROM series ORDER BY id")]
    total = Removal()
    for sid in ids:
        found = _span(con, [sid], MIN_TS, older_than - 1)
        if not found.points:
            continue
        if not dry_run:
            con.execute("DELETE FROM points WHERE series_id = ? AND ts < ?", (sid, older_than))
            con.execute(_LOG, (sid, MIN_TS, older_than))
        total = Removal(
            total.points + found.points,
            total.series + 1,
            min(x for x in (total.first_ts, found.first_ts) if x is not None),
            max(x for x in (total.last_ts, found.last_ts) if x is not None),
        )
    return total
