"""Fixtures of the sync tests (see `sources`; the PostgreSQL server is the session's
shared one, `tests/pg_server.py`)."""

from tests.sync.sources import source  # noqa: F401
