"""Drill-downs and jumps: Enter on a panel, and the palette's "Go to" / "Open".

A mixin of `KpituiApp`. The detail screens are imported when first opened, so the
board starts without loading them.
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget
from textual.widgets import ContentSwitcher

from kpitui.engine.board import Board
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.kpi_card import KpiCard
from kpitui.tui.widgets.okr_tree import OkrTree


class BoardJumps:
    """Mixed into `KpituiApp` (an `App`)."""

    board: Board | None
    loaded: Any
    _page_index: int

    def open_kpi_detail(self, kpi_id: str) -> None:
        from kpitui.tui.screens.kpi_detail import KpiDetailScreen

        self.push_screen(KpiDetailScreen(kpi_id))

    def open_kr_detail(self, kind: str, node_id: str) -> None:
        from kpitui.tui.screens.kr_detail import KrDetailScreen

        self.push_screen(KrDetailScreen(kind, node_id))

    def on_kpi_card_drill_down(self, message: KpiCard.DrillDown) -> None:
        self.open_kpi_detail(message.kpi_id)

    def on_okr_tree_drill_down(self, message: OkrTree.DrillDown) -> None:
        self.open_kr_detail(message.kind, message.node_id)

    def on_chart_panel_drill_down(self, message: ChartPanel.DrillDown) -> None:
        # A chart's detail is the detail of the KPI on its first metric that has one.
        chart = next((c for c in self.loaded.dashboard.charts if c.id == message.chart_id), None)
        kpi = None
        if chart is not None:
            kpi = next(
                (k for m in chart.metrics for k in self.loaded.dashboard.kpis if k.metric == m),
                None,
            )
        if kpi is None:
            self.notify("This chart has no KPI to drill into.", timeout=3)
        else:
            self.open_kpi_detail(kpi.id)

    def go_to(self, kind: str, panel_id: str) -> bool:
        """Show the page holding that panel and focus it (the palette's "Go to")."""
        located = self._locate(kind, panel_id)
        if located is None and kind == "objective" and self.board is not None:
            located = self._locate_objective_in_tree(panel_id)
        if located is None:
            self.notify("It is not on any page of this dashboard.", severity="warning", timeout=3)
            return False
        page_index, widget = located
        if page_index != self._page_index:
            self._page_index = page_index
            self.query_one("#pages", ContentSwitcher).current = f"page-{page_index}"
            self._update_header()
        if kind == "objective" and isinstance(widget, OkrTree):
            node = widget.node_for("objective", panel_id)
            if node is not None:
                ancestor = node.parent
                while ancestor is not None and not ancestor.is_root:
                    ancestor.expand()
                    ancestor = ancestor.parent
                self.call_after_refresh(widget.move_cursor, node)
        self.call_after_refresh(widget.focus)
        return True

    def _locate(self, kind: str, panel_id: str) -> tuple[int, Widget] | None:
        pages = self._pages()
        order = sorted(range(len(pages)), key=lambda i: i != self._page_index)
        for i in order:
            widgets = pages[i].widgets_for(kind, panel_id)
            if widgets:
                return i, widgets[0]
        return None

    def _locate_objective_in_tree(self, objective_id: str) -> tuple[int, Widget] | None:
        # An objective without its own panel lives in an ancestor's tree or the okrs tree.
        assert self.board is not None
        for ancestor in _ancestors(self.board, objective_id):
            found = self._locate("objective", ancestor)
            if found:
                return found
        return self._locate("okrs", "okrs")


def _ancestors(board: Board, objective_id: str) -> list[str]:
    """Ids of the objectives above `objective_id`, nearest first."""

    def walk(objectives: tuple, trail: list[str]) -> list[str] | None:
        for objective in objectives:
            if objective.id == objective_id:
                return trail
            found = walk(objective.children, [objective.id, *trail])
            if found is not None:
                return found
        return None

    return walk(board.okrs, []) or []
