"""How a store is named: a SQLite file path, or a PostgreSQL URL.

`--db`, a spec's `store:` and `KPITUI_STORE` all name a store the same way: text that
starts with `postgresql://` or `postgres://` is a PostgreSQL store (credentials from
libpq's usual places — `PGPASSWORD`, `~/.pgpass`, service files — or the URL itself),
anything else a SQLite file. Every message shows `display`, where a password is masked.

This module imports nothing from kpitui: the spec resolves its `store:` with it.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

URL_SCHEMES = ("postgresql://", "postgres://")
STORE_ENV = "KPITUI_STORE"
"""The environment variable naming the store when neither the command line nor the spec does."""

_PASSWORD_IN_NETLOC = re.compile(r"\A([a-z]+://[^/?#@:]*):[^/?#@]*@", re.IGNORECASE)
_PASSWORD_IN_QUERY = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)
MASK = "***"
SIDE_FILES = ("-wal", "-shm", "-journal")


def is_url(text: object) -> bool:
    return isinstance(text, str) and text.strip().lower().startswith(URL_SCHEMES)


def mask_password(url: str) -> str:
    """`url` with any password (in the user part or a `password=` parameter) masked."""
    masked = _PASSWORD_IN_NETLOC.sub(lambda m: f"{m.group(1)}:{MASK}@", url)
    return _PASSWORD_IN_QUERY.sub(lambda m: m.group(1) + MASK, masked)


class StoreName:
    """A store as the user named it. `path` for a SQLite file, `url` for PostgreSQL.

    Printed (`str`), it is `display`: the path, or the URL with its password masked.
    """

    __slots__ = ("path", "url")

    def __init__(self, *, path: Path | None = None, url: str | None = None) -> None:
        if (path is None) == (url is None):
            raise ValueError("a store is a path or a URL")
        self.path = path
        self.url = url

    @classmethod
    def parse(
        cls, value: str | os.PathLike[str] | StoreName, base: Path | None = None
    ) -> StoreName:
        """The store `value` names; a relative path is taken relative to `base`."""
        if isinstance(value, StoreName):
            return value
        if isinstance(value, str) and is_url(value):
            return cls(url=value.strip())
        path = Path(value)
        with contextlib.suppress(RuntimeError):  # ~nosuchuser: kept as written, "not found"
            path = path.expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        return cls(path=path)

    @property
    def is_url(self) -> bool:
        return self.url is not None

    @property
    def files(self) -> tuple[Path, ...]:
        """The files this store is made of: a SQLite file and the side files SQLite keeps
        beside it (its write-ahead log, shared memory, rollback journal); none for a URL."""
        if self.path is None:
            return ()
        return (self.path, *(self.path.with_name(self.path.name + s) for s in SIDE_FILES))

    @property
    def display(self) -> str:
        return mask_password(self.url) if self.url is not None else str(self.path)

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"StoreName({self.display!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StoreName):
            return (self.path, self.url) == (other.path, other.url)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.path, self.url))


def env_store() -> str | None:
    """`KPITUI_STORE`, when set to something."""
    value = os.environ.get(STORE_ENV, "").strip()
    return value or None


def as_store_name(value: str | os.PathLike[str] | StoreName) -> StoreName:
    return StoreName.parse(value)


def held_name(name: StoreName) -> Path | StoreName:
    """What callers that predate URLs hold: a SQLite store as its Path, a URL as itself."""
    return name.path if name.path is not None else name
