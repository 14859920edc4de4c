"""What `kpitui serve` lets a browser do, in Debian's Chromium: where it listens, the
token off loopback and on the socket, a browser that crashed, and a board that can
neither run a shell nor write a file."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kpitui.serve.token import TOKEN_ENV
from tests.serve.served import (
    CHROMIUM,
    SHOWN,
    child_pids,
    command_line_of,
    descendants,
    environment_of,
    wait_until,
)

OPEN_SOCKET = """(url) => new Promise((done) => {
    const socket = new WebSocket(url);
    socket.onopen = () => { socket.close(); done("open"); };
    socket.onerror = () => done("refused");
})"""


def other_addresses() -> list[str]:
    """This machine's IPv4 address on its way out, if it has one (none offline)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP connect sends nothing
        except OSError:
            return []
        address = probe.getsockname()[0]
    return [] if address.startswith("127.") else [address]


def test_by_default_it_listens_on_loopback_for_up_to_8_sessions(serve, board, tab):
    # Given `kpitui serve` with no --host, --token or --max-sessions
    served = serve(str(board), env={TOKEN_ENV: ""})
    port = urlsplit(served.url).port
    # Then it prints a loopback URL without a token, and its cap of 8
    assert served.url == f"http://127.0.0.1:{port}/"
    assert "up to 8 sessions" in served.stderr()
    # And a browser on this machine gets the board by either loopback name
    for host in ("127.0.0.1", "localhost"):
        local = tab()
        assert local.open(f"http://{host}:{port}/").status == 200
        local.wait_for(*SHOWN.values())
        local.close()
    # And nothing reaches it at the machine's other address
    for address in other_addresses():
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, port), timeout=5).close()


def test_off_loopback_a_random_token_is_printed_and_required(serve, board, tab):
    # Given `kpitui serve --host 0.0.0.0` with no token given
    served = serve(str(board), "--host", "0.0.0.0", env={TOKEN_ENV: ""})
    # Then the URL names the machine and carries a random token
    parts = urlsplit(served.url)
    assert parts.netloc == f"{socket.gethostname()}:{parts.port}"
    [token] = parse_qs(parts.query)["token"]
    assert len(token) == 32 and token.replace("-", "").replace("_", "").isalnum()
    local = f"http://127.0.0.1:{parts.port}/"
    # When a tab comes without it, or with it one character off
    stranger = tab()
    for url in (local, f"{local}?token={token[:-1]}{'A' if token[-1] != 'A' else 'B'}"):
        # Then it gets 401, and no board starts
        assert stranger.open(url).status == 401
    assert served.boards() == []
    # When the printed URL is opened, the board shows and the token leaves the URL
    friend = tab()
    assert friend.open(f"{local}?token={token}").status == 200
    friend.wait_for(*SHOWN.values())
    assert friend.page.url == local


def test_the_token_from_the_environment_guards_the_socket_and_stays_off_the_board(
    serve, board, tab
):
    # Given a board served with $KPITUI_SERVE_TOKEN, open in a tab by its URL
    token = "from-the-environment-0123456789"
    served = serve(str(board), env={TOKEN_ENV: token})
    assert served.url == f"{served.base}?token={token}"
    friend = tab()
    friend.open(served.url)
    friend.wait_for(*SHOWN.values())
    # Then the board's process has no copy of the secret
    [board_pid] = served.boards()
    assert TOKEN_ENV not in environment_of(board_pid)
    assert not any(token in value for value in environment_of(board_pid).values())
    assert not any(token in arg for arg in command_line_of(board_pid))
    # When a page without the cookie opens the socket with a wrong token, or none
    stranger = tab()
    stranger.open(served.base)
    socket_url = served.base.replace("http", "ws", 1) + "ws"
    for url in (socket_url, f"{socket_url}?token={token}x", f"{socket_url}?token="):
        # Then the socket is refused, and no board starts
        assert stranger.page.evaluate(OPEN_SOCKET, url) == "refused", url
    assert served.boards() == [board_pid]
    # And the very token opens it (the check is the token, not only the cookie)
    assert stranger.page.evaluate(OPEN_SOCKET, f"{socket_url}?token={token}") == "open"
    wait_until(lambda: served.boards() == [board_pid], 15, "the socket's board to end")


def test_a_browser_that_crashed_frees_its_session(serve, board, browser, tab):
    from tests.serve.browser import CHROMIUM_ARGS, Tab

    # Given a board for one session at most, open in a Chromium of its own
    served = serve(str(board), "--max-sessions", "1")
    before = set(descendants(os.getpid()))
    crashing = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    try:
        doomed = Tab(crashing)
        doomed.open(served.url)
        doomed.wait_for(*SHOWN.values())
        [board_pid] = served.boards()
        chromium = [
            pid
            for pid in descendants(os.getpid())
            if pid not in before and "chrom" in Path(command_line_of(pid)[0]).name
        ]
        assert chromium
        # When that Chromium dies without closing anything
        for pid in chromium:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # Then its board ends, and the session is free for another tab
        wait_until(lambda: served.boards() == [], 15, "the crashed tab's board to end")
        assert not Path(f"/proc/{board_pid}").exists()
    finally:
        with contextlib.suppress(Exception):
            crashing.close()
    other = tab()
    assert other.open(served.url).status == 200
    other.wait_for(*SHOWN.values())


def files_of(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file below `folder` but the server's output and SQLite's side files: size,
    mtime, and the first bytes (a SQLite header, a spec's first line).

    SQLite's shared-memory index (`-shm`, and an empty `-wal` beside it) is made by any
    reader of a store in WAL mode that may write its folder, as `kpitui run` is: it
    coordinates readers with the writer, and holds no data."""
    return {
        str(path.relative_to(folder)): (
            path.stat().st_size,
            path.stat().st_mtime_ns,
            path.read_bytes()[:100],
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not path.name.startswith("serve-")
        and not path.name.endswith(("-shm", "-wal"))
    }


def test_a_served_board_runs_no_shell_and_writes_nothing(serve, board, tab, tmp_path):
    # Given a served board whose user has an empty home
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), TOKEN_ENV: ""}
    env |= {
        f"XDG_{kind}_HOME": str(home / kind.lower())
        for kind in ("STATE", "CONFIG", "DATA", "CACHE")
    }
    before = files_of(tmp_path)
    served = serve(str(board), env=env)
    viewer = tab()
    viewer.open(served.url)
    viewer.wait_for(*SHOWN.values())
    # Then its board is `kpitui run` itself, started without a shell, starting nothing
    [board_pid] = served.boards()
    assert command_line_of(board_pid) == [
        sys.executable,
        "-m",
        "kpitui",
        "run",
        str(board.resolve()),
    ]
    assert child_pids(board_pid) == []
    # When the viewer uses the board's keys: pause, acknowledge, a detail, the palette's
    # screenshot (which Textual delivers to the browser, not to a file)
    for key in ("p", "a", "p", "Enter"):
        viewer.press(key)
    viewer.wait_for("Active users", gone=("Signups this week",))
    viewer.press("Escape")
    viewer.wait_for(*SHOWN)
    viewer.press("Control+p")
    viewer.wait_for("Search for commands")
    viewer.page.keyboard.type("Screenshot")
    viewer.wait_for("Save an SVG")
    with viewer.context.expect_page() as opened:
        viewer.press("Enter")
    shot = opened.value
    shot.wait_for_load_state()
    assert "<svg" in shot.content()
    assert urlsplit(shot.url).path.startswith("/download/")
    # And a browser tries to send the server something
    for method in ("post", "put", "delete"):
        answer = getattr(viewer.page.request, method)(served.base, data="x")
        assert answer.status == 405, method
    # Then nothing was written: not the store, not the spec, not the home
    served.stop()
    assert files_of(tmp_path) == before
    wal = board.parent / "metrics.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert list(home.rglob("*")) == []
