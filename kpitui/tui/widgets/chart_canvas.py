"""The plot inside a chart panel: a plotext line chart drawn only when it is painted.

Building a plotext chart (and reading its ANSI output back) is the costly part of a
chart, so the canvas builds it in `render()` — at the size it is about to be painted
at — and keeps the result. It is built again only when something it is drawn from
changed: its size, the plotted data, the theme (or colours turned off), compactness.
"""

from __future__ import annotations

import math
import os
import re
from datetime import datetime, tzinfo

import msgspec
from plotext._dict import themes as plotext_themes
from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Span, Text
from textual.color import Color
from textual.content import Content
from textual_plotext import PlotextPlot
from textual_plotext.plot import _rgbify_theme, _sequence

from kpitui.engine.board import ChartView

# Line colours (RGB) for the series, distinct on dark and light themes.
SERIES_COLORS: tuple[tuple[int, int, int], ...] = (
    (0, 150, 230),
    (240, 150, 40),
    (170, 90, 220),
    (40, 190, 190),
    (230, 90, 170),
    (150, 150, 150),
)
# Without colour, series differ by their marker instead.
MONO_MARKERS: tuple[str, ...] = ("braille", "•", "x", "+", "o", "*")
REF_COLORS: dict[str, tuple[int, int, int]] = {
    "target": (60, 180, 75),
    "warn": (230, 190, 20),
    "crit": (230, 40, 60),
}


def no_color_wanted(app_no_color: bool) -> bool:
    """True when colours are off: the app saw NO_COLOR, or the environment says so now."""
    return app_no_color or "NO_COLOR" in os.environ


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """About `count` round tick values (1, 2, 5 × 10^k steps) covering lo..hi."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def axis_label(value: float, fmt: str) -> str:
    """A short tick label in the chart's format: `12K`, `2.1%`, `2h`."""
    if fmt == "percent":
        shown = value * 100
        return f"{shown:.0f}%" if abs(shown - round(shown)) < 1e-9 else f"{shown:.1f}%"
    if fmt == "duration":
        seconds = abs(value)
        sign = "-" if value < 0 else ""
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds >= size:
                return f"{sign}{seconds / size:.3g}{unit}"
        return f"{sign}{seconds:.3g}s"
    magnitude = abs(value)
    for suffix, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if magnitude >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}" if magnitude < 1000 else f"{value:.0f}"


def time_ticks(lo: int, hi: int, count: int, tz: tzinfo) -> tuple[list[int], list[str]]:
    """Evenly spread x ticks over lo..hi, labelled in `tz` with a resolution fit to the span."""
    span = hi - lo
    if span <= 2 * 86400:
        form = "%H:%M"
    elif span <= 300 * 86400:
        form = "%b %d"
    else:
        form = "%Y-%m"
    if span <= 0 or count < 2:
        return [lo], [datetime.fromtimestamp(lo, tz).strftime(form)]
    positions = [round(lo + span * i / (count - 1)) for i in range(count)]
    labels = [datetime.fromtimestamp(p, tz).strftime(form) for p in positions]
    return positions, labels


_SGR = re.compile("\x1b\\[([0-9;]*)m")
_NULL = Style.null()


def ansi_text(ansi: str) -> Text:
    """`Text.from_ansi(ansi)`, for plotext's output: the same text and styles.

    Rich's decoder builds a Style per escape code and a Text per line; plotext repeats a
    handful of colour codes thousands of times (a wide chart is ~20,000 characters: 8 ms
    of its 26 ms build). Here each code is decoded by Rich once per style it follows,
    and the text is assembled in one piece. Anything but colour/attribute codes (cursor
    moves, links, carriage returns) goes to Rich whole.
    """
    pieces = _SGR.split(ansi)  # text, codes, text, codes, ..., text
    if "\r" in ansi or any("\x1b" in text for text in pieces[::2]):
        return Text.from_ansi(ansi)
    decoder = AnsiDecoder()
    after: dict[tuple[Style, str], Style] = {}
    style = _NULL
    plain: list[str] = []
    spans: list[Span] = []
    at = 0
    for index, piece in enumerate(pieces):
        if index % 2:  # the codes of one escape sequence
            key = (style, piece)
            found = after.get(key)
            if found is None:
                decoder.style = style
                decoder.decode_line(f"\x1b[{piece}m")
                found = after[key] = decoder.style
            style = found
            continue
        plain.append(piece)
        if style and piece:
            spans.append(Span(at, at + len(piece), style))
        at += len(piece)
    return Text("".join(plain), spans=spans)


def has_points(view: ChartView) -> bool:
    return any(series.points for series in view.series)


def plot_data(view: ChartView, comparison: bool = False) -> tuple[object, ...]:
    """What the plot is drawn from: a change here, and only here, rebuilds it."""
    marks = tuple(a.ts for a in view.annotations)
    compared = view.comparison if comparison else ()
    return (
        view.series, view.ref_lines, view.y_min, view.y_max, view.format, view.error,
        compared, marks,
    )  # fmt: skip


def dimmed(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """A series' colour for its comparison line: halfway to grey."""
    return tuple(round(c * 0.5 + 128 * 0.5) for c in rgb)  # type: ignore[return-value]


DASHED_MARKER = "╌"
"""A projection (a forecast) is drawn dashed: told apart from measured lines without colour."""
COMPARISON_MARKER = "·"
"""The comparison line is dotted where the current one is solid: told apart in mono too."""
ANNOTATION_COLOR = (150, 150, 150)


def y_range(view: ChartView) -> tuple[float, float]:
    """The y axis: the spec's bounds, else the data and reference lines with 5% air."""
    ys = [value for series in view.series for _, value in series.points]
    refs = [ref.value for ref in view.ref_lines]
    y_lo = view.y_min if view.y_min is not None else min([*ys, *refs])
    y_hi = view.y_max if view.y_max is not None else max([*ys, *refs])
    if y_hi <= y_lo and (view.y_min is None) != (view.y_max is None):
        # Every value lies beyond the one bound written: draw them (a churn chart capped
        # at y_max: 0.1 went blank exactly when churn spiked).
        return y_range(msgspec.structs.replace(view, y_min=None, y_max=None))
    if y_hi <= y_lo:
        pad = abs(y_lo) * 0.1 or 1.0
        return y_lo - pad, y_hi + pad
    pad = (y_hi - y_lo) * 0.05
    return (
        y_lo if view.y_min is not None else y_lo - pad,
        y_hi if view.y_max is not None else y_hi + pad,
    )


class ChartCanvas(PlotextPlot):
    """The plotext drawing of a chart panel's view, built when painted and kept.

    A `PlotextPlot` so that textual-plotext registers (and re-registers, on a theme
    change) the `textual-auto-<theme>` plotext theme matching the app's colours.
    """

    DEFAULT_CSS = """
    ChartCanvas {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(
        self,
        view: ChartView,
        *,
        tz: tzinfo,
        compact: bool = False,
        comparison: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.view = view
        """The chart drawn; change it with `show`."""
        self.comparison = comparison
        """Whether the comparison lines are drawn (`c`); change it with `show`."""
        self.tz = tz
        """The dashboard's timezone: the time axis is labelled in it."""
        self.compact = compact
        """Fewer ticks and no reference-line names; change it with `show`."""
        self.builds = 0
        """How many times plotext built the chart (tests and benchmarks read it)."""
        self._built_key: tuple[object, ...] | None = None
        self._built: Content = Content("")

    def show(self, view: ChartView, compact: bool, comparison: bool | None = None) -> None:
        """Draw `view`; repaints (and so rebuilds) only when what is drawn changed."""
        comparison = self.comparison if comparison is None else comparison
        changed = compact != self.compact or plot_data(view, comparison) != plot_data(
            self.view, self.comparison
        )
        self.view, self.compact, self.comparison = view, compact, comparison
        if changed:
            self.refresh()

    def render(self) -> Content:
        # Textual calls this whenever the canvas is repainted; plotext builds only when
        # the picture would differ from the one kept.
        width, height = self.size
        view = self.view
        if view.error is not None or not has_points(view) or width < 10 or height < 3:
            return Content("")
        mono = no_color_wanted(self.app.no_color)
        wanted_theme = "clear" if mono else "auto"
        if self.theme != wanted_theme:
            self.set_reactive(PlotextPlot.theme, wanted_theme)  # we are repainting already
        theme_name = "clear" if mono else self._get_plotext_theme_name(self.app.theme)
        key = (width, height, plot_data(view, self.comparison), theme_name, self.compact)
        if key != self._built_key:
            try:
                self._built = self._build(width, height, theme_name, mono)
            except (ArithmeticError, ValueError):
                # plotext's scale overflows on values near the float limit (1e308): an
                # OverflowError, or a ValueError once the overflow turned into a NaN.
                self._built = Content("⚠ values too large to plot")
            self._built_key = key
            self.builds += 1
        return self._built

    def _build(self, width: int, height: int, theme_name: str, mono: bool) -> Content:
        """The chart at width × height: series, reference lines, time and value ticks."""
        view = self.view
        plt = self.plt
        plt.clear_figure()
        plt.clear_data()
        # As PlotextPlot.render does: both size calls are needed for plotext to resize.
        plt.plotsize(width, height)
        plt._set_size(width, height)
        if not mono:
            self._ensure_theme(theme_name)
        # Set before plotting: the text backgrounds are drawn in the theme's canvas colour.
        plt.theme(theme_name)
        compared = view.comparison if self.comparison else ()
        xs = [ts for series in view.series for ts, _ in series.points]
        x_lo, x_hi = min(xs), max(xs)
        # The comparison lines share the y axis, so both fit on it.
        y_lo, y_hi = y_range(msgspec.structs.replace(view, series=(*view.series, *compared)))

        # Drawn first, under the current lines.
        for index, series in enumerate(compared):
            if not series.points:
                continue
            rgb = SERIES_COLORS[index % len(SERIES_COLORS)]
            plt.plot(
                [ts for ts, _ in series.points],
                [value for _, value in series.points],
                marker=COMPARISON_MARKER,
                color=None if mono else dimmed(rgb),
            )

        for index, series in enumerate(view.series):
            if not series.points:
                continue
            marker = MONO_MARKERS[index % len(MONO_MARKERS)] if mono else "braille"
            plt.plot(
                [ts for ts, _ in series.points],
                [value for _, value in series.points],
                marker=DASHED_MARKER if series.dashed else marker,
                color=None if mono else SERIES_COLORS[index % len(SERIES_COLORS)],
            )
        labelled_rows: list[int] = []
        canvas_rows = max(1, height - 3)  # less the frame and the time labels
        for ref in view.ref_lines:
            if not y_lo <= ref.value <= y_hi:
                continue
            color = None if mono else REF_COLORS.get(ref.name)
            plt.horizontal_line(ref.value, color=color)
            row = round((y_hi - ref.value) / (y_hi - y_lo) * (canvas_rows - 1))
            # Name the line at its right end, unless another name already sits there.
            if self.compact or width < 30 or any(abs(row - r) < 1 for r in labelled_rows):
                continue
            labelled_rows.append(row)
            plt.text(ref.name, x=x_hi, y=ref.value, alignment="right", color=color)

        for annotation in view.annotations:
            if x_lo <= annotation.ts <= x_hi:
                # A release or an incident: a vertical rule at its time.
                plt.vertical_line(annotation.ts, color=None if mono else ANNOTATION_COLOR)
        plt.xlim(x_lo, x_hi if x_hi > x_lo else x_lo + 1)
        plt.ylim(y_lo, y_hi)
        x_count = max(2, min(8, width // (16 if self.compact else 12)))
        positions, labels = time_ticks(x_lo, x_hi, x_count, self.tz)
        plt.xticks(positions, labels)
        y_count = max(2, min(6, height // 3))
        y_ticks = [t for t in nice_ticks(y_lo, y_hi, y_count) if y_lo <= t <= y_hi]
        plt.yticks(y_ticks, [axis_label(t, view.format) for t in y_ticks])
        plt.frame(True)

        return Content.from_rich_text(ansi_text(plt.build()), console=self.app.console)

    def _ensure_theme(self, theme_name: str) -> None:
        """Register the app theme's plotext theme if textual-plotext has not yet.

        Its own registration runs on mount and on a theme change; the first paint may
        come first. Registering here does not ask for another repaint.
        """
        if theme_name in plotext_themes:
            return
        variables = self.app.theme_variables
        surface = Color.parse(variables.get("surface", "#000000")).rgb
        foreground = Color.parse(variables.get("foreground", "#ffffff")).rgb
        plotext_themes[theme_name] = _rgbify_theme(
            surface, surface, foreground, "default", _sequence
        )
