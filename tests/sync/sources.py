"""Sources for the sync tests: a real SQLite file, a real DuckDB file and a database on
the session's throwaway PostgreSQL server (`tests/pg_server.py`). A missing server or
driver skips its tests with the reason, except under CI=true, where it fails them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pg_server import unavailable

DAY = 86400
NOW = 1_765_000_000 - 1_765_000_000 % DAY + 12 * 3600  # noon UTC
PLANS = ("free", "pro")


def signup_rows(days: int = 10, end: int = NOW) -> list[tuple[int, str]]:
    """(created_at, plan): on day k before `end`'s day, k+1 free and 2 pro signups."""
    first = end - end % DAY - (days - 1) * DAY
    rows = []
    for k in range(days):
        day = first + k * DAY
        rows += [(day + 3600 * (i + 1), "free") for i in range(k + 1)]
        rows += [(day + 600, "pro"), (day + 7200, "pro")]
    return rows


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class SourceDb:
    """A source database of one engine holding `accounts(created_at, plan)`: its URL for
    the spec, the signups query in its dialect, and a way to add rows."""

    def __init__(self, engine: str, url: str, target: str) -> None:
        self.engine, self.url, self.target = engine, url, target

    @property
    def day(self) -> str:
        if self.engine == "sqlite":
            return "(created_at / 86400) * 86400"
        return "date_trunc('day', created_at)"

    def signups_query(self) -> str:
        return (
            f"SELECT {self.day} AS time, plan, count(*) AS value FROM accounts"
            " WHERE created_at >= :start AND created_at < :end GROUP BY 1, 2"
        )

    def execute(self, sql: str, rows: list[tuple] | None = None) -> None:
        if self.engine == "sqlite":
            with sqlite3.connect(self.target) as con:
                con.executemany(sql, rows) if rows else con.execute(sql)
            con.close()
        elif self.engine == "duckdb":
            import duckdb

            con = duckdb.connect(self.target)
            try:
                con.executemany(sql, rows) if rows else con.execute(sql)
            finally:
                con.close()
        else:
            import psycopg

            with psycopg.connect(self.target, autocommit=True) as con, con.cursor() as cur:
                cur.executemany(sql, rows) if rows else cur.execute(sql)

    def add(self, rows: list[tuple[int, str]]) -> None:
        mark = "?" if self.engine != "postgresql" else "%s"
        converted = [(t if self.engine == "sqlite" else _dt(t), p) for t, p in rows]
        self.execute(f"INSERT INTO accounts (created_at, plan) VALUES ({mark}, {mark})", converted)

    def count(self) -> int:
        if self.engine == "sqlite":
            with sqlite3.connect(self.target) as con:
                n = con.execute("SELECT count(*) FROM accounts").fetchone()[0]
            con.close()
            return n
        if self.engine == "duckdb":
            import duckdb

            con = duckdb.connect(self.target, read_only=True)
            try:
                return con.execute("SELECT count(*) FROM accounts").fetchone()[0]
            finally:
                con.close()
        import psycopg

        with psycopg.connect(self.target) as con:
            return con.execute("SELECT count(*) FROM accounts").fetchone()[0]


def make_source(engine: str, folder: Path, pg: str | None = None) -> SourceDb:
    if engine == "sqlite":
        path = folder / "app.sqlite"
        db = SourceDb(engine, "app.sqlite", str(path))
        db.execute("CREATE TABLE accounts (created_at INTEGER NOT NULL, plan TEXT)")
    elif engine == "duckdb":
        try:
            import duckdb  # noqa: F401
        except ImportError:
            unavailable("duckdb is not installed (pip install 'kpitui[duckdb]')")
        path = folder / "warehouse.duckdb"
        db = SourceDb(engine, "warehouse.duckdb", str(path))
        db.execute("CREATE TABLE accounts (created_at TIMESTAMPTZ NOT NULL, plan TEXT)")
    else:
        assert pg is not None
        db = SourceDb(engine, pg, pg)
        db.execute("CREATE TABLE accounts (created_at timestamptz NOT NULL, plan text)")
    return db


ENGINES = ("sqlite", "duckdb", "postgresql")


@pytest.fixture(params=ENGINES)
def source(request: pytest.FixtureRequest, tmp_path: Path) -> SourceDb:
    """The same `accounts` table in each engine, filled with `signup_rows()`."""
    pg = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    db = make_source(request.param, tmp_path, pg)
    db.add(signup_rows())
    return db
