"""The SQLite schema of a metric store, its version and its forward migrations.

Tables:

- `series`: one row per metric + label set; `labels` is canonical JSON (sorted keys, no
  spaces) so that the same labels always give the same text and `UNIQUE` works.
- `points`: `(series_id, ts) -> value`, WITHOUT ROWID so the primary key *is* the table
  and a window of one series is one contiguous range of the b-tree.
- `rollup_hour`, `rollup_day`: count, sum, min and max of the points of each series per
  UTC hour and day. The writer recomputes the touched buckets in the same transaction as
  the points, so they are never out of step; the reader answers sum/count/avg/min/max
  over long windows from a few hundred rollup rows instead of hundreds of thousands of
  points. A bucket row exists exactly when it has points, except before the cutoff of
  a `prune`, which deletes raw points and keeps their rollups (`housekeeping`).
  Programs must write through kpitui (`record`, `import`, `kpitui.store.open_writer`):
  a raw SQL INSERT into `points` would leave the rollups stale.
- `checkins`: manual key-result check-ins; from version 3 with a stable `id`.
- `write_log` (version 2): one row per batch and series the batch changed, with the
  oldest and newest time it wrote. Written in the batch's own transaction and cut to
  the newest WRITE_LOG_ROWS rows, it tells a reader which series changed, and how far
  back, since it last looked (`SqliteReader.changes_since`), so the dashboard can keep
  the values of closed buckets across refreshes. `id` only grows (rows are deleted from
  the oldest end), so "everything after id N" is a range seek.

- version 3: `annotations` (marks on the charts; `metrics` a JSON list, empty for every
  chart), `alert_events` (the shared alert history, unique per subject, time and new
  state; `delivered` a JSON list of targets) and `pull_state` (one row per `sync` pull).
  Writes to these add a `write_log` row with series 0, which `changes_since` leaves out.

`PRAGMA user_version` holds the schema version, `PRAGMA application_id` kpitui's mark
(`APPLICATION_ID`), so another program's database is never taken for a store, whatever
its version. Only writers migrate (and mark); a reader refuses a
store it does not understand rather than guessing. A reader still reads stores from
MIN_READ_VERSION on: version 1 only lacks the write log, which a reader can do without.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sqlite3

from kpitui.errors import StoreError, StoreLockedError
from kpitui.store.api import SCHEMA_VERSION
from kpitui.store.checks import DAY, HOUR, MAX_TS, MIN_TS  # noqa: F401  (used by the backend)

MIN_READ_VERSION = 1
WRITE_LOG_VERSION = 2
"""The first version with `write_log`."""
ANNOTATIONS_VERSION = 3
"""The first version with annotations, alert events, pull state and check-in ids."""

APPLICATION_ID = 0x6B706974
"""`PRAGMA application_id` of every kpitui store ("kpit"): a SQLite database without it
is another program's, whatever its `user_version`, and is never touched."""

WRITE_LOG_ROWS = 10_000
"""How many of the newest write-log rows a writer keeps."""

# Values are finite doubles: NaN arrives as NULL (NOT NULL rejects it), ±inf and text
# fail the range check, so no program can store a value kpitui cannot aggregate.
_FINITE = "value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308"
_CHECKINS_V3 = f"""(
    id INTEGER PRIMARY KEY,
    kr_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL CHECK ({_FINITE}),
    confidence TEXT CHECK (confidence IN ('on_track', 'at_risk', 'off_track')),
    note TEXT,
    UNIQUE (kr_id, ts)
)"""

_ROLLUP_COLUMNS = """(
    series_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    total REAL NOT NULL,
    vmin REAL NOT NULL,
    vmax REAL NOT NULL,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID"""

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            metric TEXT NOT NULL,
            labels TEXT NOT NULL DEFAULT '{}',
            UNIQUE (metric, labels)
        )""",
        f"""CREATE TABLE points (
            series_id INTEGER NOT NULL REFERENCES series (id),
            ts INTEGER NOT NULL,
            value REAL NOT NULL CHECK ({_FINITE}),
            PRIMARY KEY (series_id, ts)
        ) WITHOUT ROWID""",
        f"CREATE TABLE rollup_hour {_ROLLUP_COLUMNS}",
        f"CREATE TABLE rollup_day {_ROLLUP_COLUMNS}",
        f"""CREATE TABLE checkins (
            kr_id TEXT NOT NULL,
            ts INTEGER NOT NULL,
            value REAL NOT NULL CHECK ({_FINITE}),
            confidence TEXT CHECK (confidence IN ('on_track', 'at_risk', 'off_track')),
            note TEXT,
            PRIMARY KEY (kr_id, ts)
        ) WITHOUT ROWID""",
    ),
    2: (
        """CREATE TABLE write_log (
            id INTEGER PRIMARY KEY,
            series_id INTEGER NOT NULL,
            lo INTEGER NOT NULL,
            hi INTEGER NOT NULL
        )""",
    ),
    3: (
        f"CREATE TABLE checkins_v3 {_CHECKINS_V3}",
        "INSERT INTO checkins_v3 (kr_id, ts, value, confidence, note)"
        " SELECT kr_id, ts, value, confidence, note FROM checkins ORDER BY kr_id, ts",
        "DROP TABLE checkins",
        "ALTER TABLE checkins_v3 RENAME TO checkins",
        """CREATE TABLE annotations (
            id INTEGER PRIMARY KEY,
            ts INTEGER NOT NULL,
            text TEXT NOT NULL,
            metrics TEXT NOT NULL DEFAULT '[]',
            labels TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX annotations_ts ON annotations (ts)",
        """CREATE TABLE alert_events (
            id INTEGER PRIMARY KEY,
            ts INTEGER NOT NULL,
            subject_kind TEXT NOT NULL CHECK (subject_kind IN ('kpi', 'kr')),
            subject_id TEXT NOT NULL,
            title TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT NOT NULL,
            value REAL,
            display TEXT,
            delivered TEXT NOT NULL DEFAULT '[]',
            UNIQUE (subject_kind, subject_id, ts, to_state)
        )""",
        "CREATE INDEX alert_events_ts ON alert_events (ts)",
        """CREATE TABLE pull_state (
            pull_id TEXT PRIMARY KEY,
            last_success INTEGER,
            last_error_at INTEGER,
            last_error TEXT,
            high_water INTEGER
        )""",
    ),
}

KPITUI_TABLES = frozenset(
    {
        "series",
        "points",
        "rollup_hour",
        "rollup_day",
        "checkins",
        "write_log",
        "annotations",
        "alert_events",
        "pull_state",
    }
)


_V1_TABLES = frozenset({"series", "points", "rollup_hour", "rollup_day", "checkins"})
UNMARKED_TABLES = {
    1: _V1_TABLES,
    2: _V1_TABLES | {"write_log"},
    3: _V1_TABLES | {"write_log", "annotations", "alert_events", "pull_state"},
}
"""The tables of the stores kpitui made before it marked them, by schema version: such a
store is kpitui's though unmarked, and the next writer marks it."""


def sql_floor(expr: str, size: int) -> str:
    """`floor_to` in SQL, where `%` truncates toward zero for negative numbers."""
    return f"({expr} - ((({expr}) % {size}) + {size}) % {size})"


def user_tables(con: sqlite3.Connection) -> set[str]:
    rows = con.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {name for (name,) in rows}


_READONLY_DIRECTORY = 1544  # SQLITE_READONLY_DIRECTORY: no sqlite3 constant before 3.12
# A read-only connection that finds a hot journal (or a WAL needing recovery) beside the
# store: a writer stopped halfway through a transaction, and only a writer can undo it.
_LEFT_MIDWAY = {776: "-journal", 264: "-wal"}  # SQLITE_READONLY_ROLLBACK, _RECOVERY
_FULL_BELOW = 1 << 20
"""Free bytes under which an I/O error on the store's disk is said as a full disk."""


def disk_full(path: str) -> bool:
    """Whether the disk holding `path` has (next to) no space left for this user."""
    try:
        fs = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return False
    free = fs.f_bfree if os.geteuid() == 0 else fs.f_bavail
    return free * fs.f_frsize < _FULL_BELOW


def sqlite_error(
    exc: sqlite3.Error, path: str, *, writing: bool, locked: StoreLockedError
) -> StoreError:
    """One line naming the file for an sqlite3 error, for readers and writers alike;
    `locked` is what each says when another connection holds the store."""
    code = getattr(exc, "sqlite_errorcode", None)
    doing = "write" if writing else "read"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc):
        return locked
    primary = None if code is None else code & 0xFF
    if primary == sqlite3.SQLITE_FULL or (
        primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN) and disk_full(path)
    ):
        return StoreError(
            f"cannot {doing} the store: the disk is full",
            file=path,
            hint="free some space on the disk that holds it",
        )
    if code in _LEFT_MIDWAY:
        journal = os.path.basename(path) + _LEFT_MIDWAY[code]
        return StoreError(
            "the store was left halfway through a write by a writer that stopped"
            f" (its journal {journal} is beside it)",
            file=path,
            hint=f"run `kpitui store init {shlex.quote(path)}` as its owner to roll that write back",
        )
    if code == sqlite3.SQLITE_NOTADB:
        return StoreError(
            "not a kpitui store: the file is not a SQLite database",
            file=path,
            hint="pass --db with a kpitui store" + (", or a new file name" if writing else ""),
        )
    if code == sqlite3.SQLITE_CORRUPT:
        return StoreError("the store is corrupt", file=path, hint="restore it from a backup")
    if code == _READONLY_DIRECTORY or (code == sqlite3.SQLITE_READONLY and not writing):
        # A WAL store is used through its -shm (and a writer's -wal) file, made in the
        # store's folder: a folder the user cannot write stops readers and writers.
        return StoreError(
            f"cannot {doing} the store: its folder is not writable by this user",
            file=path,
            hint="let this user (or its group) write the folder, as users of a "
            "SQLite store in WAL mode must",
        )
    return StoreError(f"cannot {doing} the store: {exc}", file=path)


def newer_schema_error(path: str, version: int) -> StoreError:
    return StoreError(
        f"the store has schema version {version}, newer than this kpitui understands "
        f"(up to {SCHEMA_VERSION})",
        file=path,
        hint="upgrade kpitui",
    )


def _foreign_error(path: str) -> StoreError:
    return StoreError(
        "not a kpitui store: a SQLite database of another program",
        file=path,
        hint="pass --db with a kpitui store, or a new file name",
    )


def marked(con: sqlite3.Connection) -> bool:
    """Whether the store carries kpitui's mark (`APPLICATION_ID`)."""
    return con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def stored_version(con: sqlite3.Connection, path: str) -> int:
    """The store's schema version: 0 for an empty database (a store to create).
    StoreError when it is newer than ours, or not a kpitui store: neither marked as
    kpitui's nor a store kpitui made before it marked them."""
    version = con.execute("PRAGMA user_version").fetchone()[0]
    mark = con.execute("PRAGMA application_id").fetchone()[0]
    if mark == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise newer_schema_error(path, version)
        return version
    if mark != 0:
        raise _foreign_error(path)
    tables = user_tables(con)
    if version == 0 and not tables:
        return 0
    if version in UNMARKED_TABLES and tables >= UNMARKED_TABLES[version]:
        return version
    raise _foreign_error(path)


def read_version(con: sqlite3.Connection, path: str) -> int:
    """`stored_version` in one read snapshot, so that a writer creating the store at
    the same moment is seen either before or after, never halfway."""
    con.execute("BEGIN")
    try:
        version = stored_version(con, path)
    except BaseException:
        end_quietly(con)
        raise
    con.execute("COMMIT")
    return version


def end_quietly(con: sqlite3.Connection) -> None:
    """Roll back what an error interrupted, without hiding that error: SQLite may have
    rolled back already (a full disk), and a failing COMMIT or ROLLBACK would then say
    "no transaction is active" instead of what went wrong."""
    with contextlib.suppress(sqlite3.Error):
        if con.in_transaction:
            con.execute("ROLLBACK")


def migrate(con: sqlite3.Connection, path: str) -> None:
    """Bring the store to SCHEMA_VERSION and mark it as kpitui's. Call inside a write
    transaction (writers only)."""
    version = stored_version(con, path)
    for target in range(version + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS[target]:
            con.execute(statement)
        con.execute(f"PRAGMA user_version = {target}")
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
