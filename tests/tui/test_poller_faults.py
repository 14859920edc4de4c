"""The live poll sees what happened to its files: a store corrupted or replaced in place,
a spec replaced by a FIFO or a device. Each within one poll, and no poll ever blocks."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from kpitui.spec import load_dashboard
from kpitui.timeutil import FixedClock
from kpitui.tui.poller import Poller
from tests.tui.snapshot_apps.app_world import AS_OF, make_world, write_points


def _poller(tmp_path: Path) -> tuple[Poller, Path, Path]:
    spec, store = make_world(tmp_path)
    return Poller(load_dashboard(spec), store_path=store, clock=FixedClock(AS_OF)), spec, store


def _move_mtime_on(path: Path) -> None:
    """As a coarse file-system clock could hide an edit within the same tick."""
    after = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(after, after))


def test_a_store_corrupted_in_place_is_an_error_at_the_next_poll(tmp_path):
    # Given a live board on its store
    poller, _spec, store = _poller(tmp_path)
    try:
        assert poller.poll().board is not None
        # When the store's pages are overwritten in place (same file, same inode)
        size = store.stat().st_size
        with store.open("r+b") as handle:
            handle.seek(100)
            handle.write(b"\xa5" * (size - 100))
        _move_mtime_on(store)
        # Then the next poll says the store cannot be read, instead of the old board
        result = poller.poll()
        assert result.board is None
        assert result.store_error is not None and "corrupt" in result.store_error
    finally:
        poller.close()


def test_a_store_replaced_in_place_shows_the_new_values_at_the_next_poll(tmp_path):
    # Given a live board, and another store with a different churn
    poller, _spec, store = _poller(tmp_path)
    other = tmp_path / "other" / "metrics.db"
    other.parent.mkdir()
    shutil.copyfile(store, other)
    write_points(other, [("churn", {}, AS_OF, 0.09)])
    try:
        first = poller.poll().board
        assert first is not None and first.kpi("churn").display == "2.0%"
        # When the other store is copied over the first in place (`cp other metrics.db`)
        inode = store.stat().st_ino
        shutil.copyfile(other, store)
        assert store.stat().st_ino == inode
        _move_mtime_on(store)
        # Then the next poll shows the new values
        board = poller.poll().board
        assert board is not None and board.kpi("churn").display == "9.0%"
    finally:
        poller.close()


def test_a_spec_replaced_by_a_fifo_never_blocks_the_poll(tmp_path):
    # Given a live board whose spec is then replaced by a FIFO nobody writes to
    poller, spec, _store = _poller(tmp_path)
    try:
        assert poller.poll().board is not None
        spec.unlink()
        os.mkfifo(spec)
        # When it polls (in a thread, as the app's worker does)
        results = []
        worker = threading.Thread(target=lambda: results.append(poller.poll()), daemon=True)
        worker.start()
        worker.join(10)
        # Then the poll returned, saying the spec is no regular file; the board stays
        assert not worker.is_alive(), "the poll blocked opening the FIFO"
        assert results[0].spec_errors is not None
        assert "not a regular file" in results[0].spec_errors[0]
    finally:
        if worker.is_alive():
            with open(spec, "wb"):  # let the blocked open through
                pass
        poller.close()
