"""Writing into a metric store: points, check-ins, and the rollups kept beside them.

Every batch is one transaction (`BEGIN IMMEDIATE` … `COMMIT`): a reader sees all of it or
none of it, and any error rolls everything back. Points are upserted on (series, time),
so writing the same file twice changes nothing — not even a page: the update is skipped
when the value is equal, and rollups are only recomputed when a point really changed.

Each batch that changed points also appends one `write_log` row per series it changed
(the oldest and newest time written), in the same transaction, so readers can tell what
changed since they last looked.

Throughput: a multi-row `INSERT … VALUES (…),(…),…` binds 200 points per statement, about
three times faster than one statement per point through `executemany`; the rollups of
the touched hours are recomputed afterwards by one `INSERT … SELECT … GROUP BY` that walks
a temp table of (series, hour) in key order, so SQLite aggregates without sorting.
"""

from __future__ import annotations

import json
import operator
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path

from kpitui.errors import InputError, StoreError, StoreLockedError
from kpitui.literal import quoted
from kpitui.store.api import AlertEvent, PullState, Removal
from kpitui.store.checks import (
    DAY,
    HOUR,
    MAX_TS,
    MIN_TS,
    TEXT_HINT,
    canonical_labels,
    checked_annotation,
    checked_checkin,
    checked_event,
    checked_pull_state,
    checked_series,
    checked_text,
    checked_ts,
    checked_value,
    floor_to,
)
from kpitui.store.name import StoreName
from kpitui.store.sqlite import files, housekeeping, schema

BUSY_TIMEOUT = 5.0
"""Seconds a writer waits for another writer's lock before giving up (SPEC §2)."""

_ROWS_PER_STATEMENT = 200
_CHUNK = 50_000
_UPSERT = (
    " ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value"
    " WHERE points.value IS NOT excluded.value"
)
_INSERT_ONE = "INSERT INTO points (series_id, ts, value) VALUES (?, ?, ?)" + _UPSERT
_INSERT_MANY = (
    "INSERT INTO points (series_id, ts, value) VALUES "
    + ", ".join(["(?, ?, ?)"] * _ROWS_PER_STATEMENT)
    + _UPSERT
)
# A series' span holding fewer points an hour than this is refreshed by grouping its
# points (a sort): probing an hour of the span costs about what sorting two points does.
_DENSE_POINTS_PER_HOUR = 2


def open_writer(name: StoreName | str | Path, *, busy_timeout: float | None = None) -> Writer:
    """Open (creating and migrating if needed) the store file `name.path` for writing."""
    if busy_timeout is None:
        busy_timeout = BUSY_TIMEOUT
    name = StoreName.parse(name)
    assert name.path is not None
    path = name.path
    files.refuse_memory(path)
    if path.is_dir():
        raise InputError("is a directory, not a store file", file=str(path), hint="pass --db FILE")
    if not path.parent.is_dir():
        raise InputError(
            f"cannot create the store: directory {quoted(str(path.parent))} does not exist",
            file=str(path),
            hint="create the directory or pass another --db",
        )
    created = not path.exists()
    files.check_access(path, writing=True)
    with store_errors(path, busy_timeout):
        con = sqlite3.connect(
            files.file_uri(path), uri=True, isolation_level=None, timeout=busy_timeout
        )
    writer = Writer(con, path, busy_timeout)
    writer.created = created
    try:
        writer._prepare()
    except BaseException:
        con.close()
        if created:
            files.discard_unmade(path)  # a store that could not be made leaves no file
        raise
    return writer


@contextmanager
def store_errors(path: Path, busy_timeout: float) -> Iterator[None]:
    """Turn sqlite3 errors into one-line StoreErrors that name the file."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(exc, path, busy_timeout) from None


def store_error(exc: sqlite3.Error, path: Path, busy_timeout: float) -> StoreError:
    locked = StoreLockedError(
        f"store is locked by another writer (waited {busy_timeout:g} s)",
        file=str(path),
        hint="try again when the other import or script has finished",
    )
    return schema.sqlite_error(exc, str(path), writing=True, locked=locked)


class Writer:
    """`kpitui.store.api.StoreWriter` on a SQLite file. Use as a context manager; see
    `open_writer`."""

    def __init__(self, con: sqlite3.Connection, path: Path, busy_timeout: float) -> None:
        self._con = con
        self.file = path
        self.name = StoreName(path=path)
        self.path = str(path)
        self.created = False
        self.busy_timeout = busy_timeout
        self._series: dict[tuple[str, str], int] = {}

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def discard_if_unused(self) -> None:
        """Close, and delete the store this writer created when nothing is in it (a
        failed first import leaves no trace) — unless another writer (a second import
        started at the same moment) has it open or committed into it since: deleting it
        then would lose that writer's points. SQLite removes the -wal file when the last
        connection closes, so one left behind means the store is still open elsewhere."""
        self.close()
        path = self.file
        if not self.created:
            return
        wal, shm = (path.with_name(path.name + s) for s in ("-wal", "-shm"))
        if not path.exists() or wal.exists():
            return
        try:
            with closing(sqlite3.connect(files.file_uri(path), uri=True)) as con:
                used = con.execute("SELECT 1 FROM series LIMIT 1").fetchone() is not None
        except sqlite3.Error:
            return  # keep what cannot be read
        if not used:
            for leftover in (path, wal, shm):
                leftover.unlink(missing_ok=True)

    def _prepare(self) -> None:
        """WAL mode, pragmas, and the schema migrated forward.

        Two writers creating the same new store at once can make SQLite answer BUSY
        without waiting (it refuses to wait when waiting could deadlock, e.g. while
        switching to WAL), so setup is retried until the busy timeout.
        """
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                with store_errors(self.file, self.busy_timeout):
                    self._setup()
                return
            except StoreLockedError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _setup(self) -> None:
        con = self._con
        # Reading the journal mode reads the header: a non-SQLite file fails here.
        if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            schema.read_version(con, self.path)  # refuse foreign/newer stores first
            con.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: commits are atomic and cheap; a power cut may lose the last ones.
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA cache_size = -65536")
        con.execute("PRAGMA temp_store = MEMORY")
        if schema.read_version(con, self.path) < schema.SCHEMA_VERSION or not schema.marked(con):
            con.execute("BEGIN IMMEDIATE")
            try:
                schema.migrate(con, self.path)  # re-reads the version under the lock
                con.execute("COMMIT")
            except BaseException:
                schema.end_quietly(con)
                raise

    # -- batches ---------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """One transaction: everything added to the batch is committed together, or,
        on any error, nothing is."""
        with store_errors(self.file, self.busy_timeout):
            self._con.execute("BEGIN IMMEDIATE")
        batch = Batch(self)
        try:
            yield batch
            with store_errors(self.file, self.busy_timeout):
                if batch._dirty:
                    _refresh_rollups(self._con, batch._dirty, batch._counts)
                    _log_writes(self._con, batch._dirty)
                elif batch._other:
                    _log_writes(self._con, {0: [0, 0]})
                self._con.execute("COMMIT")
        except BaseException as exc:
            schema.end_quietly(self._con)
            for key in batch._created:
                self._series.pop(key, None)
            if isinstance(exc, sqlite3.Error):
                raise store_error(exc, self.file, self.busy_timeout) from None
            raise

    def write_points(self, points: Iterable[tuple[str, Mapping[str, str], int, float]]) -> int:
        """Upsert (metric, labels, ts, value) points in one transaction; returns how many.

        Raises InputError naming the point (1-based) when one is invalid; nothing is
        written then.
        """
        with self.batch() as batch:
            ids: list[int] = []
            times: list[int] = []
            values: list[float] = []
            for index, point in enumerate(points, 1):
                try:
                    metric, labels, ts, value = point
                except (TypeError, ValueError):
                    raise InputError(
                        f"point {index}: expected (metric, labels, time, value)"
                    ) from None
                ids.append(batch.series_id(*checked_series(metric, labels, f"point {index}")))
                times.append(checked_ts(ts, f"point {index}"))
                values.append(checked_value(value, f"point {index}"))
                if len(ids) >= _CHUNK:
                    batch.add(ids, times, values)
                    ids, times, values = [], [], []
            batch.add(ids, times, values)
        return batch.points

    def write_checkin(
        self,
        kr_id: str,
        ts: int,
        value: float,
        confidence: str | None = None,
        note: str | None = None,
    ) -> int:
        """Record (or replace, same KR and time) a manual key-result check-in; its id."""
        row = checked_checkin(kr_id, ts, value, confidence, note)
        with self.batch() as batch:
            batch._other = True
            return self._con.execute(
                "INSERT INTO checkins (kr_id, ts, value, confidence, note) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (kr_id, ts) DO UPDATE SET value = excluded.value,"
                " confidence = excluded.confidence, note = excluded.note RETURNING id",
                row,
            ).fetchone()[0]

    def delete_checkin(self, checkin_id: int) -> bool:
        return self._delete("checkins", checkin_id)

    def write_annotation(
        self,
        ts: int,
        text: str,
        metrics: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
    ) -> int:
        at, body, names, clean = checked_annotation(ts, text, metrics, labels)
        with self.batch() as batch:
            batch._other = True
            return self._con.execute(
                "INSERT INTO annotations (ts, text, metrics, labels) VALUES (?, ?, ?, ?)"
                " RETURNING id",
                (at, body, json.dumps(list(names), ensure_ascii=False), canonical_labels(clean)),
            ).fetchone()[0]

    def delete_annotation(self, annotation_id: int) -> bool:
        return self._delete("annotations", annotation_id)

    def write_alert_events(self, events: Iterable[AlertEvent]) -> list[int]:
        rows = [checked_event(e) for e in events]
        ids = []
        with self.batch() as batch:
            batch._other = bool(rows)
            for row in rows:
                self._con.execute(
                    "INSERT INTO alert_events (ts, subject_kind, subject_id, title, from_state,"
                    " to_state, value, display, delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (subject_kind, subject_id, ts, to_state) DO NOTHING",
                    row,
                )
                ids.append(
                    self._con.execute(
                        "SELECT id FROM alert_events WHERE subject_kind = ? AND subject_id = ?"
                        " AND ts = ? AND to_state = ?",
                        (row[1], row[2], row[0], row[5]),
                    ).fetchone()[0]
                )
        return ids

    def mark_delivered(self, event_id: int, target: str) -> None:
        target = checked_text(target, "the delivery target")
        with self.batch() as batch:
            batch._other = True
            found = self._con.execute(
                "SELECT delivered FROM alert_events WHERE id = ?", (event_id,)
            ).fetchone()
            if found is None:
                raise InputError(f"no alert event {event_id}")
            delivered = json.loads(found[0])
            if target not in delivered:
                self._con.execute(
                    "UPDATE alert_events SET delivered = ? WHERE id = ?",
                    (json.dumps([*delivered, target], ensure_ascii=False), event_id),
                )

    def set_pull_state(self, state: PullState) -> None:
        row = checked_pull_state(state)
        with self.batch() as batch:
            batch._other = True
            self._con.execute(
                "INSERT INTO pull_state (pull_id, last_success, last_error_at, last_error,"
                " high_water) VALUES (?, ?, ?, ?, ?) ON CONFLICT (pull_id) DO UPDATE SET"
                " last_success = excluded.last_success, last_error_at = excluded.last_error_at,"
                " last_error = excluded.last_error, high_water = excluded.high_water",
                row,
            )

    # -- housekeeping (see `housekeeping`) ---------------------------------------------

    def delete_points(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        lo: int | None,
        hi: int | None,
        *,
        dry_run: bool = False,
    ) -> Removal:
        metric, clean = checked_series(metric, labels, "delete")
        return self._housekeeping(
            lambda con: housekeeping.delete_points(con, metric, clean, lo, hi, dry_run)
        )

    def rename_metric(self, old: str, new: str, *, dry_run: bool = False) -> Removal:
        old, _ = checked_series(old, None, "rename")
        new, _ = checked_series(new, None, "rename")
        return self._housekeeping(lambda con: housekeeping.rename_metric(con, old, new, dry_run))

    def prune(self, older_than: int, *, dry_run: bool = False) -> Removal:
        cutoff = min(max(operator.index(older_than), MIN_TS), MAX_TS)
        return self._housekeeping(lambda con: housekeeping.prune(con, cutoff, dry_run))

    def _housekeeping(self, work: Callable[[sqlite3.Connection], Removal]) -> Removal:
        try:
            with self.batch() as batch:
                batch._other = True  # trims the write log the work appended to
                return work(self._con)
        finally:
            self._series.clear()  # ids of deleted series must not be handed out again

    def _delete(self, table: str, row_id: int) -> bool:
        with self.batch() as batch:
            batch._other = True
            cursor = self._con.execute(f"DELETE FROM {table} WHERE id = ?", (int(row_id),))
            return cursor.rowcount > 0


class Batch:
    """Points added inside one `Writer.batch()` transaction.

    `add` takes columns already checked by the caller (the importers check them with
    their line numbers); `series_id` finds or creates a series.
    """

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._con = writer._con
        self._dirty: dict[int, list[int]] = {}
        self._counts: Counter[int] = Counter()
        """Points given to `add` per series."""
        self._other = False  # wrote a check-in, annotation, alert event or pull state
        self._created: list[tuple[str, str]] = []
        self.points = 0
        """Points given to `add`."""
        self.changed = 0
        """Points that were new or had a different value."""
        self.series: set[int] = set()
        """Series the points went to."""

    def series_id(self, metric: str, labels: Mapping[str, str] | None = None) -> int:
        key = (metric, canonical_labels(labels))
        found = self._writer._series.get(key)
        if found is not None:
            return found
        try:
            row = self._con.execute(
                "SELECT id FROM series WHERE metric = ? AND labels = ?", key
            ).fetchone()
        except UnicodeEncodeError:
            # The callers check text where they can name its place; this is the last guard
            # against a lone surrogate, which SQLite cannot store.
            raise InputError(f"{quoted(key)} is not UTF-8 text", hint=TEXT_HINT) from None
        if row is None:
            row = (
                self._con.execute(
                    "INSERT INTO series (metric, labels) VALUES (?, ?)", key
                ).lastrowid,
            )
            self._created.append(key)
        self._writer._series[key] = row[0]
        return row[0]

    def add(
        self, series: int | Sequence[int], times: Sequence[int], values: Sequence[float]
    ) -> None:
        """Upsert points: `series` is one id for all of them, or one id per point."""
        n = len(times)
        if not n:
            return
        if isinstance(series, int):
            ids: Sequence[int] = [series] * n
        elif n > 1 and not _ascending(series):
            # Points of many series interleaved (a file sorted by time): a stable sort by
            # series turns inserts all over the b-tree into short appends per series.
            order = itemgetter(*sorted(range(n), key=series.__getitem__))
            ids, times, values = order(series), order(times), order(values)
        else:
            ids = series
        flat: list[object] = [None] * (3 * n)
        flat[0::3] = ids
        flat[1::3] = times
        flat[2::3] = values
        full = n - n % _ROWS_PER_STATEMENT
        before = self._con.total_changes
        if full:
            # zip over one iterator repeated: tuples of 200 consecutive points, no copies;
            # the partial group at the end is dropped (the single-row statement takes it).
            groups = zip(*[iter(flat)] * (3 * _ROWS_PER_STATEMENT), strict=False)
            self._con.executemany(_INSERT_MANY, groups)
        if full < n:
            self._con.executemany(
                _INSERT_ONE, zip(ids[full:], times[full:], values[full:], strict=True)
            )
        changed = self._con.total_changes - before
        if isinstance(series, int):
            touched = {series}
            self._counts[series] += n
        else:
            counts = Counter(ids)
            touched = set(counts)
            self._counts.update(counts)
        self.points += n
        self.changed += changed
        self.series |= touched
        if changed:
            lo, hi = min(times), max(times)
            for sid in touched:
                span = self._dirty.get(sid)
                if span is None:
                    self._dirty[sid] = [lo, hi]
                else:
                    span[0] = min(span[0], lo)
                    span[1] = max(span[1], hi)


def _ascending(ids: Sequence[int]) -> bool:
    return all(map(operator.le, ids, islice(ids, 1, None)))


# -- the write log ---------------------------------------------------------------------

_LOG_WRITE = "INSERT INTO write_log (series_id, lo, hi) VALUES (?, ?, ?)"
# Ids only grow, so the newest WRITE_LOG_ROWS rows are those above max(id) - that many.
_LOG_TRIM = "DELETE FROM write_log WHERE id <= (SELECT max(id) FROM write_log) - ?"


def _log_writes(con: sqlite3.Connection, dirty: Mapping[int, list[int]]) -> None:
    """Record which series this batch changed and the time span it wrote (see
    `schema`: readers use it to keep what did not change across refreshes)."""
    con.executemany(_LOG_WRITE, ((sid, lo, hi) for sid, (lo, hi) in sorted(dirty.items())))
    con.execute(_LOG_TRIM, (schema.WRITE_LOG_ROWS,))


# -- rollups --------------------------------------------------------------------------

_REFRESH_HOURS = f"""
INSERT OR REPLACE INTO rollup_hour (series_id, bucket, n, total, vmin, vmax)
SELECT d.series_id, d.bucket, count(*), sum(p.value), min(p.value), max(p.value)
FROM temp.kpitui_dirty d CROSS JOIN points p
  ON p.series_id = d.series_id AND p.ts >= d.bucket AND p.ts < d.bucket + {HOUR}
GROUP BY d.series_id, d.bucket
"""
_REFRESH_DAYS = f"""
INSERT OR REPLACE INTO rollup_day (series_id, bucket, n, total, vmin, vmax)
SELECT d.series_id, d.bucket, sum(h.n), sum(h.total), min(h.vmin), max(h.vmax)
FROM temp.kpitui_dirty d CROSS JOIN rollup_hour h
  ON h.series_id = d.series_id AND h.bucket >= d.bucket AND h.bucket < d.bucket + {DAY}
GROUP BY d.series_id, d.bucket
"""
_SPARSE_HOURS = f"""
INSERT OR REPLACE INTO rollup_hour (series_id, bucket, n, total, vmin, vmax)
SELECT series_id, {schema.sql_floor("ts", HOUR)} AS b, count(*), sum(value), min(value), max(value)
FROM points WHERE series_id = ? AND ts >= ? AND ts < ? GROUP BY b
"""
_SPARSE_DAYS = f"""
INSERT OR REPLACE INTO rollup_day (series_id, bucket, n, total, vmin, vmax)
SELECT series_id, {schema.sql_floor("bucket", DAY)} AS b, sum(n), sum(total), min(vmin), max(vmax)
FROM rollup_hour WHERE series_id = ? AND bucket >= ? AND bucket < ? GROUP BY b
"""


def _refresh_rollups(
    con: sqlite3.Connection, dirty: Mapping[int, list[int]], counts: Mapping[int, int]
) -> None:
    """Recompute the hour and day rollups of every bucket the batch touched.

    Per series, the cheaper of two plans: probe every hour of the span written (a few
    points or more an hour), or group the points the span holds by hour (sparser: a point
    an hour, or one every few hours over a year, where most hours of the span are empty).
    """
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS kpitui_dirty ("
        " series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,"
        " PRIMARY KEY (series_id, bucket)) WITHOUT ROWID"
    )
    dense = {}
    for sid, (lo, hi) in dirty.items():
        first, last = floor_to(lo, HOUR), floor_to(hi, HOUR)
        wanted = _DENSE_POINTS_PER_HOUR * ((last - first) // HOUR + 1) - counts.get(sid, 0)
        if wanted <= 0 or not _sparse(con, sid, lo, hi, wanted):
            dense[sid] = (first, last)
            continue
        day_first, day_last = floor_to(lo, DAY), floor_to(hi, DAY)
        con.execute(_SPARSE_HOURS, (sid, first, last + HOUR))
        con.execute(_SPARSE_DAYS, (sid, day_first, day_last + DAY))
    for size, refresh in ((HOUR, _REFRESH_HOURS), (DAY, _REFRESH_DAYS)):
        con.execute("DELETE FROM temp.kpitui_dirty")
        for sid, (first, last) in dense.items():
            buckets = range(floor_to(first, size), last + 1, size)
            _insert_pairs(con, "temp.kpitui_dirty", sid, buckets)
        con.execute(refresh)
    con.execute("DELETE FROM temp.kpitui_dirty")


def _sparse(con: sqlite3.Connection, sid: int, lo: int, hi: int, fewer_than: int) -> bool:
    """Whether series `sid` held fewer than `fewer_than` points in [lo, hi] before this
    batch (its rollups are still those of before: they are refreshed after this question)."""
    (held,) = con.execute(
        "SELECT coalesce(sum(n), 0) FROM rollup_day WHERE series_id = ? AND bucket >= ?"
        " AND bucket <= ?",
        (sid, floor_to(lo, DAY), hi),
    ).fetchone()
    return held < fewer_than


def _insert_pairs(con: sqlite3.Connection, table: str, sid: int, buckets: range) -> None:
    n = len(buckets)
    per = _ROWS_PER_STATEMENT
    flat: list[int] = [sid] * (2 * n)
    flat[1::2] = buckets
    full = n - n % per
    if full:
        many = f"INSERT INTO {table} VALUES " + ", ".join(["(?, ?)"] * per)
        con.executemany(many, zip(*[iter(flat)] * (2 * per), strict=False))
    if full < n:
        con.executemany(
            f"INSERT INTO {table} VALUES (?, ?)", zip(repeat(sid), buckets[full:], strict=False)
        )
