"""The plot inside a chart panel: a plotext line chart drawn only when it is painted.

It draws what the `ChartView` says: every bucket in its place on the time axis, a line
cut at each gap (`ChartSeries.segments`), the ticks and labels the view gives.

Building a plotext chart (and reading its ANSI output back) is the costly part of a
chart, so the canvas builds it in `render()` — at the size it is about to be painted
at — and keeps the result. It is built again only when something it is drawn from
changed: its size, the plotted data, the theme (or colours turned off), compactness.
"""

from __future__ import annotations

import os
import re

from plotext._dict import themes as plotext_themes
from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Span, Text
from textual.color import Color
from textual.content import Content
from textual_plotext import PlotextPlot
from textual_plotext.plot import _rgbify_theme, _sequence

from kpitui.engine.annotations import CHOSEN_RULE
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
# Series differ by their marker as well as their colour, so they are told apart on a
# monochrome terminal and by a colour-blind reader too.
SERIES_MARKERS: tuple[str, ...] = ("braille", "•", "x", "+", "o", "*")
LEGEND_MARKS: tuple[str, ...] = ("⣀⣀", "••", "xx", "++", "oo", "**")
MONO_MARKERS = SERIES_MARKERS
REF_COLORS: dict[str, tuple[int, int, int]] = {
    "target": (60, 180, 75),
    "warn": (230, 190, 20),
    "crit": (230, 40, 60),
}


def no_color_wanted(app_no_color: bool) -> bool:
    """True when colours are off: the app saw NO_COLOR, or the environment says so now."""
    return app_no_color or "NO_COLOR" in os.environ


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
    return view.has_points


def plot_data(
    view: ChartView, comparison: bool = False, chosen: str | None = None
) -> tuple[object, ...]:
    """What the plot is drawn from: a change here, and only here, rebuilds it."""
    compared = view.comparison if comparison else ()
    return (
        view.series,
        view.ref_lines,
        view.y_min,
        view.y_max,
        view.format,
        view.error,
        view.lo,
        view.hi,
        view.zone,
        compared,
        view.mark_starts,
        view.chosen_start(chosen),
    )


def dimmed(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """A series' colour for its comparison line: halfway to grey."""
    return tuple(round(c * 0.5 + 128 * 0.5) for c in rgb)  # type: ignore[return-value]


DASHED_MARKER = "╌"
"""A projection (a forecast) is drawn dashed: told apart from measured lines without colour."""
COMPARISON_MARKER = "·"
"""The comparison line is dotted where the current one is solid: told apart in mono too."""
ANNOTATION_COLOR = (150, 150, 150)
CHOSEN_MARK_COLOR = (230, 90, 170)
"""The mark `m` chose: another colour, and a heavier rule (`CHOSEN_RULE`) for mono."""


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
        compact: bool = False,
        comparison: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.view = view
        """The chart drawn; change it with `show`."""
        self.comparison = comparison
        """Whether the comparison lines are drawn (`c`); change it with `show`."""
        self.compact = compact
        """Fewer ticks and no reference-line names; change it with `show`."""
        self.chosen: str | None = None
        """The key of the mark drawn apart (a detail's `m`); change it with `show`."""
        self.builds = 0
        """How many times plotext built the chart (tests and benchmarks read it)."""
        self._built_key: tuple[object, ...] | None = None
        self._built: Content = Content("")

    def show(
        self,
        view: ChartView,
        compact: bool,
        comparison: bool | None = None,
        chosen: str | None = None,
    ) -> None:
        """Draw `view` (with `chosen`, the key of the mark drawn apart); repaints (and so
        rebuilds) only when what is drawn changed. `comparison` None keeps it as is."""
        comparison = self.comparison if comparison is None else comparison
        changed = compact != self.compact or plot_data(view, comparison, chosen) != plot_data(
            self.view, self.comparison, self.chosen
        )
        self.view, self.compact, self.comparison, self.chosen = view, compact, comparison, chosen
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
        key = (
            width,
            height,
            plot_data(view, self.comparison, self.chosen),
            theme_name,
            self.compact,
        )
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
        x_lo, x_hi = view.x_range
        # The comparison lines share the value axis: both fit on it.
        y_lo, y_hi = view.value_range(bool(compared))

        # Drawn first, under the current lines; cut at their gaps as those are.
        for index, series in enumerate(compared):
            rgb = SERIES_COLORS[index % len(SERIES_COLORS)]
            for segment in series.segments():
                plt.plot(
                    [ts for ts, _ in segment],
                    [value for _, value in segment],
                    marker=COMPARISON_MARKER,
                    color=None if mono else dimmed(rgb),
                )

        for index, series in enumerate(view.series):
            marker = DASHED_MARKER if series.dashed else SERIES_MARKERS[index % len(SERIES_MARKERS)]
            color = None if mono else SERIES_COLORS[index % len(SERIES_COLORS)]
            # A gap is drawn as one: the line is cut there, never joined across it.
            for segment in series.segments():
                plt.plot(
                    [ts for ts, _ in segment],
                    [value for _, value in segment],
                    marker=marker,
                    color=color,
                )
        labelled_rows: list[int] = []
        canvas_rows = max(1, height - 3)  # less the frame and the time labels
        for ref, _label in view.ref_labels:
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

        chosen = view.chosen_start(self.chosen)
        for start in view.mark_starts:
            # A release or an incident: a vertical rule at its bucket.
            if start != chosen:
                plt.vertical_line(start, color=None if mono else ANNOTATION_COLOR)
        if chosen is not None:
            # The mark `m` chose: a heavy rule, in a colour of its own.
            plt.plot(
                [chosen, chosen],
                [y_lo, y_hi],
                marker=CHOSEN_RULE,
                color="default" if mono else CHOSEN_MARK_COLOR,
            )
        plt.xlim(x_lo, x_hi if x_hi > x_lo else x_lo + 1)
        plt.ylim(y_lo, y_hi)
        x_count = max(2, min(8, width // (16 if self.compact else 12)))
        x_ticks = view.time_ticks(x_count)
        plt.xticks([t for t, _ in x_ticks], [label for _, label in x_ticks])
        y_count = max(2, min(6, height // 3))
        y_ticks = view.value_ticks(y_count, bool(compared))
        plt.yticks([t for t, _ in y_ticks], [label for _, label in y_ticks])
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
