"""A browser that went away without closing its socket (a laptop lid, a dropped
network): the server's pings go unanswered and the session is closed, its board ended.

A peer that stops answering is made here with aiohttp's client, which answers no ping
unless it is read; Chromium always answers them. The heartbeat is shortened to a
second so the test takes seconds, not the 15 s + 7.5 s of the real one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from kpitui.cli.serve_cmd import board_argv
from kpitui.serve import server as serving
from kpitui.serve.server import BoardServer
from tests.serve.served import SERVE_TIMEOUT


async def until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return result


async def test_a_peer_that_stops_answering_pings_is_closed_and_its_board_ends(
    board: Path, monkeypatch
):
    # Given a served board with a one-second heartbeat, and a session on it
    monkeypatch.setattr(serving, "HEARTBEAT", 1.0)
    server = BoardServer(
        board_argv(str(board), None, None),
        title="t",
        host="127.0.0.1",
        port=0,
        token=None,
        max_sessions=2,
    )
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
