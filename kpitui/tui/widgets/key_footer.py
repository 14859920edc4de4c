"""The key footer of the board and of every detail screen."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer

COMPACT_BELOW = 80
"""Columns under which the footer drops the spaces around its keys."""
PALETTE_FROM = 70
"""Columns from which the footer may show `^p palette` (the help screen lists it too)."""
PALETTE_CELLS = 12
"""The cells `▏^p palette` takes at the footer's right end."""


class KeyFooter(Footer):
    """Textual's footer, compact on a narrow terminal, and showing the palette's key only
    where the screen's own keys leave room for it: a detail's range, bucket and mark keys
    would otherwise push `r Refresh` (at 60 columns `? Keys` and `q Quit`) under it."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        # The keys' widths are known once they are laid out.
        self.call_after_refresh(self._fit_palette)

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
        self.call_after_refresh(self._fit_palette)

    def _fit_palette(self) -> None:
        keys = [child for child in self.children if not child.has_class("-command-palette")]
        used = max((k.virtual_region.right + k.styles.margin.right for k in keys), default=0)
        width = self.size.width
        palette = width >= PALETTE_FROM and used + PALETTE_CELLS <= width
        if palette != self.show_command_palette:
            self.show_command_palette = palette
            # Footer composes its keys once: a footer narrowed after that kept the
            # palette's key and cut `q Quit` at its right end.
            self.refresh(recompose=True)
