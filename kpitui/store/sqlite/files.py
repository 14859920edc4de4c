"""The files of a SQLite store on disk: how a connection names them, and who may make
the side files SQLite keeps beside a store in WAL mode (`-wal`, `-shm`).

A connection always names its file by an absolute `file:` URI, so that no store name is
special to SQLite: `--db file:x.db` is a file called that, `:memory:` is refused.

Side files belong to whoever creates them. Made by a user who only views a shared store,
they would lock its owner out (the owner cannot write files another user owns), so only
the store file's owner (or root, for whom SQLite hands them to that owner) lets SQLite
create them. Anyone else reads a store that has none — no writer has it open, so the
store file holds every commit — as immutable, and reconnects as soon as they appear.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

from kpitui.errors import InputError, StoreError
from kpitui.store.name import SIDE_FILES

MEMORY = ":memory:"


def refuse_memory(path: Path) -> None:
    """`:memory:` names SQLite's in-memory database, which no later command could read."""
    if path.name == MEMORY:
        raise InputError(
            "an in-memory database keeps nothing after the command",
            file=str(path),
            hint="pass --db with a file name",
        )


def check_access(path: Path, *, writing: bool) -> None:
    """StoreError saying "permission denied" when this user may not read (or write) the
    store, or create it in its folder: SQLite only says "unable to open database file"."""
    if path.exists():
        wanted, doing, right = (
            (os.R_OK | os.W_OK, "write", "write") if writing else (os.R_OK, "read", "read")
        )
        if not os.access(path, wanted, effective_ids=os.access in os.supports_effective_ids):
            raise StoreError(
                f"cannot {doing} the store: permission denied",
                file=str(path),
                hint=f"ask its owner for {right} permission, or pass another --db",
            )
    elif writing and not os.access(
        path.parent, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids
    ):
        raise StoreError(
            "cannot create the store: permission denied (its folder is not writable by this user)",
            file=str(path),
            hint="pass --db with a file in a folder this user may write",
        )


def file_uri(path: Path, **params: str) -> str:
    """The URI naming `path` whatever its name (`?`, `#`, `%` and `file:` included)."""
    uri = path.absolute().as_uri()
    return f"{uri}?{urlencode(params)}" if params else uri


def side_files(path: Path) -> tuple[Path, ...]:
    return tuple(path.with_name(path.name + suffix) for suffix in SIDE_FILES)


def shared_memory_files_exist(path: Path) -> bool:
    """Whether the store's `-wal` or `-shm` is there (a writer has, or had, it open)."""
    wal, shm, _journal = side_files(path)
    return wal.exists() or shm.exists()


def may_create_side_files(stat: os.stat_result) -> bool:
    euid = os.geteuid()
    return euid == 0 or euid == stat.st_uid


def read_immutable(path: Path, stat: os.stat_result) -> bool:
    """Whether this user must read the store as immutable (see the module's docstring).
    Never beside a journal: that store is halfway through a write, and only a normal
    connection sees that (and refuses it) instead of reading the half-written file."""
    return not may_create_side_files(stat) and not any(p.exists() for p in side_files(path))


def discard_unmade(path: Path) -> None:
    """Remove the store file a failed create left (empty, or a database with no table
    yet) and its side files — unless another writer has it: a WAL or a journal with
    something in it, or tables (another writer made the store meanwhile)."""
    wal, shm, journal = side_files(path)
    if any(p.exists() and p.stat().st_size > 0 for p in (wal, journal)):
        return
    try:
        if path.stat().st_size > 0 and _has_tables(path):
            return
    except (OSError, sqlite3.Error):
        return  # keep what cannot be read
    for made in (path, wal, shm, journal):
        made.unlink(missing_ok=True)


def _has_tables(path: Path) -> bool:
    con = sqlite3.connect(file_uri(path, mode="ro", immutable="1"), uri=True)
    try:
        return con.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0] > 0
    finally:
        con.close()
