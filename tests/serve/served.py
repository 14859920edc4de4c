"""A board made in the test and a real `kpitui serve` process on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kpitui.cli import main

CHROMIUM = Path("/usr/bin/chromium")
HOOK = Path(__file__).with_name("xterm_hook.js")
SERVE_TIMEOUT = 30.0
"""Seconds a server or a board has to come up: generous, the machine is shared."""
HOUR, DAY = 3600, 86400

SPEC = """\
title: Serve <test> board
store: metrics.db
refresh: 1s
timezone: UTC
kpis:
  - metric: active_users
    title: Active users
    target: 1000
    indicator: leading
  - metric: signups
    title: Signups this week
    agg: sum
    window: 7d
  - metric: revenue
    title: Revenue
    format: currency
    currency: USD
  - metric: churn
    title: Churn
    direction: down
    format: percent
"""
# What the board shows for the store `make_board` writes.
SHOWN = {
    "Active users": "1,234",
    "Signups this week": "60",
    "Revenue": "$9,876.50",
    "Churn": "2.1%",
}


def need(condition: bool, reason: str) -> None:
    """Skip with the reason when a service the test needs is missing, except under
    CI=true, where a missing service fails the run instead of hiding behind a skip."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
    pytest.skip(reason)


def make_board(folder: Path, now: int | None = None) -> Path:
    """dashboard.yaml and metrics.db in `folder`, the points an hour or days before
    `now` (default: the real time, for boards that run live). Returns the spec."""
    now = int(time.time()) if now is None else now
    rows = ["metric,time,value"]
    rows.append(f"active_users,{now - HOUR},1234")
    rows += [f"signups,{now - d * DAY - HOUR},{v}" for d, v in ((0, 10), (2, 20), (5, 30))]
    rows.append(f"revenue,{now - HOUR},9876.5")
    rows.append(f"churn,{now - HOUR},0.021")
    (folder / "points.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["import", str(folder / "points.csv"), "--db", str(folder / "metrics.db")]) == 0
    spec = folder / "dashboard.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` until it is truthy (returned) or `timeout` seconds pass (fail)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def child_pids(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (the boards a server started)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(entry.name))
    return children


class ServedBoard:
    """A `kpitui serve` process on a free loopback port, started as a user would."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.out = folder / f"serve-{id(self)}.out"
        self.err = folder / f"serve-{id(self)}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kpitui", "serve", *args, "--port", "0"],
                cwd=folder,
                stdout=out,
                stderr=err,
                env={**os.environ, **(env or {})},
            )
        first_line = wait_until(self._url_line, SERVE_TIMEOUT, "`kpitui serve` to print its URL")
        self.url = first_line
        parts = urlsplit(self.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base = self.origin + "/"

    def _url_line(self) -> str | None:
        if self.process.poll() is not None:
            pytest.fail(f"kpitui serve exited {self.process.returncode}: {self.stderr()}")
        lines = self.out.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else None

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def boards(self) -> list[int]:
        """The pids of the boards (`kpitui run` processes) running now."""
        return child_pids(self.process.pid)

    def stop(self) -> int:
        """Ctrl+C, as a user stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=SERVE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail("kpitui serve did not stop within 30 s of Ctrl+C")


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`, children first."""
    found, queue = [], [pid]
    while queue:
        children = child_pids(queue.pop(0))
        found += children
        queue += children
    return found


def environment_of(pid: int) -> dict[str, str]:
    """The environment a process was started with."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.split(b"=", 1) for entry in raw.split(b"\0") if b"=" in entry)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def command_line_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
