"""A chart panel: a plotext line chart of one `ChartView`.

One line per series, the KPI's target and thresholds as labelled horizontal lines, and a
time axis labelled in the dashboard's timezone. The plot itself is a `ChartCanvas`: it is
built when first painted, at its real size, and rebuilt only when the plotted data, its
size, the theme or compactness changed — never on a refresh that changed nothing.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from kpitui.engine.annotations import MARK_GLYPH
from kpitui.engine.board import ChartView
from kpitui.tui.text import safe_text, update_static
from kpitui.tui.widgets.chart_canvas import (
    COMPARISON_MARKER,
    DASHED_MARKER,
    LEGEND_MARKS,
    SERIES_COLORS,
    ChartCanvas,
    dimmed,
    has_points,
    no_color_wanted,
)

REF_MARKS: dict[str, str] = {"target": "═", "warn": "┄", "crit": "━"}


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
        Binding(
            "c",
            "toggle_comparison",
            "Compare",
            id="chart_panel.compare",
            tooltip="Show or hide the comparison line (the same series over an earlier span)",
        ),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Open the chart's detail screen (posts `ChartPanel.DrillDown`). |
    | c | Show or hide the comparison lines (`comparison`). |
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

    comparison: reactive[bool] = reactive(False)
    """Whether the comparison lines (dotted, dimmer, named in the legend) are drawn."""

    chosen_mark: reactive[str | None] = reactive(None)
    """The key of the annotation a detail's `m` chose: drawn with a heavier rule, and
    named in the legend; None: every mark alike."""

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
        id: str | None = None,
        compact: bool = False,
        name: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, name=name, classes=classes)
        self.view = view
        """The chart shown (read it; change it with `update_view`)."""
        self.set_reactive(ChartPanel.compact, compact)
        self.set_class(compact, "-compact")
        self._canvas: ChartCanvas | None = None

    @property
    def replots(self) -> int:
        """How many times plotext built the chart (tests and benchmarks read it)."""
        return self._canvas.builds if self._canvas is not None else 0

    def compose(self) -> ComposeResult:
        yield Static(id="legend", markup=False)
        # The canvas builds the chart when it is painted, at its real size, and again
        # only when its size, data, theme or compactness changed: no replot here.
        self._canvas = ChartCanvas(
            self.view, compact=self.compact, comparison=self.comparison, id="plot"
        )
        yield self._canvas
        yield Static(id="message", markup=False)

    def on_mount(self) -> None:
        self._show_frame(self.view)
        if self._canvas is not None:  # the view may have changed since compose
            self._canvas.show(self.view, self.compact, None, self.chosen_mark)
        # The legend's colours come from the theme (the plot rebuilds itself). The
        # signal comes after the stylesheet was refreshed for the new theme.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_legend())

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")
        if self._canvas is not None:
            self._canvas.show(self.view, compact, None, self.chosen_mark)

    def watch_comparison(self, comparison: bool) -> None:
        if self._canvas is not None:
            self._canvas.show(self.view, self.compact, comparison, self.chosen_mark)
        if self.is_mounted:
            self._show_legend()

    def watch_chosen_mark(self, chosen: str | None) -> None:
        if self._canvas is not None:
            self._canvas.show(self.view, self.compact, None, chosen)
        if self.is_mounted:
            self._show_legend()

    # -- updates ---------------------------------------------------------------------

    def update_view(self, view: ChartView) -> None:
        """Show `view`; the chart is rebuilt only when its plotted data changed."""
        if view == self.view:
            return
        comparable = self.view.comparison_label is not None
        self.view = view
        if not self.is_mounted:
            return
        if comparable != (view.comparison_label is not None):
            self.refresh_bindings()  # `c` comes and goes with something to compare with
        self._show_frame(view)
        if self._canvas is not None:
            self._canvas.show(view, self.compact, None, self.chosen_mark)

    def _show_frame(self, view: ChartView) -> None:
        self.border_title = safe_text(view.title)
        self.set_class(view.error is not None, "-error")
        self.set_class(view.error is None and not has_points(view), "-empty")
        message = self.query_one("#message", Static)
        if view.error is not None:
            update_static(message, safe_text(f"⚠ error: {view.error}"))
        elif not has_points(view):
            update_static(message, Text("no data", end=""))
        self._show_legend()

    def _show_legend(self) -> None:
        update_static(self.query_one("#legend", Static), self._legend(self.view))

    def _legend(self, view: ChartView) -> Text:
        mono = no_color_wanted(self.app.no_color)
        legend = Text(end="", no_wrap=True)
        names = self.get_component_rich_style("chart-panel--legend", partial=True)
        for index, series in enumerate(view.series):
            if index:
                legend.append("  ")
            # The series' own marker, in its colour: told apart without colour too; a
            # projection dashed.
            mark = DASHED_MARKER * 2 if series.dashed else LEGEND_MARKS[index % len(LEGEND_MARKS)]
            if mono:
                legend.append(f"{mark} ")
            else:
                r, g, b = SERIES_COLORS[index % len(SERIES_COLORS)]
                legend.append(f"{mark} ", style=f"rgb({r},{g},{b})")
            legend.append_text(safe_text(series.name, style=names))
        if self.comparison:
            # One entry: each dotted line is its series' over the earlier span.
            legend.append("  ")
            if view.comparison_label and view.comparison:
                r, g, b = dimmed(SERIES_COLORS[0])
                legend.append(
                    f"{COMPARISON_MARKER * 2} ", style="" if mono else f"rgb({r},{g},{b})"
                )
                legend.append_text(safe_text(view.comparison_label, style=names))
            else:
                legend.append("(nothing to compare with)")
        marks = view.marks_legend_for(self.chosen_mark)
        if marks is not None:
            rule, words = marks
            chosen = rule != MARK_GLYPH
            legend.append(f"  {rule} ", style="bold" if chosen else "")
            legend.append_text(safe_text(words, style="bold" if chosen else names))
        for ref, label in view.ref_labels:
            style = self.get_component_rich_style(f"chart-panel--ref-{ref.name}", partial=True)
            if legend:
                legend.append("  ")
            legend.append(f"{REF_MARKS.get(ref.name, '─') * 2} {ref.name} ", style=style)
            legend.append(label, style=style)
        return legend

    # -- actions ---------------------------------------------------------------------

    def action_drill_down(self) -> None:
        self.post_message(self.DrillDown(self, self.view.id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_comparison":
            # A chart with nothing to compare with leaves `c` to the screen (the KPI
            # detail's "clear filter") and out of the footer.
            return self.view.comparison_label is not None
        return True

    def action_toggle_comparison(self) -> None:
        self.comparison = not self.comparison
