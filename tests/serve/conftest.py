"""Fixtures of the `serve` tests: `kpitui serve` processes that never outlive a test,
Debian's Chromium, its tabs, and a board made in the test."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.serve.served import CHROMIUM, ServedBoard, make_board, need


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServedBoard]]:
    """Start `kpitui serve` with these arguments (in tmp_path); stopped afterwards, and
    no board it started may outlive it."""
    started: list[ServedBoard] = []

    def start(*args: str, env: dict[str, str] | None = None) -> ServedBoard:
        served = ServedBoard(tmp_path, *args, env=env)
        started.append(served)
        return served

    yield start
    for served in started:
        boards = served.boards()
        served.stop()
        for pid in boards:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"board {pid} outlived its server")


@pytest.fixture(scope="module")
def browser():
    need(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    need(
        importlib.util.find_spec("playwright") is not None,
        "Playwright's Python package is missing (pip install -e '.[test]')",
    )
    from tests.serve.browser import launched

    with launched() as chromium:
        yield chromium


@pytest.fixture
def tab(browser):
    """`tab()` opens a new tab (a context of its own); all are closed afterwards."""
    from tests.serve.browser import Tab

    opened: list[Tab] = []

    def open_tab(**options) -> Tab:
        new = Tab(browser, **options)
        opened.append(new)
        return new

    yield open_tab
    for each in opened:
        each.close()


@pytest.fixture
def board(tmp_path: Path) -> Path:
    return make_board(tmp_path)
