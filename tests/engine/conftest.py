"""Shared builders for engine tests: a spec from plain data, a fixed as-of moment."""

from __future__ import annotations

from typing import Any

import pytest

from kpitui.engine import evaluate
from kpitui.engine.board import Board, KpiView
from kpitui.spec.models import Dashboard, convert
from kpitui.timeutil import parse_time

# Tuesday 24 November 2026, noon UTC: every engine test evaluates at this moment.
AS_OF = parse_time("2026-11-24T12:00:00Z")
HOUR = 3600
DAY = 86400


def make_spec(**data: Any) -> Dashboard:
    return convert({"timezone": "UTC", **data})


def board_of(reader, as_of: int = AS_OF, **data: Any) -> Board:
    return evaluate(make_spec(**data), reader, as_of)


def kpi_of(reader, kpi: dict, as_of: int = AS_OF, **data: Any) -> KpiView:
    board = board_of(reader, as_of, kpis=[kpi], **data)
    return board.kpis[0]


@pytest.fixture
def as_of() -> int:
    return AS_OF
