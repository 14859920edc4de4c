"""The alerts log: KPI (and key result) state changes, newest first, with their time and
acknowledgement."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kpitui.engine.board import StateChange
from kpitui.tui.text import safe_text, state_word

MAX_ALERTS = 200
"""Older alerts drop off the end of the log."""

EMPTY_MESSAGE = "No alerts yet: state changes appear here."
ACK_MARK = "  ✓ ack"


Alert = StateChange
"""An alert is a KPI's state change, as the engine found it."""


# A key result's status in the colours of the KPI state it reads as.
_STATUS_LEVELS = {
    "on_track": "ok",
    "achieved": "ok",
    "not_started": "neutral",
    "at_risk": "warn",
    "off_track": "crit",
    "missed": "crit",
}


def _level(state: str) -> str:
    return _STATUS_LEVELS.get(state, state)


class AlertsLog(ScrollView, can_focus=True, inherit_bindings=False):
    """A focusable, scrollable list of alerts, newest first.

    The newest alert not yet acknowledged is highlighted and marked `▶`; acknowledged
    alerts end with `✓ ack`. At most `MAX_ALERTS` are kept. While focused, a cursor marks
    one line (the app moves it with ↑/↓, as in the OKR tree), and Enter opens that line's
    KPI or key result.
    """

    class Open(Message):
        """Posted when Enter is pressed on a line: open its KPI or key result.

        Handle with `on_alerts_log_open`.
        """

        def __init__(self, alert: Alert) -> None:
            super().__init__()
            self.alert = alert

    # The arrow keys are left to the app, which moves focus between panels with them.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open",
            "Open",
            id="alerts_log.open",
            tooltip="Open the KPI or key result of the alert under the cursor",
        ),
        Binding("pageup", "page_up", "Page up", show=False, id="alerts_log.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="alerts_log.page_down"),
        Binding("home", "scroll_home", "Newest", show=False, id="alerts_log.newest"),
        Binding("end", "scroll_end", "Oldest", show=False, id="alerts_log.oldest"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Open the line's KPI or key result (posts `AlertsLog.Open`). |
    | pageup / pagedown | Scroll the log by a page. |
    | home / end | Jump to the newest / oldest alert. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "alerts-log--time",
        "alerts-log--fresh",
        "alerts-log--cursor",
        "alerts-log--ack",
        "alerts-log--empty",
        "alerts-log--state-ok",
        "alerts-log--state-warn",
        "alerts-log--state-crit",
        "alerts-log--state-stale",
        "alerts-log--state-no_data",
        "alerts-log--state-neutral",
        "alerts-log--state-error",
    }
    """
    | Class | Description |
    | :- | :- |
    | `alerts-log--time` | The time of an alert. |
    | `alerts-log--fresh` | The whole line of the newest unacknowledged alert. |
    | `alerts-log--cursor` | The line under the cursor, while the log has focus. |
    | `alerts-log--ack` | The `✓ ack` mark. |
    | `alerts-log--empty` | The message shown while there is no alert. |
    | `alerts-log--state-<state>` | The glyph and word of a state, one class per KPI state. |
    """

    DEFAULT_CSS = """
    AlertsLog {
        height: 1fr;
        min-height: 3;
        border: round $foreground 25%;
        border-title-style: bold;
        border-title-color: $foreground;
        background: $surface;

        & > .alerts-log--time { color: $foreground-muted; }
        & > .alerts-log--fresh { background: $error 25%; text-style: bold; }
        & > .alerts-log--cursor { background: $accent 40%; }
        & > .alerts-log--ack { color: $text-success; }
        & > .alerts-log--empty { color: $foreground-muted; text-style: italic; }
        & > .alerts-log--state-ok { color: $text-success; }
        & > .alerts-log--state-warn { color: $text-warning; }
        & > .alerts-log--state-crit { color: $text-error; text-style: bold; }
        & > .alerts-log--state-stale { color: $foreground-muted; }
        & > .alerts-log--state-no_data { color: $foreground-muted; }
        & > .alerts-log--state-neutral { color: $text-primary; }
        & > .alerts-log--state-error { color: $text-error; }

        &:focus { border: round $accent; }
        &:focus:nocolor { border: double $foreground; }
        &:nocolor > .alerts-log--fresh { text-style: bold reverse; }
        &:nocolor > .alerts-log--cursor { text-style: underline; }
    }
    """

    def __init__(
        self,
        *,
        id: str | None = None,
        name: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, name=name, classes=classes)
        self._alerts: list[Alert] = []  # newest first
        self._acknowledged: list[bool] = []
        self._widest = 0  # cells of the widest line
        self._cursor = 0  # the line Enter opens (0 = newest)
        self.border_title = "Alerts"

    # -- public API --------------------------------------------------------------------

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """The alerts kept, newest first."""
        return tuple(self._alerts)

    @property
    def cursor(self) -> int:
        """The line under the cursor (0 = newest)."""
        return self._cursor

    @property
    def on_first_line(self) -> bool:
        return self._cursor <= 0

    @property
    def on_last_line(self) -> bool:
        return self._cursor >= len(self._alerts) - 1

    def move_cursor(self, lines: int) -> None:
        """Move the cursor by `lines` (negative: up, to newer alerts), within the log."""
        self._cursor = max(0, min(self._cursor + lines, len(self._alerts) - 1))
        self.scroll_to_region(Region(0, self._cursor, 1, 1), animate=False, force=True)
        self.refresh()

    def action_open(self) -> None:
        if self._alerts:
            self.post_message(self.Open(self._alerts[self._cursor]))

    def is_acknowledged(self, index: int) -> bool:
        """Whether the alert at `index` (0 = newest) was acknowledged."""
        return self._acknowledged[index]

    def add_alert(self, alert: Alert, *, acknowledged: bool = False) -> None:
        """Put `alert` at the top of the log (already acknowledged, when replayed)."""
        self._alerts.insert(0, alert)
        self._acknowledged.insert(0, acknowledged)
        if len(self._alerts) > 1:
            self._cursor = min(self._cursor + 1, MAX_ALERTS - 1)  # stays on its alert
        del self._alerts[MAX_ALERTS:]
        del self._acknowledged[MAX_ALERTS:]
        if self.is_mounted:  # else on_mount sizes it
            self._widest = max(self._widest, self._width(0))
            self._resize()
        self.refresh()

    def set_alerts(self, alerts: list[tuple[Alert, bool]]) -> None:
        """Show these (alert, acknowledged) pairs, newest first, in place of the log's."""
        alerts = alerts[:MAX_ALERTS]
        pairs = [a for a, _ in alerts], [acked for _, acked in alerts]
        if pairs == (self._alerts, self._acknowledged):
            return  # nothing changed: nothing to draw
        under = self._alerts[self._cursor] if self._alerts else None
        self._alerts, self._acknowledged = pairs
        # The cursor stays on its alert as newer ones arrive above it.
        found = next((i for i, a in enumerate(self._alerts) if a == under), None)
        self._cursor = found if found is not None else min(self._cursor, len(self._alerts) - 1)
        self._cursor = max(0, self._cursor)
        if self.is_mounted:
            self._widest = max((self._width(i) for i in range(len(self._alerts))), default=0)
            self._resize()
        self.refresh()

    def acknowledge_latest(self) -> Alert | None:
        """Acknowledge the newest alert not yet acknowledged; None when there is none."""
        for index, acknowledged in enumerate(self._acknowledged):
            if not acknowledged:
                self._acknowledged[index] = True
                if self.is_mounted:  # its line grew by the mark
                    self._widest = max(self._widest, self._width(index))
                    self._resize()
                self.refresh()
                return self._alerts[index]
        return None

    # -- rendering -----------------------------------------------------------------------

    def on_focus(self) -> None:
        self.refresh()  # the cursor shows while focused

    def on_blur(self) -> None:
        self.refresh()

    def on_mount(self) -> None:
        self._widest = max((self._width(i) for i in range(len(self._alerts))), default=0)
        self._resize()

    def _width(self, index: int) -> int:
        return self._line(index, None).cell_len

    def _resize(self) -> None:
        self.virtual_size = Size(max(self._widest, len(EMPTY_MESSAGE)), max(1, len(self._alerts)))

    def _fresh_index(self) -> int | None:
        return next((i for i, acked in enumerate(self._acknowledged) if not acked), None)

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(f"alerts-log--{component}", partial=True)

    def _line(self, index: int, fresh: int | None) -> Text:
        alert = self._alerts[index]
        old, new = alert.old_state, alert.new_state
        line = Text(no_wrap=True, end="")
        line.append("▶ " if index == fresh else "  ")
        line.append(alert.time_display, self._style("time"))
        line.append(" ")
        line.append(alert.glyph, self._style(f"state-{_level(new)}"))
        line.append(" ")
        line.append_text(safe_text(alert.title))
        line.append("  ")
        if alert.repeat:
            line.append("still ")
        else:
            if old:
                line.append(state_word(old), self._style(f"state-{_level(old)}"))
            else:
                line.append("at start")
            line.append(" → ")
        line.append(state_word(new), self._style(f"state-{_level(new)}"))
        if self._acknowledged[index]:
            line.append(ACK_MARK, self._style("ack"))
        return line

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if not self._alerts:
            if index != 0:
                return Strip.blank(width, base)
            text = Text(" " + EMPTY_MESSAGE, style=self._style("empty"), no_wrap=True)
        elif index >= len(self._alerts):
            return Strip.blank(width, base)
        else:
            fresh = self._fresh_index()
            text = self._line(index, fresh)
            if index == fresh:
                text.pad_right(max(0, max(width, self.virtual_size.width) - text.cell_len))
                text.stylize(self._style("fresh"))
            if index == self._cursor and self.has_focus:
                text.pad_right(max(0, max(width, self.virtual_size.width) - text.cell_len))
                text.stylize(self._style("cursor"))
        text.stylize_before(base)
        strip = Strip(text.render(self.app.console), text.cell_len)
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_offsets(scroll_x, index)
