"""The read-only side of a metric store: what the engine asks, answered in SQL.

Opened with `mode=ro`: the dashboard never creates, migrates or writes a store. Each
method runs one query inside a short read transaction, so it sees one consistent
snapshot — never half of a writer's batch. The small `series` table is cached in Python
(to filter by labels) and reloaded when `PRAGMA data_version` says another connection
committed.

What each aggregate reads — rollups with raw edges, per-bucket seeks or one scan — is
planned in `queries`. `changes_since` reads the writers' `write_log`, so that a caller can
keep what it computed from the parts of the store nobody wrote into since; a store of
schema version 1 (no log yet) is read all the same, and simply never says what changed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple, TypeVar

from kpitui.errors import InputError, StoreError, StoreLockedError
from kpitui.store.aggs import (
    PERCENTILES,
    SURVEYS,
    Selection,
    SeriesIndex,
    as_buckets,
    check_agg,
)
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
from kpitui.store.rank_windows import RankWindows
from kpitui.store.sqlite import files, percentiles, schema
from kpitui.store.sqlite.percentiles import PercentileHints
from kpitui.store.sqlite.queries import aggregate_rows, last_rows
from kpitui.store.sqlite.surveys import SurveyDays

READ_BUSY_TIMEOUT = 0.25
"""Seconds a query waits on a lock; WAL readers are only blocked in rare cases
(recovery, a store switched out of WAL), and a stuck query must not stall a refresh."""

T = TypeVar("T")


def open_reader(name: StoreName | str | Path) -> SqliteReader:
    """Open the store file `name.path` read-only. InputError when it does not exist,
    StoreError when it is not a kpitui store or has a newer schema."""
    name = StoreName.parse(name)
    assert name.path is not None
    path = name.path
    files.refuse_memory(path)
    if not path.exists():
        raise InputError(
            "no store here",
            file=str(path),
            hint="write points with `kpitui record` or `kpitui import` first, or pass --db",
        )
    if path.is_dir():
        raise InputError("is a directory, not a store file", file=str(path), hint="pass --db FILE")
    files.check_access(path, writing=False)
    return SqliteReader(path)


class SqliteReader:
    """`kpitui.store.api.StoreReader` over a SQLite store. One thread at a time."""

    def __init__(self, path: Path) -> None:
        self.name = StoreName(path=path)
        self.path = str(path)
        self._file = path
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None
        self._inode: tuple[int, int] | None = None
        self._immutable = False  # read without side files (see `files`)
        self._file_stat: tuple[int, int] | None = None  # (mtime_ns, size) when opened
        self._version: int | None = None
        self._changes = 0  # what data_version() returns: bumped on every change seen
        self._generation = 0  # bumped per connection: change tokens of another file are void
        self._percentile_hints: PercentileHints = {}
        self._survey_days = SurveyDays()
        self._rank_windows = RankWindows(percentiles.values_of)
        self._kept_token: ChangeToken | None = None  # the write log as those two saw it
        self._kept_seen = -1  # the data_version they were last brought up to
        self._index = SeriesIndex()
        self._index_mark: tuple[int, int] | None = None
        self._snapshot: sqlite3.Connection | None = None  # the connection, inside snapshot()
        self._connect()

    # -- connection ------------------------------------------------------------------

    def _connect(self) -> None:
        stat = os.stat(self._file)
        immutable = files.read_immutable(self._file, stat)
        uri = files.file_uri(
            self._file.resolve(), mode="ro", **({"immutable": "1"} if immutable else {})
        )
        try:
            con = sqlite3.connect(
                uri,
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=READ_BUSY_TIMEOUT,
            )
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            version = schema.read_version(con, self.path)
            if version == 0:
                raise StoreError(
                    "the store is empty (no kpitui tables yet)",
                    file=self.path,
                    hint="write points with `kpitui record` or `kpitui import`",
                )
            if version < schema.MIN_READ_VERSION:
                raise StoreError(
                    f"the store has an older schema (version {version})",
                    file=self.path,
                    hint="run any writing command (`kpitui record`, `kpitui import`) to migrate it",
                )
        except sqlite3.Error as exc:
            con.close()
            raise self._error(exc) from None
        except BaseException:
            con.close()
            raise
        if self._con is not None:
            self._con.close()
        self._con, self._inode, self._version = con, (stat.st_dev, stat.st_ino), None
        self._immutable = immutable
        self._file_stat = (stat.st_mtime_ns, stat.st_size)
        self._generation += 1
        self._percentile_hints = {}

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def _error(self, exc: sqlite3.Error) -> StoreError:
        locked = StoreLockedError("store is locked", file=self.path, hint="it should free up soon")
        return schema.sqlite_error(exc, self.path, writing=False, locked=locked)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every call made inside reads one state of the store, in one read transaction
        (a board evaluated inside agrees with itself though writers commit meanwhile).
        Other threads wait for it to end."""
        with self._lock:
            if self._snapshot is not None:
                yield
                return
            self._snapshot = self._begin()
            try:
                yield
            except BaseException:
                con, self._snapshot = self._snapshot, None
                schema.end_quietly(con)  # the error that stopped the read is the one to say
                raise
            con, self._snapshot = self._snapshot, None
            self._end(con)

    def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run `query` in a read snapshot (the caller's, or one of its own), with the
        series cache of that snapshot."""
        with self.snapshot():
            assert self._snapshot is not None
            try:
                return query(self._snapshot)
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def _begin(self) -> sqlite3.Connection:
        """Open a read transaction on the current store file (the lock is held)."""
        if self._con is None:  # only `close` leaves it unset
            raise StoreError("the store reader is closed", file=self.path)
        try:
            stat = os.stat(self._file)
        except OSError:
            # Deleted or moved away: the open connection would go on reading the
            # unlinked file and show old values as if they were fresh.
            raise StoreError(
                f"{self.path} is missing: the store file is gone",
                hint="was it moved or deleted?",
            ) from None
        if (
            (stat.st_dev, stat.st_ino) != self._inode  # replaced (e.g. a rebuilt sample store)
            or (stat.st_mtime_ns, stat.st_size) != self._file_stat  # written over in place
            or (self._immutable and files.shared_memory_files_exist(self._file))
        ):
            # A new connection sees what the file holds now: a store copied over it, its
            # pages corrupted, a writer's checkpoint, or (read immutable so far) a writer
            # that opened it and whose commits are in its side files.
            self._connect()
        con = self._con
        assert con is not None
        try:
            con.execute("BEGIN")
            try:
                version = con.execute("PRAGMA data_version").fetchone()[0]
                if version != self._version:
                    # A new connection (the file was replaced) restarts SQLite's
                    # counter, so callers get our own count of changes instead.
                    if self._version is None or self._series_changed(con):
                        self._load_series(con)
                    self._version = version
                    self._changes += 1
            except BaseException:
                schema.end_quietly(con)
                raise
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        return con

    def _end(self, con: sqlite3.Connection) -> None:
        try:
            if con.in_transaction:
                con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _load_series(self, con: sqlite3.Connection) -> None:
        self._index.load(
            con.execute("SELECT id, metric, labels FROM series ORDER BY metric, labels")
        )
        self._index_mark = self._series_mark(con)

    def _series_mark(self, con: sqlite3.Connection) -> tuple[int, int] | None:
        """(newest series id, newest write-log id): where the series index was read."""
        if con.execute("PRAGMA user_version").fetchone()[0] < schema.WRITE_LOG_VERSION:
            return None
        top = con.execute("SELECT max(id) FROM series").fetchone()[0] or 0
        return top, con.execute("SELECT max(id) FROM write_log").fetchone()[0] or 0

    def _series_changed(self, con: sqlite3.Connection) -> bool:
        """Whether the series table may differ from the index. Reading it again is
        ~4 ms for 1,000 series, and a live store changes on every point written; a
        series is only ever added (with the next id: its points are in the same
        batch), renamed or dropped (housekeeping logs those as series 0, as it does
        writes to the other tables)."""
        mark = self._index_mark
        now = self._series_mark(con)
        if mark is None or now is None or now[0] != mark[0] or now[1] < mark[1]:
            return True
        if now[1] == mark[1]:
            return False
        first, other = con.execute(
            "SELECT min(id), EXISTS (SELECT 1 FROM write_log WHERE id > ? AND series_id = 0)"
            " FROM write_log",
            (mark[1],),
        ).fetchone()
        # Rows after the mark cut from the log: what they said is lost.
        return bool(other) or first is None or first > mark[1] + 1

    def _matching(self, metric: str, labels: Mapping[str, str] | None) -> list[Series]:
        return self._index.matching(metric, labels)

    def _selection(
        self, metric: str, labels: Mapping[str, str] | None, by: str | None = None
    ) -> Selection | None:
        return self._index.selection(metric, labels, by)

    # -- the StoreReader interface ---------------------------------------------------

    def data_version(self) -> int:
        return self._read(lambda con: self._changes)

    def metric_names(self) -> set[str]:
        return self._read(lambda con: set(self._index.by_metric))

    def series(self, metric: str, labels: Mapping[str, str] | None = None) -> list[Series]:
        return self._read(lambda con: self._matching(metric, labels))

    def last(self, metric: str, labels: Mapping[str, str] | None, at: int) -> LastPoint | None:
        def query(con: sqlite3.Connection) -> LastPoint | None:
            sel = self._selection(metric, labels)
            if sel is None:
                return None
            rows = last_rows(con, sel, MIN_TS, at + 1 - MIN_TS, at + 1)
            return LastPoint(rows[0][2], rows[0][3]) if rows else None

        return self._read(query)

    def aggregate(
        self, metric: str, labels: Mapping[str, str] | None, agg: AggName, lo: int, hi: int
    ) -> float | None:
        found = self._grouped(metric, labels, agg, lo, hi, None, None)
        return found.get("", {}).get(0)

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
        def query(con: sqlite3.Connection) -> int | None:
            sel = self._selection(metric, labels)
            if sel is None or hi < lo:
                return None
            sql = (
                "SELECT max((SELECT max(ts) FROM points WHERE series_id = s.id"
                " AND ts >= :lo AND ts <= :hi)) FROM series s"
                f" WHERE s.id IN ({sel.id_list()})"
            )
            return con.execute(sql, {"lo": lo, "hi": hi}).fetchone()[0]

        return self._read(query)

    def out_of_scale(
        self, metric: str, labels: Mapping[str, str] | None, agg: AggName, lo: int, hi: int
    ) -> OutOfScale:
        def query(con: sqlite3.Connection) -> OutOfScale:
            sel = self._selection(metric, labels)
            if sel is None or hi < lo:
                return OutOfScale(0, 0)
            scale = SURVEYS.get(agg)
            low, high = (scale[0], scale[1]) if scale else (-1e308, 1e308)
            sql = (
                "SELECT count(*), coalesce(sum(value BETWEEN :low AND :high), 0) FROM points"
                f" WHERE series_id IN ({sel.id_list()}) AND ts >= :lo AND ts <= :hi"
            )
            total, used = con.execute(
                sql, {"low": low, "high": high, "lo": lo, "hi": hi}
            ).fetchone()
            return OutOfScale(used, total - used)

        return self._read(query)

    def changes_since(
        self, token: ChangeToken | None, *, others: bool = False
    ) -> tuple[ChangeToken | None, dict[int, int] | None]:
        def query(con: sqlite3.Connection) -> tuple[ChangeToken | None, dict[int, int] | None]:
            if con.execute("PRAGMA user_version").fetchone()[0] < schema.WRITE_LOG_VERSION:
                return None, None  # not migrated yet: nothing tells what changed
            first, last = con.execute("SELECT min(id), max(id) FROM write_log").fetchone()
            now = (self._generation, last or 0)
            if token is None or token[0] != now[0] or token[1] > now[1]:
                return now, None  # first look, another file, or a log that went back
            if token[1] == now[1]:
                return now, {}
            if first > token[1] + 1:
                return now, None  # the rows after the token were cut from the log
            rows = con.execute(
                "SELECT series_id, min(lo) FROM write_log WHERE id > ? AND series_id >= ?"
                " GROUP BY series_id",
                (token[1], 0 if others else 1),
            )
            return now, dict(rows.fetchall())

        return self._read(query)

    def stats(self) -> list[SeriesStats]:
        def query(con: sqlite3.Connection) -> list[SeriesStats]:
            sql = (
                "SELECT s.id, (SELECT sum(n) FROM rollup_day WHERE series_id = s.id),"
                " (SELECT min(ts) FROM points WHERE series_id = s.id),"
                " (SELECT max(ts) FROM points WHERE series_id = s.id)"
                " FROM series s ORDER BY s.metric, s.labels"
            )
            return [
                SeriesStats(self._index.by_id[sid], count, first, last)
                for sid, count, first, last in con.execute(sql)
                if count and sid in self._index.by_id
            ]

        return self._read(query)

    def checkins(self, kr_id: str | None = None, at: int | None = None) -> list[Checkin]:
        def query(con: sqlite3.Connection) -> list[Checkin]:
            with_id = self._has_v3(con)
            sql = "SELECT kr_id, ts, value, confidence, note" + (", id" if with_id else "")
            sql += " FROM checkins WHERE 1"
            params: list[object] = []
            if kr_id is not None:
                sql, params = sql + " AND kr_id = ?", [*params, kr_id]
            if at is not None:
                sql, params = sql + " AND ts <= ?", [*params, at]
            order = " ORDER BY ts" if kr_id is not None else " ORDER BY kr_id, ts"
            return [Checkin(*row) for row in con.execute(sql + order, params)]

        return self._read(query)

    def annotations(
        self, lo: int, hi: int, metrics: Iterable[str] | None = None
    ) -> list[Annotation]:
        wanted = None if metrics is None else set(metrics)

        def query(con: sqlite3.Connection) -> list[Annotation]:
            if not self._has_v3(con):
                return []
            rows = con.execute(
                "SELECT id, ts, text, metrics, labels FROM annotations"
                " WHERE ts >= ? AND ts <= ? ORDER BY ts, id",
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
        def query(con: sqlite3.Connection) -> list[AlertEvent]:
            if not self._has_v3(con):
                return []
            rows = con.execute(
                "SELECT ts, subject_kind, subject_id, title, from_state, to_state, value,"
                " display, delivered, id FROM alert_events WHERE ts >= ?"
                " ORDER BY ts DESC, id DESC LIMIT ?",
                (MIN_TS if since is None else since, max(0, int(limit))),
            )
            return [
                AlertEvent(*row[:8], delivered=tuple(json.loads(row[8])), id=row[9]) for row in rows
            ]

        return self._read(query)

    def last_alert_events(self) -> list[AlertEvent]:
        def query(con: sqlite3.Connection) -> list[AlertEvent]:
            if not self._has_v3(con):
                return []
            # The UNIQUE (subject_kind, subject_id, ts, to_state) index answers the inner
            # query: one index probe per subject.
            rows = con.execute(
                "SELECT ts, subject_kind, subject_id, title, from_state, to_state, value,"
                " display, delivered, id FROM alert_events AS a WHERE id = ("
                " SELECT b.id FROM alert_events AS b WHERE b.subject_kind = a.subject_kind"
                " AND b.subject_id = a.subject_id ORDER BY b.ts DESC, b.id DESC LIMIT 1)"
            )
            return [
                AlertEvent(*row[:8], delivered=tuple(json.loads(row[8])), id=row[9]) for row in rows
            ]

        return self._read(query)

    def pull_states(self) -> dict[str, PullState]:
        def query(con: sqlite3.Connection) -> dict[str, PullState]:
            if not self._has_v3(con):
                return {}
            rows = con.execute(
                "SELECT pull_id, last_success, last_error_at, last_error, high_water"
                " FROM pull_state ORDER BY pull_id"
            )
            return {row[0]: PullState(*row) for row in rows}

        return self._read(query)

    def read_points(self, series_id: int, after: int | None, limit: int) -> list[tuple[int, float]]:
        def query(con: sqlite3.Connection) -> list[tuple[int, float]]:
            return con.execute(
                "SELECT ts, value FROM points WHERE series_id = ? AND ts > ? ORDER BY ts LIMIT ?",
                (series_id, MIN_TS - 1 if after is None else after, limit),
            ).fetchall()

        return self._read(query)

    def _has_v3(self, con: sqlite3.Connection) -> bool:
        return con.execute("PRAGMA user_version").fetchone()[0] >= schema.ANNOTATIONS_VERSION

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

        def query(con: sqlite3.Connection) -> dict[str, dict[int, float]]:
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
                surveys=self._kept().surveys if agg in SURVEYS else None,
                windows=self._kept().windows if agg in PERCENTILES else None,
            )
            for g, k, value in rows:
                if value is not None:
                    out.setdefault(sel.groups[g], {})[k] = float(value)
            return out

        return self._read(query)

    def _kept(self) -> Kept:
        """The survey days and percentile windows kept between reads, less what writers
        changed since (inside a snapshot: the write log is read in the same state as
        the points)."""
        if self._kept_seen != self._changes:
            self._kept_token, changed = self.changes_since(self._kept_token)
            self._survey_days.forget(changed)
            self._rank_windows.forget(changed)
            self._kept_seen = self._changes
        return Kept(self._survey_days, self._rank_windows)


class Kept(NamedTuple):
    surveys: SurveyDays
    windows: RankWindows
