"""What the watcher reads off a Board: the state of every KPI and key result, with the
numbers an alert carries. The one place that knows the Board's shape for alerting.
"""

from __future__ import annotations

from msgspec import Struct

from kpitui.engine.board import Board, KrView, iter_objectives
from kpitui.engine.format import format_value

Subject = tuple[str, str]
"""("kpi", id) or ("kr", id): what an alert is about, as the store's AlertEvent says."""


class Observation(Struct, frozen=True):
    """One KPI or key result on one Board."""

    title: str
    state: str | None
    """Its state (a KPI) or status (a key result); None when it could not be told
    (a failing query): the watcher keeps what it knew."""
    value: float | None = None
    display: str = "—"
    target: float | None = None
    target_display: str | None = None
    change: str | None = None
    """The change against the previous period as the board shows it ("▲ +5 (+2.0%)")."""
    detail: str | None = None
    """Why the state is what it is, in a few words ("3h ago", "expected 60%, at 35%")."""


def observe(board: Board) -> dict[Subject, Observation]:
    """Every KPI and key result of `board`, KPIs first in board order."""
    seen: dict[Subject, Observation] = {}
    for kpi in board.kpis:
        detail = None
        if kpi.state == "stale" and kpi.age_display:
            detail = f"last point {kpi.age_display}"
        elif kpi.state == "no_data":
            detail = "no points in its window"
        seen["kpi", kpi.id] = Observation(
            title=kpi.title,
            state=None if kpi.state == "error" else kpi.state,
            value=kpi.value,
            display=kpi.display,
            target=kpi.target,
            target_display=kpi.target_display,
            change=None if kpi.delta_display == "n/a" else kpi.delta_display,
            detail=detail,
        )
    for objective in iter_objectives(board.okrs):
        for kr in objective.key_results:
            seen["kr", kr.id] = _key_result(kr, board.expected)
    return seen


def _key_result(kr: KrView, expected: float) -> Observation:
    def shown(value: float | None) -> str | None:
        if value is None:
            return None
        return format_value(value, kr.format, currency=kr.currency, decimals=kr.decimals)

    detail = None
    if kr.progress is not None:
        detail = f"at {kr.progress:.0%} of the way, {expected:.0%} expected by now"
    return Observation(
        title=kr.title,
        state=None if kr.error is not None else kr.status,
        value=kr.current,
        display=shown(kr.current) or "—",
        target=kr.target,
        target_display=shown(kr.target),
        detail=detail,
    )
