"""The annotations a detail screen lists under its chart: an engine `MarkList` shown as
is, the mark `m` chose marked `▸` and bold (and drawn with a heavier rule on the chart)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kpitui.engine.annotations import MarkList
from kpitui.tui.text import safe_text, update_static


class MarkListView(Static):
    """A heading (how many marks, in what range, in which zone) and a line per mark,
    newest first: its time, and its text as written. Hidden when there is none."""

    DEFAULT_CSS = """
    MarkListView {
        height: auto;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        display: none;
        &.-shown { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)

    def show(self, marks: MarkList, chosen: str | None, hint: str = "") -> None:
        """List `marks`, `chosen` (a mark's key) marked; `hint` after the heading."""
        self.set_class(bool(marks.marks), "-shown")
        lines = Text(end="", no_wrap=True)
        lines.append(marks.heading(chosen), style="bold")
        if hint and marks.marks:
            lines.append(f" · {hint}", style="dim")
        newer = marks.newer_hidden(chosen)
        if newer:
            lines.append(f"\n  … {newer} newer", style="dim")
        for row in marks.rows(chosen):
            style = "bold" if row.chosen else ""
            lines.append("\n")
            lines.append(f"{row.glyph} ", style=style)
            lines.append(f"{row.time_display}  ", style=style or "dim")
            if row.kind_label:
                lines.append(f"{row.kind_label}: ", style=f"{style} italic")
            lines.append_text(safe_text(row.text, style=style))
        older = marks.older_hidden(chosen)
        if older:
            lines.append(f"\n  … {older} older", style="dim")
        update_static(self, lines)
