"""Connections to a PostgreSQL store, and psycopg errors turned into kpitui's own.

Credentials come from libpq's usual places (`PGPASSWORD`, `~/.pgpass`, service files)
or the URL itself; kpitui adds only session settings: the `kpitui` schema first on the
search path, `lock_timeout` for writers (5 s: "store is locked" keeps its meaning), and
for readers `default_transaction_read_only=on` and a `statement_timeout`, so a viewer's
role may be SELECT-only and a slow query never holds a refresh for long.

Nothing psycopg raises leaves this package: `store_error` makes each a StoreError (or
StoreLockedError / StoreUnreachableError) naming the store with its password masked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from kpitui.errors import StoreError, StoreLockedError, StoreUnreachableError
from kpitui.store.name import StoreName, mask_password

SCHEMA = "kpitui"
"""The PostgreSQL schema holding kpitui's tables, apart from the team's own."""
CHANNEL = "kpitui_changes"
"""What every writing transaction NOTIFYs and every reader LISTENs to."""

LOCK_TIMEOUT_MS = 5000
READ_STATEMENT_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 5

INIT_HINT = "run `kpitui store init URL` as the role that is to own its tables"


def connect(
    name: StoreName, *, reading: bool, lock_timeout: float | None = None
) -> psycopg.Connection:
    """A connection in autocommit mode (transactions are opened explicitly)."""
    assert name.url is not None
    try:
        params = conninfo_to_dict(name.url)
    except psycopg.ProgrammingError as exc:
        raise StoreError(
            f"not a valid PostgreSQL URL: {_first_line(exc)}",
            file=name.display,
            hint="write it as postgresql://USER@HOST:PORT/DATABASE",
        ) from None
    # No JIT: compiling a query costs more than the short queries kpitui runs.
    settings = [f"search_path={SCHEMA}", "max_parallel_workers_per_gather=0", "jit=off"]
    if reading:
        settings += [
            "default_transaction_read_only=on",
            f"statement_timeout={READ_STATEMENT_TIMEOUT_MS}",
        ]
    else:
        ms = LOCK_TIMEOUT_MS if lock_timeout is None else int(lock_timeout * 1000)
        # Commits of a metric store are like SQLite's synchronous=NORMAL in WAL mode:
        # atomic, but a crash of the server may lose the last ones.
        # work_mem: the rollup refresh of a large import sorts in memory, not on disk.
        settings += [f"lock_timeout={ms}", "synchronous_commit=off", "work_mem=64MB"]
    options = " ".join(f"-c {s}" for s in settings)
    if params.get("options"):
        options = f"{params['options']} {options}"
    params["options"] = options
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    params.setdefault("application_name", "kpitui")
    try:
        return psycopg.connect(make_conninfo(**params), autocommit=True)
    except psycopg.Error as exc:
        raise store_error(exc, name, writing=not reading, waited=lock_timeout) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def store_error(
    exc: BaseException, name: StoreName, *, writing: bool, waited: float | None = None
) -> StoreError:
    """One line for a psycopg error, naming the store (password masked); `waited`: the
    writer's lock timeout in seconds."""
    where = name.display
    text = mask_password(_first_line(exc))
    if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.DeadlockDetected):
        return StoreLockedError(
            f"store is locked by another writer (waited {waited or LOCK_TIMEOUT_MS / 1000:g} s)"
            if writing
            else "store is locked",
            file=where,
            hint="try again when the other import or script has finished",
        )
    if isinstance(exc, pg_errors.QueryCanceled):
        return StoreError(
            "a store query took longer than the statement timeout", file=where, hint=text
        )
    if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
        return StoreError("the store is read-only for this connection", file=where, hint=text)
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        doing = "write" if writing else "read"
        return StoreError(
            f"this role may not {doing} the store: {text}",
            file=where,
            hint="ask for the grants `kpitui store init URL --grants` prints",
        )
    if isinstance(exc, pg_errors.UndefinedTable | pg_errors.InvalidSchemaName):
        return StoreError("the database holds no kpitui store yet", file=where, hint=INIT_HINT)
    if isinstance(exc, pg_errors.InvalidCatalogName):
        return StoreError(
            f"no such database: {text}", file=where, hint="create it first (createdb)"
        )
    said = _server_said(text)
    if "does not exist" in said and said.startswith("database "):
        return StoreError(
            f"no such {said.removesuffix(' does not exist')}",
            file=where,
            hint="create it first (createdb), or fix the URL",
        )
    if (
        "password authentication failed" in said
        or "no password supplied" in said
        or (said.startswith("role ") and "does not exist" in said)
    ):
        return StoreError(
            f"the server refused the login: {said}",
            file=where,
            hint="check the user in the URL and its password (PGPASSWORD, ~/.pgpass, a service file)",
        )
    if is_connection_lost(exc):
        return StoreUnreachableError(f"cannot reach the store: {said}", file=where)
    doing = "write" if writing else "read"
    return StoreError(f"cannot {doing} the store: {text}", file=where)


def _server_said(text: str) -> str:
    """libpq's connection message without its preamble ('connection failed: connection
    to server at "h", port p failed: FATAL:  …')."""
    for mark in ("FATAL:  ", "failed: "):
        if mark in text:
            return text.rsplit(mark, 1)[1].strip()
    return text


_SERVER_GOING = ("57P01", "57P02", "57P03")  # admin shutdown, crash shutdown, cannot connect now


def is_connection_lost(exc: BaseException) -> bool:
    """The server went away or cannot be reached (no SQL state: the client saw it)."""
    if not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith("08") or state in _SERVER_GOING


@contextmanager
def translated(name: StoreName, *, writing: bool) -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        raise store_error(exc, name, writing=writing) from None
