"""The help screen (`?`): every key, read from the bindings themselves.

The sections are collected from the bindings of the screen `?` was pressed on, the app's
and each panel kind's, so a key added anywhere shows here without editing this file.
On the board: the board's keys, then each panel's. On a drill-down: that screen's keys
first, then the app's keys that work there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

Section = tuple[str, list[tuple[str, str]]]

NAVIGATION_KEYS = [
    ("tab / shift+tab", "Focus the next / previous panel, in layout order"),
    ("escape", "Back from a detail screen to the same page and focus"),
]


def binding_rows(
    app: Any, bindings: Any, enabled: Callable[[Binding], bool] | None = None
) -> list[tuple[str, str]]:
    """(keys, what they do) for a BindingsMap; one row per action.

    Keys bound to one action share a row (`↑ / k`; `q / ^q`: Textual's own quit joins
    kpitui's, whose words it takes), and the page keys share one (`1…9`). System
    bindings, bindings without words and those `enabled` turns down are left out.
    """
    entries = [
        (key, binding)
        for key, key_bindings in bindings.key_to_bindings.items()
        for binding in key_bindings
    ]
    # kpitui's bindings (they all have ids) first, so a Textual default joins their row.
    entries.sort(key=lambda entry: entry[1].id is None)
    rows: dict[str, tuple[list[str], str]] = {}
    for key, binding in entries:
        label = binding.tooltip or binding.description
        if not label or binding.system or (enabled is not None and not enabled(binding)):
            continue
        paging = binding.action.startswith("page(")
        group = "page" if paging else binding.action
        display = app.get_key_display(binding.with_key(key))
        if group not in rows:
            rows[group] = ([], re.sub(r"\bpage \d+\b", "page 1…9", label) if paging else label)
        if display not in rows[group][0]:
            rows[group][0].append(display)
    result = []
    for keys, label in rows.values():
        if len(keys) > 2 and all(k.isdigit() for k in keys):
            shown = f"{keys[0]}…{keys[-1]}"
        else:
            shown = " / ".join(keys)
        result.append((shown, label))
    return result


def help_sections(app: Any, panels: list[tuple[str, type]], screen: Any = None) -> list[Section]:
    """Every key. On the board (`screen` None): the board's (the app's bindings), then
    each panel kind's. On a drill-down: its own keys (its bindings and its `HELP_KEYS`),
    then the app's keys that work there (`check_action` allows them)."""
    if screen is None:
        sections: list[Section] = [
            ("Board", binding_rows(app, app._bindings)),
            ("Everywhere", NAVIGATION_KEYS),
        ]
        for name, cls in panels:
            rows = binding_rows(app, cls._merge_bindings())
            if rows:
                sections.append((name, rows))
        return sections
    # Only kpitui's bindings (they have ids): not Textual's own tab / copy on every Screen.
    own = binding_rows(app, screen._merge_bindings(), lambda b: b.id is not None)
    own += list(getattr(screen, "HELP_KEYS", ()))
    return [
        (getattr(screen, "HELP_TITLE", "This screen"), own),
        ("Everywhere", binding_rows(app, app._bindings, lambda b: _allowed(app, b))),
    ]


def _allowed(app: Any, binding: Binding) -> bool:
    name, _, _ = binding.action.partition("(")
    return app.check_action(name, ()) is not False


def keys_table(sections: list[Section]) -> Table:
    """A two-column table: the key(s), then what they do, grouped by where they work."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column()
    for i, (title, rows) in enumerate(sections):
        if i:
            table.add_row("", "")
        table.add_row(Text(title, style="bold underline"), "")
        for key, description in rows:
            table.add_row(Text(key), Text(description))
    return table


class HelpScreen(ModalScreen[None]):
    """Every key of the dashboard; any of escape, `?` or `q` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,question_mark,q",
            "dismiss",
            "Close",
            key_display="esc",
            id="help.close",
            tooltip="Close the help screen",
        ),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        background: $background 60%;
    }
    HelpScreen > VerticalScroll {
        /* The whole width of a small terminal: a sliver of the board beside the box
           reads as a stray border. */
        width: 100%;
        max-width: 90;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen Static {
        /* 1fr, not 100%: the width left beside the scrollbar, so it never covers text. */
        width: 1fr;
        height: auto;
    }
    """

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        self.sections = sections

    def on_mount(self) -> None:
        # Toasts sit above every screen: over this one they hide the keys being read.
        # What they said stays in the alerts log and the header.
        self.app.clear_notifications()

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "esc closes"
            yield Static(keys_table(self.sections), id="help-keys")
