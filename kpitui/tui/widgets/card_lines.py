"""The lines of a KPI card: what each one shows (`lay_out`) and how it is drawn.

A line is plain data, texts and the names of the component classes that style them, so
the lines of two views compare one by one and the card repaints only those that differ.
Drawing asks the card for the style of a part (`PartStyle`): the card resolves it from
its CSS, so the colours follow its state, band, focus and theme.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from msgspec import Struct
from rich.color import Color
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.renderables.digits import Digits
from textual.strip import Strip

from kpitui.engine.board import KpiView
from kpitui.tui.text import safe_text, state_label

FACTS_MIN_WIDTH = 18
"""Columns kept beside the North Star's big digits for its state, delta and target."""
DIGITS_GAP = 2
"""Columns between the big digits and the facts beside them."""
DIGITS_ROWS = 3
"""Lines of the big digits: the value, delta and target lines they stand in for."""
DESCRIPTION_MAX_LINES = 4
"""Lines of description shown under a focused card."""
REASON_LINES = 3
"""Lines of an error's reason, in place of the delta, target and trend."""

# The parts of a card: its component classes. Textual styles every component class of
# every card on each styling pass (a node of its own: ~60-80 µs per class, card and pass,
# two passes before the first frame), so parts that look alike share one: a delta
# without direction is muted like "target", the indicator tag and the description are
# both notes, and the age (shown only while stale) and an error's reason (only in error)
# are one class coloured by the card's state.
TITLE = "kpi-card--title"
STAR = "kpi-card--star"
NOTE = "kpi-card--note"
VALUE = "kpi-card--value"
STATE = "kpi-card--state"
DELTA_GOOD = "kpi-card--delta-good"
DELTA_BAD = "kpi-card--delta-bad"
MUTED = "kpi-card--muted"
PROBLEM = "kpi-card--problem"
SPARK_MAX = "kpi-card--spark-max"
SPARK_MIN = "kpi-card--spark-min"

Piece = tuple[Text, tuple[str, ...]]
"""A text (from `safe_text`: data is never markup) and the parts whose styles it takes."""

PartStyle = Callable[..., Style]
"""The style of one or more parts (component classes) combined, in that order."""


class Pair(Struct, frozen=True):
    """Texts on one line: the left one fills the width (cut with an ellipsis), the
    right one keeps its own width after a one-cell gap."""

    left: tuple[Piece, ...] = ()
    right: tuple[Piece, ...] = ()


class Hero(Struct, frozen=True):
    """One line of the North Star's big digits (`row` ≥ 3: below them, blank) with one
    of its facts beside them."""

    digits: str
    row: int
    facts: Pair


class Trend(Struct, frozen=True):
    """One line of the sparkline (`row` 0 is the top one)."""

    data: tuple[float | None, ...]  # None: a bucket without data, drawn as a gap
    row: int
    height: int


Line = Pair | Hero | Trend
BLANK = Pair()


# -- what each line shows ----------------------------------------------------------------


def digits_fit(view: KpiView, width: int) -> bool:
    """Big digits for the North Star when they and its facts fit in `width` columns."""
    if not view.north_star or width <= 0:
        return False
    digits = Digits.get_width(safe_text(view.display).plain)
    return digits + DIGITS_GAP + FACTS_MIN_WIDTH <= width


def lay_out(view: KpiView, width: int, *, focused: bool, console: Console) -> list[Line]:
    """The lines of a card showing `view` in `width` columns: title; value and state;
    delta; target (and age); trend (2 lines for the North Star); the description
    while focused. The North Star's value is big digits with the facts beside them when
    they fit; an error's reason takes the lines of delta, target and trend."""
    title = (_piece(Text("★ ", end=""), TITLE, STAR),) if view.north_star else ()
    title += (_piece(safe_text(view.title), TITLE),)
    tag = (_piece(safe_text(view.indicator), NOTE),) if view.indicator else ()
    state = (_piece(state_label(view.state), STATE),)
    delta = Pair(_delta(view))
    meta = Pair(_target(view), _age(view))
    trend_height = 2 if view.north_star else 1
    lines: list[Line] = [Pair(title, tag)]

    if digits_fit(view, width):
        digits = safe_text(view.display).plain
        facts_width = width - Digits.get_width(digits) - DIGITS_GAP
        facts = [Pair(state)]
        if view.state == "error":
            facts += _reason(view, facts_width, console)
        else:
            facts += [delta, meta]
        lines += [Hero(digits, row, fact) for row, fact in enumerate(facts)]
        trend_height -= len(facts) - DIGITS_ROWS  # the reason's extra line
    else:
        lines.append(Pair((_piece(safe_text(view.display), VALUE),), state))
        if view.state == "error":
            lines += _reason(view, width, console)
            trend_height -= REASON_LINES - 2  # it stands in for delta, target and trend
        else:
            lines += [delta, meta]

    if view.state != "error" and view.spark:
        lines += [Trend(view.spark, row, trend_height) for row in range(trend_height)]
    else:
        lines += [BLANK] * trend_height  # no trend: its place is kept

    if focused and view.description:
        description = safe_text(view.description)
        lines += [
            Pair((_piece(line, NOTE),))
            for line in _wrap(description, width, DESCRIPTION_MAX_LINES, console)
        ]
    return lines


def _piece(text: Text, *parts: str) -> Piece:
    return (text, parts)


def _delta(view: KpiView) -> tuple[Piece, ...]:
    if view.delta_good is True:
        part = DELTA_GOOD
    elif view.delta_good is False:
        part = DELTA_BAD
    else:
        part = MUTED
    delta = safe_text(view.delta_display)
    if view.delta_display == "n/a":
        return (_piece(Text("Δ ", end=""), part), _piece(delta, part))
    return (_piece(delta, part),)


def _target(view: KpiView) -> tuple[Piece, ...]:
    if view.target_display:
        return (_piece(Text("target ", end=""), MUTED), _piece(safe_text(view.target_display)))
    return (_piece(Text("no target", end=""), MUTED),)


def _age(view: KpiView) -> tuple[Piece, ...]:
    if view.state == "stale" and view.age_display:
        return (_piece(safe_text(view.age_display), PROBLEM),)
    return ()


def _reason(view: KpiView, width: int, console: Console) -> list[Line]:
    reason = safe_text(f"⚠ {view.error}" if view.error else "")
    lines: list[Line] = [
        Pair((_piece(line, PROBLEM),)) for line in _wrap(reason, width, REASON_LINES, console)
    ]
    return lines + [BLANK] * (REASON_LINES - len(lines))


def _wrap(text: Text, width: int, max_lines: int, console: Console) -> list[Text]:
    """`text` wrapped to `width`, at most `max_lines`, the last one ending with "…"
    when some was left out."""
    lines = list(text.wrap(console, max(1, width)))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1].copy()
        last.rstrip()
        last.append("…")
        if last.cell_len > width:
            last.truncate(width, overflow="ellipsis")
        lines[-1] = last
    for line in lines:
        line.rstrip()
        line.end = ""
    return lines


# -- drawing -----------------------------------------------------------------------------


def draw_pair(line: Pair, width: int, base: Style, part: PartStyle, console: Console) -> Strip:
    """A line of texts, `width` cells on the card's `base` style."""
    right = _text(line.right, part)
    room = max(0, width - right.cell_len - 1) if right.plain else width
    left = _text(line.left, part)
    left.truncate(room, overflow="ellipsis")
    gap = " " * (room - left.cell_len + 1) if right.plain else ""
    text = Text.assemble(left, gap, right, end="", no_wrap=True)
    text.truncate(width, overflow="ellipsis")
    segments = Segment.apply_style(text.render(console), base)
    return Strip(segments).adjust_cell_length(width, background(base))


def draw_hero(line: Hero, width: int, base: Style, part: PartStyle, console: Console) -> Strip:
    """A line of the big digits (in the value's style), then a fact beside them."""
    digits_width = Digits.get_width(line.digits)
    if line.row < DIGITS_ROWS:
        style = base + part(VALUE)
        if style.underline:  # NO_COLOR's underlined crit value: not on box drawings
            style += Style(underline=False)
        rows = [
            segment.text for segment in Digits(line.digits).render(style) if segment.text != "\n"
        ]
        digits = Strip([Segment(rows[line.row], style)])
        digits = digits.adjust_cell_length(digits_width, background(base))
    else:
        digits = Strip.blank(digits_width, background(base))
    facts_width = width - digits_width - DIGITS_GAP
    facts = draw_pair(line.facts, facts_width, base, part, console)
    return Strip.join([digits, Strip.blank(DIGITS_GAP, background(base)), facts])


def background(style: Style) -> Style:
    """Only the background of `style`: what the cells right of a text are drawn with."""
    return Style(bgcolor=style.bgcolor)


def _text(pieces: Sequence[Piece], part: PartStyle) -> Text:
    # The parts all the pieces share style the whole text, so an ellipsis cutting it
    # (a long title) is styled like the text it ends.
    shared = _shared_prefix([parts for _, parts in pieces])
    text = Text(end="", no_wrap=True, style=part(*shared) if shared else "")
    for piece, parts in pieces:
        start = len(text)
        text.append_text(piece)
        if len(parts) > len(shared):
            text.stylize(part(*parts[len(shared) :]), start, len(text))
    return text


def _shared_prefix(sequences: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """The leading items all of `sequences` have in common."""
    if not sequences:
        return ()
    shared = sequences[0]
    for items in sequences[1:]:
        size = 0
        while size < min(len(shared), len(items)) and shared[size] == items[size]:
            size += 1
        shared = shared[:size]
    return shared


SPARK_BARS = "▁▂▃▄▅▆▇█"


def column_peaks(data: Sequence[float | None], width: int) -> list[float | None]:
    """What each of `width` columns of a sparkline shows: the largest of the buckets it
    covers (None when they are all gaps); with no more buckets than columns, one column
    per bucket. The one rule of every sparkline on screen (cards and detail tables)."""
    n = len(data)
    if n <= width:
        return list(data)
    return [
        max((v for v in data[n * b // width : n * (b + 1) // width] if v is not None), default=None)
        for b in range(width)
    ]


def draw_spark(
    data: Sequence[float | None], width: int, height: int, low: Color, high: Color, base: Style
) -> list[Strip]:
    """The rows of a sparkline, top first, as Textual's `Sparkline` renderable draws them
    over `base`: a column per bucket of the data (its max), a bar of eighths over
    `height` rows, coloured from `low` to `high` by its height. A column whose buckets
    are all None (no data) is left blank, so a gap reads as one.

    Drawn here because the renderable yields a styled segment per cell (and cuts the
    buckets with Fractions): the nine sparklines of a board cost ~10 ms of its first
    frame that way, ~1 ms with one style per colour and runs of cells merged.
    """
    known = [v for v in data if v is not None]
    finite = [v for v in known if math.isfinite(v)]
    if len(finite) < len(known):  # an overflowed sum (inf): drawn at the end it leans to
        top, bottom = max(finite, default=0.0), min(finite, default=0.0)
        data = [
            v if v is None else bottom if math.isnan(v) else min(max(v, bottom), top) for v in data
        ]
        known = [v for v in data if v is not None]
    n = len(data)
    rows: list[list[tuple[str, Style]]] = [[] for _ in range(height)]
    if not known:
        rows[-1] = [("▁" * width, base + Style(color=low))]
    elif n == 1:
        rows = [[("█" * width, base + Style(color=high))] for _ in range(height)]
    else:
        lowest, highest = min(known), max(known)
        # In halves: from -1e308 to 1e308 is beyond the float range (exact otherwise).
        extent = highest / 2 - lowest / 2 or 1
        peaks = column_peaks(data, width)
        eighths = len(SPARK_BARS) * height - 1
        styles: dict[object, Style] = {}
        step, index = len(peaks) / width, 0.0
        for _ in range(width):
            peak = peaks[int(index)]
            index += step
            if peak is None:
                for runs in rows:
                    _append(runs, " ", base)
                continue
            ratio = (peak / 2 - lowest / 2) / extent
            bar = int(ratio * eighths)
            color = _blend(low, high, ratio)
            style = styles.get(color)
            if style is None:
                style = styles[color] = base + Style(color=_color(color, high))
            for row in range(height):
                floor = (height - 1 - row) * len(SPARK_BARS)
                if bar < floor:
                    cell, cell_style = " ", base
                elif bar >= floor + len(SPARK_BARS):
                    cell, cell_style = "█", style
                else:
                    cell, cell_style = SPARK_BARS[bar - floor], style
                _append(rows[row], cell, cell_style)
    strips = []
    for runs in rows:
        used = sum(len(text) for text, _ in runs)
        segments = [Segment(text, style) for text, style in runs]
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        strips.append(Strip(segments, width))
    return strips


def _append(runs: list[tuple[str, Style]], cell: str, style: Style) -> None:
    """Add a cell to a row's runs, merged into the last run when its style is the same."""
    if runs and runs[-1][1] is style:
        runs[-1] = (runs[-1][0] + cell, style)
    else:
        runs.append((cell, style))


def _blend(low: Color, high: Color, ratio: float) -> tuple[int, int, int] | None:
    """The colour Textual's sparkline blends at `ratio` (channels truncated), as a key:
    None when either end has no RGB value (then it is `high`)."""
    if low.triplet is None or high.triplet is None:
        return None
    (r1, g1, b1), (r2, g2, b2) = low.triplet, high.triplet
    return (
        int(r1 + (r2 - r1) * ratio),
        int(g1 + (g2 - g1) * ratio),
        int(b1 + (b2 - b1) * ratio),
    )


def _color(rgb: tuple[int, int, int] | None, high: Color) -> Color:
    return high if rgb is None else Color.from_rgb(*rgb)
