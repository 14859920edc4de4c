"""The live poll: cheap checks, re-evaluation only when something changed, one at a time."""

from __future__ import annotations

import threading
from pathlib import Path

from kpitui.engine import evaluate as real_evaluate
from kpitui.spec import load_dashboard
from kpitui.store import open_reader
from kpitui.timeutil import FixedClock
from kpitui.tui.poller import FirstRead, Poller, PollResult
from tests.tui.snapshot_apps.app_world import (
    AS_OF,
    SPEC,
    edit_spec,
    make_app,
    make_world,
    settle,
    write_points,
)


def make_poller(tmp_path: Path, clock: FixedClock | None = None, **kwargs) -> Poller:
    spec, store = make_world(tmp_path)
    return Poller(
        load_dashboard(spec), store_path=store, clock=clock or FixedClock(AS_OF), **kwargs
    )


def test_the_first_poll_evaluates_and_an_idle_poll_does_not(tmp_path: Path):
    poller = make_poller(tmp_path)
    try:
        first = poller.poll()
        assert first.board is not None and first.board.as_of == AS_OF
        # When nothing changed
        assert poller.poll() == PollResult(spec_errors=None)
    finally:
        poller.close()


def test_a_poller_handed_the_first_read_does_not_evaluate_that_board_again(tmp_path: Path):
    # Given the board `kpitui run` evaluated before the app started, on an open reader
    spec, store = make_world(tmp_path)
    reader = open_reader(store)
    read = FirstRead(reader, reader.data_version(), AS_OF)
    calls: list[int] = []

    def evaluate(dashboard, reader, as_of):  # type: ignore[no-untyped-def]
        calls.append(as_of)
        return real_evaluate(dashboard, reader, as_of)

    poller = Poller(
        load_dashboard(spec),
        store_path=store,
        clock=FixedClock(AS_OF),
        evaluate=evaluate,
        first_read=read,
    )
    try:
        # When the app's first poll runs with nothing new: nothing is evaluated
        assert poller.poll() == PollResult(spec_errors=None)
        assert calls == []
        # When another program writes: one evaluation, on the same reader
        write_points(store, [("churn", {}, AS_OF, 0.025)])
        assert poller.poll().board.kpi("churn").display == "2.5%"
        assert calls == [AS_OF]
    finally:
        poller.close()


def test_a_write_from_another_connection_triggers_one_evaluation(tmp_path: Path):
    poller = make_poller(tmp_path)
    try:
        poller.poll()
        write_points(poller.store_path, [("churn", {}, AS_OF, 0.025)])
        result = poller.poll()
        assert result.board is not None
        assert result.board.kpi("churn").display == "2.5%"
        assert poller.poll().board is None
    finally:
        poller.close()


def test_a_write_landing_mid_poll_is_shown_by_the_next_poll(tmp_path: Path):
    # Given a poll during which another program commits, after the version was read
    writes: list[float] = []

    def evaluate(dashboard, reader, as_of):  # type: ignore[no-untyped-def]
        if writes:
            write_points(store, [("churn", {}, AS_OF, writes.pop())])
        return real_evaluate(dashboard, reader, as_of)

    spec, store = make_world(tmp_path)
    poller = Poller(
        load_dashboard(spec), store_path=store, clock=FixedClock(AS_OF), evaluate=evaluate
    )
    try:
        poller.poll()
        writes.append(0.025)
        # When that poll runs: its board is the state whose version it read
        first = poller.poll(force=True)
        assert first.board is not None and first.board.kpi("churn").display != "2.5%"
        # Then the next poll sees the write as new, and shows it
        second = poller.poll()
        assert second.board is not None and second.board.kpi("churn").display == "2.5%"
    finally:
        poller.close()


def test_an_idle_board_is_re_evaluated_once_a_minute(tmp_path: Path):
    # Given a clock at 12:00:10
    clock = FixedClock(AS_OF + 10)
    poller = make_poller(tmp_path, clock)
    try:
        assert poller.poll().board is not None
        # When it moves within the same minute: nothing
        clock.at = AS_OF + 59
        assert poller.poll().board is None
        # When it reaches 12:01:00: one evaluation at the new time
        clock.at = AS_OF + 60
        result = poller.poll()
        assert result.board is not None and result.board.as_of == AS_OF + 60
        assert poller.poll().board is None
    finally:
        poller.close()


def test_a_fixed_as_of_never_re_evaluates_by_itself(tmp_path: Path):
    clock = FixedClock(AS_OF)
    poller = make_poller(tmp_path, clock, as_of=AS_OF - 3600)
    try:
        assert poller.poll().board.as_of == AS_OF - 3600
        clock.at = AS_OF + 3600
        assert poller.poll().board is None
    finally:
        poller.close()


def test_force_re_evaluates_without_a_change(tmp_path: Path):
    poller = make_poller(tmp_path)
    try:
        poller.poll()
        assert poller.poll(force=True).board is not None
    finally:
        poller.close()


def test_spec_edits_reload_or_report_their_errors(tmp_path: Path):
    poller = make_poller(tmp_path)
    try:
        poller.poll()
        spec = Path(poller.loaded.path)
        # When the spec is broken
        edit_spec(spec, SPEC.replace("agg: sum", "agg: total"))
        broken = poller.poll()
        assert broken.board is None and broken.loaded is None
        assert broken.spec_errors and "total" in broken.spec_errors[0]
        # When polled again without a further edit: the status is unchanged (None)
        assert poller.poll().spec_errors is None
        # When fixed with a new title: reloaded, errors cleared, board re-evaluated
        edit_spec(spec, SPEC.replace("Test board", "Fixed board"))
        fixed = poller.poll()
        assert fixed.spec_errors == ()
        assert fixed.loaded is not None and fixed.board.title == "Fixed board"
    finally:
        poller.close()


def test_a_reload_whose_poll_failed_is_reported_by_the_next(tmp_path: Path):
    # Given a spec edit picked up by a poll whose evaluation fails (a bug)
    failures: list[Exception] = []

    def evaluate(dashboard, reader, as_of):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        return real_evaluate(dashboard, reader, as_of)

    poller = make_poller(tmp_path, evaluate=evaluate)
    try:
        poller.poll()
        failures.append(RuntimeError("boom"))
        edit_spec(Path(poller.loaded.path), SPEC.replace("Test board", "Edited board"))
        failed = poller.poll()
        assert failed.failure and failed.loaded is None
        # When the next poll runs: the reload reaches the app with the board it belongs to
        result = poller.poll()
        assert result.loaded is not None and result.loaded.dashboard.title == "Edited board"
        assert result.board is not None and result.board.title == "Edited board"
    finally:
        poller.close()


def test_a_missing_store_is_reported_and_recovers(tmp_path: Path):
    poller = make_poller(tmp_path)
    try:
        poller.poll()
        away = poller.store_path.with_suffix(".away")
        poller.store_path.rename(away)
        gone = poller.poll()
        # (the message itself: the test's own folder name holds "missing" too)
        assert gone.board is None and "the store file is gone" in gone.store_error
        away.rename(poller.store_path)
        back = poller.poll()
        assert back.store_error is None and back.board is not None
    finally:
        poller.close()


def test_a_replaced_store_file_is_reopened(tmp_path: Path):
    poller = make_poller(tmp_path)
    try:
        poller.poll()
        # When another store is moved into its place (a new file, not a write)
        other = tmp_path / "other.db"
        write_points(other, [("churn", {}, AS_OF, 0.04)])
        other.replace(poller.store_path)
        result = poller.poll()
        assert result.board is not None
        assert result.board.kpi("churn").display == "4.0%"
    finally:
        poller.close()


def test_a_failing_evaluation_is_reported_not_raised(tmp_path: Path):
    def broken(spec, reader, as_of):
        raise ZeroDivisionError("boom")

    poller = make_poller(tmp_path, evaluate=broken)
    try:
        assert poller.poll().failure == "ZeroDivisionError: boom"
    finally:
        poller.close()


async def test_polls_never_overlap_and_a_refresh_during_one_runs_after_it(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        running = 0
        most = 0
        calls: list[bool] = []
        release = threading.Event()
        real_poll = app._poller.poll

        def slow_poll(*, force: bool = False) -> PollResult:
            nonlocal running, most
            running += 1
            most = max(most, running)
            calls.append(force)
            release.wait(10)
            running -= 1
            return real_poll(force=force)

        app._poller.poll = slow_poll  # type: ignore[method-assign]
        # When a poll is running and r is pressed twice and the timer fires
        app.poll_now()
        await pilot.press("r", "r")
        app.poll_now()
        release.set()
        await settle(pilot)
        # Then they ran one after another: the first, then one forced catch-up poll
        assert most == 1
        assert calls == [False, True]


async def test_the_timer_is_re_armed_after_each_poll_and_not_while_paused(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app._poll_timer is not None
        await pilot.press("p")
        assert app._poll_timer is None
        await pilot.press("p")
        await settle(pilot)
        assert app._poll_timer is not None


async def test_detail_screens_are_told_about_each_new_board(tmp_path: Path):
    from textual.screen import Screen

    seen = []

    class Detail(Screen):
        def on_kpitui_app_board_refreshed(self, message) -> None:
            seen.append(message.board)

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(Detail())
        write_points(app.store_path, [("churn", {}, AS_OF, 0.025)])
        app.poll_now()
        await settle(pilot)
        assert seen == [app.board]


def test_a_write_re_evaluates_only_its_kpis_and_r_or_a_new_minute_the_whole_board(tmp_path: Path):
    # Given the live poller at 12:00:10 on the app world
    clock = FixedClock(AS_OF + 10)
    poller = make_poller(tmp_path, clock)
    try:
        first = poller.poll().board
        # When another program writes churn, and the clock moves on within the minute
        write_points(poller.store_path, [("churn", {}, AS_OF + 5, 0.025)])
        clock.at = AS_OF + 20
        second = poller.poll().board
        # Then churn moved and the other KPIs are the last board's own objects
        assert second.kpi("churn").display == "2.5%"
        assert second.kpi("mrr") is first.kpi("mrr")
        assert second.chart("revenue") is first.chart("revenue")
        # When the user presses `r`: everything is asked again (new objects, new ages)
        forced = poller.poll(force=True).board
        assert forced.kpi("mrr") is not first.kpi("mrr")
        assert forced.kpi("mrr").age_display != first.kpi("mrr").age_display
        # When the clock reaches the next minute with nothing written: a whole board
        clock.at = AS_OF + 60
        minute = poller.poll().board
        assert minute is not None and minute.kpi("mrr") is not forced.kpi("mrr")
        assert minute.as_of == AS_OF + 60
    finally:
        poller.close()
