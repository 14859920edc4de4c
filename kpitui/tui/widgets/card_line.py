"""A line of two texts for the KPI card: one widget where two Statics and a row would
be three, because every widget costs start-up time on a board of many cards."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget


class CardLine(Widget):
    """One line of two texts: the left one fills the width (cut with an ellipsis), the
    right one keeps its own width after a one-cell gap. Their base styles come from the
    component classes, so the card's CSS colours them by state and band."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"card-line--left", "card-line--right"}

    DEFAULT_CSS = """
    CardLine { width: 1fr; height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._left = Text(end="")
        self._right = Text(end="")
        self._left_hidden = False

    def update(self, texts: tuple[Text, Text], *, layout: bool = False) -> None:
        self._left, self._right = texts
        self.refresh(layout=layout)

    def hide_left(self, hidden: bool) -> None:
        """Show only the right text, at the start of the line (beside big digits)."""
        if hidden != self._left_hidden:
            self._left_hidden = hidden
            self.refresh()

    def render(self) -> Text:
        width = self.size.width
        right = Text(end="", style=self._part_style("card-line--right"))
        right.append_text(self._right)
        if self._left_hidden:
            right.truncate(width, overflow="ellipsis")
            return right
        room = max(0, width - right.cell_len - 1) if right.plain else width
        left = Text(end="", style=self._part_style("card-line--left"))
        left.append_text(self._left)
        left.truncate(room, overflow="ellipsis")
        gap = " " * (room - left.cell_len + 1) if right.plain else ""
        line = Text.assemble(left, gap, right, end="", no_wrap=True)
        line.truncate(width, overflow="ellipsis")
        return line

    def _part_style(self, component: str) -> Style:
        # A partial style drops a colour's alpha (`$foreground-muted` is a translucent
        # foreground): blend it over the line's background as a widget's colour would be.
        styles = self.get_component_styles(component)
        style = self.get_component_rich_style(component, partial=True)
        if styles.has_rule("color") and styles.color.a < 1:
            blended = self.background_colors[1] + styles.color
            style += Style(color=blended.rich_color)
        return style
