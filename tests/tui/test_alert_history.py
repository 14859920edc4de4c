"""The board shows the team's alert history (what `kpitui watch` writes into the store):
the same on every screen, surviving restarts, with acknowledgements the viewer's own."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kpitui.alerting.delivery import Deliveries
from kpitui.alerting.watcher import Watcher
from kpitui.spec import load_dashboard
from kpitui.store import open_reader, open_writer
from kpitui.store.api import AlertEvent
from kpitui.timeutil import FixedClock
from kpitui.tui.app import KpituiApp
from kpitui.tui.widgets.kpi_card import KpiCard
from tests.tui.snapshot_apps.app_world import (
    AS_OF,
    SPEC,
    make_world,
    screen_text,
    settle,
    write_points,
)
from tests.webhook_server import hook

__all__ = ["hook"]  # the fixture: a real webhook server on loopback


class Watching:
    """A watcher process beside the board (no targets in this spec: only history)."""

    def __init__(self, spec: Path, store: Path) -> None:
        self.reader, self.writer, self.deliveries = (
            open_reader(store),
            open_writer(store),
            Deliveries(attempts=1, backoff=0.01),
        )
        self.watcher = Watcher(
            load_dashboard(spec),
            self.reader,
            self.writer,
            self.deliveries,
            say=lambda _: None,
            complain=lambda _: None,
        )

    def tick(self, at: int) -> None:
        self.watcher.tick(at)

    def close(self) -> None:
        self.deliveries.close()
        self.writer.close()
        self.reader.close()


def watch_once(spec: Path, store: Path, at: int) -> None:
    watching = Watching(spec, store)
    try:
        watching.tick(at)
    finally:
        watching.close()


def board(spec: Path, store: Path) -> KpituiApp:
    return KpituiApp(load_dashboard(spec), store_path=store, clock=FixedClock(AS_OF))


def lines(app: KpituiApp) -> list[tuple[str, str, str, bool]]:
    log = app.query_one("#p0-alerts-alerts")
    return [
        (a.kpi_id, a.old_state, a.new_state, log.is_acknowledged(i))
        for i, a in enumerate(log.alerts)
    ]


async def test_history_written_by_watch_shows_on_a_board_opened_afterwards(tmp_path: Path):
    # Given a watcher that ran an hour before the board opens (activation at warn)
    spec, store = make_world(tmp_path)
    watching = Watching(spec, store)
    watching.tick(AS_OF - 3600)
    app = board(spec, store)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        # Then the log shows the watcher's history (a key result's too), not a session
        # alert of its own
        assert lines(app) == [
            ("ship-billing-v2", "", "off_track", False),
            ("activation", "", "warn", False),
        ]
        assert app.query_one("#p0-alerts-alerts").alerts[0].event_id > 0
        # And the card is marked new, without a toast for what is history
        assert app.query_one("#p0-kpi-activation", KpiCard).alerted
        assert list(app._notifications) == []
        # When the watcher writes a new change (churn → crit) while the board is open
        write_points(store, [("churn", {}, AS_OF, 0.06)])
        watching.tick(AS_OF)
        watching.close()
        app.poll_now(force=True)
        await settle(pilot)
        # Then it is announced once (with its key result's), and heads the log
        assert ("churn", "ok", "crit", False) in lines(app)[:2]
        assert sorted(n.message for n in app._notifications) == [
            "Churn: ✔ ok → ✖ crit",
            "Keep churn low: ✔ on track → ✖ off track",
        ]
        assert app.query_one("#p0-kpi-churn", KpiCard).alerted


async def test_acknowledgements_survive_a_restart_and_stay_the_viewers_own(tmp_path: Path):
    spec, store = make_world(tmp_path)
    watch_once(spec, store, AS_OF - 3600)
    wal = store.with_name(store.name + "-wal")

    def written() -> tuple[bytes, bytes]:
        return store.read_bytes(), wal.read_bytes() if wal.exists() else b""

    before = written()
    # Given activation's alert acknowledged with `a` on its card, on one board
    app = board(spec, store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.focus_panel(app.query_one("#p0-kpi-activation", KpiCard))
        await pilot.press("a")
        await pilot.pause()
        assert [acked for *_, acked in lines(app)] == [False, True]
    # When the board is opened again
    again = board(spec, store)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # Then it is still acknowledged, and the card carries no "new" mark
        assert lines(again) == [
            ("ship-billing-v2", "", "off_track", False),
            ("activation", "", "warn", True),
        ]
        assert not again.query_one("#p0-kpi-activation", KpiCard).alerted
    # And the store holds nothing of it (the board never writes the store)
    assert written() == before
    reader = open_reader(store)
    try:
        assert [e.delivered for e in reader.alert_events()] == [(), ()]
    finally:
        reader.close()


async def test_a_new_alert_of_an_acknowledged_kpi_is_new_again(tmp_path: Path):
    spec, store = make_world(tmp_path)
    with open_writer(store) as writer:
        writer.write_alert_events(
            [AlertEvent(AS_OF - 600, "kpi", "churn", "Churn", "ok", "warn", 0.04, "4.0%")]
        )
    app = board(spec, store)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        # (activation's "at start" is the board's own: this history never recorded it)
        assert [(kpi, acked) for kpi, *_, acked in lines(app)] == [
            ("activation", True),
            ("churn", True),
        ]
        # When churn goes warn → crit in the same second as another alert was written
        with open_writer(store) as writer:
            writer.write_alert_events(
                [
                    AlertEvent(AS_OF - 600, "kpi", "churn", "Churn", "warn", "crit", 0.06, "6%"),
                    AlertEvent(AS_OF - 590, "kpi", "churn", "Churn", "crit", "crit", 0.06, "6%"),
                ]
            )
        app.poll_now(force=True)
        await settle(pilot)
        # Then both are new; their one KPI gets one toast, the newest
        assert [(new, acked) for _, _, new, acked in lines(app)] == [
            ("warn", True),
            ("crit", False),
            ("crit", False),
            ("warn", True),
        ]
        assert [n.message for n in app._notifications] == ["Churn: still ✖ crit"]


async def test_a_target_the_history_says_missed_its_alerts_is_in_the_header(tmp_path, hook):
    # Given a webhook answering 500 to the watcher that ran an hour before the board opens
    hook.answers = [500]
    spec, store = make_world(tmp_path, SPEC + f"alerts:\n  notify:\n    - webhook: {hook.url}\n")
    watching = Watching(spec, store)
    try:
        watching.tick(AS_OF - 3600)
        assert watching.deliveries.wait_idle(10)
        watching.watcher.collect()
    finally:
        watching.close()
    assert len(hook.requests) == 2  # activation at warn and the key result off track
    app = board(spec, store)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        # Then the header says there is a problem, and the line under it which target
        problems = app.query_one("ProblemsLine").lines
        (problem,) = problems
        origin = hook.url.removesuffix("/hook")
        assert problem.startswith(f"webhook: {origin} #")
        assert problem.endswith(" failing since 11:00 (2 missed)")
        assert "/hook" not in problem  # a webhook's path is its secret: never shown
        assert "⚠ see below" in screen_text(app)


async def test_a_failing_target_takes_one_row_of_an_80x24_screen(tmp_path, hook, monkeypatch):
    # Given a webhook (named by an environment variable) that missed alerts since 11:00
    hook.answers = [500]
    monkeypatch.setenv("GROWTH_SLACK_HOOK_FOR_THE_TEAM_CHANNEL", hook.url)
    target = "webhook: {url_env: GROWTH_SLACK_HOOK_FOR_THE_TEAM_CHANNEL, format: slack}"
    spec, store = make_world(tmp_path, SPEC + f"alerts:\n  notify:\n    - {target}\n")
    watching = Watching(spec, store)
    try:
        watching.tick(AS_OF - 3600)
        assert watching.deliveries.wait_idle(10)
        watching.watcher.collect()
    finally:
        watching.close()
    app = board(spec, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Then the line under the header is one row, cut with an ellipsis, and keeps
        # which target and since when
        line = app.query_one("ProblemsLine")
        assert line.region.height == 1
        row = screen_text(app).splitlines()[line.region.y]
        assert row.strip() == (
            "⚠ webhook: $GROWTH_SLACK_HOOK_FOR_THE_TEA… failing since 11:00 (2 missed)"
        )
        assert (app.query_one("#header").region.y, line.region.y) == (0, 1)
        assert app.query_one("#pages").region.y == 2
        # And any problem too long for the row is cut, not wrapped
        line.show_problems(("store: " + "x" * 200,))
        await pilot.pause()
        assert line.region.height == 1
        assert screen_text(app).splitlines()[1].rstrip().endswith("…")


async def test_a_target_that_got_its_alerts_is_not_a_problem(tmp_path, hook):
    spec, store = make_world(tmp_path, SPEC + f"alerts:\n  notify:\n    - webhook: {hook.url}\n")
    watching = Watching(spec, store)
    try:
        watching.tick(AS_OF - 3600)
        assert watching.deliveries.wait_idle(10)
        watching.watcher.collect()
    finally:
        watching.close()
    app = board(spec, store)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        assert app.query_one("ProblemsLine").lines == ()
        assert len(lines(app)) == 2


async def test_enter_on_a_log_line_opens_its_kpi_or_key_result(tmp_path: Path):
    from kpitui.tui.screens.kpi_detail import KpiDetailScreen
    from kpitui.tui.screens.kr_detail import KrDetailScreen
    from kpitui.tui.widgets.alerts_log import AlertsLog

    spec, store = make_world(tmp_path)
    watch_once(spec, store, AS_OF - 3600)
    app = board(spec, store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # Given the alerts log focused: its cursor on the newest line (the key result's)
        log = app.query_one("#p0-alerts-alerts", AlertsLog)
        app.focus_panel(log)
        await pilot.pause()
        assert log.cursor == 0
        # When ↓ moves the cursor to activation's line and a is pressed
        await pilot.press("down", "a")
        await pilot.pause()
        # Then the cursor's line is acknowledged, not the other
        assert app.focused is log and log.cursor == 1
        assert [acked for *_, acked in lines(app)] == [False, True]
        # And Enter opens activation's detail
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, KpiDetailScreen) and app.screen.kpi_id == "activation"
        # And back on the board, ↑ and Enter open the key result's
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is log
        await pilot.press("up", "enter")
        await settle(pilot)
        assert isinstance(app.screen, KrDetailScreen)
        assert (app.screen.kind, app.screen.node_id) == ("kr", "ship-billing-v2")
        await pilot.press("escape")
        await settle(pilot)
        # And ↑ on the first line leaves the log for the panel above
        await pilot.press("up")
        await pilot.pause()
        assert app.focused is not log


async def test_two_folders_metrics_db_keep_their_own_acknowledgements(tmp_path, monkeypatch):
    # Given two projects, each with a metrics.db named relative to where kpitui runs
    for name in ("growth", "billing"):
        (tmp_path / name).mkdir()
        spec, store = make_world(tmp_path / name)
        watch_once(spec, store, AS_OF - 3600)
    # When everything is acknowledged in the growth folder
    monkeypatch.chdir(tmp_path / "growth")
    growth = KpituiApp(
        load_dashboard(Path("dashboard.yaml")),
        store_path=Path("metrics.db"),
        clock=FixedClock(AS_OF),
    )
    async with growth.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
    # Then the billing folder's board still has its alerts to acknowledge
    monkeypatch.chdir(tmp_path / "billing")
    billing = KpituiApp(
        load_dashboard(Path("dashboard.yaml")),
        store_path=Path("metrics.db"),
        clock=FixedClock(AS_OF),
    )
    async with billing.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert [acked for *_, acked in lines(billing)] == [False, False]
    # And the acknowledgements name the growth store by its whole path
    kept = json.loads((Path(os.environ["XDG_STATE_HOME"]) / "kpitui" / "acks.json").read_text())
    assert list(kept["stores"]) == [str(tmp_path / "growth" / "metrics.db")]


async def test_two_served_browsers_and_the_terminal_each_keep_their_own_acks(tmp_path):
    # Given one store with the watcher's history, open in two browsers of one `serve`
    spec, store = make_world(tmp_path)
    watch_once(spec, store, AS_OF - 3600)
    ana, bo = "ana-browser-0123456789", "bo-browser-0123456789a"

    def served(viewer: str | None) -> KpituiApp:
        return KpituiApp(
            load_dashboard(spec), store_path=store, clock=FixedClock(AS_OF), viewer=viewer
        )

    # When Ana acknowledges everything
    app = served(ana)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
    # Then Bo's board and the terminal user's still have them to acknowledge
    for viewer in (bo, None):
        other = served(viewer)
        async with other.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert [acked for *_, acked in lines(other)] == [False, False]
    # And Ana's are kept for her next visit, in her own file
    again = served(ana)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert [acked for *_, acked in lines(again)] == [True, True]
    state = Path(os.environ["XDG_STATE_HOME"]) / "kpitui"
    assert sorted(p.relative_to(state).as_posix() for p in state.rglob("*.json")) == [
        f"viewers/{ana}.json"
    ]
