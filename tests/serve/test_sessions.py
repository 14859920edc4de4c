"""The sessions of `BoardServer` seen from the socket, with aiohttp's client on
loopback (the browser tests see them from Chromium): the cap, and a browser that went
away without closing its socket (a laptop lid, a dropped network).

A peer that stops answering is made with aiohttp's client, which answers no ping unless
it is read; Chromium always answers them. The heartbeat is shortened to a second so the
test takes seconds, not the 15 s + 7.5 s of the real one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from kpitui.cli.serve_cmd import board_argv
from kpitui.serve import server as serving
from kpitui.serve.server import FULL, BoardServer
from tests.serve.served import SERVE_TIMEOUT


async def until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return result


def board_server(board: Path, max_sessions: int) -> BoardServer:
    return BoardServer(
        board_argv(str(board), None, None),
        title="t",
        host="127.0.0.1",
        port=0,
        token=None,
        max_sessions=max_sessions,
    )


async def test_a_socket_over_the_cap_is_closed_with_the_reason_and_starts_no_board(board):
    # Given a board for two sessions, both taken
    server = board_server(board, 2)
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        taken = [await client.ws_connect("/ws?width=80&height=24") for _ in range(2)]
        await until(
            lambda: len(server.sessions) == 2 and all(s.pid for s, _ in server.sessions.values()),
            SERVE_TIMEOUT,
            "two boards",
        )
        boards = [s._process for s, _ in server.sessions.values()]
        # When a third socket opens
        third = await client.ws_connect("/ws?width=80&height=24")
        message = await third.receive(timeout=SERVE_TIMEOUT)
        # Then it is closed with the code the page knows and the reason it shows
        assert message.type == WSMsgType.CLOSE
        assert (message.data, message.extra) == (
            FULL,
            "All 2 sessions this board allows are in use.",
        )
        assert len(server.sessions) == 2
        # When one of the two closes, the next socket gets a session
        await taken[0].close()
        fourth = await client.ws_connect("/ws?width=80&height=24")
        await until(
            lambda: (
                len(server.sessions) == 2
                and not server._closing
                and all(s.pid for s, _ in server.sessions.values())
            ),
            SERVE_TIMEOUT,
            "the fourth socket's session",
        )
        assert not fourth.closed
        boards += [s._process for s, _ in server.sessions.values()]
        for socket in (taken[1], fourth):
            await socket.close()
        await until(lambda: not server.sessions, SERVE_TIMEOUT, "every board to end")
        # And every board has ended, not only its session (the test server cancels the
        # handler of a closed connection, as a real one may)
        assert all(board.returncode is not None for board in boards)
    finally:
        await client.close()


async def test_a_peer_that_stops_answering_pings_is_closed_and_its_board_ends(
    board: Path, monkeypatch
):
    # Given a served board with a one-second heartbeat, and a session on it
    monkeypatch.setattr(serving, "HEARTBEAT", 1.0)
    server = board_server(board, 2)
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        socket = await client.ws_connect("/ws?width=80&height=24", autoping=False)
        session = await until(
            lambda: next((s for s, _ in server.sessions.values() if s.pid), None),
            SERVE_TIMEOUT,
            "the board to start",
        )
        process = session._process
        # When the peer says nothing more and answers no ping
        # Then within the heartbeat and its wait for a pong the session is closed
        await until(lambda: not server.sessions, SERVE_TIMEOUT, "the session to close")
        # And its board has ended
        assert process.returncode is not None
        assert not Path(f"/proc/{process.pid}").exists()
        await socket.close()
    finally:
        await client.close()
