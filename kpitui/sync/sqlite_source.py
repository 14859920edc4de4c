"""A SQLite file as a source: opened `mode=ro` (and `query_only`), so no query can
write it; `:start`/`:end` are bound as epoch seconds (SQLite has no time type)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from kpitui.sync.source import QueryFailed, QueryTimeout, Rows, SourceDown, too_many_rows

_STEPS = 10_000  # virtual-machine steps between two looks at the clock


class SqliteSource:
    engine = "sqlite"

    def __init__(self, path: Path, timeout: float, max_rows: int) -> None:
        self.shown = str(path)
        self.timeout = timeout
        self.max_rows = max_rows
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        try:
            self._con = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
            self._con.execute("PRAGMA query_only = ON")
        except sqlite3.Error as exc:
            raise SourceDown(f"cannot open the SQLite source: {exc}", file=self.shown) from None

    def query(self, sql: str, start: int, end: int) -> tuple[list[str], Rows]:
        deadline = time.monotonic() + self.timeout
        self._con.set_progress_handler(lambda: time.monotonic() > deadline, _STEPS)
        try:
            cursor = self._con.execute(sql, {"start": start, "end": end})
            rows = cursor.fetchmany(self.max_rows + 1)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc) and time.monotonic() > deadline:
                raise QueryTimeout(f"the query ran past the timeout ({self.timeout:g} s)") from None
            raise QueryFailed(f"SQLite: {exc}") from None
        except sqlite3.Error as exc:
            raise QueryFailed(f"SQLite: {exc}") from None
        finally:
            self._con.set_progress_handler(None, 0)
        if len(rows) > self.max_rows:
            raise too_many_rows(self.max_rows)
        names = [d[0] for d in cursor.description or ()]
        return names, rows

    def close(self) -> None:
        self._con.close()
