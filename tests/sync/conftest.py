"""Fixtures of the sync tests (see `sources`)."""

from tests.sync.sources import pg_server, pg_url, source  # noqa: F401
