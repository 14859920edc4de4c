"""The web server of `kpitui serve`: textual-serve's, with kpitui's gate, cap and page.

textual-serve does the work: its page runs xterm.js, its websocket handler relays keys,
mouse and resizes to a Textual app process it starts per tab, and the app draws
through Textual's web driver. What kpitui adds, by subclassing it:

- `BoardSession` starts `kpitui run` itself, without a shell and in a process group of
  its own (Ctrl+C in the server's terminal reaches the server, which ends every board
  in order), and kills a board that does not quit when asked.
- `BoardServer` puts the `Gate` in front of every route, caps the live sessions (on
  the socket: a tab over the cap gets the page, which says the board is full),
  serves kpitui's page template (no web font from a CDN; the socket's URL taken from
  the page's own address, so it works behind a proxy and a path prefix), and closes
  every session when it stops.
- Each browser is named by a cookie (`viewer`), and its boards are told the name, so
  that acknowledging an alert in one browser leaves it new in another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from kpitui.serve.gate import Gate
from kpitui.serve.token import TOKEN_ENV
from kpitui.serve.viewer import VIEWER_ENV, new_viewer, remember_viewer, viewer_of

log = logging.getLogger("kpitui.serve")

TEMPLATES = Path(__file__).parent / "templates"
HEARTBEAT = 15.0
"""Seconds between websocket pings: a browser that went away without closing (a laptop
lid, a dropped network) misses the pong, and its session is closed."""
QUIT_GRACE = 5.0
"""Seconds a board has to quit when asked before it is killed."""
FULL = 4503
"""The socket's close code for "every session is taken" (4000-4999 are the
application's): the page shows the reason that comes with it."""
CLOSE_GRACE = 1.0
"""Seconds a socket that comes when every session is taken waits for one to close: a
tab that reloads opens its new socket as its old one closes, the two in either order,
and must not be turned away by its own session."""


class BoardSession(AppService):
    """One tab's live board: a `kpitui run` process speaking Textual's web protocol."""

    def __init__(self, argv: Sequence[str], *, viewer: str | None = None, **kwargs: Any) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = list(argv)
        self.viewer = viewer
        """The browser's viewer name (`kpitui.serve.viewer`): whose acknowledgements."""

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment.pop(TOKEN_ENV, None)  # the board has no use for the server's secret
        environment.pop(VIEWER_ENV, None)
        if self.viewer is not None:
            environment[VIEWER_ENV] = self.viewer
        return environment

    async def _open_app_process(
        self, width: int = 80, height: int = 24
    ) -> asyncio.subprocess.Process:
        # textual-serve runs its command through a shell; kpitui's is an argv, executed
        # as it is (a spec path is never shell syntax).
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def stop(self) -> None:
        """Ask the board to quit, kill it (and its process group) if it has not within
        `QUIT_GRACE`, reap it, and close its pipes."""
        process = self._process
        stopping = asyncio.ensure_future(super().stop())
        done, _ = await asyncio.wait({stopping}, timeout=QUIT_GRACE)
        if not done:
            self._kill()
        await stopping
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE)
            except TimeoutError:
                self._kill()
                await process.wait()
        if process is not None:
            # Its pipes now, not whenever the process object is collected (asyncio's
            # Process has no close of its own; its transport does).
            transport = getattr(process, "_transport", None)
            if transport is not None:
                transport.close()

    def _kill(self) -> None:
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)


class BoardServer(Server):
    """textual-serve's `Server` serving one dashboard, one `kpitui run` per tab.

    `argv` is the board's command line; `token` None serves without one (the caller
    allows that on loopback only); at most `max_sessions` boards run at once.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        title: str,
        host: str,
        port: int,
        token: str | None,
        max_sessions: int,
    ) -> None:
        super().__init__(
            shlex.join(argv), host=host, port=port, title=title, templates_path=TEMPLATES
        )
        self.argv = list(argv)
        self.gate = Gate(token, port=port)
        self.max_sessions = max_sessions
        self.sessions: dict[str, tuple[BoardSession, web.WebSocketResponse]] = {}
        self._closing: set[str] = set()
        """Sessions whose socket has closed and whose board is stopping."""
        self._changed = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate.check)
        app.middlewares.append(remember_viewer)
        return app

    def full_text(self) -> str:
        """What a tab shows when every session is taken (a close reason: ≤ 123 bytes)."""
        if self.max_sessions == 1:
            return "The one session this board allows is in use."
        return f"All {self.max_sessions} sessions this board allows are in use."

    def _full(self) -> bool:
        return len(self.sessions) >= self.max_sessions

    async def _room(self) -> bool:
        """Whether another session may start: at once, or once a session that is closing
        has ended (its board has `QUIT_GRACE` to stop), or one whose close is on its
        way has (`CLOSE_GRACE`). No await between a True and the session's counting."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while self._full():
            limit = QUIT_GRACE + CLOSE_GRACE if self._closing else CLOSE_GRACE
            waited = loop.time() - started
            if waited >= limit:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), limit - waited)
        return True

    def _note(self, session_id: str, *, closing: bool) -> None:
        """A session's socket has closed (`closing`), or its board has ended."""
        if closing:
            self._closing.add(session_id)
        else:
            self._closing.discard(session_id)
            del self.sessions[session_id]
            if not self.sessions:
                self._idle.set()
        self._changed.set()

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT)
        if not await self._room():
            # Said on the socket, not by refusing the page: a tab reloading sends its
            # page's request before its old page (and socket) closes, so the page must
            # load for the cap to count that tab's session as gone.
            log.warning("refused a session: all %d are in use", self.max_sessions)
            await websocket.prepare(request)
            await websocket.close(code=FULL, message=self.full_text().encode("utf-8"))
            return websocket
        session = BoardSession(
            self.argv,
            viewer=viewer_of(request) or new_viewer(),
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        # Counted before the first await: tabs opened at once cannot all pass the cap.
        self.sessions[session.app_service_id] = (session, websocket)
        self._idle.clear()
        try:
            await websocket.prepare(request)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            await session.start(width, height)
            log.info(
                "session %s opened: %dx%d, pid %s (%d of %d)",
                session.app_service_id[:8],
                width,
                height,
                session.pid,
                len(self.sessions),
                self.max_sessions,
            )
            await self._process_messages(websocket, session)
        except Exception as error:  # a message textual-serve could not read, a lost peer
            log.warning("session %s ended: %r", session.app_service_id[:8], error)
        finally:
            self._note(session.app_service_id, closing=True)
            # A handler cancelled on the way (aiohttp cancels those of lost connections
            # when told to) still ends its board before it frees the session.
            stopping = asyncio.ensure_future(session.stop())
            try:
                await asyncio.shield(stopping)
            except asyncio.CancelledError:
                await stopping
                raise
            finally:
                self._note(session.app_service_id, closing=False)
            await websocket.close()
            log.info("session %s closed", session.app_service_id[:8])
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        """Says nothing: `serve` prints the URL once it listens (textual-serve's banner
        would show the board's command line)."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every session: each handler then ends its board (asked to quit, killed
        if it will not)."""
        for _session, websocket in list(self.sessions.values()):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), 3 * QUIT_GRACE)
        for session, _websocket in list(self.sessions.values()):
            session._kill()


async def listen_until_stopped(server: BoardServer, on_listening: Callable[[int], None]) -> None:
    """Serve until SIGINT or SIGTERM, then stop every session and return.

    `on_listening(port)` is called once the socket is bound (with the port the system
    chose for `port=0`). Raises OSError when the address cannot be bound.
    """
    app = await server._make_app()
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=QUIT_GRACE)
    await runner.setup()
    try:
        site = web.TCPSite(runner, server.host, server.port)
        await site.start()
        port = int(runner.addresses[0][1])
        server.gate.name_cookie(port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        on_listening(port)
        await stop.wait()
    finally:
        await runner.cleanup()
