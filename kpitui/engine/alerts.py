"""Alerts: the KPI state changes between one Board and the next (a board's own session
alerts, shown when the store holds no history `kpitui watch` keeps).

An alert fires on a change of state only (SPEC §4), never on every refresh, and never
for the first board (there is nothing to change from). `error` is not a business state:
a failing query is shown on the card itself with its reason, so a KPI that goes into
`error` and back is compared with the state it had before the trouble — a store that
disappears for a minute does not flood the log with every KPI twice.

Pure functions over frozen data: no Textual, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping

from kpitui.engine.board import Board, StateChange

# States that say nothing about the business, only that we could not tell.
_UNSETTLED = frozenset({"error"})


__all__ = [
    "StateChange",
    "board_changes",
    "settled_states",
    "severity",
    "start_changes",
    "state_changes",
]
_BAD_AT_START = frozenset({"warn", "crit"})


def settled_states(board: Board, previous: Mapping[str, str] | None = None) -> dict[str, str]:
    """The state of every KPI on `board`; a KPI in `error` keeps its previous state.

    A KPI that has only ever been in error has no settled state and is left out.
    """
    previous = previous or {}
    states: dict[str, str] = {}
    for kpi in board.kpis:
        if kpi.state in _UNSETTLED:
            if kpi.id in previous:
                states[kpi.id] = previous[kpi.id]
        else:
            states[kpi.id] = kpi.state
    return states


def state_changes(previous: Mapping[str, str] | None, board: Board) -> list[StateChange]:
    """The KPIs whose settled state differs from `previous` (from `settled_states`).

    `previous` None means this is the first board: no alerts. A KPI new on the board
    (a spec edit added it) has nothing to change from and raises no alert either.
    Order: board order (North Star first).
    """
    if previous is None:
        return []
    changes: list[StateChange] = []
    for kpi in board.kpis:
        if kpi.state in _UNSETTLED or kpi.id not in previous:
            continue
        old = previous[kpi.id]
        if old != kpi.state:
            changes.append(
                StateChange(
                    board.as_of,
                    kpi.id,
                    kpi.title,
                    old,
                    kpi.state,
                    value=kpi.value,
                    display=kpi.display,
                    zone=board.timezone,
                )
            )
    return changes


def board_changes(old: Board | None, new: Board) -> list[StateChange]:
    """State changes between two boards (no memory of states before `old`)."""
    return state_changes(None if old is None else settled_states(old), new)


def severity(change: StateChange) -> str:
    """The notification severity of a change: `error` into crit, `warning` into warn."""
    if change.new_state in ("crit", "off_track", "missed"):
        return "error"
    if change.new_state in ("warn", "stale", "no_data", "at_risk"):
        return "warning"
    return "information"


def start_changes(board: Board) -> list[StateChange]:
    """The first board's KPIs already at warn or crit, each as an alert "at start": a KPI
    critical when the board opens is told once, not only when it next changes."""
    return [
        StateChange(
            board.as_of,
            kpi.id,
            kpi.title,
            "",
            kpi.state,
            value=kpi.value,
            display=kpi.display,
            zone=board.timezone,
        )
        for kpi in board.kpis
        if kpi.state in _BAD_AT_START
    ]
