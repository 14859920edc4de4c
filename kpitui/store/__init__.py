"""The metric store: one interface (`api`), two backends (`sqlite`, `postgres`).

    reader = open_reader("metrics.db")                  # everything that displays
    writer = open_writer("postgresql://etl@db/kpis")    # record, import, checkin, sync …

A store is named by a SQLite path or a `postgresql://` URL (see `name.StoreName`);
callers never ask which backend they hold. Readers never create, migrate or write a
store; writers create and migrate it forward.
"""

from __future__ import annotations

import os

from kpitui.store.api import StoreReader, StoreWriter
from kpitui.store.name import StoreName

__all__ = ["StoreName", "grant_statements", "init_store", "open_reader", "open_writer"]

StoreLike = str | os.PathLike[str] | StoreName


def open_reader(name: StoreLike) -> StoreReader:
    """A read-only reader of the store `name` names."""
    store = StoreName.parse(name)
    if store.is_url:
        from kpitui.store import postgres

        return postgres.open_reader(store)
    from kpitui.store import sqlite

    return sqlite.open_reader(store)


def open_writer(name: StoreLike, *, busy_timeout: float | None = None) -> StoreWriter:
    """A writer of the store `name` names, creating and migrating it as needed;
    `busy_timeout`: seconds to wait for another writer's lock (default 5)."""
    store = StoreName.parse(name)
    if store.is_url:
        from kpitui.store import postgres

        return postgres.open_writer(store, busy_timeout=busy_timeout)
    from kpitui.store import sqlite

    return sqlite.open_writer(store, busy_timeout=busy_timeout)


def init_store(name: StoreLike) -> bool:
    """Create (or migrate) the store's schema; True when it was created just now."""
    with open_writer(name) as writer:
        return writer.created


def grant_statements(name: StoreName, writer: str, reader: str) -> str:
    """The GRANTs that let role `writer` write the PostgreSQL store `name` and role
    `reader` only read it."""
    from kpitui.store.postgres.admin import grant_statements as grants

    return grants(name, writer, reader)
