"""Running kpitui as other users, and on a disk that is full: the faults a shared server
has. Both need root (to switch uids, to mount a tiny tmpfs); without it their tests skip
with the reason, except under CI=true (which runs as root), where they fail.

A second user cannot always run this interpreter (a pyenv under root's home is closed to
others), so `run_as` starts it as root, imports what the command needs, and only then
drops to the other uid, with no groups and no capabilities left: from there on the
kernel checks every file access as that user's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

OWNER, VIEWER = 1001, 1002
"""Two uids (and gids) with no name: nothing on the machine is theirs but what a test makes."""

_PRELUDE = """\
import os, sys
import kpitui.cli
from kpitui.cli import build_parser
build_parser()  # imports every command's module
import kpitui.cli.common, kpitui.cli.snapshot_cmd, kpitui.cli.store_admin
import kpitui.engine, kpitui.report, kpitui.spec, kpitui.store, kpitui.store.sqlite
import kpitui.store.sqlite.reader, kpitui.store.sqlite.writer, kpitui.store.sqlite.housekeeping
import encodings.idna, json, sqlite3, csv
uid = int(sys.argv[1])
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
del sys.argv[1]
"""
_MAIN = "sys.exit(kpitui.cli.main(sys.argv[1:]))\n"


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def need_root(why: str) -> None:
    if os.geteuid() != 0:
        unavailable(f"needs root {why}")


def run_as(
    uid: int, argv: list[str], cwd: Path, *, code: str = _MAIN, **popen: object
) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    """`kpitui ARGV` (or `code`, after the imports) as `uid`, in `cwd`; with `popen`
    arguments given (stdin=PIPE …), the running process instead of its result."""
    need_root("to run kpitui as a second user")
    command = [sys.executable, "-c", _PRELUDE + code, str(uid), *argv]
    env = {**os.environ, "HOME": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("KPITUI_STORE", None)
    if popen:
        return subprocess.Popen(command, cwd=cwd, env=env, text=True, **popen)  # type: ignore[call-overload]
    return subprocess.run(
        command, cwd=cwd, env=env, text=True, capture_output=True, timeout=60, check=False
    )


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder every user may write, sticky like /tmp: a team's shared folder."""
    path = Path(tempfile.mkdtemp(prefix="kpitui-shared-"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def tiny_disk(size: str = "512k") -> Iterator[Path]:
    """A tmpfs of `size`, mounted for the test: a disk that fills up."""
    need_root("to mount a small filesystem")
    mountpoint = Path(tempfile.mkdtemp(prefix="kpitui-tinyfs-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        mountpoint.rmdir()
        unavailable(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
        mountpoint.rmdir()


def fill(disk: Path) -> None:
    """Write to `disk` until it has no byte left."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0")
    finally:
        os.close(fd)
