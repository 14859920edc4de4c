"""A real, throwaway PostgreSQL server for the tests (never a mock database).

`PgServer` initdb's a cluster in a temp folder and runs it on a free loopback port (and a
unix socket in that folder), with durability off: what the tests write is gone with the
folder. `initdb` refuses to run as root, so as root the cluster belongs to `postgres` (or
`nobody`) and every server command runs as that user.

The fixtures (imported by `tests/conftest.py`, so every test package has them):

- `pg_cluster`: the session's `PgServer` (started on first use, stopped at the end);
- `pg_server`: its URL without a database, `postgresql://kpitui@127.0.0.1:PORT`;
- `pg_url`: the URL of a new, empty database for one test.

Without server binaries or psycopg the tests that ask for them are skipped with the
reason, except under CI=true, where that fails them: CI must always run them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import pytest

SUPERUSER = "kpitui"
_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=120",
    "listen_addresses=127.0.0.1",
    # No background transactions: a test that counts what a reader reads sees only ours.
    "autovacuum=off",
)


def unavailable(reason: str) -> None:
    """Skip a test that needs a service which is missing; fail it under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def server_binary(name: str) -> str | None:
    """`initdb`, `pg_ctl` …: on the PATH, else the newest of Debian's versioned folders."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    return candidates[-1] if candidates else None


def _version_key(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(x) for x in part.split(".") if x.isdigit())


def missing_reason() -> str | None:
    """Why no server can be had here, or None."""
    if server_binary("initdb") is None or server_binary("pg_ctl") is None:
        return (
            "no PostgreSQL server binaries (initdb, pg_ctl) on this machine:"
            " apt-get install postgresql"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    if os.geteuid() == 0 and _unprivileged_user() is None:
        return "running as root with neither a `postgres` nor a `nobody` user for initdb"
    return None


def _unprivileged_user() -> pwd.struct_passwd | None:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One PostgreSQL cluster in a temp folder; `start`/`stop` it (a restart keeps the
    port, so URLs stay valid across it)."""

    def __init__(self, *, settings: tuple[str, ...] = ()) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kpitui-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._settings = (*_SETTINGS, *settings)
        self._as_user: list[str] = []
        self._initdb = server_binary("initdb")
        self._pg_ctl = server_binary("pg_ctl")
        self._databases = 0
        if os.geteuid() == 0:
            user = _unprivileged_user()
            assert user is not None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", user.pw_name, "--"]
        self._run(
            self._initdb, "-D", self.data, "-A", "trust", "-U", SUPERUSER,
            "--no-sync", "-E", "UTF8", "--locale=C",
        )  # fmt: skip

    @property
    def url(self) -> str:
        """The server's URL, without a database."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}"

    def _run(self, *args: object, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self._as_user, *map(str, args)], capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip() or result.stdout}")
        return result

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} " + " ".join(f"-c {s}" for s in self._settings)
        self._run(
            self._pg_ctl, "-D", self.data, "-o", options, "-l", self.root / "log", "-w",
            "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(self._pg_ctl, "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def running(self) -> bool:
        return self._run(self._pg_ctl, "-D", self.data, "status", check=False).returncode == 0

    def new_database(self, hint: str = "t") -> str:
        """Create an empty database; its URL."""
        import psycopg

        self._databases += 1
        clean = "".join(c if c.isalnum() else "_" for c in hint.lower())[:40]
        name = f"{clean}_{self._databases}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(f"{self.url}/postgres", autocommit=True) as con:
                    con.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
                return f"{self.url}/{name}"
            except psycopg.OperationalError:
                if time.monotonic() > deadline:  # the server is (re)starting
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_server(*, settings: tuple[str, ...] = ()) -> PgServer:
    """A started server, or the test skipped (failed under CI) with the reason."""
    reason = missing_reason()
    if reason is not None:
        unavailable(reason)
    server = PgServer(settings=settings)
    try:
        server.start()
    except BaseException:
        server.destroy()
        raise
    return server


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgServer]:
    """The PostgreSQL server of this test session."""
    server = start_server()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def pg_server(pg_cluster: PgServer) -> str:
    """The URL (without a database) of the session's server."""
    return pg_cluster.url


@pytest.fixture
def pg_url(pg_cluster: PgServer, request: pytest.FixtureRequest) -> str:
    """A new, empty database on the session's server."""
    if not pg_cluster.running():
        pg_cluster.start()  # a test stopped it and failed before starting it again
    return pg_cluster.new_database(request.node.name)
