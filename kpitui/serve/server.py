"""The web server of `kpitui serve`: textual-serve's, with kpitui's gate, cap and page.

textual-serve does the work: its page runs xterm.js, its websocket handler relays keys,
mouse and resizes to a Textual app process it starts per tab, and the app draws
through Textual's web driver. What kpitui adds, by subclassing it:

- `BoardSession` starts `kpitui run` itself, without a shell and in a process group of
  its own (Ctrl+C in the server's terminal reaches the server, which ends every board
  in order), and kills a board that does not quit when asked.
- `BoardServer` puts the `Gate` in front of every route, caps the live sessions,
  serves kpitui's page template (no web font from a CDN; the socket's URL taken from
  the page's own address, so it works behind a proxy and a path prefix), and closes
  every session when it stops.
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

from kpitui.serve.gate import Gate, refuse
from kpitui.serve.token import TOKEN_ENV

log = logging.getLogger("kpitui.serve")

TEMPLATES = Path(__file__).parent / "templates"
HEARTBEAT = 15.0
"""Seconds between websocket pings: a browser that went away without closing (a laptop
lid, a dropped network) misses the pong, and its session is closed."""
QUIT_GRACE = 5.0
"""Seconds a board has to quit when asked before it is killed."""


class BoardSession(AppService):
    """One tab's live board: a `kpitui run` process speaking Textual's web protocol."""

    def __init__(self, argv: Sequence[str], **kwargs: Any) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = list(argv)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment.pop(TOKEN_ENV, None)  # the board has no use for the server's secret
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
        `QUIT_GRACE`, and reap it."""
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
        self._idle = asyncio.Event()
        self._idle.set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate.check)
        return app

    def _full(self) -> bool:
        return len(self.sessions) >= self.max_sessions

    def _full_page(self, request: web.Request) -> web.Response:
        log.warning("refused a session: all %d are in use", self.max_sessions)
        return refuse(
            request,
            503,
            "Board full",
            f"All {self.max_sessions} sessions of this board are in use. Close a tab that "
            "shows it, or try again in a minute (a browser that went away frees its "
            "session within half a minute).",
        )

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if self._full():
            return self._full_page(request)
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if self._full():  # a page served before the last session was taken
            return self._full_page(request)
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT)
        session = BoardSession(
            self.argv,
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
            await session.stop()
            del self.sessions[session.app_service_id]
            if not self.sessions:
                self._idle.set()
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
