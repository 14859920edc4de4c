"""Which browser a served board belongs to: a cookie naming the browser, so that each
keeps its own acknowledgements (`kpitui.acks`) though every board runs as the server's
user.

The first page a browser loads sets the cookie (a random name, kept for 400 days: the
longest a browser keeps one); its websocket handshake carries it back, and the board
started for that socket is told the name in `VIEWER_ENV`. A client that sends no cookie
(one that refuses them) gets a name of its own for that one session. The name only
keeps acknowledgements apart; it grants nothing, so it is no secret beside the token.
"""

from __future__ import annotations

import secrets

from aiohttp import hdrs, web

from kpitui.acks import VIEWER_ENV, valid_viewer
from kpitui.serve.gate import Handler

__all__ = ["VIEWER_COOKIE", "VIEWER_ENV", "new_viewer", "remember_viewer", "viewer_of"]

VIEWER_COOKIE = "kpitui_viewer"
KEEP = 400 * 86400
"""Seconds the browser keeps the cookie."""


def new_viewer() -> str:
    """A random viewer name (24 URL-safe characters)."""
    return secrets.token_urlsafe(18)


def viewer_of(request: web.Request) -> str | None:
    """The viewer the request's cookie names, if it names one."""
    name = request.cookies.get(VIEWER_COOKIE)
    return name if valid_viewer(name) else None


@web.middleware
async def remember_viewer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give a browser that has no viewer cookie one, with the page it loads."""
    response = await handler(request)
    if (
        request.method == "GET"
        and request.headers.get(hdrs.UPGRADE, "").lower() != "websocket"
        and isinstance(response, web.Response)
        and response.status == 200
        and response.content_type == "text/html"
        and viewer_of(request) is None
    ):
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
        response.set_cookie(
            VIEWER_COOKIE,
            new_viewer(),
            max_age=KEEP,
            httponly=True,
            samesite="Lax",
            secure=secure,
            path="/",
        )
    return response
