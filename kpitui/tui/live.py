"""Live updates: the poll cycle of the dashboard, as a mixin of `KpituiApp`.

A one-shot timer starts a poll in a thread worker; the worker posts `Polled` with what
it found (`kpitui.tui.poller`), which is applied on the UI thread; the timer is re-armed
only when the worker has finished, so a slow store never piles polls up (dolphie's
WorkerManager does the same). Problems
(an unreadable store, an invalid spec edit) are shown once as a notification and stay
in the problems line under the header until they are fixed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from textual import work
from textual.message import Message
from textual.worker import Worker

from kpitui.tui.poller import PollResult
from kpitui.tui.text import safe_plain


class LiveUpdates:
    """Mixed into `KpituiApp` (an `App`): polling, pausing and the problems line."""

    live: bool
    paused: bool
    refresh_seconds: int
    loaded: Any
    board: Any
    _poller: Any
    _poll_timer: Any
    _polling: bool
    _force_pending: bool
    _store_error: str | None
    _spec_errors: tuple[str, ...]
    _failure: str | None
    _feed_error: str | None

    class Polled(Message):
        """A poll finished (posted from the poll worker's thread)."""

        def __init__(self, result: PollResult) -> None:
            super().__init__()
            self.result = result

    def poll_now(self, *, force: bool = False) -> None:
        """Poll the store now (what the timer does); skipped while paused unless forced."""
        if self.paused and not force:
            return
        self._start_poll(force=force)

    def _start_poll(self, *, force: bool = False) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        if self._polling:
            # Never two polls at once: run again as soon as this one is done.
            self._force_pending = self._force_pending or force
            return
        self._polling = True
        self._poll(force)

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll(self, force: bool) -> None:
        try:
            result = self._poller.poll(force=force)
        except Exception as exc:  # the poller catches its own; this is the last net
            result = PollResult(failure=f"{exc.__class__.__name__}: {exc}")
        self.post_message(LiveUpdates.Polled(result))

    def _arm_timer(self) -> None:
        """Re-arm only after a poll finished, so slow polls never pile up."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        if self.live and not self.paused:
            self._poll_timer = self.set_timer(self.refresh_seconds, self._on_poll_timer)

    def _on_poll_timer(self) -> None:
        self._poll_timer = None
        self.poll_now()

    async def on_live_updates_polled(self, message: Polled) -> None:
        await self._apply_poll(message.result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The next poll starts only once this worker is finished (not merely once its
        # message arrived, which is posted from inside it): never two at once, and an
        # exclusive worker never cancels one that is still winding down.
        worker = event.worker
        if worker.group != "poll" or worker.node is not self or not worker.is_finished:
            return
        self._polling = False
        if self._force_pending:
            self._force_pending = False
            self._start_poll(force=True)
        else:
            self._arm_timer()

    async def _apply_poll(self, result: PollResult) -> None:
        if result.failure != self._failure:
            if result.failure:
                self.notify(
                    safe_plain(result.failure),
                    title="Refresh failed",
                    severity="error",
                    markup=False,
                )
            self._failure = result.failure
        if result.store_error != self._store_error:
            if result.store_error:
                self.notify(
                    safe_plain(result.store_error),
                    title="Store unreadable",
                    severity="error",
                    markup=False,
                )
            elif self._store_error:
                self.notify("The store is readable again.", title="Store")
            self._store_error = result.store_error
        if result.spec_errors is not None:
            if result.spec_errors:
                self.notify(
                    "\n".join(map(safe_plain, result.spec_errors)),
                    title="Spec not reloaded",
                    severity="error",
                    markup=False,
                    timeout=10,
                )
            self._spec_errors = result.spec_errors
        reloaded = result.loaded is not None
        if reloaded:
            self.loaded = result.loaded
            self.store_path = self._poller.store_path  # follows an edited `store:`
            self.notify(
                f"Reloaded {safe_plain(Path(self.loaded.path).name)}", title="Spec", markup=False
            )
            self._notify_warnings()
        if result.board is not None:
            self.refresh_seconds = result.board.refresh_seconds
            await self._apply_board(result.board)
        self._update_header()

    def _on_feed_error(self, message: str | None) -> None:
        """Called from the demo feed's thread."""
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.call_from_thread(self._show_feed_error, message)

    def _show_feed_error(self, message: str | None) -> None:
        if message and message != self._feed_error:
            self.notify(safe_plain(message), title="Demo feed", severity="error", markup=False)
        self._feed_error = message

    def _problems(self) -> tuple[str, ...]:
        lines: list[str] = []
        if self._store_error:
            # An unreachable server's line says "retrying" itself, with since when.
            again = "" if "retrying" in self._store_error else ", retrying"
            lines.append(f"store: {self._store_error} — showing the last good board{again}")
        if self._spec_errors:
            lines.append("spec edit not applied (the last good board stays):")
            lines.extend(self._spec_errors)
        if self._failure:
            lines.append(f"refresh failed: {self._failure}")
        board = getattr(self, "board", None)
        if board is not None and self.live:
            lines.extend(board.undelivered)
        return tuple(lines)
