"""Which of a board's session alerts the store's history holds (worked times)."""

from __future__ import annotations

from kpitui.engine.alerts import StateChange, recorded_by, session_slack, unrecorded

T = 1_000_000
SLACK = session_slack(5)  # a 5 s refresh: 10 s


def change(at: int, old: str, new: str, event_id: int = 0, kpi: str = "churn") -> StateChange:
    return StateChange(at, kpi, kpi.title(), old, new, event_id=event_id)


def test_the_watchers_event_within_the_slack_or_after_for_holds_the_change():
    session = [change(T, "ok", "crit")]
    assert unrecorded(session, [change(T - 10, "ok", "crit", 1)], SLACK) == []
    assert unrecorded(session, [change(T + 600, "ok", "crit", 1)], SLACK) == []  # for: 10m
    assert unrecorded(session, [change(T - 11, "ok", "crit", 1)], SLACK) == session


def test_an_event_after_the_kpis_next_change_holds_the_next_one_not_this():
    # Given ok → warn at T, back to ok at T+120 (the watcher's for: held the warn back)
    warn, ok = change(T, "ok", "warn"), change(T + 120, "warn", "ok")
    # When the watcher records a later warn, an hour on
    later = change(T + 3600, "ok", "warn", 7)
    # Then neither of the board's two lines is held by it
    assert unrecorded([warn, ok], [later], SLACK) == [warn, ok]
    assert recorded_by(later, [warn, ok], SLACK) == []


def test_at_start_is_held_when_the_history_already_left_the_kpi_there():
    start = change(T, "", "crit")
    told = change(T - 86400, "ok", "crit", 3)
    assert unrecorded([start], [told], SLACK) == []
    assert unrecorded([start], [told, change(T - 3600, "crit", "ok", 4)], SLACK) == [start]
    # A change that is not "at start" needs its own event
    assert unrecorded([change(T, "ok", "crit")], [told], SLACK) != []


def test_another_kpis_event_holds_nothing():
    session = [change(T, "ok", "crit")]
    assert unrecorded(session, [change(T, "ok", "crit", 1, kpi="mrr")], SLACK) == session
