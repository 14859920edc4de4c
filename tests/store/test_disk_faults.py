"""A full disk and a crashed writer, said in words.

The full disk is a tmpfs of half a megabyte, filled to the last byte (root only; see
as_users). A crashed writer is a real process killed with SIGKILL in the middle of a
transaction, leaving its hot journal beside the store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kpitui.store import open_reader, open_writer
from tests.store.as_users import VIEWER, fill, run_as, shared_dir, tiny_disk  # noqa: F401

T0 = 1_790_000_000
FULL_HINT = "(free some space on the disk that holds it)"


@pytest.fixture
def full_disk():
    with tiny_disk() as disk:
        yield disk


def test_reading_a_store_on_a_full_disk_says_the_disk_is_full(full_disk, cli_raw):
    # Given a store on a disk that then filled up (no writer has it open)
    store = full_disk / "m.db"
    assert cli_raw("record", "m", "1", "--db", str(store))[0] == 0
    fill(full_disk)
    # When it is read
    code, _out, err = cli_raw("metrics", "--db", str(store))
    # Then one line says the disk is full (not what failed in the read's clean-up)
    assert code == 1
    assert err == f"kpitui: {store}: cannot read the store: the disk is full {FULL_HINT}\n"


def test_creating_a_store_on_a_full_disk_leaves_no_file(full_disk, cli_raw):
    # Given a full disk
    fill(full_disk)
    store = full_disk / "new.db"
    # When a point is recorded into a new store there
    code, _out, err = cli_raw("record", "m", "1", "--db", str(store))
    # Then one line says the disk is full, and no empty store (nor side file) is left
    assert code == 1
    assert err.endswith(f"kpitui: {store}: cannot write the store: the disk is full {FULL_HINT}\n")
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]


def test_writing_on_a_full_disk_says_so_and_keeps_every_earlier_point(full_disk, cli_raw):
    # Given a store with a point, on a disk that then filled up
    store = full_disk / "m.db"
    assert cli_raw("record", "m", "1", "--db", str(store), "--at", "2026-01-01")[0] == 0
    fill(full_disk)
    # When another point is recorded
    code, _out, err = cli_raw("record", "m", "2", "--db", str(store), "--at", "2026-01-02")
    # Then one line says the disk is full
    assert code == 1
    assert err == f"kpitui: {store}: cannot write the store: the disk is full {FULL_HINT}\n"
    # And once there is room again, the earlier point is there and writing works
    (full_disk / "filler").unlink()
    assert cli_raw("record", "m", "3", "--db", str(store), "--at", "2026-01-03")[0] == 0
    reader = open_reader(store)
    try:
        assert reader.stats()[0].count == 2
    finally:
        reader.close()


CRASHING_WRITER = """\
import os, signal, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA journal_mode = DELETE")
con.execute("PRAGMA cache_size = 2")  # spill to the file before the commit
con.execute("BEGIN IMMEDIATE")
con.execute("DELETE FROM points")
con.execute("CREATE TABLE half (x)")
for _ in range(2000):
    con.execute("INSERT INTO half VALUES (?)", ("x" * 500,))
os.kill(os.getpid(), signal.SIGKILL)
"""


def _crash_a_writer_in(store: Path) -> None:
    """A store with one point, and a writer killed halfway through a big transaction."""
    with open_writer(store) as writer:
        writer.write_points([("m", {}, T0, 1.0)])
    done = subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(store)], check=False)
    assert done.returncode == -signal.SIGKILL
    assert os.path.getsize(f"{store}-journal") > 0


def _crashed_message(store: Path) -> str:
    return (
        f"kpitui: {store}: the store was left halfway through a write by a writer that"
        f" stopped (its journal {store.name}-journal is beside it)"
        f" (run `kpitui store init {store}` as its owner to roll that write back)\n"
    )


def test_a_store_left_by_a_crashed_writer_says_what_happened_and_the_fix(tmp_path, cli_raw):
    # Given a store whose writer was killed mid-transaction (a hot journal beside it)
    store = tmp_path / "m.db"
    _crash_a_writer_in(store)
    # When the dashboard's side reads it
    code, _out, err = cli_raw("metrics", "--db", str(store))
    # Then one line says what happened and what fixes it
    assert code == 1
    assert err == _crashed_message(store)
    # And the fix it names works: the half-done write is gone, the point is back
    assert cli_raw("store", "init", str(store))[0] == 0
    code, out, _err = cli_raw("metrics", "--db", str(store))
    assert code == 0 and out.splitlines()[1].split()[:2] == ["m", "1"]


def test_a_viewer_never_reads_a_half_written_store_as_it_is(shared_dir):  # noqa: F811
    # Given a shared store with a crashed writer's hot journal beside it
    store = shared_dir / "m.db"
    _crash_a_writer_in(store)
    # When another user, who cannot roll it back, reads it
    done = run_as(VIEWER, ["metrics", "--db", str(store)], shared_dir)
    # Then the same line, never the half-written tables
    assert isinstance(done, subprocess.CompletedProcess)
    assert (done.returncode, done.stderr) == (1, _crashed_message(store))
