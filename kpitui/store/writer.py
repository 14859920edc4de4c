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

import math
import operator
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path

from kpitui.errors import InputError, StoreError, StoreLockedError
from kpitui.store import schema
from kpitui.store.schema import DAY, HOUR
from kpitui.store.times import TimeProblem, point_time

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
# Above this many hours per touched series (a few points spread over centuries), group
# the points themselves instead of walking every hour of the range.
_DENSE_HOURS = 200_000


def open_writer(path: str | Path, *, busy_timeout: float | None = None) -> Writer:
    """Open (creating and migrating if needed) the store at `path` for writing."""
    if busy_timeout is None:
        busy_timeout = BUSY_TIMEOUT
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory, not a store file", file=str(path), hint="pass --db FILE")
    if not path.parent.is_dir():
        raise InputError(
            f"cannot create the store: directory {str(path.parent)!r} does not exist",
            file=str(path),
            hint="create the directory or pass another --db",
        )
    with store_errors(path, busy_timeout):
        con = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
    writer = Writer(con, path, busy_timeout)
    try:
        writer._prepare()
    except BaseException:
        con.close()
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
    """A write connection to one store. Use as a context manager; see `open_writer`."""

    def __init__(self, con: sqlite3.Connection, path: Path, busy_timeout: float) -> None:
        self._con = con
        self.path = path
        self.busy_timeout = busy_timeout
        self._series: dict[tuple[str, str], int] = {}

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def _prepare(self) -> None:
        """WAL mode, pragmas, and the schema migrated forward.

        Two writers creating the same new store at once can make SQLite answer BUSY
        without waiting (it refuses to wait when waiting could deadlock, e.g. while
        switching to WAL), so setup is retried until the busy timeout.
        """
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                with store_errors(self.path, self.busy_timeout):
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
            schema.read_version(con, str(self.path))  # refuse foreign/newer stores first
            con.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: commits are atomic and cheap; a power cut may lose the last ones.
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA cache_size = -65536")
        con.execute("PRAGMA temp_store = MEMORY")
        if schema.read_version(con, str(self.path)) < schema.SCHEMA_VERSION:
            con.execute("BEGIN IMMEDIATE")
            try:
                schema.migrate(con, str(self.path))  # re-reads the version under the lock
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # -- batches ---------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """One transaction: everything added to the batch is committed together, or,
        on any error, nothing is."""
        with store_errors(self.path, self.busy_timeout):
            self._con.execute("BEGIN IMMEDIATE")
        batch = Batch(self)
        try:
            yield batch
            with store_errors(self.path, self.busy_timeout):
                if batch._dirty:
                    _refresh_rollups(self._con, batch._dirty, batch.points)
                    _log_writes(self._con, batch._dirty)
                self._con.execute("COMMIT")
        except BaseException as exc:
            if self._con.in_transaction:
                self._con.execute("ROLLBACK")
            for key in batch._created:
                self._series.pop(key, None)
            if isinstance(exc, sqlite3.Error):
                raise store_error(exc, self.path, self.busy_timeout) from None
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
                ids.append(batch.series_id(*_checked_series(metric, labels, f"point {index}")))
                times.append(_checked_ts(ts, f"point {index}"))
                values.append(_checked_value(value, f"point {index}"))
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
    ) -> None:
        """Record (or replace, same KR and time) a manual key-result check-in."""
        if not isinstance(kr_id, str) or not kr_id.strip():
            raise InputError("the key-result id is empty", hint="use the KR id from the spec")
        kr_id = kr_id.strip()
        if not is_text(kr_id):
            raise InputError(f"the key-result id {kr_id!r} is not UTF-8 text", hint=TEXT_HINT)
        if confidence is not None and confidence not in schema.CONFIDENCES:
            raise InputError(
                f"unknown confidence {confidence!r}",
                hint="use one of " + ", ".join(schema.CONFIDENCES),
            )
        if note is not None and not is_text(note):
            raise InputError("the note must be UTF-8 text", hint=TEXT_HINT)
        row = (
            kr_id,
            _checked_ts(ts, "check-in"),
            _checked_value(value, "check-in"),
            confidence,
            note,
        )
        with self.batch():
            self._con.execute(
                "INSERT INTO checkins (kr_id, ts, value, confidence, note) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (kr_id, ts) DO UPDATE SET value = excluded.value,"
                " confidence = excluded.confidence, note = excluded.note",
                row,
            )


class Batch:
    """Points added inside one `Writer.batch()` transaction.

    `add` takes columns already checked by the caller (the importers check them with
    their line numbers); `series_id` finds or creates a series.
    """

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._con = writer._con
        self._dirty: dict[int, list[int]] = {}
        self._created: list[tuple[str, str]] = []
        self.points = 0
        """Points given to `add`."""
        self.changed = 0
        """Points that were new or had a different value."""
        self.series: set[int] = set()
        """Series the points went to."""

    def series_id(self, metric: str, labels: Mapping[str, str] | None = None) -> int:
        key = (metric, schema.canonical_labels(labels))
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
            raise InputError(f"{key!r} is not UTF-8 text", hint=TEXT_HINT) from None
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
        touched = {series} if isinstance(series, int) else set(ids)
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


# -- checks shared with the importers -------------------------------------------------


def _ascending(ids: Sequence[int]) -> bool:
    return all(map(operator.le, ids, islice(ids, 1, None)))


def _checked_series(metric: object, labels: object, where: str) -> tuple[str, dict[str, str]]:
    if isinstance(metric, str):
        metric = metric.strip()  # names and labels lose surrounding spaces in every writer
    if not schema.is_metric_name(metric):
        raise InputError(f"{where}: {metric!r} is not a metric name", hint=METRIC_NAME_HINT)
    if labels is None:
        return metric, {}  # type: ignore[return-value]
    if not isinstance(labels, Mapping):
        raise InputError(f"{where}: labels must be a mapping of names to values")
    clean: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not key.strip():
            raise InputError(f"{where}: label names must be non-empty text")
        if value is None:
            continue
        if not isinstance(value, str):
            raise InputError(f"{where}: label {key!r} must be text, not {value!r}")
        key, value = key.strip(), value.strip()
        if not value:
            continue  # an empty label is no label
        if key in clean:
            raise InputError(f"{where}: label {key!r} is given twice")
        if not is_text(key):
            raise InputError(f"{where}: label name {key!r} is not UTF-8 text", hint=TEXT_HINT)
        if not is_text(value):
            raise InputError(f"{where}: label {key!r}: {value!r} is not UTF-8 text", hint=TEXT_HINT)
        clean[key] = value
    return metric, clean  # type: ignore[return-value]


def _checked_ts(ts: object, where: str) -> int:
    if isinstance(ts, bool):
        raise InputError(f"{where}: {ts!r} is not a time")
    try:
        value = operator.index(ts)  # type: ignore[arg-type]
    except TypeError:
        raise InputError(f"{where}: time must be whole epoch seconds, not {ts!r}") from None
    try:
        return point_time(value)
    except TimeProblem as exc:
        raise InputError(f"{where}: {exc.message}", hint=exc.hint) from None


def _checked_value(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: {value!r} is not a number", hint=NUMBER_HINT)
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"{where}: {value!r} is not a finite number", hint=FINITE_HINT)
    return number


def is_text(value: object) -> bool:
    """A str SQLite can store. Lone surrogates are not: the bytes of an argument that
    was not UTF-8 (kept by Python as U+DC80..U+DCFF), or a JSON escape like "\\ud800"."""
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


NUMBER_HINT = "write a plain number like 1234.5: no units, currency signs or thousands separators"
TEXT_HINT = "write it in UTF-8: a lone surrogate or bytes in another encoding cannot be stored"
METRIC_NAME_HINT = "a metric name starts with a letter or _ and holds letters, digits, _ . : -"
FINITE_HINT = "values must be finite numbers: no NaN or infinity"


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


def _refresh_rollups(con: sqlite3.Connection, dirty: Mapping[int, list[int]], points: int) -> None:
    """Recompute the hour and day rollups of every bucket the batch touched."""
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS kpitui_dirty ("
        " series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,"
        " PRIMARY KEY (series_id, bucket)) WITHOUT ROWID"
    )
    limit = max(_DENSE_HOURS, 2 * points)
    dense = {}
    for sid, (lo, hi) in dirty.items():
        first, last = schema.floor_to(lo, HOUR), schema.floor_to(hi, HOUR)
        if (last - first) // HOUR < limit:
            dense[sid] = (first, last)
            continue
        day_first, day_last = schema.floor_to(lo, DAY), schema.floor_to(hi, DAY)
        con.execute(_SPARSE_HOURS, (sid, first, last + HOUR))
        con.execute(_SPARSE_DAYS, (sid, day_first, day_last + DAY))
    for size, refresh in ((HOUR, _REFRESH_HOURS), (DAY, _REFRESH_DAYS)):
        con.execute("DELETE FROM temp.kpitui_dirty")
        for sid, (first, last) in dense.items():
            buckets = range(schema.floor_to(first, size), last + 1, size)
            _insert_pairs(con, "temp.kpitui_dirty", sid, buckets)
        con.execute(refresh)
    con.execute("DELETE FROM temp.kpitui_dirty")


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
