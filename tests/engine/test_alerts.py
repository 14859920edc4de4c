"""Alerts fire on a change of KPI state only, never on the first board."""

from __future__ import annotations

from kpitui.engine.alerts import (
    StateChange,
    board_changes,
    settled_states,
    severity,
    state_changes,
)
from kpitui.engine.board import Board, KpiView


def kpi(kpi_id: str, state: str, title: str | None = None) -> KpiView:
    return KpiView(
        id=kpi_id,
        title=title or kpi_id.upper(),
        metric=kpi_id,
        agg="last",
        window=None,
        direction="up",
        format="number",
        value=1.0,
        display="1",
        state=state,  # type: ignore[arg-type]
        band=state,  # type: ignore[arg-type]
    )


def board(as_of: int, *kpis: KpiView) -> Board:
    return Board(
        title="t",
        as_of=as_of,
        timezone="UTC",
        period_start=0,
        period_end=1,
        period_label="2026-Q4",
        expected=0.5,
        kpis=kpis,
        charts=(),
        okrs=(),
        pages=(),
    )


def test_first_board_raises_no_alert():
    # Given a first board with a crit KPI
    first = board(100, kpi("mrr", "crit"))
    # When it is compared with nothing
    # Then nothing fires
    assert board_changes(None, first) == []


def test_unchanged_states_raise_no_alert():
    # Given two boards where every KPI keeps its state (values may differ)
    old = board(100, kpi("mrr", "ok"), kpi("churn", "warn"))
    new = board(160, kpi("mrr", "ok"), kpi("churn", "warn"))
    # Then nothing fires
    assert board_changes(old, new) == []


def test_a_change_of_state_is_one_alert_at_the_new_as_of():
    # Given MRR going ok -> crit and churn staying warn
    old = board(100, kpi("mrr", "ok", "MRR"), kpi("churn", "warn"))
    new = board(160, kpi("mrr", "crit", "MRR"), kpi("churn", "warn"))
    # When diffed
    changes = board_changes(old, new)
    # Then one alert, stamped with the new board's as-of, in the new board's words
    assert changes == [StateChange(160, "mrr", "MRR", "ok", "crit", value=1.0, display="1")]
    assert changes[0].worsened
    assert severity(changes[0]) == "error"


def test_recovery_is_an_alert_too_and_not_worse():
    # Given churn going warn -> ok
    changes = board_changes(board(1, kpi("churn", "warn")), board(2, kpi("churn", "ok")))
    # Then it fires, as information
    assert [(c.old_state, c.new_state) for c in changes] == [("warn", "ok")]
    assert not changes[0].worsened
    assert severity(changes[0]) == "information"


def test_error_is_not_a_state_change_and_remembers_the_state_before():
    # Given MRR ok, then error (store gone), then crit (store back, value fell)
    states = settled_states(board(1, kpi("mrr", "ok")))
    outage = board(2, kpi("mrr", "error"))
    # When the outage board is diffed: no alert, and the settled state stays ok
    assert state_changes(states, outage) == []
    states = settled_states(outage, states)
    assert states == {"mrr": "ok"}
    # When the store is back with a crit value: one alert ok -> crit
    back = board(3, kpi("mrr", "crit"))
    assert [(c.old_state, c.new_state) for c in state_changes(states, back)] == [("ok", "crit")]


def test_a_kpi_new_on_the_board_raises_no_alert():
    # Given a spec edit that added a KPI
    old = board(1, kpi("mrr", "ok"))
    new = board(2, kpi("mrr", "ok"), kpi("nps", "crit"))
    # Then its first state is not a change
    assert board_changes(old, new) == []


def test_changes_come_in_board_order():
    # Given two KPIs changing at once
    old = board(1, kpi("a", "ok"), kpi("b", "ok"))
    new = board(2, kpi("a", "warn"), kpi("b", "stale"))
    # Then the alerts follow the board's order
    assert [c.kpi_id for c in board_changes(old, new)] == ["a", "b"]
    assert severity(board_changes(old, new)[1]) == "warning"
