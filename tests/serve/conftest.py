"""Fixtures of the `serve` tests: `kpitui serve` processes that never outlive a test."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.serve.served import ServedBoard


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
