"""The key footer of the board and of every detail screen."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

COMPACT_BELOW = 80
"""Columns under which the footer drops the spaces around its keys."""
PALETTE_FROM = 70
"""Columns from which the footer shows `^p palette` (the help screen lists it too)."""


class KeyFooter(Footer):
    """Textual's footer, compact on a narrow terminal: at 60 columns a detail's range and
    bucket keys would otherwise push `? Keys` and `q Quit` off its right end, so there it
    leaves out the palette's key as well."""

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
        palette = event.size.width >= PALETTE_FROM
        if palette != self.show_command_palette:
            self.show_command_palette = palette
            # Footer composes its keys once: a footer narrowed after that kept the
            # palette's key and cut `q Quit` at its right end.
            self.refresh(recompose=True)
