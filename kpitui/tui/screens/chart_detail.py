"""The chart drill-down (SPEC §4: Enter on a chart): the board's chart, full size.

It presents the board's own `ChartView` — the same series (a split chart keeps a line
per label value), reference lines and window as the panel — at the size of the
terminal, under a line naming the window, bucket and series, and follows every new
board. A chart on one metric that a KPI reads also opens that KPI's detail (`k`).
Nothing is queried here: the board already holds the chart.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from kpitui.engine.board import Board, ChartView, KpiView
from kpitui.tui.screens.detail_base import empty_chart
from kpitui.tui.text import safe_text, update_static
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.key_footer import KeyFooter


class ChartDetailScreen(Screen[None]):
    """One chart of the board at full size, opened with Enter on its panel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="chart_detail.back", tooltip="Back to where you were"),
        Binding(
            "k",
            "kpi_detail",
            "KPI detail",
            id="chart_detail.kpi_detail",
            tooltip="Open the detail of the KPI on this chart's metric",
        ),
    ]

    HELP_TITLE: ClassVar[str] = "Chart detail"

    DEFAULT_CSS = """
    ChartDetailScreen {
        #cd-head { height: 1; background: $panel; padding: 0 1; }
        #cd-name { width: 1fr; min-width: 20; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis; }
        #cd-kpi { width: auto; max-width: 50%; margin-left: 2; color: $foreground-muted;
                  text-wrap: nowrap; text-overflow: ellipsis; }
        #cd-sub { height: 1; padding: 0 1; color: $foreground-muted;
                  text-wrap: nowrap; text-overflow: ellipsis; }
        #cd-problem { display: none; height: auto; padding: 0 1; color: $text-error; }
        #cd-chart { height: 1fr; }
    }
    """

    def __init__(self, chart_id: str) -> None:
        super().__init__()
        self.chart_id = chart_id
        """The id of the chart shown."""
        self.view: ChartView | None = None
        """The chart on screen; None until a board holding it was shown."""
        self.kpi: KpiView | None = None
        """The KPI `k` opens, or None (the key is then off)."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="cd-head"):
            yield Static(id="cd-name", markup=False)
            yield Static(id="cd-kpi", markup=False)
        yield Static(id="cd-sub", markup=False)
        yield Static(id="cd-problem", markup=False)
        chart = ChartPanel(empty_chart(self.chart_id, self.chart_id), id="cd-chart")
        chart.can_focus = False  # nothing to do in it; Enter must not drill again
        yield chart
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_board(getattr(self.app, "board", None))

    def on_kpitui_app_board_refreshed(self, message: Message) -> None:
        self.show_board(message.board)  # type: ignore[attr-defined]

    def on_chart_panel_drill_down(self, message: Message) -> None:
        message.stop()  # already full size

    # -- presenting ------------------------------------------------------------------

    def show_board(self, board: Board | None) -> None:
        """Show this chart as `board` has it; keep the last one if the board lost it."""
        view = board.chart(self.chart_id) if board is not None else None
        problem = self.query_one("#cd-problem", Static)
        problem.display = view is None
        if view is None:
            update_static(
                problem,
                Text("⚠ This chart is no longer on the board (the spec changed).", end=""),
            )
            return
        kpi = board.kpi(view.kpi_id) if board is not None and view.kpi_id else None
        had_kpi, self.kpi = self.kpi, kpi
        if (kpi is None) != (had_kpi is None):
            self.refresh_bindings()  # `k` (open the KPI) comes and goes with it
        # The KPI a spec edit gave or took stays named even when the chart's data did
        # not change (update_static repaints only a changed text).
        update_static(
            self.query_one("#cd-kpi", Static),
            safe_text(f"KPI: {kpi.title}") if kpi is not None else Text(""),
        )
        if view == self.view:
            return
        self.view = view
        with self.app.batch_update():
            update_static(self.query_one("#cd-name", Static), safe_text(f"Chart · {view.title}"))
            update_static(self.query_one("#cd-sub", Static), self._about(view))
            self.query_one("#cd-chart", ChartPanel).update_view(view)

    @staticmethod
    def _about(view: ChartView) -> Text:
        """`180d window · 7d buckets · last per bucket · by plan: enterprise, pro`."""
        line = Text(end="", no_wrap=True)
        parts = []
        if view.window:
            parts.append(f"{view.window} window")
        parts.append(f"{view.bucket_label} buckets")
        parts.append(f"{view.agg} per bucket")
        line.append(" · ".join(parts))
        names = [series.name for series in view.series]
        if names:
            split_by = view.split_by
            line.append(f" · by {split_by}: " if split_by else " · series: ")
            line.append_text(safe_text(", ".join(names)))
        if view.ref_lines:
            line.append(" · lines: " + ", ".join(ref.name for ref in view.ref_lines))
        return line

    # -- actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "kpi_detail":
            return self.kpi is not None  # off, and out of the footer, without a KPI
        return True

    def action_kpi_detail(self) -> None:
        if self.kpi is not None:
            self.app.open_kpi_detail(self.kpi.id)

    def action_back(self) -> None:
        self.app.pop_screen()
