"""A SQLite file as a source: opened `mode=ro` with `query_only`, and an authorizer that
lets a statement only read (SQLite asks it about every action while it compiles the
statement, so a write, an ATTACH, a PRAGMA is refused before anything runs, however the
SQL is written); `:start`/`:end` are bound as epoch seconds (SQLite has no time type)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from kpitui.literal import quoted
from kpitui.sync.source import (
    QueryFailed,
    QueryTimeout,
    Rows,
    SourceDown,
    not_run,
    several_statements,
    too_many_rows,
)

_STEPS = 10_000  # virtual-machine steps between two looks at the clock

_READS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}
"""The only actions a pull's statement may take."""
_NO_FUNCTIONS = frozenset({"load_extension"})
"""Functions that do more than read (loading code into the process)."""
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master"})
_ACTIONS = {
    getattr(sqlite3, f"SQLITE_{name}"): name.replace("_", " ")
    for name in [
        "ALTER_TABLE",
        "ANALYZE",
        "ATTACH",
        "CREATE_INDEX",
        "CREATE_TABLE",
        "CREATE_TEMP_INDEX",
        "CREATE_TEMP_TABLE",
        "CREATE_TEMP_TRIGGER",
        "CREATE_TEMP_VIEW",
        "CREATE_TRIGGER",
        "CREATE_VIEW",
        "CREATE_VTABLE",
        "DELETE",
        "DETACH",
        "DROP_INDEX",
        "DROP_TABLE",
        "DROP_TEMP_INDEX",
        "DROP_TEMP_TABLE",
        "DROP_TEMP_TRIGGER",
        "DROP_TEMP_VIEW",
        "DROP_TRIGGER",
        "DROP_VIEW",
        "DROP_VTABLE",
        "INSERT",
        "PRAGMA",
        "REINDEX",
        "SAVEPOINT",
        "TRANSACTION",
        "UPDATE",
    ]
    if hasattr(sqlite3, f"SQLITE_{name}")
}
"""An action's name, for the line that says what a refused query would have done."""


class SqliteSource:
    engine = "sqlite"

    def __init__(self, path: Path, timeout: float, max_rows: int) -> None:
        self.shown = str(path)
        self.timeout = timeout
        self.max_rows = max_rows
        self._denied: str | None = None
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        try:
            # isolation_level=None: the module would otherwise send its own BEGIN before
            # a DML statement, and the authorizer would blame that instead.
            self._con = sqlite3.connect(
                uri, uri=True, timeout=timeout, check_same_thread=False, isolation_level=None
            )
            self._con.execute("PRAGMA query_only = ON")
        except sqlite3.Error as exc:
            raise SourceDown(f"cannot open the SQLite source: {exc}", file=self.shown) from None
        self._con.set_authorizer(self._authorize)

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
    ) -> int:
        if action in _READS and not (
            action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _NO_FUNCTIONS
        ):
            return sqlite3.SQLITE_OK
        if self._denied is None:
            if action == sqlite3.SQLITE_FUNCTION:
                self._denied = f"call {arg2}()"
            elif (arg1 or "").lower() in _SCHEMA_TABLES:
                self._denied = "change the schema"  # DROP, CREATE, ANALYZE all start there
            else:
                what = _ACTIONS.get(action, f"action {action}")
                self._denied = f"{what} {quoted(arg1)}" if arg1 else what
        return sqlite3.SQLITE_DENY

    def query(self, sql: str, start: int, end: int) -> tuple[list[str], Rows]:
        deadline = time.monotonic() + self.timeout
        self._denied = None
        self._con.set_progress_handler(lambda: time.monotonic() > deadline, _STEPS)
        try:
            cursor = self._con.execute(sql, {"start": start, "end": end})
            if cursor.description is None:
                raise not_run("the query returns no rows: it is no SELECT")
            rows = cursor.fetchmany(self.max_rows + 1)
        except sqlite3.ProgrammingError as exc:
            if "one statement at a time" in str(exc):
                raise several_statements() from None
            raise QueryFailed(f"SQLite: {exc}") from None
        except sqlite3.Error as exc:
            if self._denied is not None:
                raise not_run(f"the query would {self._denied}") from None
            if "interrupted" in str(exc) and time.monotonic() > deadline:
                raise QueryTimeout(f"the query ran past the timeout ({self.timeout:g} s)") from None
            raise QueryFailed(f"SQLite: {exc}") from None
        finally:
            self._con.set_progress_handler(None, 0)
        if len(rows) > self.max_rows:
            raise too_many_rows(self.max_rows)
        names = [d[0] for d in cursor.description]
        return names, rows

    def close(self) -> None:
        self._con.close()
