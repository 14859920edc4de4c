"""A DuckDB file as a source, or an in-memory DuckDB (`duckdb::memory:`), and through
either Parquet or CSV exports read in place: a relative file name in a query is looked
up in the spec's folder, as the source's own path is.

A file is opened `read_only`; but `read_only` does not stop `COPY … TO`, `EXPORT`,
`ATTACH` or `INSTALL` writing files, and an in-memory database has no such mode. So a
query runs only when DuckDB's own parser finds in it exactly one statement, a SELECT;
extensions are never downloaded, and the configuration is locked once set. The
session's zone is UTC, `:start`/`:end` are bound as UTC timestamps."""

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
    not_run,
    several_statements,
    too_many_rows,
)

MEMORY = ":memory:"
_KINDS = {"LOAD": "an INSTALL or LOAD", "EXTENSION": "an extension"}
"""How a refused statement's type reads, where its name does not say it."""


class DuckdbSource:
    engine = "duckdb"

    def __init__(self, path: Path | None, timeout: float, max_rows: int, *, files: Path) -> None:
        """`path` None: an in-memory database, for queries over files only."""
        self.shown = str(path) if path is not None else f"duckdb:{MEMORY}"
        self.timeout = timeout
        self.max_rows = max_rows
        try:
            if path is None:
                self._con = duckdb.connect(MEMORY)
            else:
                self._con = duckdb.connect(str(path), read_only=True)
            self._con.execute("SET TimeZone = 'UTC'")
            self._con.execute("SET file_search_path = ?", [str(files.resolve())])
            self._con.execute("SET autoinstall_known_extensions = false")
            self._con.execute("SET lock_configuration = true")
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
        statement = self._statement(bound)
        timer = threading.Timer(self.timeout, self._con.interrupt)
        timer.start()
        try:
            cursor = self._con.execute(statement, used)
            rows = cursor.fetchmany(self.max_rows + 1)
        except duckdb.InterruptException:
            raise QueryTimeout(f"the query ran past the timeout ({self.timeout:g} s)") from None
        except duckdb.Error as exc:
            raise QueryFailed(f"DuckDB: {first_line(exc)}") from None
        finally:
            timer.cancel()
            # A timer already firing must be done before the connection is closed (its
            # interrupt then raises in its thread) or the next query starts (it would
            # be interrupted instead).
            timer.join()
        if len(rows) > self.max_rows:
            raise too_many_rows(self.max_rows)
        names = [d[0] for d in cursor.description or ()]
        return names, rows

    def _statement(self, sql: str) -> duckdb.Statement:
        """The one SELECT in `sql`, as DuckDB's parser reads it; anything else is refused."""
        try:
            statements = self._con.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryFailed(f"DuckDB: {first_line(exc)}") from None
        if len(statements) != 1:
            if not statements:
                raise not_run("the query is empty")
            raise several_statements(len(statements))
        (statement,) = statements
        if statement.type != duckdb.StatementType.SELECT:
            name = statement.type.name
            article = "an" if name[0] in "AEIOU" else "a"
            kind = _KINDS.get(name, f"{article} {name.replace('_', ' ')}")
            raise not_run(f"the query is {kind} statement, not a SELECT")
        return statement

    def close(self) -> None:
        self._con.close()
