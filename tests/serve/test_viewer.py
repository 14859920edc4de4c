"""Each browser of one `kpitui serve` is its own viewer: the page names it with a cookie,
and the board started for its socket is told that name (no browser needed: aiohttp's
client on loopback keeps cookies as a browser does)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer

from kpitui.acks import VIEWER_ENV, valid_viewer
from kpitui.serve.viewer import KEEP, VIEWER_COOKIE
from tests.serve.served import SERVE_TIMEOUT
from tests.serve.test_sessions import board_server, until


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


async def test_the_page_names_each_browser_once_and_its_board_is_told(board):
    server = board_server(board, 4)
    app = await server._make_app()
    browsers = []
    try:
        for _ in range(2):
            client = TestClient(
                TestServer(app, host="127.0.0.1"), cookie_jar=CookieJar(unsafe=True)
            )
            await client.start_server()
            browsers.append(client)
            app = await server._make_app()  # a TestServer takes an app of its own
        # When each browser loads the page
        names = []
        for client in browsers:
            page = await client.get("/")
            assert page.status == 200
            cookie = page.cookies[VIEWER_COOKIE]
            assert valid_viewer(cookie.value)
            assert cookie["httponly"] and cookie["samesite"] == "Lax"
            assert cookie["max-age"] == str(KEEP)
            names.append(cookie.value)
            # And the page loaded again keeps the name it has
            again = await client.get("/")
            assert VIEWER_COOKIE not in again.cookies
        # Then the two browsers are two viewers
        assert names[0] != names[1]
        # When each opens its board's socket
        sockets = [await c.ws_connect("/ws?width=80&height=24") for c in browsers]
        await until(
            lambda: len(server.sessions) == 2 and all(s.pid for s, _ in server.sessions.values()),
            SERVE_TIMEOUT,
            "two boards",
        )
        # Then each board runs as its own browser's viewer
        told = sorted(environ_of(s.pid)[VIEWER_ENV] for s, _ in server.sessions.values())
        assert told == sorted(names)
        for socket in sockets:
            await socket.close()
        await until(lambda: not server.sessions, SERVE_TIMEOUT, "every board to end")
    finally:
        for client in browsers:
            await client.close()


async def test_a_client_without_the_cookie_is_a_viewer_of_its_own(board):
    server = board_server(board, 2)
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        socket = await client.ws_connect("/ws?width=80&height=24")
        await until(
            lambda: all(s.pid for s, _ in server.sessions.values()) and server.sessions,
            SERVE_TIMEOUT,
            "a board",
        )
        ((session, _),) = server.sessions.values()
        assert valid_viewer(session.viewer)
        assert environ_of(session.pid)[VIEWER_ENV] == session.viewer
        await socket.close()
        await until(lambda: not server.sessions, SERVE_TIMEOUT, "the board to end")
    finally:
        await client.close()
