"""Writing into a PostgreSQL store: points through COPY, upserts, rollups, the write log.

A batch is one transaction. Each chunk of points is COPYed (binary, packed in one
`struct` call) straight into `points` inside a savepoint: new points, the common case of
an import, cost nothing more. A chunk holding a point already stored (or one point twice)
breaks the key; it is then COPYed into a temporary table and upserted with `ON CONFLICT
… DO UPDATE … WHERE value IS DISTINCT FROM`, so re-importing a file writes nothing new.
At commit, in the same transaction:

- the series the batch changed are locked (`FOR NO KEY UPDATE`, in id order, so two
  writers never wait on each other in a circle), and the hour and day rollups of the
  touched buckets are recomputed from what is committed plus this batch: a writer that
  committed meanwhile is waited for, then included, never overwritten;
- one `write_log` row per series changed (series 0 for the other tables) records the
  span written, with this transaction's id;
- `NOTIFY kpitui_changes` tells every listening board, when the transaction commits.

Waiting more than `lock_timeout` (5 s) for another writer is "store is locked"; every
psycopg error becomes a StoreError (see `connect`).
"""

from __future__ import annotations

import functools
import json
import operator
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

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
# length and big-endian value (int4 series, int8 time, float8 value), then -1.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_PACK_ROWS = 10_000
_SORT_IN_MEMORY = 200_000


@functools.lru_cache(maxsize=4)
def _row_struct(rows: int) -> struct.Struct:
    return struct.Struct(">" + "hiiiqid" * rows)


_STAGED_TYPES = ["int8", "int4", "int8", "float8"]

_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS kpitui_incoming"
    " (seq bigint, series_id integer, ts bigint, value double precision)"
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
                yield batch
                batch._finish()
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
        self._seq = 0
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
        ids = [series] * n if isinstance(series, int) else series
        changed = self._store(ids, times, values)
        self.points += n
        self.changed += changed
        self.series.update(ids)
        if changed:
            lo, hi = min(times), max(times)
            for sid in set(ids):
                span = self._dirty.get(sid)
                if span is None:
                    self._dirty[sid] = [lo, hi]
                else:
                    span[0] = min(span[0], lo)
                    span[1] = max(span[1], hi)

    def _store(self, ids: Sequence[int], times: Sequence[int], values: Sequence[float]) -> int:
        """Write one chunk; how many points were new or changed."""
        try:
            # New points (the common case: an import of new data) go straight into
            # `points`; a point already there, or twice in the chunk, violates the key
            # and sends the chunk the upsert's way instead.
            with self._con.transaction():
                self._copy_points(ids, times, values)
            return len(times)
        except psycopg.errors.UniqueViolation:
            pass
        seq = self._seq
        self._copy(
            "COPY kpitui_incoming (seq, series_id, ts, value) FROM STDIN (FORMAT BINARY)",
            _STAGED_TYPES,
            zip(range(seq, seq + len(times)), ids, times, values, strict=True),
        )
        self._seq = seq + len(times)
        cursor = self._con.cursor()
        changed = cursor.execute(_UPSERT).rowcount
        cursor.execute("TRUNCATE kpitui_incoming")
        return max(changed, 0)

    def _copy_points(
        self, ids: Sequence[int], times: Sequence[int], values: Sequence[float]
    ) -> None:
        """COPY (series, time, value) rows into `points`, in PostgreSQL's binary format
        packed by one `struct` call per chunk: a Python call per row (`write_row`) would
        cost more than the server's work."""
        with self._con.cursor().copy(
            "COPY points (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(_COPY_HEADER)
            for start in range(0, len(times), _PACK_ROWS):
                part = times[start : start + _PACK_ROWS]
                k = len(part)
                flat: list[object] = [3, 4, 0, 8, 0, 8, 0] * k
                flat[2::7] = ids[start : start + k]
                flat[4::7] = part
                flat[6::7] = values[start : start + k]
                copy.write(_row_struct(k).pack(*flat))
            copy.write(_COPY_TRAILER)

    def _copy(self, statement: str, types: list[str], rows: Iterable[tuple]) -> None:
        with self._con.cursor().copy(statement) as copy:
            copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row)

    def _finish(self) -> None:
        """Rollups, the write log and the notification, before the commit."""
        con = self._con
        if self._dirty:
            sids = sorted(self._dirty)
            con.execute(
                "SELECT id FROM series WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", (sids,)
            )
            spans = [self._dirty[s] for s in sids]
            # A large batch refreshes series by series, so that each sort of its points
            # by hour fits in work_mem instead of spilling all of them to disk.
            step = 1 if self.points > _SORT_IN_MEMORY else len(sids)
            for i in range(0, len(sids), step):
                part = spans[i : i + step]
                hour_a = [floor_to(lo, HOUR) for lo, _ in part]
                hour_z = [floor_to(hi, HOUR) + HOUR for _, hi in part]
                con.execute(_REFRESH_HOURS, (sids[i : i + step], hour_a, hour_z))
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
