"""Writing into a PostgreSQL store: points through COPY, upserts, rollups, the write log.

A batch is one transaction. Its chunks of points are packed into PostgreSQL's binary
COPY format a column at a time (`pack_rows`) and streamed into `points` as one COPY of
up to `_SEGMENT_POINTS` inside a savepoint (`_Segment`): the server inserts a chunk
while the client parses the next. New points, the common case of an import, cost
nothing more. A segment holding a point already stored (or one point twice) breaks the
key; its kept rows are then COPYed into a temporary table and upserted with `ON CONFLICT
… DO UPDATE … WHERE value IS DISTINCT FROM`, so re-importing a file writes nothing new,
and the rest of the batch is tried a chunk at a time.

The hour rollups of new points that arrive in time order per series are summed by the
writer as they stream by (`_HourSums`, in the server's order and float arithmetic) and
staged; everything else — a series out of order or upserted — is recomputed by the
server from the points. At commit, in the same transaction:

- the series the batch changed are locked (`FOR NO KEY UPDATE`, in id order, so two
  writers never wait on each other in a circle); staged hours that already had a rollup
  (points committed before, by anyone: a writer that committed meanwhile is waited for,
  then included, never overwritten) are recomputed from every point, the others
  inserted; day rollups are recomputed from the hours;
- one `write_log` row per series changed (series 0 for the other tables) records the
  span written, with this transaction's id;
- `NOTIFY kpitui_changes` tells every listening board, when the transaction commits.

Waiting more than `lock_timeout` (5 s) for another writer is "store is locked"; every
psycopg error becomes a StoreError (see `connect`).
"""

from __future__ import annotations

import json
import operator
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from functools import reduce
from itertools import groupby

import psycopg

from kpitui.errors import InputError, StoreError
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
from kpitui.store.postgres import housekeeping, schema
from kpitui.store.postgres.connect import CHANNEL, INIT_HINT, connect, store_error

_CHUNK = 50_000
# PostgreSQL's binary COPY: a header, then per row the field count and each field's
# length and big-endian value, then -1.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_SORT_IN_MEMORY = 200_000
_SEGMENT_POINTS = 500_000  # points COPYed in one stream (their rows kept for a retry)
_HOUR_ROWS_FLUSH = 20_000
# Below this many points a batch's hours are left to the server: staging them would
# cost a small batch (a `record`, a sync pull) more round trips than it saves.
SMALL_BATCH = 256  # hour rollups summed here, COPYed to the server this many at a time
_POINT_FIELDS = "iqd"  # series_id int4, ts int8, value float8
_HOUR_FIELDS = "iqqddd"  # series_id, bucket, n, total, vmin, vmax
_WIDTH = {"i": 4, "q": 8, "d": 8}


def pack_rows(fields: str, columns: Sequence[Sequence[float] | int | float]) -> bytearray:
    """Rows of binary COPY, column by column: each column (a sequence, or one number for
    every row) becomes a big-endian array in C and is spread into the rows' slots by
    strided slice assignments, a few per column. Building the rows one by one in Python
    (or one `struct` call over a flat list of every field) cost more than the server's
    work of inserting them."""
    count = next(len(c) for c in columns if not isinstance(c, int | float))
    template = struct.pack(">h", len(fields))
    slots = []
    for code, column in zip(fields, columns, strict=True):
        width = _WIDTH[code]
        template += struct.pack(">i", width)
        slots.append(len(template))
        constant = column if isinstance(column, int | float) else 0
        template += struct.pack(">" + code, constant)
    size = len(template)
    rows = bytearray(template * count)
    for code, column, slot in zip(fields, columns, slots, strict=True):
        if isinstance(column, int | float):
            continue  # already in the template
        width = _WIDTH[code]
        values = array(code, column)
        if sys.byteorder == "little":
            values.byteswap()
        data = values.tobytes()
        for byte in range(width):
            rows[slot + byte :: size] = data[byte::width]
    return rows


_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS kpitui_incoming (seq bigint GENERATED ALWAYS AS"
    " IDENTITY, series_id integer, ts bigint, value double precision)"
    " ON COMMIT DELETE ROWS;"
    " CREATE TEMP TABLE IF NOT EXISTS kpitui_hours (series_id integer, bucket bigint,"
    " n bigint, total double precision, vmin double precision, vmax double precision)"
    " ON COMMIT DELETE ROWS"
)
# The last of several points at one (series, time) wins, as in SQLite.
_UPSERT = """
INSERT INTO points (series_id, ts, value)
SELECT DISTINCT ON (series_id, ts) series_id, ts, value
FROM kpitui_incoming ORDER BY series_id, ts, seq DESC
ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value
WHERE points.value IS DISTINCT FROM excluded.value
"""
# Sums run in key order, as SQLite's do, so both backends add the same floats in the
# same order and give the same totals.
_REFRESH_HOURS = f"""
INSERT INTO rollup_hour (series_id, bucket, n, total, vmin, vmax)
SELECT p.series_id, p.ts - ((p.ts %% {HOUR}) + {HOUR}) %% {HOUR} AS b, count(*),
       sum(p.value ORDER BY p.ts), min(p.value), max(p.value)
FROM unnest(%s::integer[], %s::bigint[], %s::bigint[]) AS d(sid, a, z)
JOIN points p ON p.series_id = d.sid AND p.ts >= d.a AND p.ts < d.z
GROUP BY p.series_id, b
ON CONFLICT (series_id, bucket) DO UPDATE SET n = excluded.n, total = excluded.total,
  vmin = excluded.vmin, vmax = excluded.vmax
"""
# Hours summed by the writer from the batch's new points (see `_HourSums`). One that
# already had a rollup held points committed before, by anyone: it is taken out of the
# staged hours and recomputed from every point. The rest are new rows, inserted without
# ON CONFLICT (twice the server's work per row): the series' row locks, held, keep any
# other writer from adding rollups to these series until this batch commits.
_EXISTING_HOURS = """
SELECT r.series_id, r.bucket FROM unnest(%s::integer[], %s::bigint[], %s::bigint[]) AS d(sid, a, z)
JOIN rollup_hour r ON r.series_id = d.sid AND r.bucket >= d.a AND r.bucket < d.z
"""
_UNSTAGE_HOURS = """
DELETE FROM kpitui_hours k USING unnest(%s::integer[], %s::bigint[]) AS e(sid, b)
WHERE k.series_id = e.sid AND k.bucket = e.b RETURNING k.series_id, k.bucket
"""
_INSERT_HOURS = """
INSERT INTO rollup_hour (series_id, bucket, n, total, vmin, vmax)
SELECT series_id, bucket, n, total, vmin, vmax FROM kpitui_hours
WHERE series_id <> ALL(%s::integer[])
"""
_REFRESH_DAYS = f"""
INSERT INTO rollup_day (series_id, bucket, n, total, vmin, vmax)
SELECT h.series_id, h.bucket - ((h.bucket %% {DAY}) + {DAY}) %% {DAY} AS b, sum(h.n),
       sum(h.total ORDER BY h.bucket), min(h.vmin), max(h.vmax)
FROM unnest(%s::integer[], %s::bigint[], %s::bigint[]) AS d(sid, a, z)
JOIN rollup_hour h ON h.series_id = d.sid AND h.bucket >= d.a AND h.bucket < d.z
GROUP BY h.series_id, b
ON CONFLICT (series_id, bucket) DO UPDATE SET n = excluded.n, total = excluded.total,
  vmin = excluded.vmin, vmax = excluded.vmax
"""


def open_writer(name: StoreName, *, busy_timeout: float | None = None) -> PgWriter:
    """Connect, and create or migrate the schema (a role that may not: one line)."""
    con = connect(name, reading=False, lock_timeout=busy_timeout)
    writer = PgWriter(con, name, busy_timeout)
    try:
        writer._prepare()
    except BaseException:
        con.close()
        raise
    return writer


class PgWriter:
    """`kpitui.store.api.StoreWriter` on a PostgreSQL database."""

    def __init__(
        self, con: psycopg.Connection, name: StoreName, busy_timeout: float | None = None
    ) -> None:
        self._con = con
        self.busy_timeout = busy_timeout
        self.name = name
        self.path = name.display
        self.created = False
        self._series: dict[tuple[str, str], int] = {}

    def __enter__(self) -> PgWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def discard_if_unused(self) -> None:
        self.close()  # a database is not removed: its schema stays for the next try

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise store_error(exc, self.name, writing=True, waited=self.busy_timeout) from None

    def _prepare(self) -> None:
        with self._errors():
            try:
                with self._con.transaction():
                    self.created = schema.migrate(self._con, self.path)
            except psycopg.errors.InsufficientPrivilege:
                raise StoreError(
                    "this role may not create or migrate the store's tables",
                    file=self.path,
                    hint=INIT_HINT,
                ) from None
            self._con.execute(_STAGING)

    # -- batches ---------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[PgBatch]:
        """One transaction: everything added is committed together, or nothing is."""
        batch = PgBatch(self)
        try:
            with self._errors(), self._con.transaction():
                try:
                    yield batch
                    batch._finish()
                except BaseException as exc:
                    batch._abandon(exc)
                    raise
        except BaseException:
            for key in batch._created:
                self._series.pop(key, None)
            raise

    def write_points(self, points: Iterable[tuple[str, Mapping[str, str], int, float]]) -> int:
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
        row = checked_checkin(kr_id, ts, value, confidence, note)
        with self.batch() as batch:
            batch._other = True
            found = self._con.execute(
                "INSERT INTO checkins (kr_id, ts, value, confidence, note)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (kr_id, ts) DO UPDATE SET"
                " value = excluded.value, confidence = excluded.confidence,"
                " note = excluded.note RETURNING id",
                row,
            ).fetchone()
        assert found is not None
        return found[0]

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
            found = self._con.execute(
                "INSERT INTO annotations (ts, text, metrics, labels) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (at, body, json.dumps(list(names), ensure_ascii=False), canonical_labels(clean)),
            ).fetchone()
        assert found is not None
        return found[0]

    def delete_annotation(self, annotation_id: int) -> bool:
        return self._delete("annotations", annotation_id)

    def write_alert_events(self, events: Iterable[AlertEvent]) -> list[int]:
        rows = [checked_event(e) for e in events]
        ids: list[int] = []
        with self.batch() as batch:
            batch._other = bool(rows)
            for row in rows:
                self._con.execute(
                    "INSERT INTO alert_events (ts, subject_kind, subject_id, title, from_state,"
                    " to_state, value, display, delivered)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (subject_kind, subject_id, ts, to_state) DO NOTHING",
                    row,
                )
                found = self._con.execute(
                    "SELECT id FROM alert_events WHERE subject_kind = %s AND subject_id = %s"
                    " AND ts = %s AND to_state = %s",
                    (row[1], row[2], row[0], row[5]),
                ).fetchone()
                assert found is not None
                ids.append(found[0])
        return ids

    def mark_delivered(self, event_id: int, target: str) -> None:
        target = checked_text(target, "the delivery target")
        with self.batch() as batch:
            batch._other = True
            found = self._con.execute(
                "SELECT delivered FROM alert_events WHERE id = %s FOR UPDATE", (event_id,)
            ).fetchone()
            if found is None:
                raise InputError(f"no alert event {event_id}")
            delivered = json.loads(found[0])
            if target not in delivered:
                self._con.execute(
                    "UPDATE alert_events SET delivered = %s WHERE id = %s",
                    (json.dumps([*delivered, target], ensure_ascii=False), event_id),
                )

    def set_pull_state(self, state: PullState) -> None:
        row = checked_pull_state(state)
        with self.batch() as batch:
            batch._other = True
            self._con.execute(
                "INSERT INTO pull_state (pull_id, last_success, last_error_at, last_error,"
                " high_water) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (pull_id) DO UPDATE SET"
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

    def _housekeeping(self, work: Callable[[psycopg.Connection], Removal]) -> Removal:
        try:
            with self.batch() as batch:
                batch._other = True  # notifies boards, trims the log the work appended to
                return work(self._con)
        finally:
            self._series.clear()  # ids of deleted series must not be handed out again

    def _delete(self, table: str, row_id: int) -> bool:
        with self.batch() as batch:
            batch._other = True
            cursor = self._con.execute(f"DELETE FROM {table} WHERE id = %s", (int(row_id),))
            return cursor.rowcount > 0


class PgBatch:
    """`kpitui.store.api.WriteBatch` inside one `PgWriter.batch()` transaction."""

    def __init__(self, writer: PgWriter) -> None:
        self._writer = writer
        self._con = writer._con
        self._dirty: dict[int, list[int]] = {}
        self._other = False
        self._created: list[tuple[str, str]] = []
        self._segment: _Segment | None = None
        self._segment_limit = _SEGMENT_POINTS  # 1 (a chunk) after a conflict
        self._hours = _HourSums()
        self.points = 0
        self.changed = 0
        self.series: set[int] = set()

    def series_id(self, metric: str, labels: Mapping[str, str] | None = None) -> int:
        key = (metric, canonical_labels(labels))
        found = self._writer._series.get(key)
        if found is not None:
            return found
        if "\x00" in key[0] + key[1]:
            raise InputError(f"{key!r} holds a NUL character", hint=TEXT_HINT)
        self._end_segment()  # no other statement while a COPY is open
        try:
            row = self._con.execute(
                "SELECT id FROM series WHERE metric = %s AND labels = %s", key
            ).fetchone()
        except UnicodeEncodeError:
            raise InputError(f"{key!r} is not UTF-8 text", hint=TEXT_HINT) from None
        if row is None:
            row = self._con.execute(
                "INSERT INTO series (metric, labels) VALUES (%s, %s)"
                " ON CONFLICT (metric, labels) DO NOTHING RETURNING id",
                key,
            ).fetchone()
            if row is None:  # another writer committed it a moment ago
                row = self._con.execute(
                    "SELECT id FROM series WHERE metric = %s AND labels = %s", key
                ).fetchone()
            self._created.append(key)
        assert row is not None
        self._writer._series[key] = row[0]
        return row[0]

    def add(
        self, series: int | Sequence[int], times: Sequence[int], values: Sequence[float]
    ) -> None:
        """Upsert points: `series` is one id for all of them, or one id per point."""
        n = len(times)
        if not n:
            return
        if not isinstance(series, int) and series.count(series[0]) == n:
            series = series[0]  # one series after the other: the common file
        touched = {series} if isinstance(series, int) else set(series)
        self.points += n
        self.series.update(touched)
        lo, hi = min(times), max(times)
        # Summed before the COPY is known to succeed: a failed one hands its series to
        # the server (`recompute`), whatever was summed.
        self._hours.add(series, times, values)
        self._stream(pack_rows(_POINT_FIELDS, [series, times, values]), touched, lo, hi)

    def _stream(self, rows: bytearray, touched: set[int], lo: int, hi: int) -> None:
        """COPY the rows on in the open segment (see `_Segment`)."""
        segment = self._segment or _Segment(self._con)
        self._segment = segment
        segment.rows.append(rows)
        segment.points += len(rows) // _POINT_ROW_SIZE
        _widen(segment.spans, touched, lo, hi)
        try:
            segment.copy.write(rows)
        except psycopg.Error as exc:
            self._end_segment(exc)
            return
        if segment.points >= self._segment_limit or self._hours.pending >= _HOUR_ROWS_FLUSH:
            self._end_segment()

    def _end_segment(self, error: psycopg.Error | None = None) -> None:
        """Finish the open COPY; when a point in it was already stored (or there twice),
        write its rows through the upsert instead, and try the rest of the batch chunk
        by chunk (a file imported again is likely: each chunk then goes the upsert's way)."""
        segment, self._segment = self._segment, None
        if segment is None:
            return
        try:
            if error is None:
                segment.copy.write(_COPY_TRAILER)
                segment.stack.close()
            else:
                segment.stack.__exit__(type(error), error, error.__traceback__)
                raise error
        except psycopg.errors.UniqueViolation:
            self._segment_limit = 1
            self._hours.recompute(set(segment.spans))  # hours with points from before
            changed = self._upsert(segment.rows)
            self.changed += changed
            if changed:
                for sid, (lo, hi) in segment.spans.items():
                    _widen(self._dirty, {sid}, lo, hi)
            return
        self.changed += segment.points
        for sid, (lo, hi) in segment.spans.items():
            _widen(self._dirty, {sid}, lo, hi)
        if self._hours.pending >= _HOUR_ROWS_FLUSH:
            self._flush_hours()

    def _abandon(self, exc: BaseException) -> None:
        """The batch failed: end an open COPY (the transaction is rolled back)."""
        segment, self._segment = self._segment, None
        if segment is not None:
            with suppress(psycopg.Error):
                segment.stack.__exit__(type(exc), exc, exc.__traceback__)

    def _upsert(self, parts: Sequence[bytearray]) -> int:
        """Upsert packed point rows through the staging table; how many were new or
        changed (the last of several at one series and time wins)."""
        with self._con.cursor().copy(
            "COPY kpitui_incoming (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(_COPY_HEADER)
            for rows in parts:
                copy.write(rows)
            copy.write(_COPY_TRAILER)
        cursor = self._con.cursor()
        changed = cursor.execute(_UPSERT).rowcount
        cursor.execute("TRUNCATE kpitui_incoming")
        return max(changed, 0)

    def _copy_rows(self, table: str, fields: str, *columns: Sequence | int) -> None:
        """COPY rows (columns of equal length, or one number for all rows) into `table`
        in PostgreSQL's binary format (see `pack_rows`)."""
        with self._con.cursor().copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_COPY_HEADER)
            copy.write(pack_rows(fields, columns))
            copy.write(_COPY_TRAILER)

    def _flush_hours(self) -> None:
        """Send the hours summed so far to the server's staging table."""
        columns = self._hours.take()
        if columns:
            self._copy_rows("kpitui_hours", _HOUR_FIELDS, *columns)

    def _insert_hours(self, server: list[int]) -> None:
        """The staged hours into `rollup_hour` (the series are locked); those that had
        a rollup already recomputed from their points."""
        con = self._con
        mine = sorted(self._dirty.keys() - self._hours.server)
        spans = [self._dirty[s] for s in mine]
        existing = con.execute(
            _EXISTING_HOURS,
            (
                mine,
                [floor_to(lo, HOUR) for lo, _ in spans],
                [floor_to(hi, HOUR) + HOUR for _, hi in spans],
            ),
        ).fetchall()
        again: list[tuple[int, int]] = []
        if existing:
            again = con.execute(
                _UNSTAGE_HOURS, ([s for s, _ in existing], [b for _, b in existing])
            ).fetchall()
        con.execute(_INSERT_HOURS, (server,))
        if again:
            con.execute(
                _REFRESH_HOURS,
                ([s for s, _ in again], [b for _, b in again], [b + HOUR for _, b in again]),
            )

    def _finish(self) -> None:
        """Rollups, the write log and the notification, before the commit."""
        self._end_segment()
        con = self._con
        if self._dirty:
            sids = sorted(self._dirty)
            con.execute(
                "SELECT id FROM series WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", (sids,)
            )
            spans = [self._dirty[s] for s in sids]
            if self.points < SMALL_BATCH and not self._hours.sent:
                self._hours.recompute(set(sids))
            self._hours.close_all()
            self._flush_hours()
            server = sorted(self._hours.server & self._dirty.keys())
            if self._hours.sent:
                self._insert_hours(server)
            # A large batch refreshes series by series, so that each sort of its points
            # by hour fits in work_mem instead of spilling all of them to disk.
            step = 1 if self.points > _SORT_IN_MEMORY else max(len(server), 1)
            for i in range(0, len(server), step):
                part = [self._dirty[s] for s in server[i : i + step]]
                hour_a = [floor_to(lo, HOUR) for lo, _ in part]
                hour_z = [floor_to(hi, HOUR) + HOUR for _, hi in part]
                con.execute(_REFRESH_HOURS, (server[i : i + step], hour_a, hour_z))
            day_a = [floor_to(lo, DAY) for lo, _ in spans]
            day_z = [floor_to(hi, DAY) + DAY for _, hi in spans]
            con.execute(_REFRESH_DAYS, (sids, day_a, day_z))
            con.execute(
                "INSERT INTO write_log (series_id, lo, hi)"
                " SELECT * FROM unnest(%s::integer[], %s::bigint[], %s::bigint[])",
                (sids, [lo for lo, _ in spans], [hi for _, hi in spans]),
            )
        elif self._other:
            con.execute("INSERT INTO write_log (series_id, lo, hi) VALUES (0, 0, 0)")
        else:
            return
        _trim_log(con)
        con.execute(f"NOTIFY {CHANNEL}")


_POINT_ROW_SIZE = 2 + 3 * 4 + 4 + 8 + 8  # field count, three lengths, the fields


class _Segment:
    """Chunks COPYed into `points` as one stream inside one savepoint: the server
    inserts a chunk while the client reads the next, where a COPY per chunk had each
    wait for the other. The rows are kept until it ends, for the upsert if it fails."""

    def __init__(self, con: psycopg.Connection) -> None:
        with ExitStack() as stack:  # a failed start leaves neither COPY nor savepoint open
            stack.enter_context(con.transaction())
            self.copy = stack.enter_context(
                con.cursor().copy("COPY points (series_id, ts, value) FROM STDIN (FORMAT BINARY)")
            )
            self.copy.write(_COPY_HEADER)
            self.stack = stack.pop_all()
        self.rows: list[bytearray] = []
        self.points = 0
        self.spans: dict[int, list[int]] = {}


def _widen(spans: dict[int, list[int]], sids: Iterable[int], lo: int, hi: int) -> None:
    for sid in sids:
        span = spans.get(sid)
        if span is None:
            spans[sid] = [lo, hi]
        else:
            span[0] = min(span[0], lo)
            span[1] = max(span[1], hi)


class _HourSums:
    """The hour rollups of a batch's new points, summed here as the points stream by.

    A series whose points arrive in ascending time (a file sorted by time, or series
    after series) has each hour summed in time order, as the server's `sum(value ORDER
    BY ts)` adds them, and min/max kept as PostgreSQL's `min`/`max` keep them (a later
    equal value wins: 0.0 and -0.0); an hour is sent once the series has moved past it.
    A series with points out of order, or written through the upsert (points that were
    there before), is left to the server (`recompute`): its rollups are recomputed from
    every point of its span, as before. So is any hour that already had a rollup when the
    batch commits (see `_INSERT_HOURS`)."""

    def __init__(self) -> None:
        # series -> [bucket, n, total, vmin, vmax, last time] of the hour it is in
        self._open: dict[int, list] = {}
        self._closed: list[tuple] = []  # (series, bucket, n, total, vmin, vmax)
        self.server: set[int] = set()
        self.sent = False

    @property
    def pending(self) -> int:
        return len(self._closed)

    def recompute(self, sids: set[int]) -> None:
        self.server |= sids
        for sid in sids:
            self._open.pop(sid, None)

    def add(
        self, series: int | Sequence[int], times: Sequence[int], values: Sequence[float]
    ) -> None:
        if isinstance(series, int):
            self._add_one(series, times, values)
            return
        # Series interleaved (a file sorted by time): split them, keeping each one's order.
        order = sorted(range(len(times)), key=series.__getitem__)
        for sid, group in groupby(order, key=series.__getitem__):
            rows = list(group)
            self._add_one(sid, [times[i] for i in rows], [values[i] for i in rows])

    def _add_one(self, sid: int, times: Sequence[int], values: Sequence[float]) -> None:
        if sid in self.server:
            return
        cur = self._open.get(sid)
        # Sorted is enough: a chunk that reached here was COPYed whole, so no time in
        # it is there twice (the key would have refused it).
        if (cur is not None and times[0] <= cur[5]) or times != sorted(times):
            self.recompute({sid})
            return
        closed = self._closed
        i, count = 0, len(times)
        first = times[0] - times[0] % HOUR
        if cur is not None:
            if cur[0] == first:  # the chunk goes on with the hour the last one ended in
                i = bisect_left(times, first + HOUR)
                part = values[:i]
                low, high = _lowest(part), _highest(part)
                cur[1] += i
                cur[2] = _ordered_sum(part, cur[2])
                if not cur[3] < low:
                    cur[3] = low
                if not cur[4] > high:
                    cur[4] = high
            closed.append((sid, *cur[:5]))
        while i < count:
            t = times[i]
            bucket = t - t % HOUR
            j = bisect_left(times, bucket + HOUR, i)
            if j - i == 1:
                value = values[i]
                closed.append((sid, bucket, 1, -0.0 + value, value, value))
            else:
                part = values[i:j]
                # -0.0 + v is v for every float v (and a float for an int one)
                total = _ordered_sum(part, -0.0)
                closed.append((sid, bucket, j - i, total, _lowest(part), _highest(part)))
            i = j
        # The chunk's last hour stays open: the next chunk may go on with it.
        self._open[sid] = [*closed.pop()[1:], times[-1]]

    def close_all(self) -> None:
        self._closed += [(sid, *hour[:5]) for sid, hour in self._open.items()]
        self._open.clear()

    def take(self) -> list[tuple]:
        """The closed hours as columns (none: an empty list)."""
        rows, self._closed = self._closed, []
        self.sent = self.sent or bool(rows)
        return list(zip(*rows, strict=True))


if sys.version_info < (3, 12):
    # sum() of floats adds them one after the other in a C double, in order, as the
    # server's float8 sum does; from 3.12 on it compensates (Neumaier), so it would not.
    _ordered_sum = sum
else:

    def _ordered_sum(values: Sequence[float], start: float) -> float:
        return reduce(operator.add, values, start)


def _lowest(values: Sequence[float]) -> float:
    """min() as PostgreSQL's: of equal values (0.0 and -0.0) the last one."""
    low = min(values)
    return low if low else min(reversed(values))


def _highest(values: Sequence[float]) -> float:
    high = max(values)
    return high if high else max(reversed(values))


def _trim_log(con: psycopg.Connection) -> None:
    """Cut the log to its newest WRITE_LOG_ROWS rows once it holds twice that many (so
    writers rarely touch `meta`, the one row they would all wait on)."""
    low, high = con.execute("SELECT min(id), max(id) FROM write_log").fetchone()  # type: ignore[misc]
    if low is None or high - low < 2 * schema.WRITE_LOG_ROWS:
        return
    cut = con.execute(
        "WITH gone AS (DELETE FROM write_log WHERE id <= %s RETURNING xid) SELECT max(xid) FROM gone",
        (high - schema.WRITE_LOG_ROWS,),
    ).fetchone()
    if cut and cut[0] is not None:
        con.execute("UPDATE meta SET log_cut_xid = greatest(log_cut_xid, %s)", (cut[0],))
