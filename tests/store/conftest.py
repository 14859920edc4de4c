"""Fixtures for the store tests: a temporary store, the CLI, and a brute-force oracle."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from kpitui.cli import main
from kpitui.store import open_reader, open_writer

Point = tuple[str, dict[str, str], int, float]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "metrics.db"


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


def count_points(db: Path) -> int:
    """Points in the store; 0 when a failed import into a new store left none behind."""
    if not Path(db).exists():
        return 0
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM points").fetchone()[0]
