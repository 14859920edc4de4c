"""The live board on a PostgreSQL server that goes away and comes back: the header says
since when it is unreachable, the keys keep working, and it recovers by itself."""

from __future__ import annotations

import time

import pytest

from kpitui.spec import load_dashboard
from kpitui.timeutil import FixedClock
from kpitui.tui.app import KpituiApp
from kpitui.tui.header import ProblemsLine
from kpitui.tui.widgets.kpi_card import KpiCard
from tests.pg_server import start_server
from tests.tui.snapshot_apps.app_world import (
    AS_OF,
    SPEC,
    history,
    screen_text,
    settle,
    write_points,
)


@pytest.fixture
def server():
    """A server of this test alone, to stop and start."""
    own = start_server()
    yield own
    own.destroy()


async def until(pilot, condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run (its own refresh timer polls) until `condition()` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the board did not get there"
        await pilot.pause(0.1)


async def test_the_board_says_since_when_the_server_is_away_and_recovers_by_itself(
    server, tmp_path
):
    # Given a live board refreshing every second on a store in a PostgreSQL server
    url = server.new_database("board")
    write_points(url, history())
    spec = tmp_path / "dashboard.yaml"
    spec.write_text(
        SPEC.replace("store: metrics.db", f"store: {url}").replace("refresh: 1h", "refresh: 1s"),
        encoding="utf-8",
    )
    loaded = load_dashboard(spec)
    app = KpituiApp(loaded, store_path=loaded.store_path, clock=FixedClock(AS_OF))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        board = app.board
        assert board is not None and app.query_one(ProblemsLine).lines == ()

        def problems() -> str:
            return " ".join(app.query_one(ProblemsLine).lines)

        # When the server goes away
        server.stop()
        # Then, at a refresh of its own, the header says since when, and the board stays
        await until(pilot, lambda: "store unreachable since 12:00, retrying" in problems())
        assert app.board is board
        await until(pilot, lambda: "store unreachable since 12:00, retrying" in screen_text(app), 5)
        assert problems().count("retrying") == 1
        # And the keys still work
        await pilot.press("2")
        await until(pilot, lambda: "2/2 OKRs" in screen_text(app), 5)
        await pilot.press("1")
        # When the server is back, and a writer records a new churn
        server.start()
        write_points(url, [("churn", {}, AS_OF, 0.025)])
        # Then the board recovers by itself and shows it
        await until(pilot, lambda: app.query_one(ProblemsLine).lines == ())
        card = app.query_one("#p0-kpi-churn", KpiCard)
        await until(pilot, lambda: card.view.display == "2.5%")
