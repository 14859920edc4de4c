"""A chart panel: a plotext line chart of one `ChartView`.

One line per series, the KPI's target and thresholds as labelled horizontal lines, and a
time axis labelled in the dashboard's timezone. The chart is replotted only when the
view's data changed (or the panel was resized), never on a refresh that changed nothing.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static
from textual_plotext import PlotextPlot

from kpitui.engine.board import ChartView
from kpitui.tui.text import safe_text

# Line colours (RGB) for the series, distinct on dark and light themes.
SERIES_COLORS: tuple[tuple[int, int, int], ...] = (
    (0, 150, 230),
    (240, 150, 40),
    (170, 90, 220),
    (40, 190, 190),
    (230, 90, 170),
    (150, 150, 150),
)
# Without colour, series differ by their marker instead.
MONO_MARKERS: tuple[str, ...] = ("braille", "•", "x", "+", "o", "*")
REF_COLORS: dict[str, tuple[int, int, int]] = {
    "target": (60, 180, 75),
    "warn": (230, 190, 20),
    "crit": (230, 40, 60),
}
REF_MARKS: dict[str, str] = {"target": "═", "warn": "┄", "crit": "━"}


def no_color_wanted(app_no_color: bool) -> bool:
    """True when colours are off: the app saw NO_COLOR, or the environment says so now."""
    return app_no_color or "NO_COLOR" in os.environ


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """About `count` round tick values (1, 2, 5 × 10^k steps) covering lo..hi."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def axis_label(value: float, fmt: str) -> str:
    """A short tick label in the chart's format: `12K`, `2.1%`, `2h`."""
    if fmt == "percent":
        shown = value * 100
        return f"{shown:.0f}%" if abs(shown - round(shown)) < 1e-9 else f"{shown:.1f}%"
    if fmt == "duration":
        seconds = abs(value)
        sign = "-" if value < 0 else ""
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds >= size:
                return f"{sign}{seconds / size:.3g}{unit}"
        return f"{sign}{seconds:.3g}s"
    magnitude = abs(value)
    for suffix, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if magnitude >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}" if magnitude < 1000 else f"{value:.0f}"


def time_ticks(lo: int, hi: int, count: int, tz: tzinfo) -> tuple[list[int], list[str]]:
    """Evenly spread x ticks over lo..hi, labelled in `tz` with a resolution fit to the span."""
    span = hi - lo
    if span <= 2 * 86400:
        form = "%H:%M"
    elif span <= 300 * 86400:
        form = "%b %d"
    else:
        form = "%Y-%m"
    if span <= 0 or count < 2:
        return [lo], [datetime.fromtimestamp(lo, tz).strftime(form)]
    positions = [round(lo + span * i / (count - 1)) for i in range(count)]
    labels = [datetime.fromtimestamp(p, tz).strftime(form) for p in positions]
    return positions, labels


def has_points(view: ChartView) -> bool:
    return any(series.points for series in view.series)


def _plot_data(view: ChartView) -> tuple[object, ...]:
    """What the plot is drawn from: a change here, and only here, replots."""
    return (view.series, view.ref_lines, view.y_min, view.y_max, view.format, view.error)


class ChartPanel(Widget, can_focus=True):
    """A focusable panel with a line chart of one chart of the board."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "drill_down",
            "Details",
            id="chart_panel.drill_down",
            tooltip="Open this chart full size",
        ),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Open the chart's detail screen (posts `ChartPanel.DrillDown`). |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "chart-panel--legend",
        "chart-panel--ref-target",
        "chart-panel--ref-warn",
        "chart-panel--ref-crit",
    }
    """
    | Class | Description |
    | :- | :- |
    | `chart-panel--legend` | The series names in the legend line. |
    | `chart-panel--ref-target` | The target line's legend entry. |
    | `chart-panel--ref-warn` | The warn threshold's legend entry. |
    | `chart-panel--ref-crit` | The crit threshold's legend entry. |
    """

    DEFAULT_CSS = """
    ChartPanel {
        width: 1fr;
        height: 1fr;
        min-height: 8;
        border: round $foreground 25%;
        border-title-style: bold;
        border-title-color: $foreground;
        background: $surface;
        padding: 0;

        & > .chart-panel--legend { color: $foreground; }
        & > .chart-panel--ref-target { color: $text-success; }
        & > .chart-panel--ref-warn { color: $text-warning; }
        & > .chart-panel--ref-crit { color: $text-error; }

        #legend {
            height: 1;
            padding: 0 1;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        #plot { height: 1fr; }
        #message {
            display: none;
            height: 1fr;
            width: 1fr;
            content-align: center middle;
            text-align: center;
            color: $foreground-muted;
        }
        &.-empty #plot, &.-error #plot { display: none; }
        &.-empty #message, &.-error #message { display: block; }
        &.-error #message { color: $text-error; }
        &.-compact #legend { display: none; }

        &:focus {
            border: round $accent;
            background-tint: $foreground 4%;
            border-title-style: bold reverse;
        }
        &:focus:nocolor { border: double $foreground; }
    }
    """

    compact: reactive[bool] = reactive(False)
    """Small panel: no legend line, fewer ticks."""

    class DrillDown(Message):
        """Posted when Enter is pressed on a chart: open it full size.

        Handle with `on_chart_panel_drill_down`.
        """

        def __init__(self, panel: ChartPanel, chart_id: str) -> None:
            super().__init__()
            self.panel = panel
            """The panel that was drilled into."""
            self.chart_id = chart_id
            """The id of the chart to show full size."""

        @property
        def control(self) -> ChartPanel:
            return self.panel

    def __init__(
        self,
        view: ChartView,
        *,
        tz: tzinfo,
        id: str | None = None,
        compact: bool = False,
        name: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, name=name, classes=classes)
        self.view = view
        """The chart shown (read it; change it with `update_view`)."""
        self.tz = tz
        """The dashboard's timezone: the time axis is labelled in it."""
        self.set_reactive(ChartPanel.compact, compact)
        self.set_class(compact, "-compact")
        self._plotted_size: tuple[int, int] | None = None
        self.replots = 0
        """How many times the chart was drawn (tests and benchmarks read it)."""

    def compose(self) -> ComposeResult:
        yield Static(id="legend", markup=False)
        yield PlotextPlot(id="plot")
        yield Static(id="message", markup=False)

    def on_mount(self) -> None:
        self._show_frame(self.view)
        self.call_after_refresh(self._replot)
        # The reference-line names are drawn on the theme's canvas colour.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._replot())

    def on_resize(self) -> None:
        # Tick count and positions depend on the plot's size.
        self.call_after_refresh(self._replot_if_resized)

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")
        if self.is_mounted:
            self.call_after_refresh(self._replot)

    # -- updates ---------------------------------------------------------------------

    def update_view(self, view: ChartView) -> None:
        """Show `view`; the chart is replotted only when its data changed."""
        if view == self.view:
            return
        old, self.view = self.view, view
        if not self.is_mounted:
            return
        self._show_frame(view)
        if _plot_data(old) != _plot_data(view):
            self._replot()

    def _show_frame(self, view: ChartView) -> None:
        self.border_title = safe_text(view.title)
        self.set_class(view.error is not None, "-error")
        self.set_class(view.error is None and not has_points(view), "-empty")
        message = self.query_one("#message", Static)
        if view.error is not None:
            message.update(safe_text(f"⚠ error: {view.error}"))
        elif not has_points(view):
            message.update(Text("no data", end=""))
        self.query_one("#legend", Static).update(self._legend(view))

    def _legend(self, view: ChartView) -> Text:
        mono = no_color_wanted(self.app.no_color)
        legend = Text(end="", no_wrap=True)
        names = self.get_component_rich_style("chart-panel--legend", partial=True)
        for index, series in enumerate(view.series):
            if index:
                legend.append("  ")
            if mono:
                mark = "⣀⣀" if index == 0 else MONO_MARKERS[index % len(MONO_MARKERS)] * 2
                legend.append(f"{mark} ")
            else:
                r, g, b = SERIES_COLORS[index % len(SERIES_COLORS)]
                legend.append("━━ ", style=f"rgb({r},{g},{b})")
            legend.append_text(safe_text(series.name, style=names))
        for ref in view.ref_lines:
            style = self.get_component_rich_style(f"chart-panel--ref-{ref.name}", partial=True)
            if legend:
                legend.append("  ")
            legend.append(f"{REF_MARKS.get(ref.name, '─') * 2} {ref.name} ", style=style)
            legend.append(axis_label(ref.value, view.format), style=style)
        return legend

    # -- plotting --------------------------------------------------------------------

    def _replot_if_resized(self) -> None:
        plot = self.query_one("#plot", PlotextPlot)
        if (plot.size.width, plot.size.height) != self._plotted_size:
            self._replot()

    def _replot(self) -> None:
        view = self.view
        plot = self.query_one("#plot", PlotextPlot)
        width, height = plot.size.width, plot.size.height
        self._plotted_size = (width, height)
        if view.error is not None or not has_points(view) or width < 10 or height < 3:
            return
        mono = no_color_wanted(self.app.no_color)
        plot.theme = "clear" if mono else "auto"
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        # Draw with the theme the widget will render with, so text backgrounds match.
        plt.theme("clear" if mono else f"textual-auto-{self.app.theme}")
        xs = [ts for series in view.series for ts, _ in series.points]
        ys = [value for series in view.series for _, value in series.points]
        x_lo, x_hi = min(xs), max(xs)
        refs = [ref.value for ref in view.ref_lines]
        y_lo = view.y_min if view.y_min is not None else min([*ys, *refs])
        y_hi = view.y_max if view.y_max is not None else max([*ys, *refs])
        if y_hi <= y_lo:
            pad = abs(y_lo) * 0.1 or 1.0
            y_lo, y_hi = y_lo - pad, y_hi + pad
        else:
            pad = (y_hi - y_lo) * 0.05
            y_lo = y_lo if view.y_min is not None else y_lo - pad
            y_hi = y_hi if view.y_max is not None else y_hi + pad

        for index, series in enumerate(view.series):
            if not series.points:
                continue
            marker = MONO_MARKERS[index % len(MONO_MARKERS)] if mono else "braille"
            color = None if mono else SERIES_COLORS[index % len(SERIES_COLORS)]
            plt.plot(
                [ts for ts, _ in series.points],
                [value for _, value in series.points],
                marker=marker,
                color=color,
            )
        labelled_rows: list[int] = []
        canvas_rows = max(1, height - 3)  # less the frame and the time labels
        for ref in view.ref_lines:
            if not y_lo <= ref.value <= y_hi:
                continue
            color = None if mono else REF_COLORS.get(ref.name)
            plt.horizontal_line(ref.value, color=color)
            row = round((y_hi - ref.value) / (y_hi - y_lo) * (canvas_rows - 1))
            # Name the line at its right end, unless another name already sits there.
            if self.compact or width < 30 or any(abs(row - r) < 1 for r in labelled_rows):
                continue
            labelled_rows.append(row)
            plt.text(ref.name, x=x_hi, y=ref.value, alignment="right", color=color)

        plt.xlim(x_lo, x_hi if x_hi > x_lo else x_lo + 1)
        plt.ylim(y_lo, y_hi)
        x_count = max(2, min(8, width // (16 if self.compact else 12)))
        positions, labels = time_ticks(x_lo, x_hi, x_count, self.tz)
        plt.xticks(positions, labels)
        y_count = max(2, min(6, height // 3))
        y_ticks = [t for t in nice_ticks(y_lo, y_hi, y_count) if y_lo <= t <= y_hi]
        plt.yticks(y_ticks, [axis_label(t, view.format) for t in y_ticks])
        plt.frame(True)
        self.replots += 1
        plot.refresh()

    # -- actions ---------------------------------------------------------------------

    def action_drill_down(self) -> None:
        self.post_message(self.DrillDown(self, self.view.id))
