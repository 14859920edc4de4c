"""`kpitui serve`: the live board in a browser, each tab its own `kpitui run`.

The spec and the store are checked as `run` checks them, and the address is resolved,
before anything listens: a problem is one line and its exit code, and no URL is
printed for a board that could not open.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kpitui.cli import HelpFormatter
from kpitui.cli.app_cmds import load_for_app, load_spec
from kpitui.cli.common import add_spec_arguments, as_of_arg
from kpitui.errors import InputError, KpituiError, RuntimeFailure
from kpitui.literal import literal
from kpitui.serve.token import MIN_TOKEN_LENGTH, TOKEN_ENV
from kpitui.timeutil import SystemClock

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8040
DEFAULT_MAX_SESSIONS = 8


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="serve the live dashboard to browsers",
        description=(
            "Serve the live dashboard of SPEC to web browsers: each tab gets its own board\n"
            "(`kpitui run` under textual-serve), with the same keys and the same numbers.\n"
            "The spec and the store are checked first, as `run` checks them.\n\n"
            "It listens on loopback unless --host says otherwise: from another machine,\n"
            "tunnel in with `ssh -L 8040:localhost:8040 SERVER` and open\n"
            "http://localhost:8040/. Any other address requires a token, given in the URL\n"
            f"as ?token=… (then kept in a cookie): --token, else ${TOKEN_ENV}, else a\n"
            "random one printed in the URL. Ctrl+C stops the server and every board."
        ),
        epilog=(
            "examples:\n"
            "  kpitui serve                              ./dashboard.yaml on http://127.0.0.1:8040/\n"
            "  kpitui serve team.yaml --port 9000 --db /data/metrics.db\n"
            "  kpitui serve --host 0.0.0.0               every interface, a random token\n"
            f"  {TOKEN_ENV}=... kpitui serve --host 10.0.0.5 --max-sessions 20"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_arguments(serve)
    serve.add_argument(
        "--as-of",
        type=as_of_arg,
        metavar="TIME",
        help="every board evaluates as if it were TIME (ISO 8601, a date, or epoch seconds)",
    )
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"the address to listen on (default: {DEFAULT_HOST}; any other needs a token)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"the TCP port (default: {DEFAULT_PORT}; 0 lets the system choose)",
    )
    serve.add_argument(
        "--token",
        metavar="T",
        help=(
            f"the secret a browser must bring, at least {MIN_TOKEN_LENGTH} characters "
            f"(${TOKEN_ENV} keeps it out of `ps`; default off loopback: a random one)"
        ),
    )
    serve.add_argument(
        "--max-sessions",
        type=_positive,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"boards running at once, one per tab (default: {DEFAULT_MAX_SESSIONS})",
    )
    serve.set_defaults(func=serve_dashboard)


def serve_dashboard(args: argparse.Namespace) -> int:
    loopback = _loopback(args.host, args.port)
    token = choose_token(args.token, os.environ.get(TOKEN_ENV), loopback=loopback)
    loaded = load_spec(Path(args.spec))
    as_of = args.as_of if args.as_of is not None else SystemClock().now()
    # The checks of `run`, down to its first board: a store it could not show stops
    # here, before a browser is sent to it.
    _loaded, _store, read, _board, _app = load_for_app(loaded, args.db, as_of)
    read.reader.close()

    from kpitui.serve.server import BoardServer, listen_until_stopped

    server = BoardServer(
        board_argv(args.spec, args.db, args.as_of),
        title=loaded.dashboard.title or "kpitui",
        host=args.host,
        port=args.port,
        token=token,
        max_sessions=args.max_sessions,
    )
    _log_to_stderr()

    def say_where(port: int) -> None:
        url = board_url(args.host, port, token)
        print(
            f"kpitui serve: {literal(loaded.dashboard.title or args.spec)}, up to "
            f"{args.max_sessions} sessions; Ctrl+C stops it",
            file=sys.stderr,
            flush=True,
        )
        print(url, flush=True)

    import asyncio

    try:
        asyncio.run(listen_until_stopped(server, say_where))
    except OSError as exc:
        raise _listen_problem(exc, args.host, args.port) from None
    return 0


def choose_token(given: str | None, from_env: str | None, *, loopback: bool) -> str | None:
    """The token browsers must bring: `--token`, else $KPITUI_SERVE_TOKEN, else none on
    loopback and a random one anywhere else. A short token is refused."""
    from kpitui.serve.gate import new_token  # aiohttp: only for `serve` itself

    for name, token in (("--token", given), (TOKEN_ENV, from_env)):
        if token is None or (name == TOKEN_ENV and token == ""):
            continue
        if len(token) < MIN_TOKEN_LENGTH:
            raise InputError(
                f"{name} is {len(token)} characters, too easy to guess",
                hint=f"use at least {MIN_TOKEN_LENGTH}, or leave it out for a random one",
            )
        return token
    return None if loopback else new_token()


def board_argv(spec: str, db: str | None, as_of: int | None) -> list[str]:
    """The command line of one tab's board: `kpitui run` on the same spec, store and
    as-of, by the interpreter serving it. The spec is absolute, so it is never read as
    an option."""
    argv = [sys.executable, "-m", "kpitui", "run", str(Path(spec).resolve())]
    if db is not None:
        argv += ["--db", db]
    if as_of is not None:
        argv += ["--as-of", str(as_of)]
    return argv


def board_url(host: str, port: int, token: str | None) -> str:
    """The URL to open: the machine's name for a wildcard address, an IPv6 address in
    brackets, the token as `?token=`."""
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    url = f"http://{shown}:{port}/"
    return url + f"?token={quote(token, safe='')}" if token else url


def _loopback(host: str, port: int) -> bool:
    from kpitui.serve.gate import binds_loopback_only

    try:
        return binds_loopback_only(host, port)
    except (OSError, UnicodeError):
        raise InputError(
            f"--host {literal(host)}: no such host or address",
            hint=f"pass an address of this machine, or leave it out for {DEFAULT_HOST}",
        ) from None


def _listen_problem(exc: OSError, host: str, port: int) -> KpituiError:
    where = f"{literal(host)}:{port}"
    if exc.errno == errno.EADDRINUSE:
        hint = "another program listens there: pass another --port (or stop it)"
        return RuntimeFailure(f"cannot listen on {where}: the port is in use", hint=hint)
    if exc.errno == errno.EACCES:
        return RuntimeFailure(
            f"cannot listen on {where}: permission denied",
            hint="ports below 1024 need privileges: pass --port 8040",
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return InputError(
            f"cannot listen on {where}: this machine has no such address",
            hint=f"pass one of its own addresses to --host, or leave it out for {DEFAULT_HOST}",
        )
    return RuntimeFailure(f"cannot listen on {where}: {(exc.strerror or str(exc)).lower()}")


def _log_to_stderr() -> None:
    """Sessions opening and closing, and refusals, as `kpitui serve: …` lines on the
    stderr of now (a second `serve` in one process replaces the first one's)."""
    log = logging.getLogger("kpitui.serve")
    for old in [h for h in log.handlers if getattr(h, "kpitui_serve", False)]:
        log.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.kpitui_serve = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("kpitui serve: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is no TCP port: use 1 to 65535 (0: any free one)"
        )
    return port


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return number
