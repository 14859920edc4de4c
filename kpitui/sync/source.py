"""The databases `kpitui sync` reads, behind one small interface.

A `SourceConnection` runs one query for one window and returns its column names and
rows; it is opened read-only with a timeout on every query, and turns its driver's
errors into the three `PullError`s below before they leave it (as the store's
backends do), so the runner never asks which database it holds:

- `SourceDown` (exit 1): the database cannot be reached or opened;
- `QueryTimeout` (exit 1): the query ran past the source's `timeout`;
- `QueryFailed` (exit 2): the database refused the query (syntax, a missing table, a
  write the read-only connection stopped, more rows than `max_rows`).

Read-only is kept by each engine itself, never by reading the SQL text here (a comment
or a string literal fools that): a query is run only when the engine's own parser finds
one statement that reads (SQLite: an authorizer allowing reads only; DuckDB: the
statements `extract_statements` finds; PostgreSQL: a cursor, which PostgreSQL declares
for a SELECT only, in a READ ONLY transaction). Anything else is `not_run`.

Drivers are imported when a source of theirs is opened: sqlite3 always is there,
psycopg comes with kpitui, duckdb is the `kpitui[duckdb]` extra.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from kpitui.errors import InputError, RuntimeFailure
from kpitui.literal import quoted
from kpitui.spec.models import Source
from kpitui.spec.sources import SourceTarget, source_target
from kpitui.store.name import mask_password


class PullError(RuntimeFailure):
    """A pull that could not be done; the runner reports it and goes on."""


class SourceDown(PullError):
    pass


class QueryTimeout(PullError):
    pass


class QueryFailed(PullError):
    exit_code = InputError.exit_code


Rows = list[tuple[object, ...]]


class SourceConnection(Protocol):
    engine: str
    shown: str
    """How messages name the database (a URL's password masked)."""

    def query(self, sql: str, start: int, end: int) -> tuple[list[str], Rows]:
        """The columns and rows of `sql` run with `:start`/`:end` bound to the window
        `[start, end)` (epoch seconds): at most the source's `max_rows` rows."""

    def close(self) -> None: ...


def source_url(name: str, source: Source, environ: os._Environ[str] | dict[str, str]) -> str:
    if source.url is not None:
        return source.url
    assert source.url_env is not None
    value = environ.get(source.url_env, "").strip()
    if not value:
        raise SourceDown(
            f"the environment variable {source.url_env} is not set",
            hint=f"export {source.url_env}=postgresql://… (or a database file) before `kpitui sync`",
        )
    return value


def open_source(
    name: str,
    source: Source,
    base: Path,
    environ: os._Environ[str] | dict[str, str] | None = None,
) -> SourceConnection:
    """A read-only connection to the source `name` of a spec in the folder `base`."""
    url = source_url(name, source, os.environ if environ is None else environ)
    try:
        target = source_target(url, base)
    except ValueError as exc:
        raise SourceDown(str(exc)) from None
    return _open(target, source, base)


def _open(target: SourceTarget, source: Source, base: Path) -> SourceConnection:
    timeout = float(source.timeout.seconds)
    if target.engine == "sqlite":
        from kpitui.sync.sqlite_source import SqliteSource

        return SqliteSource(_existing(target), timeout, source.max_rows)
    if target.engine == "duckdb":
        try:
            from kpitui.sync.duckdb_source import DuckdbSource
        except ImportError:
            raise SourceDown(
                "DuckDB sources need the duckdb driver",
                hint="pip install 'kpitui[duckdb]'",
            ) from None
        path = None if target.memory else _existing(target)
        return DuckdbSource(path, timeout, source.max_rows, files=base)
    try:
        from kpitui.sync.postgres_source import PostgresSource
    except ImportError:
        raise SourceDown(
            "PostgreSQL sources need the psycopg driver", hint="pip install 'psycopg[binary]'"
        ) from None
    assert target.url is not None
    return PostgresSource(target.url, timeout, source.max_rows)


def _existing(target: SourceTarget) -> Path:
    assert target.path is not None
    if not target.path.is_file():
        what = "is not a file" if target.path.exists() else "no such file"
        raise SourceDown(
            f"{target.engine} source {quoted(str(target.path))}: {what}",
            hint="a relative path is taken from the spec's folder",
        )
    return target.path


READ_ONLY_HINT = "a pull runs one read-only query: a SELECT, or WITH … SELECT"


def not_run(why: str) -> QueryFailed:
    """The query was refused before it ran: `why` says what in it is not a read."""
    return QueryFailed(f"not run: {why}", hint=READ_ONLY_HINT)


def several_statements(count: int | None = None) -> QueryFailed:
    said = f"{count} statements" if count else "several statements"
    return not_run(f"the query is {said}, not one")


class TooManyRows(QueryFailed):
    """More rows than the source's `max_rows` (the runner reads a shorter window)."""


def too_many_rows(max_rows: int) -> QueryFailed:
    return TooManyRows(
        f"the query returned more than {max_rows:,} rows",
        hint="group the rows by a coarser time in the query, or raise the source's max_rows",
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def shown_url(url: str) -> str:
    return mask_password(url)
