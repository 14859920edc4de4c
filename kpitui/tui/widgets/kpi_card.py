"""A KPI card: title, big value, state, delta, target and trend of one `KpiView`.

The card only presents what the engine computed. A refresh hands it a new `KpiView`;
`update_view` touches only the lines whose text changed, so an unchanged card writes
nothing to the terminal.

A board holds many cards and every widget costs start-up time (styling, layout), so a
card is few widgets: a pair of texts on one line (title and tag, value and state, target
and age) is one `CardLine`, and only the North Star has the big digits and their row.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.renderables.digits import Digits as DigitsRenderable
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Digits, Sparkline, Static

from kpitui.engine.board import STATE_GLYPHS, KpiView
from kpitui.timeutil import format_time
from kpitui.tui.text import safe_plain, safe_text, state_label
from kpitui.tui.widgets.card_line import CardLine

STATES = tuple(STATE_GLYPHS)
"""Every KPI state; each has a `-state-<state>` class rule below."""

FACTS_MIN_WIDTH = 18
"""Columns kept beside the North Star's big digits for its state, delta and target."""

_FIXED_LINES = frozenset({"#heading", "#headline", "#delta", "#meta"})
"""One-line fields whose width is set by the card, not by their text."""

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
        "kpi-card--delta-good",
        "kpi-card--delta-bad",
        "kpi-card--delta-none",
        "kpi-card--star",
        "kpi-card--muted",
    }
    """
    | Class | Description |
    | :- | :- |
    | `kpi-card--delta-good` | The delta when the change is good for the KPI's direction. |
    | `kpi-card--delta-bad` | The delta when the change is bad for the KPI's direction. |
    | `kpi-card--delta-none` | The delta when there is no change or no comparison. |
    | `kpi-card--star` | The ★ before the North Star's title. |
    | `kpi-card--muted` | Secondary words: "target", "no target", the age. |
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

        & > .kpi-card--delta-good { color: $text-success; }
        & > .kpi-card--delta-bad { color: $text-error; }
        & > .kpi-card--delta-none { color: $foreground-muted; }
        & > .kpi-card--star { color: $warning; text-style: bold; }
        & > .kpi-card--muted { color: $foreground-muted; }

        #hero { height: auto; }
        #facts { width: 1fr; height: auto; }
        #heading > .card-line--left { text-style: bold; }
        #heading > .card-line--right { color: $foreground-muted; text-style: italic; }
        #headline > .card-line--left { text-style: bold; }
        #big { display: none; width: auto; margin-right: 2; text-style: bold; }
        #headline > .card-line--right { text-style: bold; }
        #delta { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
        #reason {
            display: none;
            height: 3;  /* in place of delta, target and trend: the card keeps its height */
            color: $text-error;
            text-overflow: ellipsis;
        }
        #description {
            display: none;
            height: auto;
            max-height: 4;
            color: $foreground-muted;
            text-style: italic;
            text-overflow: ellipsis;
        }
        #spark { height: 1; }
        &.-no-spark #spark { visibility: hidden; }
        #spark > .sparkline--max-color { color: $primary; }
        #spark > .sparkline--min-color { color: $primary 30%; }

        &:focus {
            background-tint: $foreground 6%;
            #heading > .card-line--left { text-style: bold reverse; }
            #description { display: block; }
        }

        /* The value's band colour, kept (dimmed) while stale. */
        &.-band-ok #headline > .card-line--left, &.-band-ok #big { color: $text-success; }
        &.-band-warn #headline > .card-line--left, &.-band-warn #big { color: $text-warning; }
        &.-band-crit #headline > .card-line--left, &.-band-crit #big { color: $text-error; }
        &.-band-ok #spark > .sparkline--max-color { color: $success; }
        &.-band-warn #spark > .sparkline--max-color { color: $warning; }
        &.-band-crit #spark > .sparkline--max-color { color: $error; }

        /* Each state has a colour and a border style of its own, so it also reads
           without colour; the glyph and the word say it in any case. */
        &.-state-ok { border: round $success 60%; }
        &.-state-ok #headline > .card-line--right { color: $text-success; }
        &.-state-neutral #headline > .card-line--right { color: $text-primary; }
        &.-state-warn { border: dashed $warning; }
        &.-state-warn #headline > .card-line--right { color: $warning; }
        &.-state-crit { border: heavy $error; }
        &.-state-crit #headline > .card-line--right { color: $error; text-style: bold reverse; }
        &.-state-error { border: double $error; }
        &.-state-error #headline > .card-line--right { color: $error; }
        &.-state-error #delta, &.-state-error #meta, &.-state-error #spark { display: none; }
        &.-state-error #reason { display: block; }
        &.-state-stale { border: round $foreground 40%; }
        &.-state-stale #headline > .card-line--right { color: $foreground-muted; }
        &.-state-stale #headline > .card-line--left, &.-state-stale #big { text-style: dim; }
        &.-state-stale #meta > .card-line--right { color: $text-warning; }
        &.-state-no_data #headline > .card-line--right,
        &.-state-no_data #headline > .card-line--left { color: $foreground-muted; }

        /* NO_COLOR: greys would blur the bands, so the value stays bright; crit and
           error say it with the border, the reversed word and an underline. */
        &:nocolor #headline > .card-line--left, &:nocolor #big { color: $foreground; }
        &:nocolor.-state-stale #headline > .card-line--left,
        &:nocolor.-state-stale #big { color: $foreground-muted; }
        &:nocolor.-state-crit #headline > .card-line--left { text-style: bold underline; }
        &:nocolor.-state-error #headline > .card-line--right,
        &:nocolor.-state-crit #headline > .card-line--right {
            color: $foreground;
            text-style: bold reverse;
        }
        &:nocolor > .kpi-card--delta-good, &:nocolor > .kpi-card--delta-bad {
            color: $foreground;
        }

        &.-north-star {
            border-title-color: $warning;
            #spark { height: 2; }
        }
        &.-digits #big { display: block; }

        &.-flash { background: $error 35%; }
        &.-flash:nocolor { background-tint: $foreground 30%; }
        &.-alerted { border-subtitle-color: $error; }
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
        tz: tzinfo,
        id: str | None = None,
        name: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, name=name, classes=classes)
        self.view = view
        """The KPI shown (read it; change it with `update_view`)."""
        self.tz = tz
        """The dashboard's timezone, for the time of the last point."""
        self._shown: dict[str, object] = {}
        self._flash_timer: Timer | None = None
        self._flash_ticks = 0
        self._composed_star = False  # whether the children include the big digits
        # Not mounted yet: the classes are styled when the card mounts, not once each now.
        self._apply_classes(view, update=False)

    # -- composition -----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield CardLine(id="heading")  # title, tag
        self._composed_star = self.view.north_star
        if self.view.north_star:
            with Horizontal(id="hero"):
                # The North Star's value in big digits, its facts beside it.
                yield Digits(id="big")
                with Vertical(id="facts"):
                    yield from self._compose_facts()
        else:
            yield from self._compose_facts()
        yield Sparkline(id="spark")
        yield Static(id="description", markup=False)

    def _compose_facts(self) -> ComposeResult:
        yield CardLine(id="headline")  # value, state
        yield Static(id="reason", markup=False)
        yield Static(id="delta", markup=False)
        yield CardLine(id="meta")  # target, age

    def on_mount(self) -> None:
        self._show(self.view)

    def on_resize(self) -> None:
        self._fit_digits()

    # -- updates ---------------------------------------------------------------------

    def update_view(self, view: KpiView) -> None:
        """Show `view` in place; nothing at all happens when it equals the current one."""
        if view == self.view:
            return
        rebuild = view.north_star != self.view.north_star
        self.view = view
        self._apply_classes(view)
        if self.is_mounted:
            if rebuild:  # the big digits come and go with the North Star
                self.call_later(self._rebuild)
            else:
                self._show(view)

    async def _rebuild(self) -> None:
        self._shown.clear()
        await self.recompose()
        self._show(self.view)

    def _apply_classes(self, view: KpiView, *, update: bool = True) -> None:
        # One restyle for all the classes (each set_class would restyle the card).
        classes = {f"-state-{state}": view.state == state for state in STATES}
        classes |= {f"-band-{state}": view.band == state for state in STATES}
        classes["-north-star"] = view.north_star
        classes["-no-spark"] = not view.spark
        self.update_classes(classes, update=update)

    def _show(self, view: KpiView) -> None:
        if view.north_star != self._composed_star:
            return  # a rebuild for the big digits is pending: it shows the view
        self._set_text("#heading", (self._title_text(view), safe_text(view.indicator or "")))
        self._set_text("#headline", (safe_text(view.display), state_label(view.state)))
        self._set_text("#reason", safe_text(f"⚠ {view.error}" if view.error else ""))
        self._set_text("#delta", self._delta_text(view))
        age = view.age_display if view.state == "stale" and view.age_display else ""
        self._set_text("#meta", (self._target_text(view), safe_text(age)))
        self._set_text("#description", safe_text(view.description or ""))
        if self._shown.get("#spark") != view.spark:
            self._shown["#spark"] = view.spark
            self.query_one("#spark", Sparkline).data = list(view.spark)
        big = safe_plain(view.display)
        if view.north_star and self._shown.get("#big") != big:
            self._shown["#big"] = big
            self.query_one("#big", Digits).update(big)
        self._fit_digits()
        tooltip = self._tooltip_text(view)
        if self._shown.get("tooltip") != tooltip:
            self._shown["tooltip"] = tooltip
            self.tooltip = tooltip

    def _set_text(self, selector: str, text: Text | tuple[Text, Text]) -> None:
        # Rich Text compares by plain text and spans: equal text means no repaint.
        previous = self._shown.get(selector)
        if previous == text:
            return
        self._shown[selector] = text
        # One-line fields of fixed width need no new layout; the others may change size.
        layout = selector not in _FIXED_LINES or previous is None
        if isinstance(text, tuple):
            self.query_one(selector, CardLine).update(text, layout=layout)
        else:
            self.query_one(selector, Static).update(text, layout=layout)

    def _fit_digits(self) -> None:
        """Big digits for the North Star when they and its facts fit, else the plain line."""
        if not (self.view.north_star and self._composed_star):
            self.set_class(False, "-digits")
            return
        width = self.content_region.width if self.is_mounted else 0
        digits = DigitsRenderable.get_width(safe_plain(self.view.display))
        fits = width > 0 and digits + 2 + FACTS_MIN_WIDTH <= width
        self.set_class(fits, "-digits")
        if self.is_mounted:
            self.query_one("#headline", CardLine).hide_left(fits)

    # -- text ------------------------------------------------------------------------

    def _title_text(self, view: KpiView) -> Text:
        title = Text(end="")
        if view.north_star:
            title.append("★ ", self.get_component_rich_style("kpi-card--star", partial=True))
        title.append_text(safe_text(view.title))
        return title

    def _delta_text(self, view: KpiView) -> Text:
        if view.delta_good is True:
            component = "kpi-card--delta-good"
        elif view.delta_good is False:
            component = "kpi-card--delta-bad"
        else:
            component = "kpi-card--delta-none"
        style = self.get_component_rich_style(component, partial=True)
        delta = safe_text(view.delta_display)
        delta.stylize(style)
        if view.delta_display == "n/a":
            delta = Text.assemble(("Δ ", style), delta)
        return delta

    def _target_text(self, view: KpiView) -> Text:
        muted = self.get_component_rich_style("kpi-card--muted", partial=True)
        if view.target_display:
            return Text.assemble(("target ", muted), safe_text(view.target_display))
        return Text("no target", style=muted, end="")

    def _tooltip_text(self, view: KpiView) -> Text:
        lines = [safe_text(view.title, "bold")]
        if view.description:
            lines.append(safe_text(view.description))
        if view.last_at is not None:
            lines.append(Text(f"last point {format_time(view.last_at, self.tz)}", end=""))
        if view.error:
            lines.append(safe_text(f"error: {view.error}"))
        return Text("\n", end="").join(lines)

    def notify_style_update(self) -> None:
        # Component-class colours are baked into the texts: rebuild them on a theme change.
        # Texts compare with their spans, so only those whose colours changed repaint.
        super().notify_style_update()
        if self.is_mounted:
            self.call_later(self._show, self.view)

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
