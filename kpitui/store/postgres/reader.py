"""The read-only side of a PostgreSQL store: the same answers as the SQLite reader.

The connection is opened with `default_transaction_read_only=on` and a
`statement_timeout` (see `connect`), so a viewer's role may be SELECT-only and a slow
query never holds a refresh for long. Each call runs in a `REPEATABLE READ READ ONLY`
transaction (the caller's `snapshot()`, or one of its own): one state of the store,
never half of a writer's batch.

What changed, and when, without polling tables:

- writers `NOTIFY kpitui_changes` in their transaction; this connection LISTENs, and a
  notification (delivered with the next statement's results) says "changed";
- without one, the transaction's snapshot is compared with the last one: an equal
  snapshot means no transaction committed anywhere on the server since, and nothing is
  read; a moved one (a write elsewhere, or a notification lost to a dropped connection or
  a pooler in transaction mode) costs one indexed look at the newest `write_log` rows.

A change token is a snapshot (`pg_current_snapshot()`), not a growing id: the log rows
written since are those whose transaction the old snapshot did not see, which stays true
when two writers commit out of order.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

import psycopg

from kpitui.errors import StoreError, StoreUnreachableError
from kpitui.store.aggs import PERCENTILES, SURVEYS, Selection, SeriesIndex, as_buckets, check_agg
from kpitui.store.api import (
    AggName,
    AlertEvent,
    Annotation,
    Bucket,
    ChangeToken,
    Checkin,
    LastPoint,
    OutOfScale,
    PullState,
    Series,
    SeriesStats,
)
from kpitui.store.checks import MIN_TS, json_labels
from kpitui.store.name import StoreName
from kpitui.store.postgres import percentiles, schema
from kpitui.store.postgres.connect import CHANNEL, connect, store_error
from kpitui.store.postgres.queries import aggregate_rows, array_text, last_rows
from kpitui.store.rank_windows import RankWindows

T = TypeVar("T")

_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

_SERIES = 'SELECT id, metric, labels FROM series ORDER BY metric COLLATE "C", labels COLLATE "C"'
# Log rows of transactions a snapshot did not see; xids below its xmin were all done
# (committed and seen, or rolled back) when it was taken.
_UNSEEN = (
    "FROM write_log WHERE xid >= pg_snapshot_xmin(%(snap)s::pg_snapshot)::text::bigint"
    " AND NOT pg_visible_in_snapshot(xid::text::xid8, %(snap)s::pg_snapshot)"
)


def open_reader(name: StoreName) -> PgReader:
    """Connect read-only. StoreError when the database holds no kpitui store (what to
    run, in one line), StoreUnreachableError when the server cannot be reached."""
    return PgReader(name)


class PgReader:
    """`kpitui.store.api.StoreReader` over a PostgreSQL store. Thread-safe: calls run
    one at a time."""

    def __init__(self, name: StoreName) -> None:
        self.name = name
        self.path = name.display
        self._lock = threading.RLock()
        self._con: psycopg.Connection | None = None
        self._closed = False
        self._generation = 0  # bumped per connection: tokens of an old one are void
        self._changes = 0  # what data_version() returns
        self._seen: str | None = None  # the snapshot data_version() last looked from
        self._notified = False
        self._index = SeriesIndex()
        self._in_snapshot = False
        self._percentile_hints: percentiles.PercentileHints = {}
        self._rank_windows = RankWindows(percentiles.values_of)
        self._kept_token: ChangeToken | None = None  # the write log as the windows saw it
        self._kept_seen = -1  # the data_version they were last brought up to
        self._connect()

    # -- connection ------------------------------------------------------------------

    def _connect(self) -> None:
        con = connect(self.name, reading=True)
        try:
            with self._translated():
                version = schema.stored_version(con, self.path)
                if version == 0:
                    raise schema.missing_schema_error(self.path)
                con.add_notify_handler(self._on_notify)
                con.execute(f"LISTEN {CHANNEL}")
                con.execute(_BEGIN)
                self._index.load(con.execute(_SERIES).fetchall())
                row = con.execute("SELECT pg_current_snapshot()::text").fetchone()
                con.execute("COMMIT")
        except BaseException:
            con.close()
            raise
        old, self._con = self._con, con
        if old is not None:
            old.close()
        self._generation += 1
        self._changes += 1
        self._seen = row[0] if row else None
        self._notified = False
        self._percentile_hints = {}

    def _on_notify(self, notify: psycopg.Notify) -> None:
        self._notified = True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._con is not None:
                self._con.close()
                self._con = None

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise store_error(exc, self.name, writing=False) from None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every call made inside reads one state of the store (one read-only,
        repeatable-read transaction). Other threads wait for it to end."""
        with self._lock:
            if self._in_snapshot:
                yield
                return
            con = self._begin()
            self._in_snapshot = True
            try:
                yield
            finally:
                self._in_snapshot = False
                self._end(con)

    def _begin(self) -> psycopg.Connection:
        """Open a read transaction; what was committed since the last one is caught up
        with first (the series list reloaded), as SQLite's reader does at each BEGIN."""
        if self._closed:
            raise StoreError("the store reader is closed", file=self.path)
        if self._con is None or self._con.closed or self._con.broken:
            self._connect()  # the server came back after going away
        con = self._con
        assert con is not None
        try:
            with self._translated():
                # One round trip: the transaction and its snapshot (which also delivers
                # any notification sent before it).
                cur = con.execute(f"{_BEGIN}; SELECT pg_current_snapshot()::text")
                cur.nextset()
                row = cur.fetchone()
                try:
                    self._catch_up(con, row[0] if row else None)
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
        except StoreUnreachableError:
            con.close()
            raise
        return con

    def _catch_up(self, con: psycopg.Connection, now: str | None) -> None:
        changed = self._notified
        if not changed and now != self._seen:
            changed = self._seen is None or self._unseen_rows(con, self._seen)
        if changed:
            self._notified = False
            self._index.load(con.execute(_SERIES).fetchall())
            self._changes += 1
        self._seen = now

    def _end(self, con: psycopg.Connection) -> None:
        if con.closed or con.broken:
            return
        with self._translated():
            con.execute("COMMIT")

    def _read(self, query: Callable[[psycopg.Connection], T]) -> T:
        with self.snapshot():
            con = self._con
            assert con is not None
            try:
                with self._translated():
                    return query(con)
            except StoreUnreachableError:
                con.close()
                raise

    def _selection(
        self, metric: str, labels: Mapping[str, str] | None, by: str | None = None
    ) -> Selection | None:
        return self._index.selection(metric, labels, by)

    # -- what changed ------------------------------------------------------------------

    def data_version(self) -> int:
        return self._read(lambda con: self._changes)

    def _unseen_rows(self, con: psycopg.Connection, snap: str) -> bool:
        cut = con.execute("SELECT log_cut_xid FROM meta").fetchone()
        if cut is None or cut[0] >= _xmin(snap):
            return True  # rows the snapshot did not see may have been trimmed
        found = con.execute(f"SELECT EXISTS (SELECT 1 {_UNSEEN})", {"snap": snap}).fetchone()
        return bool(found and found[0])

    def changes_since(
        self, token: ChangeToken | None, *, others: bool = False
    ) -> tuple[ChangeToken | None, dict[int, int] | None]:
        def query(con: psycopg.Connection) -> tuple[ChangeToken | None, dict[int, int] | None]:
            row = con.execute("SELECT pg_current_snapshot()::text").fetchone()
            assert row is not None
            now: ChangeToken = (self._generation, row[0])
            if token is None or token[0] != now[0] or not isinstance(token[1], str):
                return now, None
            if token[1] == now[1]:
                return now, {}
            cut = con.execute("SELECT log_cut_xid FROM meta").fetchone()
            if cut is None or cut[0] >= _xmin(token[1]):
                return now, None  # rows after the token were cut from the log
            rows = con.execute(
                f"SELECT series_id, min(lo) {_UNSEEN} AND series_id >= %(least)s"
                " GROUP BY series_id",
                {"snap": token[1], "least": 0 if others else 1},
            )
            return now, {int(sid): int(lo) for sid, lo in rows}

        return self._read(query)

    # -- the StoreReader interface ---------------------------------------------------

    def metric_names(self) -> set[str]:
        return self._read(lambda con: set(self._index.by_metric))

    def series(self, metric: str, labels: Mapping[str, str] | None = None) -> list[Series]:
        return self._read(lambda con: self._index.matching(metric, labels))

    def last(self, metric: str, labels: Mapping[str, str] | None, at: int) -> LastPoint | None:
        def query(con: psycopg.Connection) -> LastPoint | None:
            sel = self._selection(metric, labels)
            if sel is None:
                return None
            rows = last_rows(con, sel, MIN_TS, at + 1 - MIN_TS, at + 1)
            return LastPoint(rows[0][2], rows[0][3]) if rows else None

        return self._read(query)

    def aggregate(
        self, metric: str, labels: Mapping[str, str] | None, agg: AggName, lo: int, hi: int
    ) -> float | None:
        return self._grouped(metric, labels, agg, lo, hi, None, None).get("", {}).get(0)

    def aggregate_by_label(
        self, metric: str, labels: Mapping[str, str] | None, agg: AggName, lo: int, hi: int, by: str
    ) -> dict[str, float]:
        found = self._grouped(metric, labels, agg, lo, hi, None, by)
        return {group: values[0] for group, values in found.items()}

    def buckets(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: AggName,
        lo: int,
        hi: int,
        bucket: int,
    ) -> list[Bucket]:
        found = self._grouped(metric, labels, agg, lo, hi, bucket, None)
        return as_buckets(found.get("", {}), lo, bucket)

    def buckets_by_label(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: AggName,
        lo: int,
        hi: int,
        bucket: int,
        by: str,
    ) -> dict[str, list[Bucket]]:
        found = self._grouped(metric, labels, agg, lo, hi, bucket, by)
        return {group: as_buckets(values, lo, bucket) for group, values in found.items()}

    def last_ts_in(
        self, metric: str, labels: Mapping[str, str] | None, lo: int, hi: int
    ) -> int | None:
        def query(con: psycopg.Connection) -> int | None:
            sel = self._selection(metric, labels)
            if sel is None or hi < lo:
                return None
            row = con.execute(
                "SELECT max(x.ts) FROM unnest(%(ids)s::integer[]) AS m(id) CROSS JOIN LATERAL"
                " (SELECT ts FROM points WHERE series_id = m.id AND ts >= %(lo)s AND ts <= %(hi)s"
                " ORDER BY ts DESC LIMIT 1) x",
                {"ids": array_text(sel.ids), "lo": lo, "hi": hi},
            ).fetchone()
            return None if row is None else row[0]

        return self._read(query)

    def out_of_scale(
        self, metric: str, labels: Mapping[str, str] | None, agg: AggName, lo: int, hi: int
    ) -> OutOfScale:
        def query(con: psycopg.Connection) -> OutOfScale:
            sel = self._selection(metric, labels)
            if sel is None or hi < lo:
                return OutOfScale(0, 0)
            scale = SURVEYS.get(agg)
            low, high = (scale[0], scale[1]) if scale else (-1e308, 1e308)
            row = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE value BETWEEN %(low)s AND %(high)s)"
                " FROM points WHERE series_id = ANY(%(ids)s::integer[])"
                " AND ts >= %(lo)s AND ts <= %(hi)s",
                {"low": low, "high": high, "ids": array_text(sel.ids), "lo": lo, "hi": hi},
            ).fetchone()
            assert row is not None
            total, used = row
            return OutOfScale(used, total - used)

        return self._read(query)

    def stats(self) -> list[SeriesStats]:
        def query(con: psycopg.Connection) -> list[SeriesStats]:
            rows = con.execute(
                "SELECT s.id, (SELECT sum(n) FROM rollup_day WHERE series_id = s.id),"
                " (SELECT min(ts) FROM points WHERE series_id = s.id),"
                " (SELECT max(ts) FROM points WHERE series_id = s.id)"
                ' FROM series s ORDER BY s.metric COLLATE "C", s.labels COLLATE "C"'
            )
            return [
                SeriesStats(self._index.by_id[sid], int(count), first, last)
                for sid, count, first, last in rows
                if count and sid in self._index.by_id
            ]

        return self._read(query)

    def checkins(self, kr_id: str | None = None, at: int | None = None) -> list[Checkin]:
        def query(con: psycopg.Connection) -> list[Checkin]:
            sql = "SELECT kr_id, ts, value, confidence, note, id FROM checkins WHERE true"
            params: list[object] = []
            if kr_id is not None:
                sql, params = sql + " AND kr_id = %s", [*params, kr_id]
            if at is not None:
                sql, params = sql + " AND ts <= %s", [*params, at]
            sql += " ORDER BY ts" if kr_id is not None else ' ORDER BY kr_id COLLATE "C", ts'
            return [Checkin(*row) for row in con.execute(sql, params)]

        return self._read(query)

    def annotations(
        self, lo: int, hi: int, metrics: Iterable[str] | None = None
    ) -> list[Annotation]:
        wanted = None if metrics is None else set(metrics)

        def query(con: psycopg.Connection) -> list[Annotation]:
            rows = con.execute(
                "SELECT id, ts, text, metrics, labels FROM annotations"
                " WHERE ts >= %s AND ts <= %s ORDER BY ts, id",
                (lo, hi),
            )
            found = [
                Annotation(aid, ts, text, tuple(json.loads(names)), json_labels(labels))
                for aid, ts, text, names, labels in rows
            ]
            if wanted is None:
                return found
            return [a for a in found if not a.metrics or wanted & set(a.metrics)]

        return self._read(query)

    def alert_events(self, since: int | None = None, limit: int = 200) -> list[AlertEvent]:
        def query(con: psycopg.Connection) -> list[AlertEvent]:
            rows = con.execute(
                "SELECT ts, subject_kind, subject_id, title, from_state, to_state, value,"
                " display, delivered, id FROM alert_events WHERE ts >= %s"
                " ORDER BY ts DESC, id DESC LIMIT %s",
                (MIN_TS if since is None else since, min(max(0, int(limit)), 1 << 62)),
            )
            return [
                AlertEvent(*row[:8], delivered=tuple(json.loads(row[8])), id=row[9]) for row in rows
            ]

        return self._read(query)

    def last_alert_events(self) -> list[AlertEvent]:
        def query(con: psycopg.Connection) -> list[AlertEvent]:
            rows = con.execute(
                "SELECT DISTINCT ON (subject_kind, subject_id) ts, subject_kind, subject_id,"
                " title, from_state, to_state, value, display, delivered, id FROM alert_events"
                " ORDER BY subject_kind, subject_id, ts DESC, id DESC"
            )
            return [
                AlertEvent(*row[:8], delivered=tuple(json.loads(row[8])), id=row[9]) for row in rows
            ]

        return self._read(query)

    def pull_states(self) -> dict[str, PullState]:
        def query(con: psycopg.Connection) -> dict[str, PullState]:
            rows = con.execute(
                "SELECT pull_id, last_success, last_error_at, last_error, high_water"
                ' FROM pull_state ORDER BY pull_id COLLATE "C"'
            )
            return {row[0]: PullState(*row) for row in rows}

        return self._read(query)

    def read_points(self, series_id: int, after: int | None, limit: int) -> list[tuple[int, float]]:
        def query(con: psycopg.Connection) -> list[tuple[int, float]]:
            rows = con.execute(
                "SELECT ts, value FROM points WHERE series_id = %s AND ts > %s"
                " ORDER BY ts LIMIT %s",
                (series_id, MIN_TS - 1 if after is None else after, limit),
            )
            return [(ts, value) for ts, value in rows]

        return self._read(query)

    # -- one engine for every aggregate --------------------------------------------------

    def _grouped(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: str,
        lo: int,
        hi: int,
        bucket: int | None,
        by: str | None,
    ) -> dict[str, dict[int, float]]:
        """{group: {bucket index: value}}; one group "" unless `by`, one bucket 0 unless
        `bucket`."""
        check_agg(agg, bucket)

        def query(con: psycopg.Connection) -> dict[str, dict[int, float]]:
            sel = self._selection(metric, labels, by)
            if sel is None or hi < lo:
                return {}
            end = hi + 1
            size = bucket if bucket is not None else end - lo
            out: dict[str, dict[int, float]] = {}
            rows = aggregate_rows(
                con,
                sel,
                agg,
                lo,
                end,
                size,
                bucketed=bucket is not None,
                hints=self._percentile_hints,
                windows=self._kept_windows() if agg in PERCENTILES else None,
            )
            for g, k, value in rows:
                if value is not None:
                    out.setdefault(sel.groups[g], {})[k] = float(value)
            return out

        return self._read(query)

    def _kept_windows(self) -> RankWindows:
        """The percentile windows kept between reads, less what writers changed since
        (read inside the caller's snapshot: the log in the same state as the points)."""
        if self._kept_seen != self._changes:
            self._kept_token, changed = self.changes_since(self._kept_token)
            self._rank_windows.forget(changed)
            self._kept_seen = self._changes
        return self._rank_windows


def _xmin(snapshot: str) -> int:
    """A snapshot's xmin (`xmin:xmax:xip,...`)."""
    return int(snapshot.split(":", 1)[0])
