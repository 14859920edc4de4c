"""A DuckDB file as a source (and through it Parquet or CSV exports, read in place:
a relative file name in a query is looked up in the spec's folder, as the source's own
path is). Opened `read_only`; the session's zone is UTC, `:start`/`:end` are bound as
UTC timestamps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from kpitui.spec.sources import bind_parameters
from kpitui.sync.source import (
    QueryFailed,
    QueryTimeout,
    Rows,
    SourceDown,
    first_line,
    too_many_rows,
)


class DuckdbSource:
    engine = "duckdb"

    def __init__(self, path: Path, timeout: float, max_rows: int, *, files: Path) -> None:
        self.shown = str(path)
        self.timeout = timeout
        self.max_rows = max_rows
        try:
            self._con = duckdb.connect(str(path), read_only=True)
            self._con.execute("SET TimeZone = 'UTC'")
            self._con.execute("SET file_search_path = ?", [str(files.resolve())])
        except duckdb.Error as exc:
            raise SourceDown(
                f"cannot open the DuckDB source: {first_line(exc)}", file=self.shown
            ) from None

    def query(self, sql: str, start: int, end: int) -> tuple[list[str], Rows]:
        bound = bind_parameters(sql, {"start": "$start", "end": "$end"})
        params = {
            name: datetime.fromtimestamp(ts, UTC) for name, ts in (("start", start), ("end", end))
        }
        used = {k: v for k, v in params.items() if f"${k}" in bound}
        timer = threading.Timer(self.timeout, self._con.interrupt)
        timer.start()
        try:
            cursor = self._con.execute(bound, used)
            rows = cursor.fetchmany(self.max_rows + 1)
        except duckdb.InterruptException:
            raise QueryTimeout(f"the query ran past the timeout ({self.timeout:g} s)") from None
        except duckdb.Error as exc:
            raise QueryFailed(f"DuckDB: {first_line(exc)}") from None
        finally:
            timer.cancel()
        if len(rows) > self.max_rows:
            raise too_many_rows(self.max_rows)
        names = [d[0] for d in cursor.description or ()]
        return names, rows

    def close(self) -> None:
        self._con.close()
