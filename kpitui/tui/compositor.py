"""The board screen's compositor: a partial update renders only the widgets it touches.

Textual's `Compositor._get_renders` (textual 8.2.8, pinned) picks the widgets to render
for a partial update by whether their *clip* overlaps the dirty region, and renders each
whole: one card's changed line made it render every row of the page, the header, the
footer, the screen (~15 widgets, all their lines) on every live refresh — 60–70 % of the
main thread's work for a point a second. Here a widget is rendered only when what is
visible of it overlaps the dirty region, and only its lines inside it: the lines outside
are not drawn in a partial update anyway (`_render_chops` keeps the dirty lines only),
and the cells of the dirty region all come from the widgets that overlap it.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip


class BoardCompositor(Compositor):
    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if not crop:
            yield from super()._get_renders(crop)
            return
        rows = Region(0, crop.y, self.size.width, crop.height)
        for widget, (region, clip) in self.visible_widgets.items():
            if not crop.overlaps(region.intersection(clip)):
                continue
            clip = clip.intersection(rows)
            x, y, width, height = region.intersection(clip)
            if width and height:
                lines = Region(x - region.x, y - region.y, width, height)
                yield region, clip, widget.render_lines(lines)


def board_screen() -> Screen:
    """The app's default screen, with the compositor above."""
    screen = Screen(id="_default")
    screen._compositor = BoardCompositor()
    return screen
