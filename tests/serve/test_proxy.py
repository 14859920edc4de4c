"""`kpitui serve` behind the nginx of the README, under its path prefix, in Chromium:
the snippet as the README shows it (only the board's port changed), run by Debian's
nginx on loopback."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.serve.served import SERVE_TIMEOUT, SHOWN, need, wait_until

README = Path(__file__).resolve().parents[2] / "README.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def readme_location() -> str:
    """The README's nginx snippet: the `location` block a team pastes."""
    [snippet] = re.findall(r"```nginx\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return snippet


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """`nginx(board_port)`: nginx on a free loopback port with the README's location
    block pointed at the board; the URL of the board through it. Stopped afterwards."""
    need(Path(NGINX).exists(), "nginx is missing (apt-get install nginx)")
    started: list[subprocess.Popen[bytes]] = []

    def start(board_port: int) -> str:
        folder = tmp_path / "nginx"
        folder.mkdir()
        port = free_port()
        location = readme_location().replace("127.0.0.1:8040", f"127.0.0.1:{board_port}")
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        temp = " ".join(
            f"{kind}_temp_path {folder / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (folder / "nginx.conf").write_text(
            f"""{user}
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"};
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temp}
    server {{
        listen 127.0.0.1:{port};
        {location}
    }}
}}
""",
            encoding="utf-8",
        )
        process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stderr=subprocess.PIPE,
        )
        started.append(process)

        def listening() -> bool:
            if process.poll() is not None:
                pytest.fail(f"nginx exited {process.returncode}: {process.stderr.read()!r}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until(listening, SERVE_TIMEOUT, "nginx to listen")
        return f"http://localhost:{port}/kpi/"

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=SERVE_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_board_works_behind_the_readmes_nginx_under_its_prefix(serve, board, tab, nginx):
    # Given a board on loopback without a token, and the README's nginx in front of it
    served = serve(str(board))
    through = nginx(urlsplit(served.url).port)
    # When a browser opens the board at the proxy's /kpi/
    viewer = tab()
    assert viewer.open(through).status == 200
    # Then the board draws, its files and its socket all through the prefix
    viewer.wait_for(*SHOWN, *SHOWN.values())
    # And its keys reach it
    viewer.press("Enter")
    viewer.wait_for("Active users", gone=("Signups this week",))
    viewer.press("Escape")
    viewer.wait_for(*SHOWN)
    assert viewer.errors == [] and viewer.blocked == []
    # And a file the board delivers (the palette's screenshot) comes through it too
    viewer.press("Control+p")
    viewer.wait_for("Search for commands")
    viewer.page.keyboard.type("Screenshot")
    viewer.wait_for("Save an SVG")
    with viewer.context.expect_page() as opened:
        viewer.press("Enter")
    shot = opened.value
    shot.wait_for_load_state()
    assert urlsplit(shot.url).path.startswith("/kpi/download/"), shot.url
    assert "<svg" in shot.content()
    # (Textual's SVG names a web font on a CDN; blocked, it draws in a local one)
    assert all(url.endswith((".woff", ".woff2")) for url in viewer.blocked), viewer.blocked
    assert viewer.errors == []
