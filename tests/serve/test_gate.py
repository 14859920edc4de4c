"""The gate of `kpitui serve` over real HTTP (aiohttp's test server on loopback): who
gets through to the page, the socket and the files, and who gets 401 or 403."""

from __future__ import annotations

import re
import sys

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kpitui.serve.gate import Gate, binds_loopback_only, is_loopback_name, token_matches
from kpitui.serve.server import TEMPLATES, BoardServer

TOKEN = "s3cret-token-of-the-board"
WEBSOCKET = {"Upgrade": "websocket", "Connection": "Upgrade"}


async def through(request: web.Request) -> web.Response:
    return web.Response(text="through")


@pytest.fixture
async def client_for():
    """`await client_for(token)`: a client of a server whose every route the gate
    guards (the routes answer "through")."""
    clients: list[TestClient] = []

    async def start(token: str | None) -> TestClient:
        gate = Gate(token, port=8040)
        app = web.Application(middlewares=[gate.check])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES))
        app.add_routes([web.get("/", through), web.get("/ws", through)])
        app.add_routes([web.get("/static/{name}", through)])
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def test_without_a_token_loopback_hosts_get_through(client_for):
    client = await client_for(None)
    for host in ("127.0.0.1:8040", "localhost:8040", "[::1]:8040", "localhost"):
        response = await client.get("/", headers={"Host": host})
        assert (response.status, await response.text()) == (200, "through"), host


async def test_without_a_token_another_host_name_is_refused(client_for):
    # Given a loopback server without a token, reached by a page that re-pointed its
    # own domain at 127.0.0.1 (DNS rebinding)
    client = await client_for(None)
    for path in ("/", "/ws", "/static/textual.js"):
        response = await client.get(path, headers={"Host": "evil.example:8040"})
        # Then it is refused, with a page that says how to open the board
        assert response.status == 403
        assert "localhost" in await response.text()


async def test_a_socket_from_another_sites_page_is_refused(client_for):
    client = await client_for(None)
    own = f"http://127.0.0.1:{client.port}"
    cases = [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": f"http://localhost:{client.port}"}, 403),  # another origin, same machine
        ({"Origin": own}, 200),
        ({}, 200),  # no browser's: no page to be hijacked
        # behind a proxy that says which host the page was opened on
        ({"Origin": "https://dash.example.com", "X-Forwarded-Host": "dash.example.com"}, 200),
    ]
    for headers, status in cases:
        response = await client.get("/ws", headers={**WEBSOCKET, **headers})
        assert response.status == status, headers


async def test_with_a_token_nothing_gets_through_without_it(client_for):
    client = await client_for(TOKEN)
    attempts = [
        ("/", {}),
        ("/?token=wrong", {}),
        (f"/?token={TOKEN}x", {}),
        (f"/?token={TOKEN[:-1]}", {}),
        ("/ws", WEBSOCKET),
        ("/ws?token=wrong", WEBSOCKET),
        ("/static/textual.js", {}),
        ("/", {"Cookie": "kpitui_token_8040=wrong"}),
        ("/", {"Cookie": f"kpitui_token_8041={TOKEN}"}),  # another board's cookie
    ]
    for path, headers in attempts:
        response = await client.get(path, headers=headers, allow_redirects=False)
        assert response.status == 401, (path, headers)
        assert "?token=" in await response.text()


async def test_the_token_in_the_url_becomes_a_cookie_and_leaves_the_url(client_for):
    client = await client_for(TOKEN)
    # When the printed URL is opened (with another parameter beside the token)
    response = await client.get(f"/?fontsize=20&token={TOKEN}", allow_redirects=False)
    # Then the browser is sent to the same page without the token, with a cookie
    assert response.status == 303
    assert response.headers["Location"] == "./?fontsize=20"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"kpitui_token_8040={TOKEN};")
    assert re.search(r"HttpOnly", cookie, re.I) and re.search(r"SameSite=Lax", cookie, re.I)
    assert "secure" not in cookie.lower()  # plain http: a Secure cookie would be dropped
    # And the cookie alone lets the page, the files and the socket through
    for path, headers in (("/", {}), ("/static/textual.js", {}), ("/ws", WEBSOCKET)):
        headers = {**headers, "Cookie": f"kpitui_token_8040={TOKEN}"}
        response = await client.get(path, headers=headers, allow_redirects=False)
        assert (response.status, await response.text()) == (200, "through"), path


async def test_the_cookie_is_secure_behind_a_tls_proxy(client_for):
    client = await client_for(TOKEN)
    response = await client.get(
        f"/?token={TOKEN}", headers={"X-Forwarded-Proto": "https"}, allow_redirects=False
    )
    assert "secure" in response.headers["Set-Cookie"].lower()


async def test_with_a_token_any_host_name_may_serve(client_for):
    # Off loopback the token is the lock: the Host is whatever name the machine has
    client = await client_for(TOKEN)
    response = await client.get(f"/static/x?token={TOKEN}", headers={"Host": "kpi.internal"})
    assert (response.status, await response.text()) == (200, "through")


def test_token_matches_only_the_very_token():
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN + "x", TOKEN)
    assert not token_matches("", TOKEN)
    assert not token_matches("s3cret-token-of-the-boarD", TOKEN)
    assert not token_matches("\udcff-not-utf-8", TOKEN)  # a cookie's odd bytes: no crash
    assert token_matches("ünïcode-tokén-here", "ünïcode-tokén-here")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("board.localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("kpi.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_names(host, loopback):
    assert is_loopback_name(host) is loopback


def test_listening_on_every_interface_is_not_loopback():
    assert binds_loopback_only("localhost", 8040)
    assert not binds_loopback_only("0.0.0.0", 8040)
    assert not binds_loopback_only("::", 8040)


async def test_the_page_loads_nothing_from_elsewhere_and_shows_the_title_as_text():
    # Given a board whose title holds HTML
    server = BoardServer(
        [sys.executable, "-c", "pass"],
        title="<script>alert(1)</script> & co",
        host="127.0.0.1",
        port=0,
        token=None,
        max_sessions=2,
    )
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        # When the page is fetched
        response = await client.get("/")
        page = await response.text()
    finally:
        await client.close()
    # Then the title is text, never markup
    assert response.status == 200
    assert "<script>alert(1)" not in page
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</title>" in page
    # And every script, style sheet, font and image it names is this server's
    named = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]+)""", page)
    urls = [a or b for a, b in named]
    assert urls, page
    for url in urls:
        assert url.startswith(("static/", "data:")) or url == "", url
    assert "//" not in "".join(urls)
    # And the files it names are there
    for url in urls:
        if url.startswith("static/"):
            assert static_file(server, url).is_file(), url


def static_file(server: BoardServer, url: str):
    return server.statics_path / url.removeprefix("static/")
