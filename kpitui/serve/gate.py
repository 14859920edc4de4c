"""Who may open a served board: the token, the cookie that keeps it, and where from.

textual-serve has no authentication, and every tab it serves starts a process, so the
gate stands in front of every route (the page, the websocket, the static files and the
downloads) and says no before a handler runs:

- With a token (required off loopback), a request must carry it as `?token=…` or in the
  cookie the first such request sets; it is compared in constant time. A page opened
  with `?token=` is sent on to the same URL without it, so the secret leaves the
  address bar (and what is screenshotted or pasted from it).
- Without a token (loopback only), the Host must be a loopback name: a web page that
  re-points its own domain at 127.0.0.1 (DNS rebinding) reaches the port, but not with
  a loopback Host.
- A websocket must come from a page of this server (its Origin names the host it was
  opened on): another site's page open in the same browser cannot start a board and
  read it (cross-site websocket hijacking).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
from aiohttp import hdrs, web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    """A random token for the URL: 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def token_matches(given: str, token: str) -> bool:
    """`given == token`, in a time that does not tell how much of it was right."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


def is_loopback_name(host: str) -> bool:
    """Whether a host name or address (without port; IPv6 with or without brackets)
    is this machine's loopback, by its spelling alone."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def binds_loopback_only(host: str, port: int) -> bool:
    """Whether listening on `host` is reachable from this machine only: every address
    it resolves to is loopback. Raises OSError (socket.gaierror) for an unknown host."""
    if is_loopback_name(host):
        return True
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return all(is_loopback_name(str(info[4][0])) for info in infos)


def host_of(netloc: str) -> str:
    """The host part of `host[:port]` (an IPv6 address keeps no brackets)."""
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else netloc[1:]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


class Gate:
    """The aiohttp middleware (`check`) that lets a request through, or answers 401/403.

    `token` None means no token (loopback only). `cookie` names the cookie that keeps
    the token: the port is in it, since browsers share cookies between the ports of
    one host and two boards served side by side would overwrite each other's.
    """

    def __init__(self, token: str | None, *, port: int) -> None:
        self.token = token
        self.cookie = ""
        self.name_cookie(port)

    def name_cookie(self, port: int) -> None:
        """Name the cookie after the port listened on (known only once bound, for 0)."""
        self.cookie = f"kpitui_token_{port}"

    @web.middleware
    async def check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token is None and not is_loopback_name(host_of(request.host)):
            return refuse(
                request,
                403,
                "Loopback only",
                "This board answers on localhost only: open it as http://localhost:PORT/ "
                "(through an SSH tunnel from another machine), or serve it with --host "
                "and a token.",
            )
        if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket" and not self._same_origin(
            request
        ):
            return refuse(request, 403, "Forbidden", "This board's socket opens from its own page.")
        if self.token is None:
            return await handler(request)
        from_query = request.query.get("token")
        given = from_query if from_query is not None else request.cookies.get(self.cookie)
        if given is None or not token_matches(given, self.token):
            return refuse(
                request,
                401,
                "Token needed",
                "This board needs its token: open the full URL that `kpitui serve` printed "
                "(it ends in ?token=…).",
            )
        if from_query is not None and request.method == "GET" and request.path == "/":
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            location = "./" + ("?" + urlencode(rest) if rest else "")
            response = web.Response(status=303, headers={hdrs.LOCATION: location})
            self._keep(request, response)
            return response
        return await handler(request)

    def _keep(self, request: web.Request, response: web.StreamResponse) -> None:
        """Set the cookie that carries the token from now on. Lax, not Strict: a link
        followed from a chat or a mail must arrive with it."""
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
        response.set_cookie(
            self.cookie, self.token or "", httponly=True, samesite="Lax", secure=secure, path="/"
        )

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        """Whether a websocket handshake comes from a page of this server: its Origin
        names the host the page was opened on (the proxy's, behind one that says it in
        X-Forwarded-Host). A handshake without Origin is no browser's: let it be."""
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None:
            return True
        opened_on = request.headers.get("X-Forwarded-Host", request.host)
        return urlsplit(origin).netloc.lower() == opened_on.split(",")[0].strip().lower()


def refuse(request: web.Request, status: int, title: str, text: str) -> web.Response:
    """A short page saying why, with `status`: a person reads it, a script checks it."""
    return aiohttp_jinja2.render_template(
        "message.html", request, {"title": title, "text": text}, status=status
    )
