"""The key-result and objective drill-down (SPEC §4): progress over the period against
the expected-progress line, the numbers behind it, the check-ins, the metric's chart
(metric-bound key results) or the children (objectives, Enter drills further).

It presents a `KrDetail` (kpitui.engine.detail) loaded in a thread worker, exactly like
the KPI detail screen, whose plumbing it shares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from kpitui.engine.detail import KrDetail, kr_detail
from kpitui.engine.forecast_view import KrForecast, ObjectiveForecastView
from kpitui.tui.screens.detail_base import (
    DetailBody,
    DetailChart,
    DetailScreen,
    DetailTable,
    empty_chart,
    progress_text,
    sync_table,
)
from kpitui.tui.text import safe_text, update_static
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.key_footer import KeyFooter
from kpitui.tui.widgets.mark_list import MarkListView


class KrDetailScreen(DetailScreen):
    """The detail of one key result or objective, opened with Enter on its tree node."""

    HELP_TITLE: ClassVar[str] = "Key result / objective detail"
    HELP_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("⏎ on a child", "Open that key result's or child objective's detail"),
        ("↑ / ↓, tab", "Move in a table, and between the charts and the tables"),
        ("pgup / pgdn", "Page through a table, then scroll the screen"),
        ("home / end", "Scroll to the top / bottom of the screen"),
    ]
    """Keys the help screen lists beside the bindings: Enter and the arrows are the
    tables' and charts' own, paging and home/end the scrolling body's."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "m",
            "next_mark",
            "Mark",
            id="kr_detail.next_mark",
            tooltip="Jump to the next annotation or check-in note of the period: drawn apart"
            " on the charts, marked ▸ in the list",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"kr-detail--heading", "kr-detail--muted"}
    """
    | Class | Description |
    | :- | :- |
    | `kr-detail--heading` | Names in the facts block. |
    | `kr-detail--muted` | Secondary words. |
    """

    DEFAULT_CSS = """
    KrDetailScreen {
        & > .kr-detail--heading { text-style: bold; color: $text-primary; }
        & > .kr-detail--muted { color: $foreground-muted; }

        #kr-head { height: 1; background: $panel; padding: 0 1; }
        #kr-name { width: 1fr; min-width: 20; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis; }
        #kr-status { width: auto; margin-left: 2; text-style: bold; }
        #kr-progress { width: auto; margin-left: 2; text-style: bold; }
        #kr-gap { width: auto; margin-left: 2; }
        #kr-status.-status-achieved { color: $text-success; }
        #kr-status.-status-on_track { color: $text-success; }
        #kr-status.-status-at_risk { color: $text-warning; }
        #kr-status.-status-off_track { color: $text-error; }
        #kr-status.-status-missed { color: $text-error; text-style: bold reverse; }
        #kr-status.-status-not_started { color: $foreground-muted; }
        #kr-sub { height: 1; padding: 0 1; color: $foreground-muted;
                  text-wrap: nowrap; text-overflow: ellipsis; }
        #detail-problem { display: none; height: auto; padding: 0 1; color: $text-error; }
        #kr-body { height: 1fr; scrollbar-size-vertical: 1; }
        #kr-history { height: 50vh; min-height: 9; }
        #kr-metric { height: 40vh; min-height: 8; display: none; }
        &.-metric #kr-metric { display: block; }
        #kr-info { height: auto; }
        #kr-facts { width: 1fr; min-width: 30; height: auto; padding: 0 1; }
        #kr-about { width: 1fr; height: auto; padding: 0 1; }
        .kr-heading { height: 1; padding: 0 1; margin-top: 1; text-style: bold;
                      color: $text-primary;
                      text-wrap: nowrap; text-overflow: ellipsis; }
        DataTable { height: auto; max-height: 12; margin: 0 1; }
        DataTable:focus { background-tint: $foreground 4%; }
        #kr-no-checkins { height: 1; padding: 0 1; color: $foreground-muted; display: none; }
        &.-no-checkins #kr-no-checkins { display: block; }
        &.-no-checkins #kr-checkins { display: none; }
        #kr-children-heading, #kr-children { display: none; }
        &.-objective #kr-children-heading, &.-objective #kr-children { display: block; }
        &.-objective #kr-checkins-heading, &.-objective #kr-checkins,
        &.-objective #kr-no-checkins { display: none; }
    }
    """

    CHECKIN_COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("time", "Time"),
        ("value", "Value"),
        ("confidence", "Confidence"),
        ("note", "Note"),
    )
    CHILD_COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("kind", "Kind"),
        ("title", "Title"),
        ("progress", "Progress"),
        ("status", "Status"),
        ("owner", "Owner"),
    )

    def __init__(self, kind: Literal["kr", "objective"], node_id: str) -> None:
        super().__init__()
        self.kind = kind
        """`"kr"` or `"objective"`."""
        self.node_id = node_id
        """The key result's or objective's id."""
        self.mark: str | None = None
        """The key of the annotation (or check-in note) `m` jumped to; None: none."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="kr-head"):
            yield Static(id="kr-name", markup=False)
            yield Static(id="kr-status", markup=False)
            yield Static(id="kr-progress", markup=False)
            yield Static(id="kr-gap", markup=False)
        yield Static(id="kr-sub", markup=False)
        yield Static(id="detail-problem", markup=False)
        with DetailBody(id="kr-body"):
            yield DetailChart(
                empty_chart(f"history-{self.node_id}", "progress vs expected"),
                id="kr-history",
            )
            yield MarkListView(id="kr-marks")
            with Horizontal(id="kr-info"):
                yield Static(id="kr-facts", markup=False)
                yield Static(id="kr-about", markup=False)
            yield Static(
                "Key results and objectives (Enter opens)",
                id="kr-children-heading",
                classes="kr-heading",
                markup=False,
            )
            yield DetailTable(id="kr-children", cursor_type="row")
            yield DetailChart(empty_chart(f"kr-metric-{self.node_id}", "metric"), id="kr-metric")
            yield Static("Check-ins", id="kr-checkins-heading", classes="kr-heading", markup=False)
            yield Static("No check-ins yet.", id="kr-no-checkins", markup=False)
            yield DetailTable(id="kr-checkins", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_class(self.kind == "objective", "-objective")
        checkins = self.query_one("#kr-checkins", DataTable)
        for key, label in self.CHECKIN_COLUMNS:
            checkins.add_column(label, key=key)
        children = self.query_one("#kr-children", DataTable)
        for key, label in self.CHILD_COLUMNS:
            children.add_column(label, key=key)
        what = "Key result" if self.kind == "kr" else "Objective"
        update_static(self.query_one("#kr-name", Static), safe_text(f"{what} · {self.node_id}"))
        self.query_one("#kr-history", ChartPanel).loading = True

    # -- loading ---------------------------------------------------------------------

    def make_loader(self, spec: Any, as_of: int) -> Callable[[Any], Any]:
        kind, node_id = self.kind, self.node_id
        return lambda reader: kr_detail(spec, reader, kind, node_id, as_of)

    def show_error(self, error: str | None) -> None:
        super().show_error(error)
        if error is not None:
            self.query_one("#kr-history", ChartPanel).loading = False

    def show_detail(self, detail: KrDetail) -> None:
        history = self.query_one("#kr-history", ChartPanel)
        history.loading = False
        history.update_view(detail.history)
        self._show_head(detail)
        update_static(self.query_one("#kr-facts", Static), self._facts(detail))
        update_static(self.query_one("#kr-about", Static), self._about(detail))
        self.set_class(detail.metric_chart is not None, "-metric")
        if detail.metric_chart is not None:
            self.query_one("#kr-metric", ChartPanel).update_view(detail.metric_chart)
        self._show_checkins(detail)
        self._show_children(detail)
        if detail.marks.chosen(self.mark) is None:
            self.mark = None  # gone: deleted, or the period moved on
        self._show_marks()
        self.refresh_bindings()  # `m` comes and goes with marks to jump to
        self.place_focus()

    def _show_marks(self) -> None:
        detail = self.detail
        if detail is None:
            return
        for chart in self.query(ChartPanel):
            chart.chosen_mark = self.mark
        self.query_one("#kr-marks", MarkListView).show(detail.marks, self.mark, "m: next")

    # -- presenting ------------------------------------------------------------------

    def _style(self, name: str) -> Any:
        return self.get_component_rich_style(f"kr-detail--{name}", partial=True)

    def _show_head(self, detail: KrDetail) -> None:
        what = "Key result" if detail.kind == "kr" else "Objective"
        update_static(self.query_one("#kr-name", Static), safe_text(f"{what} · {detail.title}"))
        status = self.query_one("#kr-status", Static)
        status.set_classes(f"-status-{detail.status}")
        update_static(status, Text(detail.status_label, end=""))
        update_static(self.query_one("#kr-progress", Static), Text(detail.progress_display))
        update_static(self.query_one("#kr-gap", Static), Text(detail.gap_display))
        sub = Text(end="", no_wrap=True)
        if detail.owner:
            sub.append_text(safe_text(f"owner {detail.owner} · "))
        sub.append(detail.period_words)
        update_static(self.query_one("#kr-sub", Static), sub)

    def _facts(self, detail: KrDetail) -> Table:
        grid = Table.grid(padding=(0, 1))
        # The names keep their width; a long value (the forecast) wraps instead.
        grid.add_column(no_wrap=True, style=self._style("heading"), min_width=10)
        grid.add_column()
        kr = detail.kr
        if kr is not None:
            grid.add_row("Current", safe_text(kr.current_display))
            grid.add_row("Start", safe_text(kr.start_display))
            grid.add_row("Target", safe_text(kr.target_display))
        grid.add_row(
            "Progress", Text(f"{detail.progress_display} raw · {detail.counted_display} counted")
        )
        grid.add_row("Expected", detail.expected_display)
        grid.add_row("Gap", detail.gap_display)
        grid.add_row("Status", detail.status_label)
        if kr is not None and kr.confidence_label:
            grid.add_row("Confidence", safe_text(kr.confidence_label))
        forecast = detail.forecast
        if isinstance(forecast, KrForecast):
            if forecast.has_forecast:
                grid.add_row("Forecast", safe_text(f"{forecast.summary} · {forecast.status_label}"))
                grid.add_row("Pace", safe_text(forecast.pace_display))
            elif kr is not None and kr.kind != "milestone":
                grid.add_row(
                    "Forecast", safe_text(forecast.note or "none", style=self._style("muted"))
                )
        elif isinstance(forecast, ObjectiveForecastView):
            grid.add_row("Forecast", safe_text(forecast.words))
        return grid

    def _about(self, detail: KrDetail) -> Any:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style=self._style("heading"))
        grid.add_column()
        kr = detail.kr
        if kr is not None:
            grid.add_row("Kind", kr.kind_words)
            if kr.metric:
                grid.add_row("Metric", safe_text(kr.metric))
            else:
                grid.add_row("Measured", "by check-ins")
            if kr.checkin_due:
                grid.add_row("Check-in", Text("due", style="bold reverse"))
            elif kr.last_checkin_display is not None:
                grid.add_row("Last check-in", kr.last_checkin_display)
            grid.add_row("Weight", f"{kr.weight:g}")
            if kr.error:
                grid.add_row("Error", safe_text(kr.error))
        elif detail.objective is not None:
            objective = detail.objective
            grid.add_row("Key results", str(len(objective.key_results)))
            grid.add_row("Objectives", str(len(objective.children)))
            grid.add_row("Weight", f"{objective.weight:g}")
        if detail.error and (kr is None or detail.error != kr.error):
            grid.add_row("Error", safe_text(detail.error))
        return grid

    def _show_checkins(self, detail: KrDetail) -> None:
        self.set_class(not detail.checkins, "-no-checkins")
        rows = {}
        for checkin in detail.checkin_rows:
            confidence = safe_text(checkin.confidence_label or "—")
            value = safe_text(checkin.value_display)
            value.justify = "right"
            rows[str(checkin.ts)] = (
                Text(checkin.time_display, end=""),
                value,
                confidence,
                safe_text(checkin.note),
            )
        table = self.query_one("#kr-checkins", DataTable)
        sync_table(table, rows, [key for key, _ in self.CHECKIN_COLUMNS])
        order = list(rows)
        if [row.key.value for row in table.ordered_rows] != order:
            # A check-in written between two others: keep the newest first.
            table.sort("time", reverse=True, key=lambda cell: cell.plain)

    def _show_children(self, detail: KrDetail) -> None:
        rows = {}
        for child in detail.children:
            status = Text("⚠ error" if child.error else child.status_label, end="")
            rows[f"{child.kind}:{child.id}"] = (
                Text(child.kind_label, end=""),
                safe_text(child.title),
                progress_text(child),
                status,
                safe_text(child.owner or ""),
            )
        sync_table(
            self.query_one("#kr-children", DataTable), rows, [key for key, _ in self.CHILD_COLUMNS]
        )

    # -- actions ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_mark":
            return self.detail is not None and bool(self.detail.marks.marks)
        return True

    def action_next_mark(self) -> None:
        """The next mark of the period (oldest to newest, then round): drawn apart on
        the charts, the progress chart brought into view, and marked in the list."""
        if self.detail is None:
            return
        self.mark = self.detail.marks.next_key(self.mark)
        self._show_marks()
        self.query_one("#kr-history", ChartPanel).scroll_visible(animate=False)

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        if message.data_table.id != "kr-children":
            return
        kind, _, node_id = (message.row_key.value or "").partition(":")
        self.app.open_kr_detail(kind, node_id)
