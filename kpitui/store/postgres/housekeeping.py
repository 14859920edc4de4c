"""Deleting, renaming and pruning points in a PostgreSQL store, rollups kept consistent.

The same rules as `kpitui.store.sqlite.housekeeping`, each function run inside the
writer's batch (one transaction): the touched series are locked first (in id order, as
the writer's rollup refresh locks them), every span changed is logged in `write_log`
so open boards read it again.

- `delete_points`: the points go, then the hour and day buckets of the deleted span are
  recomputed from what is left (a whole-series delete drops its rollups, even those of
  points pruned before); a series left with nothing goes too.
- `rename_metric`: the series change their metric; annotations naming it follow.
- `prune`: raw points older than a time go, their rollups stay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import psycopg

from kpitui.errors import InputError
from kpitui.store.api import Removal
from kpitui.store.checks import DAY, HOUR, MAX_TS, MIN_TS, floor_to, json_labels

_LOG = "INSERT INTO write_log (series_id, lo, hi) VALUES (%s, %s, %s)"


def matching_series(
    con: psycopg.Connection, metric: str, labels: Mapping[str, str] | None
) -> list[int]:
    wanted = (labels or {}).items()
    rows = con.execute("SELECT id, labels FROM series WHERE metric = %s ORDER BY id", (metric,))
    return [sid for sid, text in rows if all(json_labels(text).get(k) == v for k, v in wanted)]


def _lock(con: psycopg.Connection, ids: list[int]) -> None:
    con.execute("SELECT id FROM series WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,))


def _span(con: psycopg.Connection, ids: list[int], lo: int, hi: int) -> Removal:
    if not ids:
        return Removal()
    row = con.execute(
        "SELECT count(*), min(ts), max(ts), count(DISTINCT series_id) FROM points"
        " WHERE series_id = ANY(%s) AND ts BETWEEN %s AND %s",
        (ids, lo, hi),
    ).fetchone()
    assert row is not None
    n, first, last, touched = row
    return Removal(n, touched, first, last)


def delete_points(
    con: psycopg.Connection,
    metric: str,
    labels: Mapping[str, str] | None,
    lo: int | None,
    hi: int | None,
    dry_run: bool,
) -> Removal:
    lo = MIN_TS if lo is None else lo
    hi = MAX_TS if hi is None else hi
    ids = matching_series(con, metric, labels)
    if ids and not dry_run:
        _lock(con, ids)
    found = _span(con, ids, lo, hi)
    whole = lo == MIN_TS and hi == MAX_TS
    if whole:
        found = Removal(found.points, len(ids), found.first_ts, found.last_ts)
    if dry_run or not ids:
        return found
    con.execute(
        "DELETE FROM points WHERE series_id = ANY(%s) AND ts BETWEEN %s AND %s", (ids, lo, hi)
    )
    for sid in ids:
        _recompute(con, sid, lo, hi, whole)
        con.execute(_LOG, (sid, lo, hi))
    _drop_empty(con, ids)
    return found


def _recompute(con: psycopg.Connection, sid: int, lo: int, hi: int, whole: bool) -> None:
    """The rollups of series `sid` over [lo, hi] made to match its points again."""
    if whole:
        con.execute("DELETE FROM rollup_hour WHERE series_id = %s", (sid,))
        con.execute("DELETE FROM rollup_day WHERE series_id = %s", (sid,))
        return
    h_lo, h_hi = floor_to(lo, HOUR), floor_to(hi, HOUR) + HOUR
    d_lo, d_hi = floor_to(lo, DAY), floor_to(hi, DAY) + DAY
    con.execute(
        "DELETE FROM rollup_hour WHERE series_id = %s AND bucket >= %s AND bucket < %s",
        (sid, h_lo, h_hi),
    )
    con.execute(
        f"INSERT INTO rollup_hour (series_id, bucket, n, total, vmin, vmax)"
        f" SELECT series_id, ts - ((ts %% {HOUR}) + {HOUR}) %% {HOUR} AS b, count(*),"
        f" sum(value ORDER BY ts), min(value), max(value) FROM points"
        f" WHERE series_id = %s AND ts >= %s AND ts < %s GROUP BY series_id, b",
        (sid, h_lo, h_hi),
    )
    con.execute(
        "DELETE FROM rollup_day WHERE series_id = %s AND bucket >= %s AND bucket < %s",
        (sid, d_lo, d_hi),
    )
    con.execute(
        f"INSERT INTO rollup_day (series_id, bucket, n, total, vmin, vmax)"
        f" SELECT series_id, bucket - ((bucket %% {DAY}) + {DAY}) %% {DAY} AS b, sum(n),"
        f" sum(total ORDER BY bucket), min(vmin), max(vmax) FROM rollup_hour"
        f" WHERE series_id = %s AND bucket >= %s AND bucket < %s GROUP BY series_id, b",
        (sid, d_lo, d_hi),
    )


def _drop_empty(con: psycopg.Connection, ids: list[int]) -> None:
    """Delete the series among `ids` left with no points and no rollups."""
    gone = con.execute(
        "SELECT id FROM series s WHERE id = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM points WHERE series_id = s.id)"
        " AND NOT EXISTS (SELECT 1 FROM rollup_day WHERE series_id = s.id)",
        (ids,),
    ).fetchall()
    empty = [sid for (sid,) in gone]
    if empty:
        con.execute("DELETE FROM rollup_hour WHERE series_id = ANY(%s)", (empty,))
        con.execute("DELETE FROM series WHERE id = ANY(%s)", (empty,))


def rename_metric(con: psycopg.Connection, old: str, new: str, dry_run: bool) -> Removal:
    ids = matching_series(con, old, None)
    if ids and not dry_run:
        _lock(con, ids)
    found = _span(con, ids, MIN_TS, MAX_TS)
    found = Removal(found.points, len(ids), found.first_ts, found.last_ts)
    if not ids:
        return found
    if con.execute("SELECT 1 FROM series WHERE metric = %s LIMIT 1", (new,)).fetchone():
        raise InputError(
            f"the store already has a metric {new!r}",
            hint=f"pick another name, or `kpitui delete {new}` first",
        )
    if dry_run:
        return found
    con.execute("UPDATE series SET metric = %s WHERE metric = %s", (new, old))
    for sid in ids:
        con.execute(_LOG, (sid, MIN_TS, MAX_TS))
    rows = con.execute(
        "SELECT id, metrics FROM annotations WHERE strpos(metrics, %s) > 0 FOR UPDATE",
        (json.dumps(old, ensure_ascii=False),),
    ).fetchall()
    for aid, text in rows:
        names = [new if m == old else m for m in json.loads(text)]
        con.execute(
            "UPDATE annotations SET metrics = %s WHERE id = %s",
            (json.dumps(list(dict.fromkeys(names)), ensure_ascii=False), aid),
        )
    return found


def prune(con: psycopg.Connection, older_than: int, dry_run: bool) -> Removal:
    rows = con.execute(
        "SELECT series_id, count(*), min(ts), max(ts) FROM points WHERE ts < %s"
        " GROUP BY series_id ORDER BY series_id",
        (older_than,),
    ).fetchall()
    if not rows:
        return Removal()
    if not dry_run:
        ids = [sid for sid, *_ in rows]
        _lock(con, ids)
        con.execute("DELETE FROM points WHERE ts < %s AND series_id = ANY(%s)", (older_than, ids))
        for sid in ids:
            con.execute(_LOG, (sid, MIN_TS, older_than))
    return Removal(
        sum(n for _, n, _, _ in rows),
        len(rows),
        min(first for _, _, first, _ in rows),
        max(last for _, _, _, last in rows),
    )
