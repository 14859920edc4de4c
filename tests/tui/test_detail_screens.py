"""The drill-down screens in a host app (and once in the real app), driven by the Pilot.

The store is a temporary SQLite file written through the normal writer; every expected
number is computed here from the points the world wrote, never read back from the engine.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from kpitui.engine.detail import BUCKET_LADDER
from kpitui.tui.screens.kpi_detail import KpiDetailScreen, spark_text
from kpitui.tui.screens.kr_detail import KrDetailScreen
from tests.tui.snapshot_apps.detail_host import (
    AS_OF,
    DAY,
    HOUR,
    SPEC,
    DetailHost,
    make_store,
    settle,
    signup_points,
    until,
)


def screen_text(app) -> str:
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        color_system=None,
        legacy_windows=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def independent_stats(days: int, plan: str | None = None, bucket: int = DAY) -> dict:
    """Stats of the world's signups chart over the last `days` days, from the raw points:
    min/max/avg/last of its buckets on the UTC grid (the first widened back to its
    boundary, an empty bucket 0: signups are a flow), the total and the points of the
    range itself."""
    lo = AS_OF - days * DAY + 1
    grid_lo = lo - lo % bucket
    chosen = [
        (ts, v)
        for metric, labels, ts, v in signup_points()
        if metric == "signups"
        and grid_lo <= ts <= AS_OF
        and labels["plan"] == (plan or labels["plan"])
    ]
    sums = [
        sum(v for ts, v in chosen if start <= ts < start + bucket)
        for start in range(grid_lo, AS_OF + 1, bucket)
    ]
    in_range = [v for ts, v in chosen if ts >= lo]
    return {
        "last": sums[-1],
        "min": min(sums),
        "max": max(sums),
        "avg": sum(sums) / len(sums),
        "total": sum(in_range),
        "points": len(in_range),
    }


def shown_stats(screen: KpiDetailScreen) -> dict[str, float]:
    s = screen.detail.stats
    return {k: getattr(s, k) for k in ("last", "min", "max", "avg", "total", "points")}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return make_store(tmp_path / "metrics.db")


def host(store: Path, *first: str, **kwargs) -> DetailHost:
    return DetailHost(store, first, **kwargs)


# -- the KPI detail ---------------------------------------------------------------------


async def test_range_keys_change_the_stats(store):
    # Given the signups KPI detail, opened on its default 30-day range
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KpiDetailScreen)
        assert screen.detail.range_key == "30d"
        assert shown_stats(screen) == pytest.approx(independent_stats(30))
        # Worked example: 30 days of free (3,465), pro (4,650) and team (1,267.5)
        assert screen.detail.stats.total == pytest.approx(9382.5)
        assert "9,382.50" in screen_text(app)
        # When 1 is pressed / Then the stats are the last 7 days'
        await pilot.press("1")
        await settle(pilot)
        assert screen.detail.range_key == "7d"
        assert shown_stats(screen) == pytest.approx(independent_stats(7))
        assert screen.detail.stats.total == pytest.approx(728 + 280 + 336)
        assert "1,344" in screen_text(app)
        # And 3 (90 days) covers all 60 days written, 2 goes back to 30 days
        await pilot.press("3")
        await settle(pilot)
        assert screen.detail.stats.points == 180
        await pilot.press("2")
        await settle(pilot)
        assert shown_stats(screen) == pytest.approx(independent_stats(30))


async def test_header_shows_the_boards_value_state_and_comparison(store):
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        head = text.splitlines()[0]
        # 1,344 this week (warn: at or under 1,400) against 1,547 + 311.50 the week before
        assert "Signups" in head and "▲ warn" in head and "1,344" in head
        assert "vs previous 7d" in head
        assert app.screen.detail.kpi == app.board.kpi("signups")


async def test_bucket_keys_step_through_the_ladder(store):
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        # Given 30 days of daily points in automatic buckets: daily, never finer than
        # the points (6h buckets would hold 3 empty ones a day), one chart point per day
        # of the range, today's (no signups yet) 0 in its place
        assert (screen.detail.bucket, screen.detail.bucket_auto) == (DAY, True)
        points = screen.detail.chart.series[0].points
        assert len(points) == 31 and points[-1][1] == 0
        # When ] is pressed / Then weekly buckets
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert (screen.detail.bucket, screen.detail.bucket_auto) == (7 * DAY, False)
        # And [ three times goes down to hourly buckets (finer when asked for), never below
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert screen.detail.bucket == BUCKET_LADDER[0] == HOUR
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.detail.bucket == HOUR
        # And a new range starts again from its automatic bucket
        await pilot.press("4")
        await settle(pilot)
        assert (screen.detail.bucket, screen.detail.bucket_auto) == (7 * DAY, True)


async def test_enter_on_a_label_row_filters_the_chart(store):
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        # Given the breakdown has focus, its first row is the biggest plan: free
        assert app.focused.id == "kd-breakdown"
        # When Enter is pressed / Then chart and stats are free's alone
        await pilot.press("enter")
        await settle(pilot)
        assert screen.label_filter == ("plan", "free")
        assert screen.detail.chart.series[0].name == "plan=free"
        assert shown_stats(screen) == pytest.approx(independent_stats(30, plan="free"))
        assert "only plan=free" in screen_text(app)
        # And Enter again clears the filter
        await pilot.press("enter")
        await settle(pilot)
        assert screen.label_filter is None
        assert shown_stats(screen) == pytest.approx(independent_stats(30))
        # And so does c, after picking pro (two rows down)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert screen.label_filter == ("plan", "pro")
        assert shown_stats(screen) == pytest.approx(independent_stats(30, plan="pro"))
        await pilot.press("c")
        await settle(pilot)
        assert screen.label_filter is None
        assert screen.detail.chart.series[0].name == "signups"


async def test_breakdown_shares_and_sorting(store):
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#kd-breakdown")

        def order() -> list[str]:
            return [row.key.value.split("\x00")[1] for row in table.ordered_rows]

        # Given this week: free 728, team 336, pro 280 of 1,344
        rows = {r.value: r for r in app.screen.detail.breakdowns[0].rows}
        assert rows["free"].share == pytest.approx(728 / 1344)
        assert rows["team"].share == pytest.approx(336 / 1344)
        assert order() == ["free", "team", "pro"]
        text = screen_text(app)
        assert "54.2%" in text and "25.0%" in text and "20.8%" in text
        # When s cycles the sort column: share, delta (team grew 7.9%), then label
        await pilot.press("s")
        assert app.screen.sort_by == "share" and order() == ["free", "team", "pro"]
        await pilot.press("s")
        assert app.screen.sort_by == "delta" and order() == ["team", "free", "pro"]
        await pilot.press("s")
        assert app.screen.sort_by == "label" and order() == ["free", "pro", "team"]
        await pilot.press("s")
        assert app.screen.sort_by == "value" and order() == ["free", "team", "pro"]


async def test_a_covered_detail_reloads_once_when_shown_again_not_on_every_board(store):
    from kpitui.tui.app import KpituiApp

    app = host(store, "kpi", "signups")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        kpi_screen = app.screen
        # Given the KPI detail covered by its key result's detail
        await pilot.press("tab", "enter")
        await settle(pilot)
        kr_screen = app.screen
        assert isinstance(kr_screen, KrDetailScreen)
        kpi_loads, kr_loads = kpi_screen.loads, kr_screen.loads
        # When two boards arrive (as the app tells every screen above the board)
        for _ in range(2):
            for screen in (kpi_screen, kr_screen):
                screen.post_message(KpituiApp.BoardRefreshed(app.evaluate_board()))
            await settle(pilot)
        # Then only the screen on top reloaded
        assert kr_screen.loads == kr_loads + 2
        assert kpi_screen.loads == kpi_loads
        # When Escape shows the KPI detail again: it reloads once
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is kpi_screen and kpi_screen.loads == kpi_loads + 1


async def test_key_results_open_their_detail_and_escape_comes_back(store):
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        kpi_screen = app.screen
        # Given the key results using signups, listed below the breakdown
        assert [kr.id for kr in kpi_screen.detail.key_results] == ["signups-kr"]
        # When Tab moves to their table and Enter is pressed
        await pilot.press("tab")
        assert app.focused.id == "kd-krs"
        await pilot.press("enter")
        await settle(pilot)
        # Then the key result's detail opens
        assert isinstance(app.screen, KrDetailScreen)
        assert (app.screen.kind, app.screen.node_id) == ("kr", "signups-kr")
        # And Escape goes back to the KPI, then to the board
        await pilot.press("escape")
        assert app.screen is kpi_screen
        assert app.focused.id == "kd-krs"
        await pilot.press("escape")
        assert not isinstance(app.screen, KpiDetailScreen | KrDetailScreen)


def in_view(widget) -> bool:
    """Whether the whole of `widget` shows inside the screen's scrolling body."""
    body = widget.screen.query_one("#kd-body, #kr-body")
    return body.region.contains_region(widget.region)


async def test_a_tall_detail_scrolls_back_to_its_chart_with_the_arrows(store):
    # Given the signups detail at 80×24, taller than the terminal, the breakdown focused
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        body, chart = screen.query_one("#kd-body"), screen.query_one("#kd-chart")
        assert body.max_scroll_y > 0 and body.scroll_y == 0
        assert app.focused.id == "kd-breakdown"
        # When ↓ runs past the last plan / Then focus goes on to the key results, scrolled down
        await pilot.press("down", "down", "down")
        assert app.focused.id == "kd-krs"
        await until(pilot, lambda: body.scroll_y > 0 and not in_view(chart), "scrolled down")
        # When ↑ runs back past the first rows / Then focus reaches the chart, in view again
        await pilot.press("up", "up", "up", "up")
        assert app.focused is chart
        await until(pilot, lambda: body.scroll_y == 0 and in_view(chart), "back at the chart")
        # And ↓ from the chart goes back to the breakdown
        await pilot.press("down")
        assert app.focused.id == "kd-breakdown"


async def test_a_tall_detail_scrolls_with_page_keys_and_home_the_table_leaves(store):
    # Given the signups detail at 80×24 scrolled down to its last table by the cursor
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        body, chart = app.screen.query_one("#kd-body"), app.screen.query_one("#kd-chart")
        await pilot.press("tab")
        assert app.focused.id == "kd-krs"
        await until(pilot, lambda: body.scroll_y == body.max_scroll_y > 0, "at the bottom")
        # When PageUp is pressed on its only row / Then the screen pages up
        await pilot.press("pageup")
        await until(pilot, lambda: body.scroll_y < body.max_scroll_y, "paged up")
        # When End, then Home / Then the screen goes to its bottom, then its top
        await pilot.press("end")
        await until(pilot, lambda: body.scroll_y == body.max_scroll_y, "at the end")
        await pilot.press("home")
        await until(pilot, lambda: body.scroll_y == 0 and in_view(chart), "at the top")
        # And focus stayed on the table: Shift+Tab twice reaches the chart, in view
        assert app.focused.id == "kd-krs"
        await pilot.press("pagedown")
        await until(pilot, lambda: body.scroll_y > 0, "paged down")
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is chart
        await until(pilot, lambda: in_view(chart), "the chart in view")


async def test_a_heading_too_long_for_80_columns_ends_in_an_ellipsis(tmp_path):
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    # Given the sample board's MRR detail at 80 columns: its breakdown heading is longer
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_kpi_detail("mrr")
        await settle(pilot)
        heading = app.screen.query_one("#kd-breakdown-heading")
        words = heading.render().plain
        assert words.endswith("Enter filters the chart") and len(words) > 78
        # When it is scrolled into view
        heading.scroll_visible(animate=False)
        await pilot.pause()
        # Then its line is cut with "…", not mid-word
        line = next(t for t in screen_text(app).splitlines() if t.startswith(" By plan"))
        assert line.rstrip().endswith("…") and words.startswith(line.strip()[:-1]), line


async def test_the_detail_chart_takes_focus_but_enter_opens_nothing(store):
    # Given the signups detail / When Shift+Tab moves from the breakdown to the chart
    app = host(store, "kpi", "signups")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("shift+tab")
        assert app.focused.id == "kd-chart"
        # Then the footer offers no "Details", and Enter leaves the screen as it is
        assert "Details" not in screen_text(app).splitlines()[-1]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and app.focused.id == "kd-chart"


@pytest.mark.parametrize(
    ("kpi_id", "value"),
    [("empty", "—"), ("single", "42"), ("future", "—")],
    ids=["no points", "one point", "future points only"],
)
async def test_awkward_metrics_render_without_error(store, kpi_id, value):
    app = host(store, "kpi", kpi_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.error is None and screen.detail.error is None
        text = screen_text(app)
        assert value in text.splitlines()[0]
        for key in ("1", "0", "right_square_bracket", "s", "c"):
            await pilot.press(key)
            await settle(pilot)
            assert screen.error is None
        if kpi_id == "single":
            assert screen.detail.stats.points == 1 and screen.detail.stats.max == 42
        else:
            assert screen.detail.stats.points == 0
            assert "no data" in screen_text(app)


async def test_derived_metric_shows_its_formula(store):
    app = host(store, "kpi", "conversion")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Formula signups / visits" in text
        assert "Signups per visit" in text
        # 1,344 signups over 7,000 visits this week
        assert app.screen.detail.kpi.value == pytest.approx(1344 / 7000)
        assert "19.2%" in text


async def test_queries_run_off_the_ui_thread_and_refresh_on_a_new_board(store):
    from kpitui.tui.app import KpituiApp

    app = host(store, "kpi", "mrr")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.detail.kpi.value == 16000
        chart = screen.query_one("#kd-chart")
        replots = chart.replots
        # When a new board arrives with nothing new / Then nothing is redrawn
        screen.post_message(KpituiApp.BoardRefreshed(app.board))
        await settle(pilot)
        assert chart.replots == replots
        # When a new point lands and the app announces a new board
        from kpitui.store import open_writer

        with open_writer(store) as writer:
            writer.write_points([("mrr", {}, AS_OF, 17250.0)])
        loads = screen.loads
        screen.post_message(KpituiApp.BoardRefreshed(app.evaluate_board()))
        await settle(pilot)
        # Then the detail reloaded and shows it
        assert screen.loads == loads + 1
        assert screen.detail.kpi.value == 17250
        assert "$17,250.00" in screen_text(app)
        assert chart.replots == replots + 1
        # And no store reader was ever opened on the UI thread
        assert app.reader_threads
        assert threading.main_thread().name not in app.reader_threads


async def test_a_missing_store_is_said_on_screen(tmp_path):
    app = host(tmp_path / "nowhere.db", "kpi", "signups")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.error
        assert "⚠" in screen_text(app)


async def test_an_unknown_kpi_is_said_on_screen(store):
    app = host(store, "kpi", "gone")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "no KPI 'gone'" in app.screen.error
        await pilot.press("1", "escape")
        assert not isinstance(app.screen, KpiDetailScreen)


def test_spark_text():
    assert spark_text([]) == ""
    assert spark_text([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert spark_text([5, 5, 5]) == "▄▄▄"
    assert len(spark_text(list(range(100)), width=12)) == 12


# -- the key-result detail ----------------------------------------------------------------


async def test_kr_detail_lists_its_checkins(store):
    app = host(store, "kr", "nps-score")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#kr-checkins")
        # Then the two check-ins up to as-of, newest first (Dec 1 is after as-of)
        rows = [[cell.plain for cell in table.get_row(row.key)] for row in table.ordered_rows]
        assert rows == [
            ["2026-11-02 09:00", "26", "▲ at risk", "[bold]slipping[/]"],
            ["2026-10-15 09:00", "20", "✔ on track", "first survey"],
        ]
        # And the numbers: (26 - 10) / (50 - 10) = 40% against 59% expected
        text = screen_text(app)
        assert "40%" in text and "19 pts behind expected" in text
        assert "▲ at risk" in text.splitlines()[0]
        # And the note's markup is shown as typed, never applied
        await pilot.press("down")
        await settle(pilot)
        assert "[bold]slipping[/]" in screen_text(app)


async def test_kr_detail_shows_a_new_checkin_after_a_refresh(store):
    from kpitui.store import open_writer
    from kpitui.tui.app import KpituiApp

    app = host(store, "kr", "nps-score")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # When a check-in is recorded and a new board arrives
        with open_writer(store) as writer:
            writer.write_checkin(
                "nps-score", AS_OF - HOUR, 34.0, confidence="on_track", note="back on track"
            )
        app.screen.post_message(KpituiApp.BoardRefreshed(app.evaluate_board()))
        await settle(pilot)
        # Then it is listed first and the progress is (34 - 10) / 40 = 60%
        table = app.screen.query_one("#kr-checkins")
        first = table.get_row(table.ordered_rows[0].key)
        assert [cell.plain for cell in first] == [
            "2026-11-24 11:00",
            "34",
            "✔ on track",
            "back on track",
        ]
        assert table.row_count == 3
        assert app.screen.detail.progress == pytest.approx(0.6)


async def test_kr_detail_rounds_progress_as_the_tree_does(store):
    from kpitui.store import open_writer

    # Given a check-in at (15 - 10) / (50 - 10) = 12.5% of the way
    with open_writer(store) as writer:
        writer.write_checkin("nps-score", AS_OF - HOUR, 15.0)
    app = host(store, "kr", "nps-score")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.detail.progress_raw == pytest.approx(0.125)
        # Then the head says 13%, half up, as the OKR tree and the report do (not 12%)
        head = screen_text(app).splitlines()[0]
        assert "13%" in head and "12%" not in head


async def test_kr_detail_of_a_metric_kr_has_its_chart(store):
    app = host(store, "kr", "mrr-kr")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.has_class("-metric") and screen.has_class("-no-checkins")
        # MRR today is 16,000: (16,000 - 8,000) / (20,000 - 8,000) = 67%
        assert screen.detail.progress_raw == pytest.approx(8000 / 12000)
        assert screen.detail.metric_chart.series[0].points[-1] == (AS_OF, 16000.0)
        chart = screen.query_one("#kr-metric")
        assert chart.display and chart.view.title == "mrr · latest value"
        assert [(r.name, r.value) for r in chart.view.ref_lines] == [("target", 20000)]


async def test_a_tall_kr_detail_reaches_both_charts_and_back_from_the_keys(store):
    # Given the MRR key result's detail at 80×24: history chart, facts, metric chart
    app = host(store, "kr", "mrr-kr")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        body = screen.query_one("#kr-body")
        history, metric = screen.query_one("#kr-history"), screen.query_one("#kr-metric")
        assert body.max_scroll_y > 0 and app.focused is history
        # When ↓ / Then the metric chart below is focused and scrolled into view
        await pilot.press("down")
        assert app.focused is metric
        await until(pilot, lambda: in_view(metric) and not in_view(history), "the metric chart")
        # When ↓ again (nothing further) / Then the screen scrolls on to its bottom
        await pilot.press("down", "down", "down", "down", "down")
        await until(pilot, lambda: body.scroll_y == body.max_scroll_y, "at the bottom")
        # When ↑ / Then the history chart is focused and back in view
        await pilot.press("up")
        assert app.focused is history
        await until(pilot, lambda: in_view(history) and body.scroll_y == 0, "the history chart")


async def test_kr_detail_without_points(store):
    app = host(store, "kr", "empty-kr")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.error is None
        assert app.screen.detail.progress is None
        assert "no progress to compare" in screen_text(app)


async def test_objective_detail_drills_into_its_children(store):
    app = host(store, "objective", "grow")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#kr-children")
        assert [row.key.value for row in table.ordered_rows] == [
            "kr:signups-kr",
            "kr:mrr-kr",
            "objective:delight",
        ]
        assert app.focused is table
        # When the child objective is chosen / Then its own detail opens
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert (app.screen.kind, app.screen.node_id) == ("objective", "delight")
        # Its progress is the NPS key result's 40% and the other's 0 (no points yet)
        assert app.screen.detail.progress == pytest.approx(0.2)
        await pilot.press("escape")
        assert app.screen is screen


# -- in the real app ---------------------------------------------------------------------


def real_app(tmp_path: Path, store: Path):
    from kpitui.spec import load_dashboard
    from kpitui.timeutil import FixedClock
    from kpitui.tui.app import KpituiApp

    spec_path = tmp_path / "dashboard.yaml"
    spec_path.write_text(
        yaml.safe_dump({**SPEC, "refresh": "1h", "store": store.name}), encoding="utf-8"
    )
    return KpituiApp(load_dashboard(spec_path), store_path=store, clock=FixedClock(AS_OF))


async def board_ready(app, pilot) -> None:
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.board is not None and app.focused is not None:
            break


async def test_enter_on_a_card_opens_the_detail_and_escape_restores_focus(tmp_path, store):
    app = real_app(tmp_path, store)
    async with app.run_test(size=(100, 30)) as pilot:
        await board_ready(app, pilot)
        card = app.focused
        # Given focus on the first card (signups) / When Enter is pressed
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KpiDetailScreen) and screen.kpi_id == "signups"
        assert shown_stats(screen) == pytest.approx(independent_stats(30))
        await pilot.press("1")
        await settle(pilot)
        assert shown_stats(screen) == pytest.approx(independent_stats(7))
        # Then Escape returns to the board with the same card focused
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is card


# -- snapshots (LOOK at them after `--snapshot-update`) ------------------------------------


def test_snapshot_kpi_detail_100x30(snap_compare, tmp_path):
    app = host(make_store(tmp_path / "metrics.db"), "kpi", "signups")
    assert snap_compare(app, terminal_size=(100, 30), run_before=settle)


def test_snapshot_kpi_detail_filtered_80x24(snap_compare, tmp_path):
    async def filter_to_team(pilot) -> None:
        await settle(pilot)
        await pilot.press("1", "down", "enter")
        await settle(pilot)

    app = host(make_store(tmp_path / "metrics.db"), "kpi", "signups")
    assert snap_compare(app, terminal_size=(80, 24), run_before=filter_to_team)


def test_snapshot_kr_detail_100x30(snap_compare, tmp_path):
    app = host(make_store(tmp_path / "metrics.db"), "kr", "nps-score")
    assert snap_compare(app, terminal_size=(100, 30), run_before=settle)


def test_snapshot_objective_detail_100x30(snap_compare, tmp_path):
    app = host(make_store(tmp_path / "metrics.db"), "objective", "grow")
    assert snap_compare(app, terminal_size=(100, 30), run_before=settle)


async def test_escape_from_a_kr_detail_keeps_the_tree_as_it_was(tmp_path, store):
    from kpitui.tui.widgets.okr_tree import OkrTree

    app = real_app(tmp_path, store)
    async with app.run_test(size=(100, 40)) as pilot:
        await board_ready(app, pilot)
        tree = app.query_one(OkrTree)
        tree.focus()
        await pilot.pause()
        # Given the child objective collapsed and the cursor on the MRR key result
        tree.node_for("objective", "delight").collapse()
        tree.move_cursor(tree.node_for("kr", "mrr-kr"))
        await pilot.pause()
        expanded = tree.expanded_ids()
        # When Enter opens its detail and Escape comes back
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, KrDetailScreen) and app.screen.node_id == "mrr-kr"
        await pilot.press("escape")
        await pilot.pause()
        # Then the same node has the cursor and the same objectives are open
        assert app.focused is tree
        assert tree.cursor_node.data == ("kr", "mrr-kr")
        assert tree.expanded_ids() == expanded
        assert "delight" not in expanded


async def test_a_score_kpi_states_no_sum(store):
    # Given the detail of a p90 KPI (a score of the points, as NPS is)
    app = host(store, "kpi", "p90")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        # Then min/max/avg are stated over buckets, and there is no row of summed points
        assert any(line.split()[:1] == ["avg"] for line in lines)
        assert not any(line.split()[:1] == ["sum"] for line in lines)
        assert app.screen.detail.stats.total is None
        assert any("p90 per 1d · last 30d" in line for line in lines)
