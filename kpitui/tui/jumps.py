"""Pages, drill-downs and jumps: the page keys, Enter on a panel, and the palette's
"Go to" / "Open".

A mixin of `KpituiApp`. Each page remembers its focused panel (1→2→1 comes back to
it), and a panel focused on a page just shown is scrolled into view once laid out.
The detail screens are imported when first opened, so the board starts without them.
"""

from __future__ import annotations

import time
from typing import Any

from textual.widget import Widget
from textual.widgets import ContentSwitcher

from kpitui.engine.board import Board
from kpitui.tui.text import safe_plain
from kpitui.tui.widgets.alerts_log import AlertsLog
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.kpi_card import KpiCard
from kpitui.tui.widgets.okr_tree import OkrTree

# How long a panel focused on a page just shown may wait for its layout. A time, not a
# number of refreshes: refreshes that lay nothing out can be many and quick.
LAYOUT_WAIT_SECONDS = 1.0


class BoardJumps:
    """Mixed into `KpituiApp` (an `App`)."""

    board: Board | None
    loaded: Any
    _page_index: int
    _dashboard: Any
    _page_focus: dict[int, str]

    def restore_alerts(self, page: Any) -> None: ...  # KpituiApp's

    # -- pages and the focused panel ----------------------------------------------------

    def action_page(self, number: int) -> None:
        pages = self._pages()
        if not 1 <= number <= len(pages):
            self.notify(f"There is no page {number}.", severity="warning", timeout=2)
            return
        self.show_page(number - 1)
        self.call_after_refresh(self._focus_remembered_panel)

    def focus_panel(self, widget: Widget) -> None:
        """Focus a panel of the board and scroll it into view.

        Both wait for a refresh that laid the panel out: a page just switched to (under
        a closing command palette, even for a few refreshes) has no layout yet, and
        Textual's own scroll-on-focus would measure the page as it was when hidden.
        """

        def focus_and_reveal(until: float) -> None:
            if not widget.is_attached or not widget.focusable:
                return
            self._dashboard.set_focus(widget, scroll_visible=False)
            if not widget.region and time.monotonic() < until:
                # Not laid out yet (the screen under a closing palette): after the next.
                self.call_after_refresh(focus_and_reveal, until)
                return
            widget.scroll_visible(animate=False)

        self.call_after_refresh(focus_and_reveal, time.monotonic() + LAYOUT_WAIT_SECONDS)

    def show_page(self, index: int) -> None:
        """Switch the board to page `index` (from 0), remembering the focused panel of
        the page it leaves."""
        page = self.current_page()
        if page is not None:
            panel = self._panel_containing(self._dashboard.focused, page.panel_widgets())
            if panel is not None and panel.id:
                self._page_focus[self._page_index] = panel.id
        if index == self._page_index:
            return
        self._page_index = index
        self.query_one("#pages", ContentSwitcher).current = f"page-{index}"
        shown = self.current_page()
        if shown is not None and not shown.built:
            shown.build()
            self.restore_alerts(shown)
        self._update_header()

    def _focus_remembered_panel(self) -> None:
        """Focus the panel the page had when it was left; the first card on a first visit."""
        page = self.current_page()
        remembered = self._page_focus.get(self._page_index)
        target = page.panel_widget(remembered) if page and remembered else None
        if target is not None and target.focusable:
            self.focus_panel(target)
        else:
            self._focus_first_panel()

    def _focus_first_panel(self) -> None:
        """Focus starts on the first KPI card of the page (else its first panel)."""
        page = self.current_page()
        if page is None:
            return
        panels = [w for w in page.panel_widgets() if w.focusable]
        cards = [w for w in panels if isinstance(w, KpiCard)]
        target = (cards or panels or [None])[0]
        if target is not None:
            target.focus()
            page.scroll_home(animate=False)

    # -- drill-downs ---------------------------------------------------------------------

    def open_kpi_detail(self, kpi_id: str) -> None:
        from kpitui.tui.screens.kpi_detail import KpiDetailScreen

        self.push_screen(KpiDetailScreen(kpi_id))

    def open_chart_detail(self, chart_id: str) -> None:
        from kpitui.tui.screens.chart_detail import ChartDetailScreen

        self.push_screen(ChartDetailScreen(chart_id))

    def open_kr_detail(self, kind: str, node_id: str) -> None:
        from kpitui.tui.screens.kr_detail import KrDetailScreen

        self.push_screen(KrDetailScreen(kind, node_id))

    def on_kpi_card_drill_down(self, message: KpiCard.DrillDown) -> None:
        self.open_kpi_detail(message.kpi_id)

    def on_okr_tree_drill_down(self, message: OkrTree.DrillDown) -> None:
        self.open_kr_detail(message.kind, message.node_id)

    def on_chart_panel_drill_down(self, message: ChartPanel.DrillDown) -> None:
        self.open_chart_detail(message.chart_id)

    def on_alerts_log_open(self, message: AlertsLog.Open) -> None:
        alert, board = message.alert, self.board
        if board is not None and alert.subject == "kpi" and board.kpi(alert.kpi_id):
            self.open_kpi_detail(alert.kpi_id)
        elif board is not None and alert.subject == "kr" and board.key_result(alert.kpi_id):
            self.open_kr_detail("kr", alert.kpi_id)
        else:
            self.notify(
                safe_plain(f"{alert.title} is not on this dashboard any more."),
                severity="warning",
                timeout=3,
            )

    def go_to(self, kind: str, panel_id: str) -> bool:
        """Show the page holding that panel and focus it (the palette's "Go to")."""
        located = self._locate(kind, panel_id)
        if located is None and kind == "objective" and self.board is not None:
            located = self._locate_objective_in_tree(panel_id)
        if located is None:
            self.notify("It is not on any page of this dashboard.", severity="warning", timeout=3)
            return False
        page_index, widget = located
        # "Go to" from a drill-down shows the board: the screens above it are closed.
        while len(self.screen_stack) > 1 and self.screen is not self._dashboard:
            self.pop_screen()
        self.show_page(page_index)
        if kind == "objective" and isinstance(widget, OkrTree):
            widget.reveal("objective", panel_id)
        self.focus_panel(widget)
        return True

    def _locate(self, kind: str, panel_id: str) -> tuple[int, Widget] | None:
        pages = self._pages()
        order = sorted(range(len(pages)), key=lambda i: i != self._page_index)
        for i in order:
            if not pages[i].holds(kind, panel_id):
                continue
            if not pages[i].built:
                pages[i].build()
                self.restore_alerts(pages[i])
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
