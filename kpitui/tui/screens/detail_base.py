"""What the drill-down screens share: the worker plumbing of `DetailScreen`, tables
updated in place, and small text renderers (sparklines, progress bars, gaps).

Every query runs in a thread worker on a fresh read-only reader, which posts the result
back as a message (`DetailScreen.Loaded`); the handler updates the widgets in place, so a
refresh that changed nothing redraws nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from kpitui.engine.board import BAR_CELLS, ChartView
from kpitui.engine.detail import DetailNotFound
from kpitui.tui.text import safe_text, update_static
from kpitui.tui.widgets.card_lines import SPARK_BARS as SPARK_BLOCKS
from kpitui.tui.widgets.card_lines import column_peaks
from kpitui.tui.widgets.chart_panel import ChartPanel

SPARK_WIDTH = 12


# -- text helpers shared with the key-result screen --------------------------------------


def spark_text(values: Sequence[float | None], width: int = SPARK_WIDTH) -> str:
    """A trend as block characters (`▁▂▃▅▇`) in at most `width` cells, by the cards'
    rule (`column_peaks`); a gap is a blank cell."""
    cells = column_peaks(values, width)
    known = [v for v in cells if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    top = len(SPARK_BLOCKS) - 1
    middle = SPARK_BLOCKS[len(SPARK_BLOCKS) // 2 - 1]
    return "".join(
        " "
        if v is None
        else middle
        if hi == lo
        else SPARK_BLOCKS[round((v - lo) / (hi - lo) * top)]
        for v in cells
    )


def progress_text(node: Any) -> Text:
    """`██████░░░░  62%`: the node's own bar cells (clamped) and percent (as is: 125%)."""
    filled = node.bar_cells
    if filled is None:
        return Text("░" * BAR_CELLS + "    —", end="")
    bar = "█" * filled + "░" * (BAR_CELLS - filled)
    return Text(f"{bar} {node.progress_display:>5}", end="")


def empty_chart(chart_id: str, title: str) -> ChartView:
    return ChartView(id=chart_id, title=title, window="", bucket=86400, series=())


def sync_table(table: DataTable, rows: dict[str, tuple[Any, ...]], columns: Sequence[str]) -> None:
    """Make `table` hold `rows` (row key → cells), changing only what differs."""
    present = {key.value for key in table.rows}
    for key in present - set(rows):
        table.remove_row(key)
    for key, cells in rows.items():
        if key not in present:
            table.add_row(*cells, key=key)
            continue
        for column, cell in zip(columns, cells, strict=True):
            if table.get_cell(key, column) != cell:
                table.update_cell(key, column, cell)


class DetailTable(DataTable):
    """A DataTable whose header always follows its columns' widths.

    Textual 8.2.8 caches rendered cells by the table's update count, not by width: when a
    frame is drawn between `add_row` and the idle pass that measures the new cells, the
    header keeps the old, narrower widths. Bumping the count after that pass redraws it.
    """

    async def _on_idle(self, event: events.Idle) -> None:
        measuring = self._require_update_dimensions or bool(self._updated_cells)
        await super()._on_idle(event)
        if measuring:
            self._update_count += 1
            self.refresh()

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        super()._scroll_cursor_into_view(animate)
        if self.has_focus:
            # The table sits in a scrolling page: moving its cursor brings it into view.
            self.scroll_visible(animate=False)

    # A key the table has nothing to do with any more (↑ on its first row, page up at
    # its top) goes on to the screen: the arrows move to the part above or below, the
    # page keys scroll the page (the body's bindings, reached by raising SkipAction).
    # Without it the page could be scrolled down by the cursor and never back up to
    # the chart.

    def _at_top(self) -> bool:
        return self.cursor_row <= 0 and self.scroll_y <= 0

    def _at_bottom(self) -> bool:
        return self.cursor_row >= self.row_count - 1 and self.scroll_y >= self.max_scroll_y

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0:
            step_focus(self, -1)
        else:
            super().action_cursor_up()

    def action_cursor_down(self) -> None:
        if self.cursor_row >= self.row_count - 1:
            step_focus(self, 1)
        else:
            super().action_cursor_down()

    def action_page_up(self) -> None:
        if self._at_top():
            raise SkipAction()
        super().action_page_up()

    def action_page_down(self) -> None:
        if self._at_bottom():
            raise SkipAction()
        super().action_page_down()

    # A row cursor gives home/end nothing to move but a sideways scroll (← and → do
    # that too): they are the page's, its top and its bottom.

    def action_scroll_home(self) -> None:
        raise SkipAction()

    def action_scroll_end(self) -> None:
        raise SkipAction()


class DetailChart(ChartPanel):
    """A detail screen's chart: a stop for Tab and the arrows, so focus coming back to
    it scrolls it into view. It is already as deep as a drill-down goes: Enter is off
    (and out of the footer). ↑/↓ move to the part above or below; page up/down and
    home/end scroll the page."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "step(-1)", "Part above", show=False, id="detail_chart.up"),
        Binding("down", "step(1)", "Part below", show=False, id="detail_chart.down"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "drill_down":
            return False
        if action == "toggle_comparison" and getattr(self.screen, "label_filter", None):
            return False  # `c` clears the KPI detail's label filter first
        return super().check_action(action, parameters)

    def action_step(self, step: int) -> None:
        step_focus(self, step)


def step_focus(widget: Widget, step: int) -> None:
    """Focus the part of the screen before (`step` -1) or after (+1) `widget` in focus
    order, scrolling it into view. With none there, the key goes on (SkipAction) to the
    scrolling body, which scrolls a line."""
    chain = widget.screen.focus_chain
    index = chain.index(widget) + step if widget in chain else -1
    if not 0 <= index < len(chain):
        raise SkipAction()
    target = chain[index]
    widget.screen.set_focus(target, scroll_visible=False)
    target.scroll_visible(animate=False)


class DetailBody(VerticalScroll, can_focus=False):
    """The scrolling part of a detail screen, under its head. It takes no focus: its
    parts do (charts, tables), and the keys they leave (page up/down, home/end, an
    arrow with no part beyond) scroll it. At once: an animated scroll is a dozen
    redraws for one key over SSH."""

    def _scroll(self, scroll: Callable[..., object]) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        scroll(animate=False)

    def action_scroll_up(self) -> None:
        self._scroll(self.scroll_up)

    def action_scroll_down(self) -> None:
        self._scroll(self.scroll_down)

    def action_page_up(self) -> None:
        self._scroll(self.scroll_page_up)

    def action_page_down(self) -> None:
        self._scroll(self.scroll_page_down)

    def action_scroll_home(self) -> None:
        self.scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        self.scroll_end(animate=False)


# -- the shared plumbing of both detail screens -------------------------------------------


class DetailScreen(Screen[None]):
    """A drill-down: loads its detail in a thread worker, reloads on each new board."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail.back", tooltip="Back to where you were"),
    ]

    class Loaded(Message):
        """A detail finished loading (posted from the worker's thread)."""

        def __init__(self, request: int, detail: Any, error: str | None) -> None:
            super().__init__()
            self.request = request
            self.detail = detail
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.detail: Any = None
        """The detail on screen; None until the first load."""
        self.error: str | None = None
        """Why the last load failed (unknown node, unreadable store), else None."""
        self.loads = 0
        """How many results were applied (tests read it)."""
        self._request = 0
        self._stale = False  # a board arrived while another screen covered this one
        self._focus_placed = False  # the first table got focus once the detail showed

    def on_mount(self) -> None:
        # Textual calls every class's on_mount, the subclass's first: this runs after the
        # screen's own set-up, so subclasses must not call it again.
        self.reload()

    def reload(self) -> None:
        """Ask for the detail again (a key changed the view, or a new board arrived)."""
        self._request += 1
        app = self.app
        self._load(
            self._request, app.open_reader, self.make_loader(app.loaded.dashboard, app.as_of())
        )

    def make_loader(self, spec: Any, as_of: int) -> Callable[[Any], Any]:
        """A function of a reader that computes the detail (runs in the worker thread)."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _load(
        self, request: int, open_reader: Callable[[], Any], loader: Callable[[Any], Any]
    ) -> None:
        detail, error = None, None
        try:
            reader = open_reader()
        except Exception as exc:  # missing, locked or unreadable store: say why on screen
            error = str(exc) or exc.__class__.__name__
        else:
            try:
                detail = loader(reader)
            except DetailNotFound as exc:
                error = str(exc)
            except Exception as exc:  # the last net: never a traceback over the board
                error = f"{exc.__class__.__name__}: {exc}"
            finally:
                reader.close()
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(request, detail, error))

    def on_detail_screen_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.request != self._request:
            return  # a newer request is on its way
        self.loads += 1
        self.error = message.error
        if (
            message.detail is not None
            and message.detail == self.detail
            and message.error is None
            and not self.query_one("#detail-problem").display
        ):
            return  # nothing changed: nothing is redrawn
        with self.app.batch_update():
            if message.detail is not None:
                self.detail = message.detail
                self.show_detail(message.detail)
            self.show_error(message.error)

    def show_detail(self, detail: Any) -> None:
        raise NotImplementedError

    def place_focus(self) -> None:
        """Once a detail is shown, focus its first table with rows, without scrolling:
        the chart and the stats stay in view until the cursor moves. Done when the first
        detail arrives (the chart has focus while loading) and whenever nothing has
        focus (the focused table was hidden); otherwise focus is where the user put it."""
        focused = self.focused
        if focused is not None and (self._focus_placed or not isinstance(focused, DetailChart)):
            self._focus_placed = True
            return
        self._focus_placed = True
        for table in self.query(DataTable):
            if table.display and table.row_count:
                table.focus(scroll_visible=False)
                return
        if focused is None:
            charts = [chart for chart in self.query(DetailChart) if chart.display]
            if charts:
                charts[0].focus(scroll_visible=False)

    def show_error(self, error: str | None) -> None:
        problem = self.query_one("#detail-problem", Static)
        problem.display = error is not None
        update_static(problem, safe_text(f"⚠ {error}") if error else Text(""))

    def on_kpitui_app_board_refreshed(self, message: Message) -> None:
        # A screen under another one (KPI detail under a KR's) reloads when it is shown
        # again, once, rather than on every board it cannot be seen with.
        if self.app.screen is self:
            self.reload()
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def on_chart_panel_drill_down(self, message: Message) -> None:
        message.stop()  # already as deep as it goes

    def action_back(self) -> None:
        self.app.pop_screen()
