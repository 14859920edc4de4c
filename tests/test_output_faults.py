"""Output that cannot be written: stdout on a full disk or a closed pipe, for every command.

A full disk (here `/dev/full`, which answers every write with ENOSPC) is one line on
stderr and exit 1; a reader that went away (`kpitui metrics | head -1`) exits 1 quietly.
Never a traceback, never Python's "Exception ignored" when it flushes stdout at exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpitui.cli import main
from kpitui.store import open_writer

SPEC = """\
title: Output faults
store: metrics.db
kpis:
  - metric: signups
    agg: sum
    window: 7d
okrs:
  - title: Grow
    key_results:
      - id: pricing
        title: Ship pricing
        start: 0
        target: 10
"""
AS_OF = "2026-11-24T12:00:00Z"
DEV_FULL = Path("/dev/full")

COMMANDS = [
    ["snapshot", "--as-of", AS_OF],
    ["snapshot", "--format", "json", "--as-of", AS_OF],
    ["check"],
    ["check", "--json"],
    ["metrics"],
    ["metrics", "--json"],
    ["checkins"],
    ["checkins", "--json"],
    ["annotate", "release 2.0", "--at", AS_OF],
    ["annotations"],
    ["annotations", "--json"],
    ["record", "signups", "3", "--at", AS_OF],
    ["checkin", "pricing", "5", "--at", AS_OF],
    ["import", "points.csv"],
    ["delete", "signups", "--dry-run"],
    ["prune", "--older-than", "1d", "--dry-run"],
    ["store", "init", "other.db"],
    ["store", "copy", "metrics.db", "copy.db"],
    ["--help"],
    ["snapshot", "--help"],
    ["--version"],
]
IDS = [" ".join(argv) for argv in COMMANDS]


@pytest.fixture
def board_dir(tmp_path, monkeypatch):
    (tmp_path / "dashboard.yaml").write_text(SPEC, encoding="utf-8")
    (tmp_path / "points.csv").write_text("metric,time,value\nsignups,2026-11-23,4\n")
    with open_writer(tmp_path / "metrics.db") as writer:
        writer.write_points([("signups", {}, 1795000000, 5.0)])
        writer.write_checkin("pricing", 1795000000, 4, "on_track", "beta")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # --help and --version end in argparse's exit
        return int(exc.code or 0)


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("argv", COMMANDS, ids=IDS)
def test_stdout_on_a_full_disk_is_one_line_and_exit_1(argv, board_dir, capsys, monkeypatch):
    # Given stdout on a device that is always full
    with DEV_FULL.open("w") as full:
        monkeypatch.setattr(sys, "stdout", full)
        # When the command prints what it has to say
        code = _run(argv)
        # Then one line says the output could not be written, and nothing is left to
        # fail again when Python flushes stdout at exit
        full.write("x" * 10)
        full.flush()
    err = capsys.readouterr().err
    assert code == 1
    assert err.endswith("kpitui: cannot write the output: no space left on device\n")
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", COMMANDS, ids=IDS)
def test_stdout_into_a_closed_pipe_exits_1_quietly(argv, board_dir, capsys, monkeypatch):
    # Given stdout into a pipe whose reader has gone (`kpitui metrics | head -0`)
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as pipe:
        monkeypatch.setattr(sys, "stdout", pipe)
        # When the command prints
        code = _run(argv)
        # Then it exits 1 and says nothing (the reader wanted no more), and stdout's
        # flush at exit has nowhere left to fail
        pipe.write("x" * 10)
        pipe.flush()
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and "Broken pipe" not in err
    assert "cannot write" not in err


def _kpitui(
    args: list[str], cwd: Path, stdout: int, *, unbuffered: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "kpitui", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
@pytest.mark.parametrize(
    "argv", [["--help"], ["metrics", "--json"]], ids=["--help", "metrics --json"]
)
def test_a_real_process_with_stdout_on_a_full_disk_says_it_once(argv, unbuffered, board_dir):
    # Given a kpitui process whose stdout is /dev/full
    with DEV_FULL.open("w") as full:
        done = _kpitui(argv, board_dir, full.fileno(), unbuffered=unbuffered)
    # Then exactly one line on stderr, exit 1: no "Exception ignored" from Python's exit
    assert done.returncode == 1
    assert done.stderr == "kpitui: cannot write the output: no space left on device\n"


@pytest.mark.parametrize(
    "argv", [["--help"], COMMANDS[1]], ids=["--help", "snapshot --format json"]
)
def test_a_real_process_whose_reader_went_away_exits_quietly(argv, board_dir):
    # Given `kpitui … | (exit)`: the reader closed before the write
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = _kpitui(argv, board_dir, write_end)
    finally:
        os.close(write_end)
    # Then exit 1 and nothing on stderr
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full (Linux)")
def test_a_snapshot_file_on_a_full_disk_is_a_runtime_failure(board_dir, capsys):
    # Given -o naming a file on a full disk, When the snapshot is written
    code = main(["snapshot", "--as-of", AS_OF, "-o", str(DEV_FULL)])
    # Then exit 1 (the input was fine), one line naming the file and the cause
    assert code == 1
    assert capsys.readouterr().err == (
        "kpitui: /dev/full: cannot write the snapshot: no space left on device"
        " (free some space, or pass another file to --output)\n"
    )


@pytest.mark.parametrize("name", ["dashboard.yaml", "metrics.db", "metrics.db-wal"])
@pytest.mark.parametrize("command", [["snapshot", "--as-of", AS_OF], ["digest"]])
def test_an_output_file_is_never_one_of_the_dashboards_own(command, name, board_dir, capsys):
    # Given a writer holding the store open (its -wal holds the last commits)
    with open_writer(board_dir / "metrics.db") as writer:
        writer.write_points([("signups", {}, 1795000100, 6.0)])
        kept = {p: (board_dir / p).read_bytes() for p in ("dashboard.yaml", "metrics.db-wal")}
        # When -o names the spec, the store or one of its side files
        code = main([*command, "-o", name])
        after = {p: (board_dir / p).read_bytes() for p in kept}
    # Then it is refused in one line, and none of them changed
    err = capsys.readouterr().err
    assert code == 2, err
    assert "will not overwrite the dashboard's own spec or store" in err
    assert after == kept
