"""`kpitui snapshot --format svg`: the real dashboard screen, rendered headless.

The app is started with no terminal at a fixed width and a fixed as-of, shown the board
evaluated here (no polling, no clock), on the page asked for, and its first full screen
is exported as SVG: a picture of the board, so without the key footer or a focused
panel's highlight. Without a height, the screen is as tall as the page's panels need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from kpitui.engine.board import Board
from kpitui.errors import RuntimeFailure
from kpitui.literal import literal
from kpitui.timeutil import FixedClock

# The screen an SVG starts from when no height is given; then grown or shrunk to fit.
START_HEIGHT = 40
MIN_HEIGHT, MAX_HEIGHT = 10, 1000
# Panels grow on a tall screen (`-tall`, `-huge`): a few passes reach the fitting height.
FIT_PASSES = 4


def render_svg(
    loaded: Any,
    board: Board,
    store_path: Path,
    as_of: int,
    width: int,
    height: int | None,
    page: int = 1,
) -> str:
    """`board`, the dashboard of `loaded` at `as_of` on the store at `store_path`, page
    `page` (from 1), as an SVG `width` cells wide and `height` rows tall (None: as tall
    as the page needs)."""
    from textual.widgets import Footer

    from kpitui.tui.app import KpituiApp

    app = KpituiApp(
        loaded,
        store_path=store_path,
        clock=FixedClock(as_of),
        as_of=as_of,
        board=board,
        live=False,
        page=page - 1,
    )

    async def screenshot(pilot: Pilot[None]) -> None:
        shown = pilot.app
        await pilot.pause()
        for footer in shown.query(Footer):
            footer.display = False
        shown.screen.set_focus(None)
        await pilot.pause()
        if height is None:
            for _ in range(FIT_PASSES):
                needed = _rows_needed(shown)
                if needed == shown.size.height:
                    break
                await pilot.resize_terminal(width, needed)
                await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        shown.exit(shown.export_screenshot(title=literal(board.title)))

    size = (width, START_HEIGHT if height is None else height)
    svg = app.run(headless=True, size=size, auto_pilot=screenshot)
    # A widget that failed while drawing leaves the exception where Textual's own test
    # pilot finds it (and Textual has printed it): the screenshot would be half drawn.
    if not isinstance(svg, str) or app._exception is not None:
        raise RuntimeFailure(
            "the dashboard could not be rendered to SVG",
            hint="try `kpitui run` to see the error on screen, or --format text",
        )
    return svg


def _rows_needed(app: Any) -> int:
    """The screen height at which the current page's panels all show, none cut."""
    page = app.current_page()
    if page is None:
        return app.size.height
    rows = app.size.height - page.size.height + page.virtual_size.height
    return max(MIN_HEIGHT, min(MAX_HEIGHT, rows))
