"""The live poll: decide cheaply whether the board must be re-evaluated, and do it.

One `Poller.poll()` runs in a thread worker (never on the UI thread, never two at once:
the app re-arms its timer only when the last poll has finished, as dolphie's
WorkerManager does). A poll costs a `stat` of the spec file and the reader's
`data_version()` on a reader that stays open (each backend makes that cheap: SQLite
asks its file, PostgreSQL its notifications and a snapshot). The board is re-evaluated
only when:

- the store changed (another connection committed),
- the spec file changed on disk and still loads (an invalid edit keeps the last board),
- the user asked (`r`), or the reader was (re)opened,
- the as-of moved into a new minute, so windows and ages advance without new data
  (at most once a minute when idle; never with a fixed `--as-of`).

A store that cannot be reached (a server gone away) is reported as "store unreachable
since HH:MM, retrying", the last board staying on screen, until a poll reaches it again.

No Textual here: the app turns a `PollResult` into screen updates.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from msgspec import Struct

from kpitui import timeutil
from kpitui.engine.board import Board
from kpitui.errors import KpituiError, SpecErrors, StoreUnreachableError
from kpitui.timeutil import Clock

# Re-evaluate an idle board when the as-of crosses into a new minute.
IDLE_REEVALUATE_SECONDS = 60


class PollResult(Struct, frozen=True):
    board: Board | None = None
    """A newly evaluated board to show; None when nothing changed."""
    loaded: Any = None
    """A spec that was reloaded from disk (a LoadedSpec), when it changed and is valid."""
    spec_errors: tuple[str, ...] | None = None
    """The problems of the spec on disk: None unchanged, () fixed, else one line each."""
    store_error: str | None = None
    """Why the store cannot be read right now (the last board stays on screen)."""
    failure: str | None = None
    """An unexpected failure (a bug): shown, never a crash of the live app."""


class FirstRead(Struct, frozen=True):
    """The open reader the app's poller goes on with, and what it saw before the first
    board was read (by `kpitui run`'s child process, its bucket cache stays cold)."""

    reader: Any
    data_version: int
    """The reader's `data_version()` read before the first board was."""
    as_of: int


def _file_signature(path: Path) -> tuple[int, int, int, int] | None:
    """What tells us a file was replaced or edited: inode, size, mtime, and its type."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, stat.S_IFMT(st.st_mode))


class Poller:
    """Keeps the store connection and what was last seen. `poll()` may be called from
    any thread (the reader is thread-safe); calls and `close()` run one at a time."""

    def __init__(
        self,
        loaded: Any,
        *,
        store_path: Any,
        clock: Clock,
        as_of: int | None = None,
        open_reader: Callable[[Any], Any] | None = None,
        evaluate: Callable[[Any, Any, int], Board] | None = None,
        first_read: FirstRead | None = None,
    ) -> None:
        from kpitui import spec, store

        self.loaded = loaded
        self.store_path = store_path
        """The store: a SQLite file's Path, or a StoreName."""
        self.clock = clock
        self.fixed_as_of = as_of
        self._open_reader = open_reader or store.open_reader
        self._evaluate = evaluate
        self._live: Any = None
        """The `LiveBoard` that evaluates (unless `evaluate` is given), made at the first
        evaluation: the first board came from elsewhere, and the engine is not imported
        before the first frame."""
        self._load_dashboard = spec.load_dashboard
        self._reader: Any = None
        self._data_version: int | None = None
        self._unreachable_since: int | None = None
        self._spec_signature = _file_signature(Path(loaded.path))
        self._evaluated_minute: int | None = None
        self._lock = threading.Lock()
        self.chart_range: str | None = None
        """The board's range for its charts (`t`); None: each chart's own window."""
        if first_read is not None:
            # The board on screen shows the store at this version (or later): the first
            # poll has nothing to do unless the store or the minute moved on since.
            self._reader = first_read.reader
            self._data_version = first_read.data_version
            self._evaluated_minute = first_read.as_of // IDLE_REEVALUATE_SECONDS

    def as_of(self) -> int:
        return self.fixed_as_of if self.fixed_as_of is not None else self.clock.now()

    # -- one poll ---------------------------------------------------------------------

    def poll(self, *, force: bool = False) -> PollResult:
        with self._lock:
            try:
                return self._poll(force)
            except Exception as exc:  # a bug must not kill the live dashboard
                self._close_reader()
                # A spec reloaded by this poll never reached the app: report it again.
                self._spec_signature = None
                return PollResult(failure=f"{exc.__class__.__name__}: {exc}")

    def _poll(self, force: bool) -> PollResult:
        spec_errors, reloaded = self._check_spec()
        store_error = self._ensure_reader()
        if store_error is not None:
            return PollResult(loaded=reloaded, spec_errors=spec_errors, store_error=store_error)
        # One read transaction for the version and the board evaluated from it: a write
        # landing in between would otherwise be shown and still count as new next time.
        with contextlib.ExitStack() as snapshot:
            try:
                snapshot.enter_context(self._reader.snapshot())
                version = self._reader.data_version()
                if reloaded is not None:
                    # The warnings only the store's metric names reveal, from the store read.
                    reloaded = self.loaded = reloaded.with_store_metrics(
                        self._reader.metric_names()
                    )
            except (KpituiError, OSError) as exc:
                # Leave the transaction before closing its connection (it may be broken).
                with contextlib.suppress(KpituiError, OSError):
                    snapshot.close()
                self._close_reader()
                return PollResult(
                    loaded=reloaded, spec_errors=spec_errors, store_error=self._reason(exc)
                )
            as_of = self.as_of()
            minute = as_of // IDLE_REEVALUATE_SECONDS
            changed = (
                force
                or reloaded is not None
                or version != self._data_version
                or minute != self._evaluated_minute
            )
            if not changed:
                return PollResult(spec_errors=spec_errors)
            ranged = {"chart_range": self.chart_range} if self.chart_range else {}
            board = self._board_evaluator(force)(
                self.loaded.dashboard, self._reader, as_of, **ranged
            )
        self._unreachable_since = None
        self._data_version = version
        self._evaluated_minute = minute
        return PollResult(board=board, loaded=reloaded, spec_errors=spec_errors)

    def _board_evaluator(self, force: bool) -> Callable[..., Board]:
        if self._evaluate is not None:
            return self._evaluate
        if self._live is None:
            from kpitui.engine.live import LiveBoard

            # The live board evaluates again only what the writes since the last changed.
            self._live = LiveBoard()
        elif force:
            self._live.forget()  # `r`: everything asked again, as on a first board
        return self._live

    # -- the spec file ------------------------------------------------------------------

    def _check_spec(self) -> tuple[tuple[str, ...] | None, Any]:
        """(spec errors: None unchanged / () fixed / lines, the reloaded spec or None)."""
        path = Path(self.loaded.path)
        signature = _file_signature(path)
        if signature == self._spec_signature:
            return None, None
        self._spec_signature = signature
        if signature is not None and signature[3] != stat.S_IFREG:
            # A FIFO would block the open until someone writes to it, a device may never
            # end: the poll never opens what is not a plain file.
            return (f"{path}: not a regular file any more (a FIFO, a device or a folder)",), None
        try:
            loaded = self._load_dashboard(path)
        except SpecErrors as exc:
            return tuple(str(p) for p in exc.problems), None
        except KpituiError as exc:
            return (str(exc),), None
        except OSError as exc:
            return (f"{path}: cannot read it: {exc.strerror or exc}",), None
        if self.store_path == self.loaded.store_path != loaded.store_path:
            # The store came from the spec (no --db), and its `store:` was edited.
            self.store_path = loaded.store_path
            self._close_reader()
        self.loaded = loaded
        return (), loaded

    # -- the store ------------------------------------------------------------------------

    def _ensure_reader(self) -> str | None:
        """Open the store when no reader is open; the reason it cannot be read, else None.
        An open reader notices a store replaced, deleted or unreachable by itself."""
        if self._reader is None:
            try:
                self._reader = self._open_reader(self.store_path)
            except (KpituiError, OSError) as exc:
                return self._reason(exc)
            self._data_version = None  # a new reader: its versions start afresh
        return None

    def _reason(self, exc: BaseException) -> str:
        """One line for the header; an unreachable server says since when."""
        if isinstance(exc, StoreUnreachableError):
            now = self.clock.now()
            if self._unreachable_since is None:
                self._unreachable_since = now
            tz = timeutil.zone(self.loaded.dashboard.timezone)
            since = timeutil.format_clock(int(self._unreachable_since), tz)
            return f"store unreachable since {since}, retrying ({_reason(exc)})"
        self._unreachable_since = None
        return _reason(exc)

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        self._data_version = None
        if reader is not None:
            # Closing a broken connection can fail; there is nothing left to keep.
            with contextlib.suppress(Exception):
                reader.close()

    def close(self) -> None:
        with self._lock:
            self._close_reader()


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0]
