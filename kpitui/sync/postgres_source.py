"""A PostgreSQL database as a source: every transaction read-only
(`default_transaction_read_only`), a `statement_timeout` on every query, the session
in UTC; `:start`/`:end` are bound as timezone-aware timestamps."""

from __future__ import annotations

import math
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
    shown_url,
    too_many_rows,
)


class PostgresSource:
    engine = "postgresql"

    def __init__(self, url: str, timeout: float, max_rows: int) -> None:
        self.shown = shown_url(url)
        self.timeout = timeout
        self.max_rows = max_rows
        millis = max(1, math.ceil(timeout * 1000))
        options = (
            f"-c default_transaction_read_only=on -c statement_timeout={millis}"
            " -c TimeZone=UTC -c application_name=kpitui-sync"
        )
        try:
            self._con = psycopg.connect(
                url, connect_timeout=max(2, math.ceil(timeout)), options=options, autocommit=True
            )
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
        try:
            with self._con.cursor() as cursor:
                cursor.execute(bound, params, prepare=False)
                if cursor.description is None:
                    raise QueryFailed("the query returns no rows (is it a SELECT?)")
                if cursor.rowcount > self.max_rows:
                    raise too_many_rows(self.max_rows)
                names = [c.name for c in cursor.description]
                rows = cursor.fetchall()
        except pg_errors.QueryCanceled:
            raise QueryTimeout(f"the query ran past the timeout ({self.timeout:g} s)") from None
        except pg_errors.ReadOnlySqlTransaction as exc:
            raise QueryFailed(
                f"PostgreSQL: {first_line(exc)}",
                hint="a pull only reads: the source connection refuses writes",
            ) from None
        except psycopg.OperationalError as exc:
            raise SourceDown(f"lost the PostgreSQL source: {first_line(exc)}") from None
        except psycopg.Error as exc:
            raise QueryFailed(f"PostgreSQL: {first_line(exc)}") from None
        return names, rows

    def close(self) -> None:
        self._con.close()
