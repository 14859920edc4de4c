"""`kpitui snapshot --format svg`: the real dashboard screen, rendered headless.

The app is started with no terminal at a fixed size and a fixed as-of, shown the board
evaluated here (no polling, no clock), and its first full screen is exported as SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from kpitui.engine.board import Board
from kpitui.errors import RuntimeFailure
from kpitui.literal import literal
from kpitui.timeutil import FixedClock


def render_svg(
    loaded: Any, board: Board, store_path: Path, as_of: int, width: int, height: int
) -> str:
    """`board`, the dashboard of `loaded` at `as_of` on the store at `store_path`, as an
    SVG of `width`×`height` cells."""
    from kpitui.tui.app import KpituiApp

    app = KpituiApp(
        loaded,
        store_path=store_path,
        clock=FixedClock(as_of),
        as_of=as_of,
        board=board,
        live=False,
    )

    async def screenshot(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        pilot.app.exit(pilot.app.export_screenshot(title=literal(board.title)))

    svg = app.run(headless=True, size=(width, height), auto_pilot=screenshot)
    # A widget that failed while drawing leaves the exception where Textual's own test
    # pilot finds it (and Textual has printed it): the screenshot would be half drawn.
    if not isinstance(svg, str) or app._exception is not None:
        raise RuntimeFailure(
            "the dashboard could not be rendered to SVG",
            hint="try `kpitui run` to see the error on screen, or --format text",
        )
    return svg
