"""The chart panel in a small host app, fed hand-built views."""

from __future__ import annotations

import msgspec
import pytest
from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

from kpitui.engine.board import ChartSeries, nice_ticks, time_ticks
from kpitui.engine.format import format_tick as axis_label
from kpitui.tui.widgets import ChartPanel
from kpitui.tui.widgets.chart_canvas import ChartCanvas
from tests.tui.board_fixtures import (
    AS_OF,
    EMPTY_CHART,
    ERROR_CHART,
    MARKUP_LABEL,
    MARKUP_TITLE,
    REVENUE_CHART,
    SIGNUPS_CHART,
)
from tests.tui.widget_host import Host, screen_has_raw_escape, screen_text

# -- chart panel -------------------------------------------------------------------------


@pytest.mark.parametrize("bound", [{"y_min": 1000.0}, {"y_max": 1.0}])
def test_data_beyond_the_one_bound_written_gets_the_datas_axis(bound):
    # Given signups (tens a day) under a y_min above them, or over a y_max below them
    view = msgspec.structs.replace(SIGNUPS_CHART, **bound)
    # Then the axis is the data's, not an empty range that draws nothing
    lo, hi = view.y_range
    values = [v for series in view.series for _, v in series.points]
    assert lo < hi and lo <= min(values) and max(values) <= hi


def test_nice_ticks_and_labels():
    # Given a range 0..50,000 and about 5 ticks; Then steps are round numbers
    assert nice_ticks(0, 50000, 5) == [0, 10000, 20000, 30000, 40000, 50000]
    assert axis_label(48500, "currency") == "48.5K"
    assert axis_label(0.021, "percent") == "2.1%"
    assert axis_label(7200, "duration") == "2h"


def test_time_ticks_are_in_the_dashboard_timezone():
    # Given a one-day span ending at 09:30 UTC (10:30 in Berlin)
    positions, labels = zip(*time_ticks(AS_OF - 86400, AS_OF, 3, "Europe/Berlin"), strict=True)
    # Then the labels are Berlin hours
    assert positions[-1] == AS_OF
    assert labels[-1] == "10:30"


async def test_chart_with_no_points_says_no_data():
    # Given a chart without any point
    app = Host(ChartPanel(EMPTY_CHART))
    async with app.run_test(size=(50, 14)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    # Then it says so, in the middle
    lines = text.splitlines()
    middle = next(i for i, line in enumerate(lines) if "no data" in line)
    assert 3 <= middle <= 10
    assert "Refunds" in text


async def test_chart_shows_its_error():
    # Given a chart whose query failed
    app = Host(ChartPanel(ERROR_CHART))
    async with app.run_test(size=(60, 14)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    # Then the reason is shown
    assert "⚠ error: no such metric: latency_ms" in text


async def test_chart_draws_series_legend_and_time_axis():
    # Given the revenue chart split by plan, one plan named `[/]`
    panel = ChartPanel(REVENUE_CHART)
    app = Host(panel)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        raw_escape = screen_has_raw_escape(app)
    # Then the legend names every series literally and the reference lines
    assert "pro" in text and "team" in text and MARKUP_LABEL in text
    assert "target 50K" in text and "crit 45K" in text
    # And the time axis is labelled with dates, the y axis with short numbers
    assert "Nov 24" in text
    assert "40K" in text
    assert panel.replots == 1
    assert not raw_escape


async def test_chart_replots_only_when_data_changed():
    # Given a chart on screen
    panel = ChartPanel(SIGNUPS_CHART)
    app = Host(panel)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        await pilot.pause()
        first = panel.replots
        # When an equal view, then a retitled one arrive
        panel.update_view(msgspec.structs.replace(SIGNUPS_CHART))
        panel.update_view(msgspec.structs.replace(SIGNUPS_CHART, title="Signups per day"))
        await pilot.pause()
        # Then the chart was not redrawn, but the title changed
        assert panel.replots == first
        assert "Signups per day" in screen_text(app)
        # When a point is added
        points = (*SIGNUPS_CHART.series[0].points, (AS_OF + 86400, 250.0))
        panel.update_view(
            msgspec.structs.replace(SIGNUPS_CHART, series=(ChartSeries("signups", points),))
        )
        await pilot.pause()
        # Then it is redrawn once
        assert panel.replots == first + 1


async def test_chart_title_markup_is_literal():
    # Given a chart titled with markup
    app = Host(ChartPanel(SIGNUPS_CHART))
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    # Then the title reads as typed
    assert f"Signups {MARKUP_TITLE}" in text


async def test_chart_enter_posts_drill_down():
    # Given a focused chart
    panel = ChartPanel(SIGNUPS_CHART, compact=True)
    app = Host(panel)
    async with app.run_test(size=(60, 16)) as pilot:
        panel.focus()
        # When Enter is pressed
        await pilot.press("enter")
        await pilot.pause()
        legend_shown = panel.query_one("#legend").display
    # Then the app is asked to open it (and a compact chart has no legend line)
    assert not legend_shown
    assert [(type(m), m.chart_id) for m in app.messages] == [
        (ChartPanel.DrillDown, "signups_daily")
    ]


async def test_chart_without_colour_uses_the_clear_theme(monkeypatch):
    # Given NO_COLOR in the environment
    monkeypatch.setenv("NO_COLOR", "1")
    panel = ChartPanel(REVENUE_CHART)
    app = Host(panel)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        await pilot.pause()
        # Then the plot is drawn without colours, once
        assert app.no_color
        assert panel.query_one(PlotextPlot).theme == "clear"
        assert built_with(panel)[2] == "clear"
        assert panel.replots == 1
        # And the series differ by their marker: the second plan's are dots
        assert "•" in screen_text(app)


# -- building the plot only when it is painted and changed -------------------------------

BRAILLE = range(0x2801, 0x2900)  # the series' line, not the empty braille cell


def plot_region_text(app: Host, panel: ChartPanel) -> str:
    region = panel.query_one(ChartCanvas).region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


def built_with(panel: ChartPanel) -> tuple[object, ...]:
    """(width, height, theme, compact) the kept picture was built for."""
    key = panel.query_one(ChartCanvas)._built_key
    assert key is not None
    width, height, _data, theme, compact = key
    return width, height, theme, compact


async def test_first_paint_builds_the_chart_once_at_its_final_size():
    # Given a chart panel mounted in a 100×24 terminal
    panel = ChartPanel(SIGNUPS_CHART)
    app = Host(panel)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        canvas = panel.query_one(ChartCanvas)
        # Then plotext built it exactly once, at the size it is painted at (no empty
        # first frame replaced by a real one)
        assert panel.replots == 1
        assert built_with(panel)[:2] == (canvas.size.width, canvas.size.height)
        # And the screen shows the series line and its ticks
        plot = plot_region_text(app, panel)
        assert any(ord(ch) in BRAILLE for ch in plot)
        assert "Nov 24" in plot and "target" in plot


async def test_resizing_the_terminal_rebuilds_once_at_the_new_size():
    # Given a chart built at 80×20
    panel = ChartPanel(REVENUE_CHART)
    app = Host(panel)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        assert panel.replots == 1
        # When the terminal grows to 120×30
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        await pilot.pause()
        canvas = panel.query_one(ChartCanvas)
        # Then it was built once more, at the new size (less the border and legend)
        assert panel.replots == 2
        assert (canvas.size.width, canvas.size.height) == (118, 27)
        assert built_with(panel)[:2] == (118, 27)


async def test_a_refresh_that_changes_nothing_plotted_builds_nothing():
    # Given a chart on screen, built once
    panel = ChartPanel(SIGNUPS_CHART)
    app = Host(panel)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        assert panel.replots == 1
        # When an equal view arrives, then one differing only in its title, and the
        # panel and its plot are repainted
        panel.update_view(msgspec.structs.replace(SIGNUPS_CHART))
        panel.update_view(msgspec.structs.replace(SIGNUPS_CHART, title="Daily signups"))
        panel.refresh()
        panel.query_one(ChartCanvas).refresh()
        await pilot.pause()
        await pilot.pause()
        # Then nothing was built again, yet the new title shows
        assert panel.replots == 1
        assert "Daily signups" in screen_text(app)


async def test_compact_rebuilds_once_without_reference_names():
    # Given a chart with its target named on the plot
    panel = ChartPanel(SIGNUPS_CHART)
    app = Host(panel)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        assert "target" in plot_region_text(app, panel)
        # When it becomes compact (no legend line: the plot also grows a line)
        panel.compact = True
        await pilot.pause()
        await pilot.pause()
        # Then it was built once more, compact, at its new size
        assert panel.replots == 2
        assert built_with(panel)[3] is True
        assert "target" not in plot_region_text(app, panel)


async def test_a_theme_change_rebuilds_once_on_the_new_canvas_colour():
    # Given a chart drawn in the dark theme
    panel = ChartPanel(REVENUE_CHART)
    app = Host(panel)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        assert panel.replots == 1
        # When the app switches to the light theme
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        # Then the plot was built once more, with the light theme's plotext theme
        assert panel.replots == 2
        assert built_with(panel)[2] == "textual-auto-textual-light"
        # And the reference names sit on the light surface colour
        canvas = panel.query_one(ChartCanvas)
        surface = app.theme_variables["surface"].lower()
        backgrounds = {
            span.style.background.hex.lower()
            for span in canvas._built.spans
            if span.style.background is not None
        }
        assert backgrounds == {surface}
        # And the legend names the series in the light theme's text colour
        legend = panel.query_one("#legend", Static).content
        assert isinstance(legend, Text)
        name_colour = next(
            span.style.color.triplet.hex
            for span in legend.spans
            if legend.plain[span.start : span.end] == "pro"
        )
        assert name_colour == app.theme_variables["foreground"].lower()


async def test_values_too_large_to_plot_say_so_instead_of_crashing():
    # Given a series near the float limit (plotext's scale overflows on it)
    view = msgspec.structs.replace(
        REVENUE_CHART,
        series=(ChartSeries("pro", ((AS_OF - 86400, 1e308), (AS_OF, 1.7e308))),),
        ref_lines=(),
        y_min=None,
    )
    panel = ChartPanel(view)
    app = Host(panel)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        # Then the panel says why there is no line, and the app lives on
        assert "values too large to plot" in screen_text(app)


async def test_a_span_beyond_the_float_range_says_so_instead_of_crashing():
    # Given a series from -1e308 to 1e308: each value finite, their span not
    view = msgspec.structs.replace(
        REVENUE_CHART,
        series=(ChartSeries("pro", ((AS_OF - 86400, -1e308), (AS_OF, 1e308))),),
        ref_lines=(),
        y_min=None,
    )
    app = Host(ChartPanel(view))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert "values too large to plot" in screen_text(app)


async def test_new_data_with_the_same_legend_does_not_redo_the_legend(monkeypatch):
    # Given a chart on screen
    panel = ChartPanel(REVENUE_CHART)
    app = Host(panel)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        updates: list[object] = []
        for widget_id in ("#legend", "#message"):
            widget = panel.query_one(widget_id)
            monkeypatch.setattr(widget, "update", lambda *a, **k: updates.append(a))
        # When only the points move (same series, same reference lines)
        series = tuple(
            ChartSeries(s.name, tuple((ts, v + 1) for ts, v in s.points))
            for s in REVENUE_CHART.series
        )
        panel.update_view(msgspec.structs.replace(REVENUE_CHART, series=series))
        await pilot.pause()
        # Then the legend and message were left alone (an update lays the screen out)
        assert updates == []
        assert panel.replots == 2
