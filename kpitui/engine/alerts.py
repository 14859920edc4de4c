"""Alerts: the KPI state changes between one Board and the next (a board's own session
alerts), and which of them the store's history (`kpitui watch` keeps it) already holds.

An alert fires on a change of state only (SPEC §4), never on every refresh, and never
for the first board (there is nothing to change from). `error` is not a business state:
a failing query is shown on the card itself with its reason, so a KPI that goes into
`error` and back is compared with the state it had before the trouble — a store that
disappears for a minute does not flood the log with every KPI twice.

Pure functions over frozen data: no Textual, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from kpitui.engine.board import Board, StateChange

# States that say nothing about the business, only that we could not tell.
_UNSETTLED = frozenset({"error"})


__all__ = [
    "StateChange",
    "board_changes",
    "recorded_by",
    "session_slack",
    "settled_states",
    "severity",
    "start_changes",
    "state_changes",
    "unrecorded",
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


_SEVERITY_RANK = ("information", "warning", "error")


def worst_severity(changes: Iterable[StateChange]) -> str:
    """The severity of a notification that says several changes at once."""
    return max((severity(c) for c in changes), key=_SEVERITY_RANK.index)


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


# -- the session beside the store's history ----------------------------------------------
#
# A board keeps its own session's alerts always, and shows those the history does not
# hold beside the history: a watcher's line replaces the board's for the same change,
# and a change the watcher never recorded (it was down, or `for:` had it wait and the
# KPI flapped back) stays on screen. A session alert of S into state X at t, until S's
# next session alert at u, is held by the history when it has an event of S into X
# between t and u (each widened by the slack: the watcher and the board each see a
# change within one refresh of the other, and `for:` makes the watcher's later), or,
# for an alert "at start", when the history's newest event of S by t left it in X:
# the team was told already.


def session_slack(refresh_seconds: int) -> int:
    """Seconds by which the board's and a watcher's times of one change may differ."""
    return 2 * max(1, refresh_seconds)


def _spans(session: Sequence[StateChange]) -> list[tuple[StateChange, int | None]]:
    """Each session alert (oldest first) with the time of its subject's next one."""
    spans: list[tuple[StateChange, int | None]] = []
    following: dict[tuple[str, str], int] = {}
    for alert in reversed(session):
        spans.append((alert, following.get(alert.key)))
        following[alert.key] = alert.at
    spans.reverse()
    return spans


def _held(
    alert: StateChange, until: int | None, history: Sequence[StateChange], slack: int
) -> bool:
    mine = [h for h in history if h.key == alert.key]
    high = None if until is None else until + slack
    for event in mine:
        if (
            event.new_state == alert.new_state
            and event.at >= alert.at - slack
            and (high is None or event.at <= high)
        ):
            return True
    if alert.old_state:
        return False
    before = [h for h in mine if h.at <= alert.at]
    newest = max(before, key=lambda h: (h.at, h.event_id), default=None)
    return newest is not None and newest.new_state == alert.new_state


def unrecorded(
    session: Sequence[StateChange], history: Sequence[StateChange], slack: int
) -> list[StateChange]:
    """The session alerts (oldest first) that `history` does not hold."""
    return [a for a, until in _spans(session) if not _held(a, until, history, slack)]


def recorded_by(
    event: StateChange, session: Sequence[StateChange], slack: int
) -> list[StateChange]:
    """The session alerts (oldest first) that the history's `event` holds."""
    return [a for a, until in _spans(session) if _held(a, until, (event,), slack)]
