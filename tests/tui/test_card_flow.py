"""KPI cards of consecutive layout rows flow as one grid (issue 14 §6): at any width
no row of cards but the last leaves room for another card, and Tab keeps layout order."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitui.tui.board_view import GUTTER, MIN_PANEL_WIDTH
from kpitui.tui.widgets.kpi_card import KpiCard
from tests.tui.snapshot_apps.app_world import settle
from tests.tui.snapshot_apps.sample_world import make_sample_app


def place(card: KpiCard) -> tuple[int, int, int]:
    """(line, column, right edge) of a card on its page, scrolled into view or not: its
    region in its grid plus the grid's in the page."""
    grid = card.parent.virtual_region
    own = card.virtual_region
    return grid.y + own.y, grid.x + own.x, grid.x + own.right


def card_rows(app) -> list[list[KpiCard]]:  # type: ignore[no-untyped-def]
    """The current page's cards grouped by the page line they start on, top to bottom."""
    rows: dict[int, list[KpiCard]] = {}
    for card in app.current_page().query(KpiCard):
        rows.setdefault(place(card)[0], []).append(card)
    return [sorted(rows[y], key=lambda c: place(c)[1]) for y in sorted(rows)]


def assert_no_hole_but_in_the_last_row(app) -> None:  # type: ignore[no-untyped-def]
    page = app.current_page()
    width = page.scrollable_content_region.width
    rows = card_rows(app)
    for row in rows[:-1]:
        right = max(place(card)[2] for card in row)
        # Then another card would not fit beside the row's last one
        assert right + GUTTER + MIN_PANEL_WIDTH["kpi"] > width, (
            [c.view.id for c in row],
            right,
            width,
        )


def layout_order(app) -> list[str]:  # type: ignore[no-untyped-def]
    page = app.board.pages[app._page_index]
    return [f"kpi:{p.id}" for row in page.rows for p in row if p.kind == "kpi"]


async def tab_order(app, pilot, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    first = app.current_page().panel_widgets()[0]
    app.focus_panel(first)
    await pilot.pause()
    seen = []
    for _ in range(count):
        focused = app.focused
        assert isinstance(focused, KpiCard)
        seen.append(f"kpi:{focused.view.id}")
        await pilot.press("tab")
        await pilot.pause()
    return seen


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)])
@pytest.mark.parametrize("layout", [True, False], ids=["sample-layout", "default-layout"])
async def test_kpi_rows_flow_as_one_grid_and_tab_keeps_layout_order(
    tmp_path: Path, size: tuple[int, int], layout: bool
):
    # Given the sample board (rows of 3 and 4 cards; or the default page: a North Star
    # row and rows of 4 over 11 KPIs), opened at `size`
    app = make_sample_app(tmp_path, layout=layout)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        # Then no row of cards but the last has room for another card
        assert_no_hole_but_in_the_last_row(app)
        rows = card_rows(app)
        if not layout:
            # And the default page's North Star keeps its row, the whole width
            (star,) = rows[0]
            assert star.view.north_star
            assert star.region.width == app.current_page().scrollable_content_region.width
        # And Tab walks the cards in layout order
        order = layout_order(app)
        assert await tab_order(app, pilot, len(order)) == order


async def test_a_card_row_reflows_on_resize_without_holes(tmp_path: Path):
    # Given the sample board at 160 columns (4 cards then 3)
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert [len(row) for row in card_rows(app)] == [4, 3]
        # When the terminal narrows to 80 columns
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        # Then the seven cards are 2, 2, 2 and 1 (layout rows of 3 and 4 used to
        # give 2, 1, 2, 2: a card alone with room beside it)
        assert [len(row) for row in card_rows(app)] == [2, 2, 2, 1]
        assert_no_hole_but_in_the_last_row(app)


async def test_a_log_under_a_chart_is_as_tall_as_its_lines_and_the_chart_gives_way(
    tmp_path: Path,
):
    from tests.tui.snapshot_apps.app_world import AS_OF, make_app, write_points

    # Given the test board at 160×48: four cards, the revenue chart, the alerts log under
    # it holding one alert ("activation at start → warn")
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        page = app.current_page()
        log = app.query_one("#p0-alerts-alerts")
        chart = app.query_one("#p0-chart-revenue")
        # Then the log is its least height (5 rows), not a chart's, and the chart has the
        # lines the page leaves
        assert len(log.alerts) == 1 and log.outer_size.height == 5
        assert not log.has_class("-beside-chart")
        chart_before = chart.outer_size.height
        assert chart_before > 16
        # When four more alerts arrive in two polls (churn and MRR to crit, then back)
        for churn, mrr in ((0.06, 70000.0), (0.02, 95000.0)):
            write_points(app.store_path, [("churn", {}, AS_OF, churn), ("mrr", {}, AS_OF, mrr)])
            app.poll_now()
            await settle(pilot)
        await pilot.pause()
        # Then the log grew to its five lines, the chart gave up the two lines it took,
        # and the page still fits without scrolling
        assert len(log.alerts) == 5 and log.outer_size.height == 7
        assert chart.outer_size.height == chart_before - 2
        assert page.max_scroll_y == 0
