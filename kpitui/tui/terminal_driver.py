"""The terminal driver of `kpitui run`: Textual's, plus an end to a terminal that hung up.

When the far end of the terminal goes (an SSH session whose connection died without
the hangup signal reaching the app, a tmux pane's pty closed under it), reading the
terminal returns end-of-input at once, forever. Textual's Linux driver (as of 8.2) reads
that empty answer and selects again: 100 % of a core for as long as the process lives
(Textualize/textual#6690). This driver watches the terminal for the hangup itself —
poll() with no events asked reports only POLLHUP, POLLERR and POLLNVAL, so the watcher
sleeps through every keystroke — and ends the app when it comes.
"""

from __future__ import annotations

import contextlib
import select
import threading

from textual.drivers.linux_driver import LinuxDriver

_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL
HANGUP_EXIT_CODE = 1


class HangupAwareDriver(LinuxDriver):
    """`LinuxDriver` that exits the app (code 1) when its terminal hangs up."""

    def start_application_mode(self) -> None:
        super().start_application_mode()
        self._hung_up_watch = threading.Event()
        threading.Thread(target=self._watch_hangup, name="kpitui-hangup-watch", daemon=True).start()

    def stop_application_mode(self) -> None:
        watch = getattr(self, "_hung_up_watch", None)
        if watch is not None:
            watch.set()
        super().stop_application_mode()

    def _watch_hangup(self) -> None:
        poller = select.poll()
        poller.register(self.fileno, 0)
        while not self._hung_up_watch.is_set():
            if any(events & _GONE for _fd, events in poller.poll(1000)):
                break
        else:
            return
        app = self._app
        with contextlib.suppress(Exception):  # the app may be ending already
            app.call_from_thread(app.exit, return_code=HANGUP_EXIT_CODE)
