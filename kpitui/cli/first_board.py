"""The first board of `run` and `demo`, evaluated by a child process while the parent
imports Textual.

Why a process and not a thread: on a large store the first evaluation is mostly SQLite
work (~40 ms at 10M points, caches still cold), and Python's sqlite3 releases the GIL
for each row it steps and must take it back for the next. On a thread beside the import
of Textual (which holds the GIL), every row waits for the importer to let go, and the
two together took as long as one after the other. A forked child has an interpreter
lock of its own and the second core; it sends back the pickled Board (~15 KB).

Two orderings keep this safe:
- The child is forked before the parent opens any SQLite connection: a connection must
  not cross a fork (https://sqlite.org/howtocorrupt.html#fork).
- The child reads only after `go()`, which the parent calls once it has read the store's
  `data_version` for the poller: a write in between cannot be both missing from the
  board and invisible to the first poll.

Wherever that cannot hold, the caller evaluates itself: no `os.fork` (Windows), other
threads already running (a fork copies their locks, held or not), a child that fails.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpitui.engine.board import Board
    from kpitui.spec.models import Dashboard
    from kpitui.store.name import StoreName


_CAN_HOLD = hasattr(signal, "pthread_sigmask")


class FirstBoard:
    """A board being evaluated aside; see `evaluate_aside`."""

    def __init__(self, pid: int | None, go: int | None, board: int | None) -> None:
        self._pid = pid
        self._go = go  # the write end of "you may read now"
        self._board = board  # the read end of the pickled board

    def go(self) -> None:
        """Let the child read the store: call it after the poller's baseline is read."""
        if self._go is not None:
            with contextlib.suppress(OSError):  # a child that died: result() says None
                os.write(self._go, b"1")
            self._close_go()

    def result(self) -> Board | None:
        """The child's board, or None when the caller must evaluate it itself."""
        if self._board is None:
            return None
        self.go()
        chunks = []
        with contextlib.suppress(OSError):
            while chunk := os.read(self._board, 1 << 16):
                chunks.append(chunk)
        self._finish()
        try:
            return pickle.loads(b"".join(chunks)) if chunks else None
        except Exception:  # a child cut short mid-write: evaluate here
            return None

    def _close_go(self) -> None:
        if self._go is not None:
            os.close(self._go)
            self._go = None

    def _finish(self) -> None:
        """Close the pipes and reap the child (it exits when its pipe closes)."""
        self._close_go()
        if self._board is not None:
            os.close(self._board)
            self._board = None
        if self._pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


@contextlib.contextmanager
def evaluate_aside(
    dashboard: Dashboard, store_path: Path | StoreName, as_of: int
) -> Iterator[FirstBoard]:
    """Start evaluating the first board of `dashboard` on `store_path` in a child.

    Inside the block the caller opens its own reader, reads its baseline, calls `go()`,
    imports what it needs, then takes `result()` — evaluating itself on None. Leaving
    the block, however it is left, ends and reaps the child.
    """
    aside = FirstBoard(None, None, None)
    # Ctrl+C is held off from the fork until the child is known, so that leaving the
    # block always ends it; the child keeps it held (it ends when its pipes close).
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if _CAN_HOLD else None
    try:
        try:
            aside = _fork(dashboard, store_path, as_of)
        finally:
            if held is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
        yield aside
    finally:
        aside._finish()


def _fork(dashboard: Dashboard, store_path: Path | StoreName, as_of: int) -> FirstBoard:
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return FirstBoard(None, None, None)
    go_read, go_write = os.pipe()
    board_read, board_write = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: the parent can still do it
        for fd in (go_read, go_write, board_read, board_write):
            os.close(fd)
        return FirstBoard(None, None, None)
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(go_write)
            os.close(board_read)
            code = _child(dashboard, store_path, as_of, go_read, board_write)
        finally:
            os._exit(code)  # no atexit handlers, no flushing the parent's buffers
    os.close(go_read)
    os.close(board_write)
    return FirstBoard(pid, go_write, board_read)


def _child(
    dashboard: Dashboard, store_path: Path | StoreName, as_of: int, go: int, out: int
) -> int:
    from kpitui.engine import evaluate
    from kpitui.store import open_reader

    if os.read(go, 1) != b"1":
        return 0  # the parent stopped (a store error, Ctrl+C): nothing to do
    reader = open_reader(store_path)
    data = pickle.dumps(evaluate(dashboard, reader, as_of), pickle.HIGHEST_PROTOCOL)
    reader.close()
    view = memoryview(data)
    while view:
        view = view[os.write(out, view) :]
    return 0
