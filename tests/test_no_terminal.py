"""`kpitui run` needs a terminal on standard input: without one it says so and exits,
instead of starting a board whose input thread spins on the end of input (Textual's
Linux driver reads b'' at EOF and selects again at once: 100 % of a core, forever).

A terminal (tmux, SSH) and `kpitui serve` (textual-serve runs the app over pipes with
its web driver) still open the board.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from kpitui.store import open_writer

SPEC = "title: No terminal\nstore: metrics.db\nkpis:\n  - metric: signups\n"


@pytest.fixture
def board_dir(tmp_path):
    (tmp_path / "dashboard.yaml").write_text(SPEC)
    with open_writer(tmp_path / "metrics.db") as writer:
        writer.write_points([("signups", {}, 1_795_000_000, 5.0)])
    return tmp_path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TEXTUAL_DRIVER")}
    return {**env, "TERM": "xterm-256color", **extra}


@pytest.mark.parametrize("command", ["run", "demo"])
def test_without_a_terminal_on_stdin_the_board_says_so_and_exits(command, board_dir):
    # Given standard input at its end (`< /dev/null`, a session whose input died)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kpitui", command],
        cwd=board_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=20,  # on a spinning board: the test fails here
        check=False,
    )
    # Then one line points at snapshot, exit 2, at once
    assert done.returncode == 2
    assert done.stderr == (
        "kpitui: standard input is not a terminal: the live board reads its keys from one"
        " (run it in a terminal, or print the board once with `kpitui snapshot`)\n"
    )
    assert time.monotonic() - started < 20


def _read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def _terminal() -> tuple[int, int]:
    """A pty of 80x24, as tmux or sshd gives: (the far end, the app's end)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    return master, slave


def test_in_a_terminal_the_board_opens_and_q_quits(board_dir):
    # Given a terminal
    master, slave = _terminal()
    process = subprocess.Popen(
        [sys.executable, "-m", "kpitui", "run"],
        cwd=board_dir,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(),
        start_new_session=True,
    )
    os.close(slave)
    try:
        # When the board is drawn and the user presses q
        assert b"No terminal" in _read_until(master, b"No terminal", 30)
        os.write(master, b"q")
        # Then it quits
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


def test_served_over_pipes_with_the_web_driver_the_board_starts(board_dir):
    # Given the environment textual-serve runs the app in: pipes and its web driver
    process = subprocess.Popen(
        [sys.executable, "-m", "kpitui", "run"],
        cwd=board_dir,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver"),
    )
    try:
        # Then the app starts and speaks the web driver's protocol (no refusal)
        assert process.stdout is not None
        assert process.stdout.read(12) == b"__GANGLION__"
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()


def test_a_terminal_that_hangs_up_ends_the_board(board_dir):
    # Given the board open in a terminal that is not its controlling one (so no SIGHUP
    # comes when it goes: an SSH session whose hangup never reached the app)
    master, slave = _terminal()
    process = subprocess.Popen(
        [sys.executable, "-m", "kpitui", "run"],
        cwd=board_dir,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(),
        start_new_session=True,
    )
    os.close(slave)
    try:
        assert b"No terminal" in _read_until(master, b"No terminal", 30)
        # When the terminal's far end closes (reads now return end-of-input at once)
        os.close(master)
        master = -1
        # Then the board ends, instead of spinning on the empty reads
        assert process.wait(timeout=20) == 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if master >= 0:
            os.close(master)
