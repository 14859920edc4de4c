"""A backfill shows a progress bar on a terminal's stderr, and nothing in a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.sync.sources import make_source, signup_rows
from tests.sync.test_sync import signups_spec


def sync(spec, stderr) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kpitui", "sync", str(spec), "--once", "--backfill", "400d"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=120,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"},
    )


def test_a_backfill_draws_a_bar_on_a_terminal_and_keeps_stdout_clean(tmp_path):
    # Given a SQLite source and a 400-day backfill (400 one-day slices)
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows())
    spec = signups_spec(tmp_path, source)
    leader, follower = pty.openpty()
    drawn = b""
    try:
        done = sync(spec, follower)
        os.close(follower)
        follower = -1
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # closed with the process
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    # Then stderr (the terminal) had the bar, stdout only the line of the pull
    assert done.returncode == 0
    assert b"pulling signups" in drawn and b"days" in drawn
    assert done.stdout.decode().startswith("signups: 20 rows")
    assert "pulling" not in done.stdout.decode()


def test_a_backfill_into_a_pipe_draws_nothing(tmp_path):
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows())
    spec = signups_spec(tmp_path, source)
    done = sync(spec, subprocess.PIPE)
    assert done.returncode == 0
    assert b"pulling" not in done.stderr  # only the line saying a store was created
    assert done.stdout.decode().startswith("signups: 20 rows")
