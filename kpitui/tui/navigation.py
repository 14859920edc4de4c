"""Moving focus between panels by where they are on screen (arrow keys and h/j/k/l).

Pure geometry on rectangles (anything with x, y, width, height, such as Textual's
`Region`), so it is tested without running an app. Layout order (Tab) needs no code:
the panels are composed rows left to right, top to bottom, which is Textual's focus
order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypeVar

Direction = Literal["left", "right", "up", "down"]

T = TypeVar("T")

# h/j/k/l, as in vi and less.
VI_KEYS: dict[str, Direction] = {"h": "left", "j": "down", "k": "up", "l": "right"}


class Box(Protocol):
    @property
    def x(self) -> int: ...
    @property
    def y(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


def _span_gap(a_lo: int, a_len: int, b_lo: int, b_len: int) -> int:
    """Cells between two 1-D spans; 0 when they overlap."""
    a_hi, b_hi = a_lo + a_len, b_lo + b_len
    return max(0, b_lo - a_hi, a_lo - b_hi)


def nearest(origin: Box, candidates: Sequence[tuple[T, Box]], direction: Direction) -> T | None:
    """The candidate nearest to `origin` in `direction`, or None when there is none.

    A candidate counts when its centre lies beyond the origin's centre in that direction
    and its near edge does not start before the origin's near edge (so a tall panel
    beside two short ones is "right", not "down"). Nearest means: smallest gap along the
    direction plus twice the sideways gap (a panel straight below beats a closer one off
    to the side), then the closest centre sideways, then layout order.
    """
    ox2, oy2 = 2 * origin.x + origin.width, 2 * origin.y + origin.height  # centres ×2
    best: tuple[float, float, int] | None = None
    chosen: T | None = None
    for index, (item, box) in enumerate(candidates):
        if box.width <= 0 or box.height <= 0:
            continue
        cx2, cy2 = 2 * box.x + box.width, 2 * box.y + box.height
        if direction == "down":
            ok = cy2 > oy2 and box.y > origin.y
            along = box.y - (origin.y + origin.height)
        elif direction == "up":
            ok = cy2 < oy2 and box.y + box.height < origin.y + origin.height
            along = origin.y - (box.y + box.height)
        elif direction == "right":
            ok = cx2 > ox2 and box.x > origin.x
            along = box.x - (origin.x + origin.width)
        else:
            ok = cx2 < ox2 and box.x + box.width < origin.x + origin.width
            along = origin.x - (box.x + box.width)
        if not ok:
            continue
        if direction in ("up", "down"):
            sideways = _span_gap(origin.x, origin.width, box.x, box.width)
            centre_offset = abs(cx2 - ox2)
        else:
            sideways = _span_gap(origin.y, origin.height, box.y, box.height)
            centre_offset = abs(cy2 - oy2)
        score = (max(0, along) + 2 * sideways, centre_offset / 2, index)
        if best is None or score < best:
            best, chosen = score, item
    return chosen
