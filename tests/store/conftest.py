"""Fixtures for the store tests: a temporary store, the CLI, and a brute-force oracle.

`db` is a new, empty store. In a module marked `both_backends` every test that uses it
runs twice, on a SQLite file and on a PostgreSQL database of the session's throwaway
server (`tests/pg_server.py`); a test marked `sqlite_only` (it looks inside the file)
runs on SQLite alone. Elsewhere `db` is a SQLite file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from kpitui.cli import main
from kpitui.store import open_reader, open_writer

Point = tuple[str, dict[str, str], int, float]


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db" not in metafunc.fixturenames:
        return
    both = metafunc.definition.get_closest_marker("both_backends") is not None
    only = metafunc.definition.get_closest_marker("sqlite_only") is not None
    metafunc.parametrize("db", BACKENDS if both and not only else ("sqlite",), indirect=True)


@pytest.fixture
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A store not created yet: a SQLite file's Path, or a PostgreSQL database's URL."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return request.getfixturevalue("pg_url")
    return tmp_path / "metrics.db"


def is_pg(db: Path | str) -> bool:
    return isinstance(db, str) and db.startswith("postgresql://")


def sql(db: Path | str, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of a query straight into the store's tables (SQLite `?` placeholders; the
    PostgreSQL tables are in schema kpitui)."""
    if is_pg(db):
        import psycopg

        with psycopg.connect(str(db)) as con:
            con.execute("SET search_path = kpitui")
            cur = con.execute(query.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []
    con = sqlite3.connect(db)
    try:
        with con:
            return con.execute(query, params).fetchall()
    finally:
        con.close()


@pytest.fixture
def write(db: Path) -> Callable[[Iterable[Point]], int]:
    def write_points(points: Iterable[Point]) -> int:
        with open_writer(db) as writer:
            return writer.write_points(points)

    return write_points


@pytest.fixture
def reader(db: Path):
    """A reader opened lazily (the store must exist first), closed after the test."""
    opened = []

    def open_it():
        opened.append(open_reader(db))
        return opened[-1]

    yield open_it
    for r in opened:
        r.close()


CREATED = "kpitui: created a new store "


@pytest.fixture
def cli_raw(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run `kpitui ARGS...`; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def cli(cli_raw) -> Callable[..., tuple[int, str, str]]:
    """`cli_raw` without the line saying a new store was created (tested on its own in
    test_store_choice), so tests about other things need not create the store first."""

    def run(*args: str) -> tuple[int, str, str]:
        code, out, err = cli_raw(*args)
        kept = [line for line in err.splitlines(keepends=True) if not line.startswith(CREATED)]
        return code, out, "".join(kept)

    return run


def count_points(db: Path | str) -> int:
    """Points in the store; 0 when a failed import into a new store left none behind."""
    if is_pg(db):
        import psycopg

        with psycopg.connect(str(db)) as con:
            if con.execute("SELECT to_regclass('kpitui.points')").fetchone()[0] is None:
                return 0
            return con.execute("SELECT count(*) FROM kpitui.points").fetchone()[0]
    if not Path(db).exists():
        return 0
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM points").fetchone()[0]
