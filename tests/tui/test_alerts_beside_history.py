"""The board's own session alerts beside the store's history: with no watcher the board
shows what it saw; a watcher's event replaces the board's line for the same change (one
line, one toast), and a change no watcher recorded stays on screen."""

from __future__ import annotations

from pathlib import Path

from kpitui.tui.widgets.alerts_log import AlertsLog
from tests.tui.snapshot_apps.app_world import (
    AS_OF,
    SPEC,
    make_world,
    settle,
    write_points,
)
from tests.tui.test_alert_history import Watching, board, lines, watch_once


def log_of(app) -> AlertsLog:  # type: ignore[no-untyped-def]
    return app.query_one("#p0-alerts-alerts", AlertsLog)


def toasts(app) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(n.message for n in app._notifications)


async def test_with_no_watcher_the_session_shows_then_a_watchers_history_takes_over(
    tmp_path: Path,
):
    spec, store = make_world(tmp_path)
    app = board(spec, store)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        # Given no watcher: the board's own "at start" for activation, toasted
        assert lines(app) == [("activation", "", "warn", False)]
        assert log_of(app).alerts[0].event_id == 0
        assert toasts(app) == ["Activation: at start → ▲ warn"]
        (told,) = [n.identity for n in app._notifications]
        # When a watcher starts and records the same start (and the key result's)
        watch_once(spec, store, AS_OF)
        app.poll_now(force=True)
        await settle(pilot)
        # Then the log is the watcher's history: activation once, not twice
        assert lines(app) == [
            ("ship-billing-v2", "", "off_track", False),
            ("activation", "", "warn", False),
        ]
        assert all(a.event_id > 0 for a in log_of(app).alerts)
        # And only what the board had not told is toasted: the key result
        assert toasts(app) == [
            "Activation: at start → ▲ warn",
            "Ship billing v2: at start → ✖ off track",
        ]
        assert told in [n.identity for n in app._notifications]  # the same toast, not anew


async def test_a_change_the_watcher_records_later_is_one_line_and_one_toast(tmp_path: Path):
    # Given a watcher's history from an hour ago, and the watcher not running
    spec, store = make_world(tmp_path)
    watching = Watching(spec, store)
    try:
        watching.tick(AS_OF - 3600)
        app = board(spec, store)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            assert [kpi for kpi, *_ in lines(app)] == ["ship-billing-v2", "activation"]
            # When churn goes critical before the watcher has seen it
            write_points(store, [("churn", {}, AS_OF, 0.06)])
            app.poll_now(force=True)
            await settle(pilot)
            # Then the board's own line shows above the history, dated as it is, toasted
            newest = log_of(app).alerts[0]
            assert (newest.kpi_id, newest.old_state, newest.new_state) == ("churn", "ok", "crit")
            assert newest.event_id == 0 and newest.time_display == "11-24 12:00"
            assert toasts(app) == ["Churn: ✔ ok → ✖ crit"]
            # And it is acknowledged on this board
            app.focus_panel(app.query_one("#p0-kpi-churn"))
            await pilot.press("a")
            await pilot.pause()
            assert lines(app)[0] == ("churn", "ok", "crit", True)
            # When the watcher records that change (and the key result on it)
            watching.tick(AS_OF)
            app.poll_now(force=True)
            await settle(pilot)
            # Then churn's change is one line, the watcher's, still acknowledged
            churn = [(a, i) for i, a in enumerate(log_of(app).alerts) if a.kpi_id == "churn"]
            ((alert, index),) = churn
            assert alert.event_id > 0 and log_of(app).is_acknowledged(index)
            # And it is not toasted a second time; the key result's is new
            assert toasts(app) == ["Keep churn low: ✔ on track → ✖ off track"]
    finally:
        watching.close()
    # And the acknowledgement carried to the watcher's event survives a restart
    again = board(spec, store)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert ("churn", "ok", "crit", True) in lines(again)


async def test_a_flap_the_watcher_held_back_stays_on_the_board(tmp_path: Path):
    # Given a watcher with `for: 10m` that has written its history
    spec, store = make_world(tmp_path, SPEC + "alerts:\n  for: 10m\n")
    watching = Watching(spec, store)
    try:
        watching.tick(AS_OF - 3600)
        app = board(spec, store)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            before = lines(app)
            # When churn goes crit and back to ok within the watcher's 10 minutes
            for value, at in ((0.06, AS_OF), (0.02, AS_OF + 60)):
                write_points(store, [("churn", {}, AS_OF, value)])
                watching.tick(at)
                app.poll_now(force=True)
                await settle(pilot)
            # Then the watcher recorded nothing, and the board keeps both of its lines
            assert len(watching.reader.alert_events()) == 2
            assert lines(app) == [
                ("churn", "crit", "ok", False),
                ("churn", "ok", "crit", False),
                *before,
            ]
            assert toasts(app) == ["Churn: ✖ crit → ✔ ok"]  # one toast line per KPI
    finally:
        watching.close()


async def test_ack_on_a_card_clears_its_mark_over_its_history_and_its_own_line(tmp_path: Path):
    from kpitui.store import open_writer
    from kpitui.store.api import AlertEvent
    from kpitui.tui.widgets.kpi_card import KpiCard

    # Given the history's churn ok → warn, and this board seeing churn go crit itself
    spec, store = make_world(tmp_path)
    with open_writer(store) as writer:
        writer.write_alert_events(
            [AlertEvent(AS_OF - 600, "kpi", "churn", "Churn", "ok", "warn", 0.04, "4.0%")]
        )
    app = board(spec, store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        write_points(store, [("churn", {}, AS_OF, 0.06)])
        app.poll_now(force=True)
        await settle(pilot)
        card = app.query_one("#p0-kpi-churn", KpiCard)
        assert [(a.event_id > 0, acked) for a, acked in app._alerts if a.kpi_id == "churn"] == [
            (True, False),
            (False, False),
        ]
        # When `a` is pressed on churn's card, and the board refreshes
        app.focus_panel(card)
        await pilot.press("a")
        await pilot.pause()
        app.poll_now(force=True)
        await settle(pilot)
        # Then both of churn's lines stay acknowledged and the card's mark is gone
        assert [acked for a, acked in app._alerts if a.kpi_id == "churn"] == [True, True]
        assert not card.alerted
    # And the history's line is still acknowledged after a restart
    again = board(spec, store)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert ("churn", "ok", "warn", True) in lines(again)


async def test_with_no_watcher_an_acknowledged_start_stays_acknowledged_after_a_restart(
    tmp_path: Path,
):
    from kpitui.tui.widgets.kpi_card import KpiCard

    # Given no watcher, churn at warn and activation at warn when the board opens
    spec, store = make_world(tmp_path)
    write_points(store, [("churn", {}, AS_OF, 0.04)])
    app = board(spec, store)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        # When both are acknowledged
        await pilot.press("A")
        await pilot.pause()
    # And churn goes on to crit while the board is closed
    write_points(store, [("churn", {}, AS_OF, 0.06)])
    again = board(spec, store)
    async with again.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        # Then activation, still at warn, is seen already: acknowledged, no mark, no toast
        assert ("activation", "", "warn", True) in lines(again)
        assert not again.query_one("#p0-kpi-activation", KpiCard).alerted
        # And churn, now crit, is new
        assert ("churn", "", "crit", False) in lines(again)
        assert again.query_one("#p0-kpi-churn", KpiCard).alerted
        assert toasts(again) == ["Churn: at start → ✖ crit"]


async def test_a_board_that_starts_with_three_alerts_shows_one_toast_not_a_stack(
    tmp_path: Path,
):
    # Given a store where MRR is crit and churn crit, beside activation's warn
    spec, store = make_world(tmp_path)
    write_points(store, [("mrr", {}, AS_OF, 70_000.0), ("churn", {}, AS_OF, 0.06)])
    app = board(spec, store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        # Then the three "at start" alerts are one toast: two said, the rest counted
        (toast,) = list(app._notifications)
        assert toast.title == "3 alerts" and toast.severity == "error"
        said = toast.message.splitlines()
        assert len(said) == 3 and said[2] == "… and 1 more in the alerts log"
        assert all(": at start → " in line for line in said[:2])
        # And the log has each of them
        assert sorted(kpi for kpi, *_ in lines(app)) == ["activation", "churn", "mrr"]
        # When every alert is acknowledged, Then the toast goes with them
        await pilot.press("A")
        await settle(pilot)
        assert list(app._notifications) == []
