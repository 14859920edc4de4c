"""The OKR tree's labels: a line per node (title, progress bar, percent, status, and
the marks after it: a check-in due, the owner, a check-in's confidence, the forecast) in columns that
line up across depths and fit the tree's width.

No widget here: the tree passes its views, sizes and styles in, so a label is built the
same way for any width, and the layout can be reasoned about apart from Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from kpitui.engine.board import (
    BAR_CELLS,
    NARROW_BAR_CELLS,
    KrView,
    ObjectiveView,
    expected_cell,
)
from kpitui.tui.text import safe_plain, safe_text, status_label

View = ObjectiveView | KrView
StyleOf = Callable[[str], Style]
"""The style of a part of a label, by its component name (`owner`, `status-on_track`)."""


NARROW_WIDTH = 64
"""A tree narrower than this draws NARROW_BAR_CELLS-wide bars: titles need the room."""
TITLE_MIN = 14
"""The title column never gets narrower than this."""
TITLE_ROOMY = 24
"""The title column shrinks to this before the confidence is shortened (`✔ conf`)."""
GAP = "  "
"""Between the status and each of the marks after it (due, owner, confidence)."""
DUE_MARK = "⏰ due"
"""Right after the status, so a check-in due shows even where owner and confidence are cut."""


class Columns(NamedTuple):
    """How a tree's labels are laid out, for its width."""

    title: int
    """Cells of the title column, guides and ▼ included."""
    status: int
    """Cells the status is padded to (the widest status followed by marks)."""
    short_confidence: bool
    """A check-in's confidence as `✔ conf` rather than `conf: on track`."""
    bar: int
    """Cells of a progress bar."""
    width: int
    """The tree's width these columns were measured for."""


def percent_text(view: View) -> str:
    """The node's percent in 4 cells: ` 62%`, `125%` (over-achievement as is), `   —`."""
    return f"{view.progress_display:>4}"


def progress_bar(view: View, expected: float | None, cells: int = BAR_CELLS) -> str:
    """`███████░░░` from the node's bar cells; the cell where the expected progress falls
    is marked `│` when empty."""
    filled = view.bar_cells if cells == BAR_CELLS else view.narrow_bar_cells
    if filled is None:
        return "·" * cells
    bar = ["█"] * filled + ["░"] * (cells - filled)
    mark = expected_cell(expected, cells)
    if mark is not None and mark >= filled:
        bar[mark] = "│"
    return "".join(bar)


def fit(text: Text, width: int) -> Text:
    """Truncate with an ellipsis, or pad with spaces, to exactly `width` cells."""
    text = text.copy()
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    text.pad_right(width - text.cell_len)
    return text


def _plain(_component: str) -> Style:
    return Style()


def marks(view: View, short: bool, style: StyleOf = _plain) -> list[Text]:
    """What follows the status: the due mark, the owner, a check-in's confidence, the
    forecast."""
    found: list[Text] = []
    if isinstance(view, KrView) and view.checkin_due:
        found.append(Text(DUE_MARK, style("due"), end=""))
    if view.owner:
        found.append(safe_text(f"@{view.owner}", style=style("owner")))
    if isinstance(view, KrView) and view.confidence:
        if short:
            mark = Text(end="")
            mark.append(view.confidence_glyph or "?", style(f"status-{view.confidence}"))
            mark.append(" conf", style("muted"))
        else:
            mark = safe_text(f"conf: {view.confidence_words}", style=style("muted"))
        found.append(mark)
    forecast = view.forecast
    if forecast is not None and forecast.compact:
        # `→ 92% ✖`: where the pace ends, its glyph coloured like that status.
        head, _, glyph = forecast.compact.rpartition(" ")
        ahead = Text(f"{head} ", style("muted"), end="")
        ahead.append(glyph, style(f"status-{forecast.status}"))
        found.append(ahead)
    return found


def marks_width(view: View, short: bool) -> int:
    """Cells of the marks after a node's status, with the gaps before them."""
    return sum(len(GAP) + part.cell_len for part in marks(view, short))


def measure_columns(
    views: Mapping[Hashable, View],
    prefix_width: Callable[[Hashable], int],
    width: int,
    scrollbar: int,
) -> Columns:
    """The columns of a whole tree `width` cells wide, so bars and statuses line up across
    depths and the marks after the status fit. The title column gives up its width
    first, down to `TITLE_ROOMY`; then the confidence is shortened to its glyph
    (`✔ conf`); then the bar to `NARROW_BAR_CELLS`; then the title shrinks on to
    `TITLE_MIN`; a title is never capped while there is room. What still does not
    fit is cut by `node_label`: a mark left off whole (`  …`), an error with `…`."""
    shown = list(views.values())
    # Padded to the widest status followed by marks: a status that ends its line
    # (an objective with no owner, `○ not started`) needs no column.
    status = max(
        (cell_len(status_label(v.status).plain) for v in shown if marks(v, True)),
        default=0,
    )
    widest = max(
        (prefix_width(key) + cell_len(safe_plain(v.title)) for key, v in views.items()),
        default=TITLE_MIN,
    )
    fits = max(TITLE_MIN, widest)
    if not width:
        return Columns(fits, status, False, BAR_CELLS, width)
    bar = NARROW_BAR_CELLS if width < NARROW_WIDTH else BAR_CELLS
    room = width - scrollbar

    def title_room(short: bool, bar: int) -> int:
        # Title column + " " + bar + " " + "100%" + " " + status + the widest marks.
        widest_marks = max((marks_width(v, short) for v in shown), default=0)
        return room - (bar + 7 + status) - widest_marks

    steps = [(False, bar), (True, bar), (True, NARROW_BAR_CELLS)]
    for short, cells in steps:
        if title_room(short, cells) >= min(fits, TITLE_ROOMY):
            break
    # Every cell the busiest node's marks leave goes to the titles: a title is cut only
    # where some row needs the columns to its right.
    title = max(TITLE_MIN, min(fits, title_room(short, cells)))
    return Columns(title, status, short, cells, width)


def node_label(
    view: View,
    columns: Columns,
    expected: float | None,
    *,
    title_width: int,
    room: int | None,
    style: StyleOf,
) -> Text:
    """A node's label: its title in `title_width` cells (the title column less the node's
    guides), then bar, percent, status and marks in `columns`; cut to `room` cells."""
    is_kr = isinstance(view, KrView)
    label = Text(end="")
    label.append_text(
        fit(safe_text(view.title, style=Style() if is_kr else style("objective")), title_width)
    )
    label.append(" ")
    bar = progress_bar(view, expected, columns.bar)
    filled = len(bar.rstrip("░│·"))
    label.append(bar[:filled], style("bar-done"))
    label.append(bar[filled:], style("bar-todo"))
    label.append(f" {percent_text(view)} ")
    status = status_label(view.status, style=style(f"status-{view.status}"))
    # Padded, never cut: a wider status (`○ not started`) ends its line.
    label.append_text(fit(status, max(columns.status, status.cell_len)))
    for mark in marks(view, columns.short_confidence, style):
        if room is not None and label.cell_len + len(GAP) + mark.cell_len > room:
            # A mark that does not fit is dropped whole, not cut into the one before it
            # (`@Priy…` read as a cut name); `…` says something was left off.
            if label.cell_len + len(GAP) + 1 <= room:
                label.append(f"{GAP}…", style("muted"))
            break
        label.append(GAP)
        label.append_text(mark)
    if isinstance(view, KrView) and view.error:
        label.append_text(safe_text(f"{GAP}⚠ {view.error}", style=style("error")))
    label.rstrip()
    # Cut what still does not fit (an error's end, marks in a narrow tree) rather than
    # scroll the tree sideways: a horizontal scrollbar would hide a line.
    if room is not None and label.cell_len > room:
        label.truncate(room, overflow="ellipsis")
    return label
