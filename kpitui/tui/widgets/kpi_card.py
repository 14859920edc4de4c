"""A KPI card: title, value, state, delta, target and trend of one `KpiView`.

The card only presents what the engine computed. A refresh hands it a new `KpiView`;
`update_view` repaints only the lines whose content changed, so an unchanged card writes
nothing to the terminal.

A board holds many cards and every widget costs start-up time (styling, layout), so a
card is one widget without children: `card_lines.lay_out` says what each line shows,
`render_line` draws it. The colours of the parts are component classes, which the CSS
styles by the card's own classes (state, band, focus): a theme or state change restyles
them.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from kpitui.engine.board import STATE_GLYPHS, KpiView
from kpitui.tui.text import safe_text
from kpitui.tui.widgets.card_lines import (
    DELTA_BAD,
    DELTA_GOOD,
    MUTED,
    NOTE,
    PROBLEM,
    SPARK_MAX,
    SPARK_MIN,
    STAR,
    STATE,
    TITLE,
    VALUE,
    Hero,
    Line,
    Pair,
    Trend,
    background,
    digits_fit,
    draw_hero,
    draw_pair,
    draw_spark,
    lay_out,
)

STATES = tuple(STATE_GLYPHS)
"""Every KPI state; each has a `-state-<state>` class rule below."""

FLASH_INTERVAL = 0.25
"""Seconds between two toggles of the `-flash` class."""
FLASH_TOGGLES = 6
"""Toggles of one flash: three blinks, about 1.5 s."""
FLASH_REPEATS = 3
"""Flashes before the card stops blinking (it stays marked until acknowledged)."""
FLASH_PAUSE_TICKS = 4
"""Ticks of rest between two flashes."""


class KpiCard(Widget, can_focus=True):
    """A focusable card presenting one KPI.

    CSS classes set from the view: `-state-<state>` (what the KPI is), `-band-<band>`
    (the threshold band of its value, kept while stale), `-north-star`, `-no-spark` (no
    trend to draw), `-digits` (the value is drawn with big digits), `-flash` (blinking
    after a state change) and `-alerted` (from a flash until acknowledged).
    """

    ALLOW_SELECT: ClassVar[bool] = False
    """The lines are drawn as strips, not as text Textual could select in."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "drill_down",
            "Details",
            id="kpi_card.drill_down",
            tooltip="Open this KPI's detail screen: full chart, ranges, breakdown",
        ),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Open the KPI's detail screen (posts `KpiCard.DrillDown`). |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        TITLE,
        STAR,
        NOTE,
        VALUE,
        STATE,
        DELTA_GOOD,
        DELTA_BAD,
        MUTED,
        PROBLEM,
        SPARK_MAX,
        SPARK_MIN,
    }
    """
    | Class | Description |
    | :- | :- |
    | `kpi-card--title` | The title (reversed while the card has focus). |
    | `kpi-card--star` | The ★ before the North Star's title. |
    | `kpi-card--note` | The indicator tag right of the title ("leading", "lagging"), and the description shown while the card has focus. |
    | `kpi-card--value` | The value, and the North Star's big digits: the band's colour. |
    | `kpi-card--state` | The state's glyph and word: the state's colour. |
    | `kpi-card--delta-good` | The delta when the change is good for the KPI's direction. |
    | `kpi-card--delta-bad` | The delta when the change is bad for the KPI's direction. |
    | `kpi-card--muted` | Secondary words ("target", "no target"), and the delta when there is no change or no comparison. |
    | `kpi-card--problem` | What is wrong with the value, in the state's colour: the age of the last point while stale, the reason while in error. |
    | `kpi-card--spark-max` | The trend's colour for its largest values (the color only). |
    | `kpi-card--spark-min` | The trend's colour for its smallest values (the color only). |
    """

    DEFAULT_CSS = """
    KpiCard {
        width: 1fr;
        height: auto;
        min-width: 22;
        padding: 0 1;
        border: round $foreground 25%;
        border-subtitle-align: right;
        border-subtitle-color: $error;
        border-subtitle-style: bold;
        background: $surface;

        & > .kpi-card--title { text-style: bold; }
        & > .kpi-card--star { color: $warning; text-style: bold; }
        & > .kpi-card--note { color: $foreground-muted; text-style: italic; }
        & > .kpi-card--value { text-style: bold; }
        & > .kpi-card--state { text-style: bold; }
        & > .kpi-card--delta-good { color: $text-success; }
        & > .kpi-card--delta-bad { color: $text-error; }
        & > .kpi-card--muted { color: $foreground-muted; }
        /* Shown only while stale (the age) or in error (the reason). */
        & > .kpi-card--problem { color: $text-warning; }
        &.-state-error > .kpi-card--problem { color: $text-error; }
        & > .kpi-card--spark-max { color: $primary; }
        & > .kpi-card--spark-min { color: $primary 30%; }

        &:focus {
            background-tint: $foreground 6%;
            & > .kpi-card--title { text-style: bold reverse; }
        }

        /* The value's band colour, kept (dimmed) while stale. */
        &.-band-ok > .kpi-card--value { color: $text-success; }
        &.-band-warn > .kpi-card--value { color: $text-warning; }
        &.-band-crit > .kpi-card--value { color: $text-error; }
        &.-band-ok > .kpi-card--spark-max { color: $success; }
        &.-band-warn > .kpi-card--spark-max { color: $warning; }
        &.-band-crit > .kpi-card--spark-max { color: $error; }

        /* Each state has a colour and a border style of its own, so it also reads
           without colour; the glyph and the word say it in any case. */
        &.-state-ok { border: round $success 60%; }
        &.-state-ok > .kpi-card--state { color: $text-success; }
        &.-state-neutral > .kpi-card--state { color: $text-primary; }
        &.-state-warn { border: dashed $warning; }
        &.-state-warn > .kpi-card--state { color: $warning; }
        &.-state-crit { border: heavy $error; }
        &.-state-crit > .kpi-card--state { color: $error; text-style: bold reverse; }
        &.-state-error { border: double $error; }
        &.-state-error > .kpi-card--state { color: $error; }
        &.-state-stale { border: round $foreground 40%; }
        &.-state-stale > .kpi-card--state { color: $foreground-muted; }
        &.-state-stale > .kpi-card--value { text-style: dim; }
        &.-state-no_data > .kpi-card--state,
        &.-state-no_data > .kpi-card--value { color: $foreground-muted; }

        /* NO_COLOR: greys would blur the bands, so the value stays bright; crit and
           error say it with the border, the reversed word and an underline. */
        &:nocolor > .kpi-card--value { color: $foreground; }
        &:nocolor.-state-stale > .kpi-card--value { color: $foreground-muted; }
        &:nocolor.-state-crit > .kpi-card--value { text-style: bold underline; }
        &:nocolor.-state-error > .kpi-card--state,
        &:nocolor.-state-crit > .kpi-card--state {
            color: $foreground;
            text-style: bold reverse;
        }
        &:nocolor > .kpi-card--delta-good, &:nocolor > .kpi-card--delta-bad {
            color: $foreground;
        }

        &.-flash { background: $error 35%; }
        &.-flash:nocolor { background-tint: $foreground 30%; }
    }
    """

    alerted: var[bool] = var(False)
    """True from a `flash()` until `acknowledge()`: the card shows a "new" mark."""

    class DrillDown(Message):
        """Posted when Enter is pressed on a card: open the KPI's detail screen.

        Handle with `on_kpi_card_drill_down`.
        """

        def __init__(self, card: KpiCard, kpi_id: str) -> None:
            super().__init__()
            self.card = card
            """The card that was drilled into."""
            self.kpi_id = kpi_id
            """The id of the KPI to show in detail."""

        @property
        def control(self) -> KpiCard:
            return self.card

    def __init__(
        self,
        view: KpiView,
        *,
        id: str | None = None,
        name: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, name=name, classes=classes)
        self.view = view
        """The KPI shown (read it; change it with `update_view`)."""
        self._flash_timer: Timer | None = None
        self._flash_ticks = 0
        # What is on screen: the width laid out for and its lines, and each line drawn.
        self._drawn: tuple[int, list[Line]] | None = None
        self._strips: dict[int, Strip] = {}
        self._trend: tuple[tuple[object, ...], list[Strip]] | None = None
        self._parts: dict[tuple[str, ...], Style] = {}
        self._laid_out: tuple[KpiView, int, bool, list[Line]] | None = None
        self._measured: tuple[int, int] | None = None  # the width and lines laid out for
        # Not mounted yet: the classes are styled when the card mounts, not once each now.
        self._apply_classes(view, update=False)

    def on_mount(self) -> None:
        self.tooltip = self._tooltip_text(self.view)

    def on_resize(self) -> None:
        self._fit_digits()

    def watch_has_focus(self, has_focus: bool) -> None:
        super().watch_has_focus(has_focus)
        self._sync_lines()  # the description comes and goes with focus

    # -- updates ---------------------------------------------------------------------

    def update_view(self, view: KpiView) -> None:
        """Show `view` in place; nothing at all happens when it equals the current one."""
        if view == self.view:
            return
        self.view = view
        self._show(view)

    def _show(self, view: KpiView) -> None:
        """Present a new view: its classes, its tooltip, and the lines that changed."""
        self._apply_classes(view)
        if not self.is_mounted:
            return
        self._fit_digits()
        tooltip = self._tooltip_text(view)
        if tooltip != self.tooltip:
            self.tooltip = tooltip
        self._sync_lines()

    def _apply_classes(self, view: KpiView, *, update: bool = True) -> None:
        # One restyle for all the classes (each set_class would restyle the card).
        classes = {f"-state-{state}": view.state == state for state in STATES}
        classes |= {f"-band-{state}": view.band == state for state in STATES}
        classes["-north-star"] = view.north_star
        classes["-no-spark"] = not view.spark
        self.update_classes(classes, update=update)

    def _sync_lines(self) -> None:
        """Repaint the lines whose content changed; lay the card out again only when
        its number of lines did."""
        if self._drawn is None:
            # Not drawn (yet, or on a hidden page): its first paint draws the lines; a
            # layout only when their number differs from the one the card was sized for.
            measured = self._measured
            if self.is_mounted and (
                measured is None or len(self._layout(measured[0])) != measured[1]
            ):
                self.refresh(layout=True)
            return
        width = self.size.width
        drawn_width, drawn = self._drawn
        lines = self._layout(width)
        if width != drawn_width or len(lines) != len(drawn):
            self._drawn = None
            self._strips.clear()
            self.refresh(layout=len(lines) != len(drawn))
            return
        self._drawn = (width, lines)
        changed = [y for y, (old, new) in enumerate(zip(drawn, lines, strict=True)) if old != new]
        for y in changed:
            self._strips.pop(y, None)
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def _fit_digits(self) -> None:
        width = self.size.width if self.is_mounted else 0
        self.set_class(digits_fit(self.view, width), "-digits")

    def notify_style_update(self) -> None:
        # The lines are drawn with the component classes' styles: drop them, so a theme
        # or state change draws them again (the restyle itself repaints the card).
        super().notify_style_update()
        self._strips.clear()
        self._parts.clear()
        self._trend = None

    # -- layout: what each line shows ------------------------------------------------

    @property
    def description_lines(self) -> int:
        """Lines the description adds to the card now: 0 unless it has focus."""
        if not self.has_focus or not self.view.description or self._measured is None:
            return 0
        width = self._measured[0]
        plain = lay_out(self.view, width, focused=False, console=self.app.console)
        return len(self._layout(width)) - len(plain)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        height = len(self._layout(width))
        self._measured = (width, height)
        return height

    def _layout(self, width: int) -> list[Line]:
        """The card's lines at `width` columns of content."""
        view, focused = self.view, self.has_focus
        laid_out = self._laid_out
        if laid_out is not None and laid_out[:3] == (view, width, focused):
            return laid_out[3]  # the same view (by identity or equal): the same lines
        lines = lay_out(view, width, focused=focused, console=self.app.console)
        self._laid_out = (view, width, focused, lines)
        return lines

    # -- drawing ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._drawn is None or self._drawn[0] != width:
            self._drawn = (width, self._layout(width))
            self._strips.clear()
        lines = self._drawn[1]
        strip = self._strips.get(y)
        if strip is None:
            base = self.visual_style.rich_style
            if y < len(lines):
                strip = self._draw(lines[y], width, base)
            else:
                strip = Strip.blank(width, background(base))
            self._strips[y] = strip
        return strip

    def _draw(self, line: Line, width: int, base: Style) -> Strip:
        if isinstance(line, Pair):
            return draw_pair(line, width, base, self._part, self.app.console)
        if isinstance(line, Hero):
            return draw_hero(line, width, base, self._part, self.app.console)
        return self._trend_strip(line, width, base)

    def _trend_strip(self, line: Trend, width: int, base: Style) -> Strip:
        # The sparkline is drawn whole (all its lines) once, its lines kept for each row.
        key = (line.data, line.height, width)
        if self._trend is None or self._trend[0] != key:
            _, under = self.background_colors
            low = under + self.get_component_styles(SPARK_MIN).color
            high = under + self.get_component_styles(SPARK_MAX).color
            strips = draw_spark(
                line.data, width, line.height, low.rich_color, high.rich_color, base
            )
            self._trend = (key, strips)
        return self._trend[1][line.row]

    def _part(self, *components: str) -> Style:
        """The style of a part: its component classes' styles over the card's."""
        style = self._parts.get(components)
        if style is None:
            style = Style()
            for component in components:
                style += self.get_component_rich_style(component, partial=True)
                # A partial style drops a colour's alpha (`$foreground-muted` is a
                # translucent foreground): blend it over the card's background.
                styles = self.get_component_styles(component)
                if styles.has_rule("color") and styles.color.a < 1:
                    blended = self.background_colors[1] + styles.color
                    style += Style(color=blended.rich_color)
            self._parts[components] = style
        return style

    # -- text ------------------------------------------------------------------------

    def _tooltip_text(self, view: KpiView) -> Text:
        lines = [safe_text(view.title, "bold")]
        if view.description:
            lines.append(safe_text(view.description))
        if view.last_at_display is not None:
            lines.append(Text(f"last point {view.last_at_display}", end=""))
        if view.error:
            lines.append(safe_text(f"error: {view.error}"))
        return Text("\n", end="").join(lines)

    # -- alerts ----------------------------------------------------------------------

    def flash(self) -> None:
        """Blink the card a few times to announce a state change; it stays marked
        (`-alerted`) until `acknowledge()`."""
        self._stop_timer()
        self.alerted = True
        self._flash_ticks = 0
        self.add_class("-flash")
        self._flash_timer = self.set_interval(FLASH_INTERVAL, self._flash_tick)

    def acknowledge(self) -> None:
        """Stop the flash and clear the alert mark."""
        self._stop_timer()
        self.remove_class("-flash")
        self.alerted = False

    @property
    def flashing(self) -> bool:
        """True while the card blinks."""
        return self._flash_timer is not None

    def _flash_tick(self) -> None:
        self._flash_ticks += 1
        cycle = FLASH_TOGGLES + FLASH_PAUSE_TICKS
        if self._flash_ticks >= cycle * FLASH_REPEATS - FLASH_PAUSE_TICKS:
            self._stop_timer()
            self.remove_class("-flash")
            return
        phase = self._flash_ticks % cycle
        self.set_class(phase < FLASH_TOGGLES and phase % 2 == 0, "-flash")

    def _stop_timer(self) -> None:
        if self._flash_timer is not None:
            self._flash_timer.stop()
            self._flash_timer = None

    def watch_alerted(self, alerted: bool) -> None:
        self.set_class(alerted, "-alerted")
        self.border_subtitle = Text("● new · a to ack", end="") if alerted else None

    # -- actions ---------------------------------------------------------------------

    def action_drill_down(self) -> None:
        self.post_message(self.DrillDown(self, self.view.id))
