"""A PostgreSQL database as a source.

Each query runs in its own READ ONLY transaction (and the session's default is
read-only too) with its own `SET LOCAL statement_timeout`, so a query that changed a
setting with `set_config` changes nothing for the next one. It runs through a
server-side cursor: PostgreSQL declares a cursor only for a SELECT (or VALUES) without
a data-modifying WITH, and one statement only, which is its own parser saying the query
is one read; and the rows come over `max_rows + 1` at most, so a query over the cap is
refused without its rows ever crossing the wire. The session is in UTC; `:start`/`:end`
are bound as timezone-aware timestamps.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import psycopg
from psycopg import errors as pg_errors

from kpitui.spec.sources import bind_parameters
from kpitui.sync.source import (
    QueryFailed,
    QueryTimeout,
    Rows,
    SourceDown,
    first_line,
    not_run,
    several_statements,
    shown_url,
    too_many_rows,
)

CURSOR = "kpitui_pull"
_DECLARE = f'DECLARE "{CURSOR}" NO SCROLL CURSOR FOR '
"""What psycopg sends before the query (positions in PostgreSQL's errors count it)."""
_STATEMENTS = frozenset(
    [
        "ALTER",
        "ANALYZE",
        "BEGIN",
        "CALL",
        "CHECKPOINT",
        "CLOSE",
        "CLUSTER",
        "COMMENT",
        "COMMIT",
        "COPY",
        "CREATE",
        "DEALLOCATE",
        "DECLARE",
        "DELETE",
        "DISCARD",
        "DO",
        "DROP",
        "END",
        "EXECUTE",
        "EXPLAIN",
        "FETCH",
        "GRANT",
        "IMPORT",
        "INSERT",
        "LISTEN",
        "LOAD",
        "LOCK",
        "MERGE",
        "MOVE",
        "NOTIFY",
        "PREPARE",
        "REASSIGN",
        "REFRESH",
        "REINDEX",
        "RELEASE",
        "RESET",
        "REVOKE",
        "ROLLBACK",
        "SAVEPOINT",
        "SECURITY",
        "SET",
        "SHOW",
        "START",
        "TRUNCATE",
        "UNLISTEN",
        "UPDATE",
        "VACUUM",
    ]
)
"""Words that begin a statement a cursor cannot be declared for."""
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)


class PostgresSource:
    engine = "postgresql"

    def __init__(self, url: str, timeout: float, max_rows: int) -> None:
        self.shown = shown_url(url)
        self.timeout = timeout
        self.max_rows = max_rows
        self._millis = max(1, math.ceil(timeout * 1000))
        options = (
            f"-c default_transaction_read_only=on -c statement_timeout={self._millis}"
            " -c TimeZone=UTC -c application_name=kpitui-sync"
        )
        try:
            self._con = psycopg.connect(
                url, connect_timeout=max(2, math.ceil(timeout)), options=options
            )
            self._con.read_only = True  # every transaction begins READ ONLY
        except psycopg.Error as exc:
            raise SourceDown(
                f"cannot reach the PostgreSQL source: {first_line(exc)}", file=self.shown
            ) from None

    def query(self, sql: str, start: int, end: int) -> tuple[list[str], Rows]:
        bound = bind_parameters(sql, {"start": "%(start)s", "end": "%(end)s"}, escape_percent=True)
        params = {
            "start": datetime.fromtimestamp(start, UTC),
            "end": datetime.fromtimestamp(end, UTC),
        }
        cursor = self._con.cursor(name=CURSOR, scrollable=False)
        try:
            try:
                self._con.execute(f"SET LOCAL statement_timeout = {self._millis}")
                cursor.execute(bound, params)
                assert cursor.description is not None  # a cursor always has columns
                names = [c.name for c in cursor.description]
                rows = cursor.fetchmany(self.max_rows + 1)
            finally:
                if not self._con.closed:
                    self._con.rollback()  # nothing to keep; the cursor goes with it
                cursor.close()
        except pg_errors.QueryCanceled:
            raise QueryTimeout(f"the query ran past the timeout ({self.timeout:g} s)") from None
        except (pg_errors.ReadOnlySqlTransaction, pg_errors.FeatureNotSupported) as exc:
            raise not_run(f"PostgreSQL: {first_line(exc)}") from None
        except pg_errors.SyntaxError as exc:
            raise _syntax(exc, sql) from None
        except psycopg.OperationalError as exc:
            raise SourceDown(f"lost the PostgreSQL source: {first_line(exc)}") from None
        except psycopg.Error as exc:
            raise QueryFailed(f"PostgreSQL: {first_line(exc)}") from None
        if len(rows) > self.max_rows:
            raise too_many_rows(self.max_rows)
        return names, rows

    def close(self) -> None:
        self._con.close()


def _syntax(exc: pg_errors.SyntaxError, sql: str) -> QueryFailed:
    """A syntax error, said as what it is when PostgreSQL stopped at the query's first
    word (`INSERT`, `DROP` …: the cursor takes a SELECT only) or at a second statement."""
    message = first_line(exc)
    if "multiple commands" in message:
        return several_statements()
    position = exc.diag.statement_position
    first = _LEADING.match(sql)
    assert first is not None  # the pattern matches the empty string
    word = (sql[first.end() :].split(None, 1) or [""])[0].rstrip(";").upper()
    # Positions count characters from 1; the query starts after the DECLARE.
    at_start = position is not None and int(position) - 1 == len(_DECLARE) + first.end()
    if at_start and word in _STATEMENTS:
        article = "an" if word[0] in "AEIOU" else "a"
        return not_run(f"the query is {article} {word} statement, not a SELECT")
    return QueryFailed(f"PostgreSQL: {message}")
