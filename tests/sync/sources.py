"""Sources for the sync tests: a real SQLite file, a real DuckDB file and a real,
throwaway PostgreSQL server (initdb'd in a temp folder, on a free loopback port, gone
after the session). A missing server or driver skips its tests with the reason, except
under CI=true, where it fails them."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from glob import glob
from pathlib import Path

import pytest

DAY = 86400
NOW = 1_765_000_000 - 1_765_000_000 % DAY + 12 * 3600  # noon UTC
PLANS = ("free", "pro")


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL (without a database) of a PostgreSQL server of this session."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        unavailable("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed")
    root = Path(tempfile.mkdtemp(prefix="kpitui-sync-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as `postgres`
        import pwd

        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=60)

    run(initdb, "-D", str(data), "-A", "trust", "-U", "kpitui", "--no-sync", "-E", "UTF8")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    try:
        yield f"postgresql://kpitui@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str, request: pytest.FixtureRequest) -> str:
    """A new, empty database on the session's server."""
    import psycopg

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server}/{name}"


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
