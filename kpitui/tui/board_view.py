"""One page of the board: rows of panels in a grid that reflows with the terminal width.

Each row of the spec's layout is a grid whose column count follows the width, except that
consecutive rows holding only KPI cards are one grid: their cards flow into the columns
that fit (rows of 3 and 4 cards are 2 a row at 80 columns, so no row but the last is
left half empty). Tab order — the order the panels were composed, rows left to right,
top to bottom — stays the layout order.
A refresh hands every panel its new view in place (`update_view`), and only when that
view differs from the one it shows: nothing is recomposed, nothing redrawn for nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Container, VerticalScroll
from textual.widget import Widget

from kpitui.engine.board import Board, PageView, Panel
from kpitui.tui.widgets.alerts_log import AlertsLog
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.kpi_card import KpiCard
from kpitui.tui.widgets.okr_tree import OkrTree

# The narrowest each kind of panel is still readable at: a row gets as many columns as
# fit its widest-needing panel.
MIN_PANEL_WIDTH: dict[str, int] = {
    "kpi": 30,
    "chart": 56,
    "objective": 56,
    "okrs": 56,
    "alerts": 44,
}

# Panels that grow into the lines a page leaves unused (a KPI card or a tree would
# only gain blank lines).
STRETCH_CLASSES = ("-chart", "-alerts")
DESCRIPTION_RESERVE = 4

GUTTER = 1  # cells between two panels of a row (`grid-gutter` below)

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def panel_dom_id(page_index: int, panel: Panel) -> str:
    """A Textual id for a panel: ids from the spec may hold `.` or `:` (metric names),
    which Textual ids may not, so they are cleaned and made unique with a short hash."""
    clean = _UNSAFE_ID.sub("_", panel.id)
    if clean != panel.id:
        clean += "-" + hashlib.sha1(panel.id.encode()).hexdigest()[:6]
    return f"p{page_index}-{panel.kind}-{clean}"


def row_columns(kinds: list[str], width: int, most: int | None = None) -> int:
    """How many panels of a row sit side by side in `width` cells (at least 1), with a
    one-cell gutter between them: a row of four KPIs is 2 a row at 80, 4 at 160. `most`
    caps it (a grid of KPI rows is never wider than its longest layout row)."""
    need = max((MIN_PANEL_WIDTH.get(k, 40) for k in kinds), default=40)
    most = len(kinds) if most is None else most
    return max(1, min(most, (width + GUTTER) // (need + GUTTER)))


def row_groups(rows: Sequence[tuple[Panel, ...]]) -> list[list[tuple[Panel, ...]]]:
    """The layout rows grouped into grids: a run of consecutive rows that hold only KPI
    cards is one group (its cards flow together); any other row is a group of its own."""
    groups: list[list[tuple[Panel, ...]]] = []
    for row in rows:
        if not row:
            continue
        kpis_only = all(panel.kind == "kpi" for panel in row)
        if kpis_only and groups and all(p.kind == "kpi" for p in groups[-1][-1]):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def page_title(page: PageView, index: int) -> str:
    return page.title or f"Page {index + 1}"


class PanelRow(Container):
    """A grid of panels: one row of the layout, or a run of KPI-only rows flowing as one.

    A panel in `spanning` takes a grid row of its own, whatever the columns: the North
    Star when the layout gives it a row to itself stays first and largest.
    """

    DEFAULT_CSS = """
    PanelRow {
        layout: grid;
        grid-size: 1;
        grid-gutter: 0 1;
        grid-rows: auto;
        height: auto;
    }
    """

    def __init__(
        self,
        kinds: list[str],
        *children: Widget,
        most: int | None = None,
        spanning: Sequence[Widget] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(*children, id=id)
        self.kinds = kinds
        self.most = len(kinds) if most is None else most
        self.spanning = tuple(spanning)
        self.add_class("-kpis" if set(kinds) == {"kpi"} else "-mixed", update=False)
        self._columns: int | None = None

    def on_mount(self) -> None:
        # Inline styles set before mounting do not survive it: a row reflowed while
        # composed takes its columns now, before its first layout.
        if self._columns is not None:
            self._apply_columns(self._columns)

    def reflow(self, width: int) -> None:
        columns = row_columns(self.kinds, width, self.most)
        self._columns = columns
        if self.is_mounted:
            self._apply_columns(columns)

    def _apply_columns(self, columns: int) -> None:
        if self.styles.grid_size_columns != columns:
            self.styles.grid_size_columns = columns
        for widget in self.spanning:
            if widget.styles.column_span != columns:
                widget.styles.column_span = columns
        for line in self.grid_lines():
            beside = any(widget.has_class("-chart") for widget in line)
            for widget in line:
                if widget.has_class("-alerts"):
                    widget.set_class(beside, "-beside-chart")

    def grid_lines(self) -> list[list[Widget]]:
        """The panels by the grid line they sit on (a row of the layout holding a chart
        spans no cell, so each line holds `columns` panels but the last)."""
        columns = self._columns or 1
        children = list(self.children)
        return [children[i : i + columns] for i in range(0, len(children), columns)]


class BoardPage(VerticalScroll, can_focus=False, inherit_bindings=False):
    """A page: the layout's rows, scrolling vertically when they do not fit.

    The arrow keys are not the page's: they move focus between panels (the app's
    bindings), and focusing a panel scrolls it into view. Page up/down still scroll.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "page_up", "Scroll up", show=False, id="board_page.page_up"),
        Binding("pagedown", "page_down", "Scroll down", show=False, id="board_page.page_down"),
    ]

    def __init__(
        self,
        page: PageView,
        page_index: int,
        board: Board,
        *,
        id: str,
        built: bool = True,
    ) -> None:
        self.page = page
        self.page_index = page_index
        # dom id -> (panel, the view it shows) so a refresh updates only what changed,
        # and dom id -> its widget (a panel just built is not in the DOM until its row
        # has mounted, so it is not found by a query yet).
        self._shown: dict[str, tuple[Panel, object]] = {}
        self._widgets: dict[str, Widget] = {}
        # A page not on screen is built when first shown (`build`): until then it only
        # keeps the newest board, and start-up mounts just the panels the user sees.
        self._pending: Board | None = None if built else board
        # The rows, kept: rows not mounted yet are not found by a query.
        self._rows: list[PanelRow] = self._make_rows(board) if built else []
        super().__init__(*self._rows, id=id)

    # -- building -------------------------------------------------------------------------

    @property
    def built(self) -> bool:
        """False until the page's panels exist (a page not yet shown)."""
        return self._pending is None

    def build(self) -> None:
        """Create and mount the panels of a page built lazily, from the newest board."""
        if self._pending is None:
            return
        board, self._pending = self._pending, None
        self._rows = self._make_rows(board)
        self.mount_all(self._rows)

    def holds(self, kind: str, panel_id: str) -> bool:
        """Whether the page's layout has that panel (built or not)."""
        return any(p.kind == kind and p.id == panel_id for row in self.page.rows for p in row)

    def _make_rows(self, board: Board) -> list[PanelRow]:
        grids = []
        for g, group in enumerate(row_groups(self.page.rows)):
            widgets: list[Widget] = []
            spanning: list[Widget] = []
            for row in group:
                made = [self._make_panel(panel, board) for panel in row]
                widgets.extend(made)
                if len(row) == 1 and _is_north_star(row[0], board):
                    spanning.extend(made)
            panels = [panel for row in group for panel in row]
            grids.append(
                PanelRow(
                    [panel.kind for panel in panels],
                    *widgets,
                    most=max(len(row) for row in group),
                    spanning=spanning,
                    id=f"p{self.page_index}-row{g}",
                )
            )
        return grids

    def _make_panel(self, panel: Panel, board: Board) -> Widget:
        dom_id = panel_dom_id(self.page_index, panel)
        view = view_for(panel, board)
        self._shown[dom_id] = (panel, view)
        widget: Widget
        if panel.kind == "kpi":
            widget = KpiCard(view, id=dom_id)
        elif panel.kind == "chart":
            widget = ChartPanel(view, id=dom_id)
        elif panel.kind in ("objective", "okrs"):
            widget = OkrTree(view, expected=board.expected, id=dom_id)
        else:
            widget = AlertsLog(id=dom_id)
        # Not mounted yet: styled once when it mounts (an update now restyles it twice).
        widget.add_class("panel", f"-{panel.kind}", update=False)
        self._widgets[dom_id] = widget
        return widget

    # -- refreshing -------------------------------------------------------------------------

    def update_board(self, board: Board) -> None:
        """Hand each panel its new view when it changed."""
        if self._pending is not None:
            self._pending = board
            return
        for dom_id, (panel, shown) in self._shown.items():
            if panel.kind == "alerts":
                continue
            view = view_for(panel, board)
            if view == shown or view is None:
                continue
            widget = self.panel_widget(dom_id)
            if widget is None:
                continue
            if panel.kind in ("objective", "okrs"):
                widget.update_objectives(view, board.expected)
            else:
                widget.update_view(view)
            self._shown[dom_id] = (panel, view)

    def panel_widget(self, dom_id: str) -> Widget | None:
        """The panel widget with that dom id, None when the page has no such panel."""
        return self._widgets.get(dom_id)

    def on_resize(self, event: events.Resize) -> None:
        # The grid columns follow the width the rows get, known only after layout: the
        # page's, less the scrollbar gutter it keeps.
        self.reflow(self.scrollable_content_region.width)
        self.fit_to_height()
        # Rows reflowed to another height move the focused panel: keep it in sight.
        self.call_after_refresh(self._reveal_focused)

    def _reveal_focused(self) -> None:
        focused = self.screen.focused if self.is_attached else None
        if focused is not None and self in focused.ancestors:
            self.scroll_to_widget(focused, animate=False)

    def fit_to_height(self) -> None:
        """Give the lines a page does not use to its charts and alerts log, so a page
        that fits the terminal fills it. Back to the stylesheet's heights first, then
        measured after that layout."""
        for widget in self._stretchable():
            widget.styles.height = None
            widget.styles.min_height = None
            widget.styles.max_height = None
        self.call_after_refresh(self._share_spare_lines)

    def _stretchable(self) -> list[Widget]:
        return [w for w in self.query(".panel") if _stretches(w)]

    def _share_spare_lines(self) -> None:
        rows = self._rows
        used = sum(row.outer_size.height for row in rows)
        # A focused card shows its description (up to 4 lines): keep room for it, or
        # the page would start scrolling whenever focus lands on such a card. The lines
        # a description shows now are already in `used`: only the rest is kept.
        cards = [w for w in self.query(".panel") if isinstance(w, KpiCard)]
        described = any(card.view is not None and card.view.description for card in cards)
        shown = max((card.description_lines for card in cards), default=0)
        reserve = max(0, DESCRIPTION_RESERVE - shown) if described else 0
        spare = self.size.height - used - reserve
        # Charts take the spare lines (and a log beside a chart grows with it, so the
        # cells align); the alerts log only when there is no chart.
        lines = [line for row in rows for line in row.grid_lines()]
        stretch_lines = [line for line in lines if any(w.has_class("-chart") for w in line)]
        stretch_lines = stretch_lines or [line for line in lines if any(map(_stretches, line))]
        if spare <= 0 or not stretch_lines:
            return
        extra, rest = divmod(spare, len(stretch_lines))
        for i, line in enumerate(stretch_lines):
            add = extra + (1 if i < rest else 0)
            for widget in line:
                if _stretches(widget):
                    height = widget.outer_size.height + add
                    widget.styles.height = height
                    widget.styles.min_height = height
                    widget.styles.max_height = height

    def reflow(self, width: int) -> None:
        for row in self._rows:
            row.reflow(width)

    # -- what is on the page -----------------------------------------------------------------

    def panel_widgets(self) -> list[Widget]:
        """The panels in layout order (rows left to right, top to bottom)."""
        return list(self._widgets.values())

    def widgets_for(self, kind: str, panel_id: str) -> list[Widget]:
        return [
            widget
            for dom_id, (panel, _view) in self._shown.items()
            if panel.kind == kind and panel.id == panel_id
            if (widget := self.panel_widget(dom_id)) is not None
        ]


def _is_north_star(panel: Panel, board: Board) -> bool:
    view = board.kpi(panel.id) if panel.kind == "kpi" else None
    return view is not None and view.north_star


def _stretches(widget: Widget) -> bool:
    return any(widget.has_class(name) for name in STRETCH_CLASSES)


def view_for(panel: Panel, board: Board) -> object:
    """What a panel shows from the board: a KpiView, a ChartView, objectives, or None."""
    if panel.kind == "kpi":
        return board.kpi(panel.id)
    if panel.kind == "chart":
        return board.chart(panel.id)
    if panel.kind == "objective":
        objective = board.objective(panel.id)
        return (objective,) if objective is not None else ()
    if panel.kind == "okrs":
        return board.okrs
    return None
