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

SIDEWAYS_WEIGHT = 2
"""A cell of sideways gap costs as much as two cells of distance along the direction."""


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
    """Cells between two 1-D spans; 0 when they overlap or touch."""
    a_hi, b_hi = a_lo + a_len, b_lo + b_len
    return max(0, b_lo - a_hi, a_lo - b_hi)


def _spans_overlap(a_lo: int, a_len: int, b_lo: int, b_len: int) -> bool:
    """True when two 1-D spans share at least one cell (touching is not sharing)."""
    return a_lo < b_lo + b_len and b_lo < a_lo + a_len


def nearest(origin: Box, candidates: Sequence[tuple[T, Box]], direction: Direction) -> T | None:
    """The candidate nearest to `origin` in `direction`, or None when there is none.

    A candidate counts only when it lies wholly in that half of the screen: for "right",
    its left edge is at or beyond the origin's horizontal centre (likewise for the other
    directions). So a panel that overlaps the origin along the direction (a card that
    grew to show its description, a tall panel beside short ones) is never "beyond" it.

    Nearest means, in order: sharing rows (for left/right) or columns (for up/down) with
    the origin — the panel beside it beats a closer one on the next row; then the gap
    along the direction plus twice the sideways gap; then the closest centre sideways;
    then layout order.
    """
    ox2, oy2 = 2 * origin.x + origin.width, 2 * origin.y + origin.height  # centres ×2
    best: tuple[bool, int, float, int] | None = None
    chosen: T | None = None
    for index, (item, box) in enumerate(candidates):
        if box.width <= 0 or box.height <= 0:
            continue
        if direction == "right":
            beyond = 2 * box.x >= ox2
            along = box.x - (origin.x + origin.width)
        elif direction == "left":
            beyond = 2 * (box.x + box.width) <= ox2
            along = origin.x - (box.x + box.width)
        elif direction == "down":
            beyond = 2 * box.y >= oy2
            along = box.y - (origin.y + origin.height)
        else:
            beyond = 2 * (box.y + box.height) <= oy2
            along = origin.y - (box.y + box.height)
        if not beyond:
            continue
        if direction in ("up", "down"):
            spans = (origin.x, origin.width, box.x, box.width)
            centre_offset = abs(2 * box.x + box.width - ox2) / 2
        else:
            spans = (origin.y, origin.height, box.y, box.height)
            centre_offset = abs(2 * box.y + box.height - oy2) / 2
        score = (
            not _spans_overlap(*spans),
            max(0, along) + SIDEWAYS_WEIGHT * _span_gap(*spans),
            centre_offset,
            index,
        )
        if best is None or score < best:
            best, chosen = score, item
    return chosen
