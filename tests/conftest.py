"""Shared by every test: the developer's environment must not change what is drawn."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _colour_as_by_default(monkeypatch):
    # NO_COLOR in the developer's shell would turn every colour test into a mono one;
    # the no-colour tests set it themselves.
    monkeypatch.delenv("NO_COLOR", raising=False)
