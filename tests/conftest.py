"""Shared by every test: the developer's environment must not change what is drawn, and
a real throwaway PostgreSQL server for the tests that need one (see `pg_server`)."""

from __future__ import annotations

import pytest

from tests.pg_server import pg_cluster, pg_server, pg_url  # noqa: F401


@pytest.fixture(autouse=True)
def _colour_as_by_default(monkeypatch):
    # NO_COLOR in the developer's shell would turn every colour test into a mono one;
    # the no-colour tests set it themselves.
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(autouse=True)
def _state_in_a_temporary_home(monkeypatch, tmp_path_factory):
    # The board keeps acknowledgements in the user's XDG state directory: a test's
    # must never land in (or read from) the developer's own.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
