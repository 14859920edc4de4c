"""The chart drill-down (SPEC §4: Enter on a chart opens it full size)."""

from __future__ import annotations

from pathlib import Path

from kpitui.tui.screens.chart_detail import ChartDetailScreen
from kpitui.tui.screens.help import HelpScreen
from kpitui.tui.screens.kpi_detail import KpiDetailScreen
from kpitui.tui.widgets.chart_panel import ChartPanel
from tests.tui.snapshot_apps.app_world import (
    AS_OF,
    SPEC,
    edit_spec,
    make_app,
    screen_text,
    settle,
    still,
    write_points,
)
from tests.tui.snapshot_apps.sample_world import make_sample_app

TWO_METRICS = SPEC.replace(
    "charts:\n",
    "charts:\n  - id: mixed\n    title: Signups and churn\n    metrics: [signups, churn]\n",
)


def footer_line(app) -> str:
    return screen_text(app).splitlines()[-1]


async def test_enter_on_a_split_chart_opens_it_full_size_and_escape_comes_back(tmp_path: Path):
    # Given the sample board at 80×24, focus on "MRR by plan" (split by plan)
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.go_to("chart", "mrr-by-plan")
        await settle(pilot)
        panel = app.focused
        assert isinstance(panel, ChartPanel) and panel.view.id == "mrr-by-plan"
        # When Enter is pressed
        await pilot.press("enter")
        await settle(pilot)
        # Then the chart detail shows the board's own chart: a line per plan, full width
        screen = app.screen
        assert isinstance(screen, ChartDetailScreen) and screen.chart_id == "mrr-by-plan"
        assert screen.view == app.board.chart("mrr-by-plan")
        assert [s.name for s in screen.view.series] == ["enterprise", "pro", "starter"]
        chart = screen.query_one("#cd-chart", ChartPanel)
        assert chart.view == screen.view and chart.replots >= 1
        assert chart.region.width == 80 and chart.region.height >= 18
        # And a line names the window, the bucket and the series
        text = screen_text(app)
        assert "180d window · 1w buckets · last per bucket" in text
        assert "by plan: enterprise, pro, starter" in text
        # And the footer has Back, the KPI on mrr, and Quit; no board-only keys
        footer = footer_line(app)
        for words in ("esc Back", "k KPI detail", "q Quit"):
            assert words in footer, footer
        assert "p Pause" not in footer and "a Ack" not in footer
        # When Escape is pressed: the board, focus on the same chart
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app._dashboard
        assert app.focused is panel


async def test_reference_lines_and_k_opens_the_kpi_on_the_metric(tmp_path: Path):
    # Given the test world's Revenue chart, on mrr, which the MRR KPI reads
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_chart_detail("revenue")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChartDetailScreen)
        # Then the KPI's target and thresholds are drawn: 100,000 / 90,000 / 80,000
        assert [(r.name, r.value) for r in screen.view.ref_lines] == [
            ("target", 100000),
            ("warn", 90000),
            ("crit", 80000),
        ]
        assert "series: mrr · lines: target, warn, crit" in screen_text(app)
        assert screen.kpi is not None and screen.kpi.id == "mrr"
        # When k is pressed: the MRR KPI's detail, and Escape comes back to the chart
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, KpiDetailScreen) and app.screen.kpi_id == "mrr"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_the_chart_follows_each_new_board(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_chart_detail("revenue")
        await settle(pilot)
        screen = app.screen
        assert screen.view.series[0].points[-1][1] == 95000.0
        # When another program records MRR 97,500 now and the poll runs
        write_points(app.store_path, [("mrr", {}, AS_OF, 97500.0)])
        app.poll_now()
        await settle(pilot)
        # Then the full-size chart shows the new last point (today's bucket)
        assert screen.view == app.board.chart("revenue")
        assert screen.view.series[0].points[-1][1] == 97500.0
        assert screen.query_one("#cd-chart", ChartPanel).view == screen.view


async def test_a_spec_edit_renaming_the_kpi_renames_it_on_an_unchanged_chart(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_chart_detail("revenue")
        await settle(pilot)
        screen = app.screen
        assert "KPI: MRR" in screen_text(app)
        # When the spec is edited: the MRR KPI gets a new title, the chart's data is the same
        view = screen.view
        edit_spec(app.loaded.path, SPEC.replace("title: MRR", "title: Monthly revenue"))
        app.poll_now()
        await settle(pilot)
        # Then the chart is the same, and the KPI it opens is named by its new title
        assert screen.view == view
        assert "KPI: Monthly revenue" in screen_text(app)


async def test_a_chart_of_two_metrics_has_no_kpi_key(tmp_path: Path):
    app = make_app(tmp_path, TWO_METRICS)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_chart_detail("mixed")
        await settle(pilot)
        screen = app.screen
        assert [s.name for s in screen.view.series] == ["signups", "churn"]
        # Then k is off: not in the footer, and pressing it stays here
        assert screen.kpi is None
        assert "KPI detail" not in footer_line(app)
        await pilot.press("k")
        await settle(pilot)
        assert app.screen is screen


async def test_palette_opens_a_chart_detail_and_help_lists_its_keys(tmp_path: Path):
    from kpitui.tui.commands import board_commands

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        # When the palette's "Open chart Revenue detail" runs
        command = next(
            c for c in board_commands(app, app.board) if c.text == "Open chart Revenue detail"
        )
        command.run()
        await settle(pilot)
        assert isinstance(app.screen, ChartDetailScreen)
        assert app.screen.chart_id == "revenue"
        # And ? lists this screen's keys
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Chart detail" in text
        assert "Open the detail of the KPI on this chart's metric" in text
        assert "Back to where you were" in text


def test_snapshot_chart_detail_100x30(snap_compare, tmp_path: Path):
    async def open_revenue(pilot) -> None:
        await still(pilot)
        await pilot.press("tab", "tab", "tab", "tab", "enter")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=(100, 30), run_before=open_revenue)
