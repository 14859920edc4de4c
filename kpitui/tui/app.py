"""The live dashboard: presents the engine's Board and keeps it current.

The app never writes SQL nor computes a KPI state (STYLE.md): a `Poller` in a thread
worker asks the engine for a Board when something changed, posts it back as a message,
and the handler hands each panel its new view inside `batch_update()`. Keys follow
SPEC §4; navigation, the poll, the page grid and the header live in their own modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher

from kpitui.engine.board import Board
from kpitui.engine.ranges import next_board_range
from kpitui.store.name import StoreName, held_name
from kpitui.timeutil import Clock
from kpitui.tui.alert_desk import BoardAlerts
from kpitui.tui.board_view import BoardPage, page_title
from kpitui.tui.commands import KpituiCommands
from kpitui.tui.compositor import board_screen
from kpitui.tui.header import BoardHeader, ProblemsLine
from kpitui.tui.jumps import BoardJumps
from kpitui.tui.live import LiveUpdates
from kpitui.tui.navigation import Direction, nearest
from kpitui.tui.poller import FirstRead, Poller
from kpitui.tui.text import safe_plain
from kpitui.tui.widgets.alerts_log import AlertsLog
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.key_footer import KeyFooter
from kpitui.tui.widgets.kpi_card import KpiCard
from kpitui.tui.widgets.okr_tree import OkrTree

# Actions of the board itself, off on every other screen.
BOARD_ONLY_ACTIONS = frozenset(
    {"page", "move", "toggle_pause", "acknowledge", "acknowledge_all", "chart_range"}
)


def _page_bindings() -> list[Binding]:
    return [
        Binding(
            str(n),
            f"page({n})",
            f"Page {n}",
            show=False,
            id=f"kpitui.page_{n}",
            tooltip=f"Switch to page {n}",
        )
        for n in range(1, 10)
    ]


def _move_bindings() -> list[Binding]:
    moves = [
        ("up", "k", "up", "the node above, or from the first node the panel above"),
        ("down", "j", "down", "the node below, or from the last node the panel below"),
        ("left", "h", "left", "collapse"),
        ("right", "l", "right", "expand"),
    ]
    return [
        Binding(
            f"{arrow},{vi}",
            f"move('{direction}')",
            f"Focus the panel {direction}",
            show=False,
            id=f"kpitui.move_{direction}",
            tooltip=f"Focus the nearest panel {direction} (in the OKR tree: {in_tree})",
        )
        for arrow, vi, direction, in_tree in moves
    ]


class KpituiApp(BoardAlerts, LiveUpdates, BoardJumps, App[None]):
    """The kpitui dashboard."""

    CSS_PATH = "kpitui.tcss"
    TITLE = "kpitui"
    COMMANDS: ClassVar = App.COMMANDS | {KpituiCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "question_mark",
            "help",
            "Keys",
            key_display="?",
            id="kpitui.help",
            tooltip="Show every key",
        ),
        # Quit right after Keys: a narrow footer cuts the bindings at its right end.
        Binding("q", "quit", "Quit", id="kpitui.quit", tooltip="Quit kpitui"),
        Binding(
            "r",
            "refresh_now",
            "Refresh",
            id="kpitui.refresh",
            tooltip="Re-read the store and re-evaluate the board now",
        ),
        Binding(
            "p", "toggle_pause", "Pause", id="kpitui.pause", tooltip="Pause or resume live updates"
        ),
        Binding(
            "a",
            "acknowledge",
            "Ack alert",
            id="kpitui.acknowledge",
            tooltip="Acknowledge the focused KPI's alert, else the newest one",
        ),
        Binding(
            "A",
            "acknowledge_all",
            "Ack all",
            show=False,
            id="kpitui.acknowledge_all",
            tooltip="Acknowledge every alert",
        ),
        Binding(
            "t",
            "chart_range",
            "Chart range",
            show=False,
            id="kpitui.chart_range",
            tooltip="Show the board's charts over 7d, 30d, 90d, 1y, or their own windows",
        ),
        *_page_bindings(),
        *_move_bindings(),
    ]

    class BoardRefreshed(Message):
        """A new board was applied; posted to screens above the dashboard (drill-downs)."""

        def __init__(self, board: Board) -> None:
            super().__init__()
            self.board = board

    def __init__(
        self,
        loaded: Any,
        *,
        store_path: Path | str | StoreName,
        clock: Clock,
        as_of: int | None = None,
        feed: Any = None,
        board: Board | None = None,
        live: bool = True,
        first_read: FirstRead | None = None,
        page: int = 0,
        viewer: str | None = None,
    ) -> None:
        super().__init__()
        self.loaded = loaded
        """The current good spec (a LoadedSpec); replaced when an edit on disk loads."""
        self.board: Board | None = None
        """The board on screen; None until the first evaluation."""
        self.store_path = held_name(StoreName.parse(store_path))  # a Path, or a URL's StoreName
        self.clock = clock
        self.fixed_as_of = as_of
        self.feed = feed
        self.live = live
        self.viewer = viewer
        """Whose acknowledgements these are: None the terminal user, else the name
        `kpitui serve` gave one browser (`kpitui.acks`)."""
        self.paused = False
        self.title = safe_plain(loaded.dashboard.title)
        self._initial_board = board
        self._poller = Poller(
            loaded, store_path=self.store_path, clock=clock, as_of=as_of, first_read=first_read
        )
        self._poll_timer: Timer | None = None
        self._polling = False
        self._force_pending = False
        self._init_alerts()
        self._store_error: str | None = None
        self._spec_errors: tuple[str, ...] = ()
        self._failure: str | None = None
        self._feed_error: str | None = None
        self._page_index = page  # the page shown first (from 0)
        # Page index -> dom id of the panel that had focus when the page was left, so
        # 1→2→1 comes back to the same panel.
        self._page_focus: dict[int, str] = {}
        self.refresh_seconds = loaded.dashboard.refresh.seconds  # until a board says

    # -- the API drill-down screens use ---------------------------------------------------

    def as_of(self) -> int:
        """The moment the board is evaluated at: the fixed --as-of, else the clock's now."""
        return self.fixed_as_of if self.fixed_as_of is not None else self.clock.now()

    def open_reader(self) -> Any:
        """A fresh read-only store reader; call it in a thread worker and close it."""
        from kpitui import store

        return store.open_reader(self.store_path)

    # -- building the screen -----------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return board_screen()

    def compose(self) -> ComposeResult:
        # Size classes set before the children mount: set after, they style every widget
        # a second time.
        self._set_size_classes(self.screen)
        yield BoardHeader(self.loaded.dashboard.title, id="header")
        yield ProblemsLine(id="problems")
        # A board evaluated before the app started is composed with the screen, so the
        # first frame drawn already holds its values.
        pages = self._make_pages(self._initial_board) if self._initial_board else []
        shown = f"page-{self._page_index}" if pages else None
        self._switcher = ContentSwitcher(*pages, id="pages", initial=shown)
        yield self._switcher
        yield KeyFooter()

    async def on_mount(self) -> None:
        self._dashboard = self.screen
        self._size_classes()
        self._notify_warnings()
        if self._initial_board is not None:
            self.board = self._initial_board
            self.take_alerts(self.board)
            self._focus_first_panel()
        self._update_header()
        if self.live:
            self._start_poll(force=self._initial_board is None)
        if self.feed is not None:
            self.feed.start(on_error=self._on_feed_error)

    def _notify_warnings(self) -> None:
        # A snapshot is a picture of the board: warnings are `kpitui check`'s to tell.
        for warning in (getattr(self.loaded, "warnings", ()) or ()) if self.live else ():
            self.notify(safe_plain(warning), title="Spec warning", severity="warning", markup=False)

    def on_unmount(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        self._poller.close()

    def on_resize(self, event: events.Resize) -> None:
        # The new size from the event: this handler runs before Textual's own, so
        # `self.size` is still the old one here (the classes lagged one resize behind).
        self._size_classes(event.size.height)

    def _size_classes(self, height: int | None = None) -> None:
        # Charts and trees grow on a tall terminal (the grid columns follow each page's
        # own width, on its resize).
        self._set_size_classes(getattr(self, "_dashboard", None) or self.screen, height)

    def _set_size_classes(self, screen: Screen, height: int | None = None) -> None:
        height = self.size.height if height is None else height
        screen.set_class(height >= 40, "-tall")
        screen.set_class(height >= 56, "-huge")

    def _page_width(self) -> int:
        # Before the first layout (or while the screen is composed, before the switcher
        # exists) there is no page size yet: assume the terminal's.
        switchers = self.query("#pages")
        width = (switchers.first().size.width if switchers else 0) or self.size.width
        return max(1, width - 1)  # the vertical scrollbar

    def _pages(self) -> list[BoardPage]:
        # The switcher's children, not a query: a query walks the whole DOM (every card
        # and tree node), on every refresh.
        switcher = getattr(self, "_switcher", None)
        if switcher is None:
            return list(self.query(BoardPage))
        return [page for page in switcher.children if isinstance(page, BoardPage)]

    def current_page(self) -> BoardPage | None:
        pages = self._pages()
        return pages[self._page_index] if 0 <= self._page_index < len(pages) else None

    def _make_pages(self, board: Board) -> list[BoardPage]:
        """The page widgets of `board`, laid out for the current width. Only the page
        shown (the index kept across rebuilds) is built now; the others when first shown."""
        self._page_index = min(self._page_index, max(0, len(board.pages) - 1))
        pages = [
            BoardPage(page, i, board, id=f"page-{i}", built=i == self._page_index)
            for i, page in enumerate(board.pages)
        ]
        width = self._page_width()
        for page in pages:
            page.reflow(width)
        return pages

    async def _build_pages(self, board: Board) -> None:
        """(Re)create the page widgets: the first board, or a spec edit that changed the
        layout. Keeps the page index and the focused panel when they still exist."""
        focused_id = self._dashboard.focused.id if self._dashboard.focused else None
        switcher = self.query_one("#pages", ContentSwitcher)
        with self.batch_update():
            await switcher.remove_children()
            pages = self._make_pages(board)
            # ContentSwitcher hides its children only when it mounts: pages mounted
            # later are hidden here, or they would all be laid out one under another.
            for i, page in enumerate(pages):
                page.display = i == self._page_index
            await switcher.mount_all(pages)
            switcher.set_reactive(
                ContentSwitcher.current, f"page-{self._page_index}" if pages else None
            )
            self.restore_alerts(pages[self._page_index] if pages else None)
        target = None
        if focused_id:
            try:
                target = self.query_one(f"#{focused_id}")
            except Exception:
                target = None
        if target is not None and target.focusable:
            self.focus_panel(target)
        else:
            self.call_after_refresh(self._focus_first_panel)

    async def _apply_board(self, board: Board) -> None:
        old = self.board
        self.board = board
        self.title = safe_plain(board.title)
        # The page widgets are rebuilt only when the layout itself changed (a spec edit);
        # every other refresh updates the panels in place.
        if old is None or old.pages != board.pages or old.timezone != board.timezone:
            await self._build_pages(board)
        else:
            with self.batch_update():
                for page in self._pages():
                    page.update_board(board)
        self.take_alerts(board)
        for screen in self.screen_stack[1:]:
            screen.post_message(self.BoardRefreshed(board))

    # -- the header ---------------------------------------------------------------------------

    def _update_header(self) -> None:
        header = self.query_one(BoardHeader)
        header.set_title(self.board.title if self.board else self.loaded.dashboard.title)
        pages = self.board.pages if self.board else ()
        if pages:
            index = min(self._page_index, len(pages) - 1)
            page = f"{index + 1}/{len(pages)} {page_title(pages[index], index)}"
        else:
            page = "loading…"
        moment = self.board.as_of_display if self.board else ""
        as_of = f"as of {moment}" if moment else ""
        if not self.live:
            marker = "■ snapshot"
        elif self.paused:
            marker = "❚❚ paused"
        elif self.fixed_as_of is not None:
            # A fixed --as-of is not "live" even though polls still pick up new points:
            # the moment shown never moves. One segment, so "as of" is not said twice.
            marker, as_of = f"◆ as of {moment}".rstrip(), ""
        else:
            marker = "● live"
        problems = self._problems()
        charts = f"charts {self.board.chart_range}" if self.board and self.board.chart_range else ""
        header.set_status(page, as_of, marker, problem=bool(problems), charts=charts)
        self.query_one(ProblemsLine).show_problems(problems)

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Page, panel, pause and acknowledge keys belong to the board: on a drill-down
        # (or a dialog) above it they are off, and so out of that screen's footer.
        if action in BOARD_ONLY_ACTIONS:
            return self.screen is getattr(self, "_dashboard", self.screen)
        return True

    def action_refresh_now(self) -> None:
        self.poll_now(force=True)

    def action_chart_range(self) -> None:
        """The next range of the board's charts (on screen only, never in the spec)."""
        self._poller.chart_range = next_board_range(self._poller.chart_range)
        shown = self._poller.chart_range or "their own windows"
        self.notify(f"Charts over {shown}", timeout=2)
        self.poll_now(force=True)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._update_header()
        if self.paused:
            if self._poll_timer is not None:
                self._poll_timer.stop()
                self._poll_timer = None
        else:
            self.poll_now()

    def action_move(self, direction: Direction) -> None:
        focused = self.screen.focused
        if isinstance(focused, OkrTree) and self._move_in_tree(focused, direction):
            return
        if isinstance(focused, AlertsLog) and self._move_in_log(focused, direction):
            return
        page = self.current_page()
        if page is None:
            return
        panels = [w for w in page.panel_widgets() if w.focusable]
        origin = self._panel_containing(focused, panels)
        if origin is None:
            self._focus_first_panel()
            return
        target = nearest(
            origin.region, [(w, w.region) for w in panels if w is not origin], direction
        )
        if target is not None:
            # Now, not `target.focus()` (deferred): keys typed ahead (jjj) must each move
            # on from where the previous one landed.
            self.screen.set_focus(target)

    @staticmethod
    def _panel_containing(widget: Widget | None, panels: list[Widget]) -> Widget | None:
        node = widget
        while node is not None:
            if node in panels:
                return node
            node = node.parent if isinstance(node.parent, Widget) else None
        return None

    @staticmethod
    def _move_in_tree(tree: OkrTree, direction: Direction) -> bool:
        """Inside the OKR tree the keys move its cursor (j/k) and fold nodes (h/l). On
        its first node ↑ (last node ↓) is not the tree's: False, focus moves on."""
        if direction == "up":
            if tree.on_first_node:
                return False
            tree.action_cursor_up()
        elif direction == "down":
            if tree.on_last_node:
                return False
            tree.action_cursor_down()
        elif direction == "right":
            tree.action_expand_or_child()
        else:
            tree.action_collapse_or_parent()
        return True

    @staticmethod
    def _move_in_log(log: AlertsLog, direction: Direction) -> bool:
        """In the alerts log ↑/↓ move its cursor; past its first (last) line focus moves
        on, as in the OKR tree."""
        if direction == "up" and not log.on_first_line:
            log.move_cursor(-1)
            return True
        if direction == "down" and not log.on_last_line:
            log.move_cursor(1)
            return True
        return False

    def action_help(self) -> None:
        from kpitui.tui.screens.help import HelpScreen, help_sections

        panels = [
            ("KPI card", KpiCard),
            ("Chart", ChartPanel),
            ("OKR tree", OkrTree),
            ("Alerts log", AlertsLog),
        ]
        # On a drill-down, `?` lists that screen's keys first.
        screen = None if self.screen is self._dashboard else self.screen
        self.push_screen(HelpScreen(help_sections(self, panels, screen)))
