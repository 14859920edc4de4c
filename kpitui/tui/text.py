"""Text from data, made safe to put on a terminal.

Titles, labels, owners and error reasons come from the spec or the store: they are data,
never markup and never terminal control. Every widget builds user text through
`safe_text`, which returns a Rich `Text` (never parsed as markup, so `[bold]x[/]` shows
as typed) with every control character replaced by a visible escape (`\\x1b`), so an ESC
in a label can neither style nor break the screen.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from kpitui.engine import board
from kpitui.literal import literal


def safe_plain(s: object) -> str:
    """`s` as a plain string with control characters replaced by visible escapes."""
    return literal(s)


def safe_text(s: object, style: str = "") -> Text:
    """Text from data, shown literally: never parsed as markup, control characters escaped.

    >>> safe_text("[b]x[/]\\x1b[31m").plain
    '[b]x[/]\\\\x1b[31m'
    """
    return Text(safe_plain(s), style=style, end="")


def state_word(state: str) -> str:
    """A KPI state as the word shown on screen: `no_data` → `no data` (the engine's)."""
    return board.words(state)


def state_label(state: str, style: str = "") -> Text:
    """Glyph and word of a KPI state (`✖ crit`), as the engine words it."""
    return Text(board.state_label(state), style=style, end="")


def status_label(status: str, style: str = "") -> Text:
    """Glyph and words of an OKR status (`▲ at risk`), as the engine words it."""
    return Text(board.status_label(status), style=style, end="")


def update_static(widget: Static, content: Any) -> None:
    """Update only when the content changed: an unchanged refresh redraws nothing (and
    `Static.update` would lay the screen out again)."""
    if widget.content != content:
        widget.update(content)
