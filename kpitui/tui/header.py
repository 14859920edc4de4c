"""The header line (title, page, as-of, live/paused) and the problems line under it.

Both are built as Rich `Text` from data (a board titled `[bold]x[/]` shows literally)
and re-rendered only when what they say changes, so an idle dashboard writes nothing.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.containers import Horizontal
from textual.widgets import Static

from kpitui.tui.text import safe_text

# How much of the title a narrow header keeps before the status gives up words.
TITLE_KEEPS = 16


class BoardHeader(Horizontal):
    """`Acme KPIs   1/2 Overview │ as of 2026-11-24 09:30 │ ● live`."""

    DEFAULT_CSS = """
    BoardHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    BoardHeader > #header-title {
        width: 1fr;
        text-style: bold;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BoardHeader > #header-status {
        width: auto;
        padding: 0 1;
    }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._title = title
        self._status: tuple[str, str, str, str, bool] | None = None

    def compose(self):
        yield Static(safe_text(self._title), id="header-title")
        yield Static("", id="header-status")

    def set_title(self, title: str) -> None:
        if title != self._title:
            self._title = title
            self.query_one("#header-title", Static).update(safe_text(title))

    def set_status(
        self, page: str, as_of: str, live: str, problem: bool = False, charts: str = ""
    ) -> None:
        status = (page, charts, as_of, live, problem)
        if status == self._status:
            return
        self._status = status
        self._render_status()

    def on_resize(self) -> None:
        self._render_status()

    def _render_status(self) -> None:
        if self._status is None:
            return
        page, charts, as_of, live, problem = self._status
        # On a narrow screen (a phone under `serve`, a split tmux pane) the status gives
        # up its least useful words first, so the title keeps a readable start.
        room = self.size.width - min(cell_len(self._title), TITLE_KEEPS) - 4
        short_page = page.split(" ", 1)[0]  # "1/2"
        if charts:
            page, short_page = f"{page} · {charts}", f"{short_page} · {charts}"
        short_as_of = as_of.rsplit(" ", 1)[-1] if as_of else ""
        warning = "⚠ see below" if problem else ""
        forms = (
            (page, as_of, live, warning),
            (short_page, as_of, live, warning),
            (short_page, short_as_of, live, warning),
            (short_page, "", live, "⚠" if problem else ""),
            ("", "", live.split(" ", 1)[0], "⚠" if problem else ""),
        )
        for parts in forms:
            shown = [part for part in parts if part]
            if self.size.width == 0 or sum(map(cell_len, shown)) + 3 * (len(shown) - 1) <= room:
                break
        self.query_one("#header-status", Static).update(_status_text(*parts))


def _status_text(page: str, as_of: str, live: str, warning: str) -> Text:
    live_style = "bold green" if live.startswith("●") else "bold yellow"
    segments = [
        segment
        for segment in (
            safe_text(page),  # a page title is the spec's text
            Text(as_of),
            Text(live, style=live_style),
            Text(warning, style="bold red"),
        )
        if segment.plain
    ]
    separator = Text(" │ ", no_wrap=True, overflow="ellipsis")
    separator.stylize("dim")  # a span, not the base style `join` would give every segment
    return separator.join(segments)


class ProblemsLine(Static):
    """Persistent problems (an invalid spec edit, an unreadable store), one per row, cut
    with an ellipsis rather than wrapped, so that a long one never pushes the board off
    an 80×24 screen (each problem says its essentials first; its full text is in its
    notification and in the tooltip); hidden when there are none."""

    DEFAULT_CSS = """
    ProblemsLine {
        height: auto;
        max-height: 6;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        background: $error 20%;
        color: $text;
        display: none;
    }
    ProblemsLine.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._lines: tuple[str, ...] = ()

    @property
    def lines(self) -> tuple[str, ...]:
        return self._lines

    def show_problems(self, lines: tuple[str, ...]) -> None:
        if lines == self._lines:
            return
        self._lines = lines
        text = Text()
        for i, line in enumerate(lines):
            if i:
                text.append("\n")
            text.append("⚠ ", style="bold")
            text.append_text(safe_text(line))
        self.update(text)
        self.tooltip = text if lines else None
        self.set_class(bool(lines), "-shown")
