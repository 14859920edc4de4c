"""The help screen (`?`): every key, read from the bindings themselves.

The sections are collected by the app (`KpituiApp.help_sections`) from its own bindings
and each panel kind's, so a key added anywhere shows here without editing this file.
"""

from __future__ import annotations

import re
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


def binding_rows(app: Any, bindings: Any) -> list[tuple[str, str]]:
    """(keys, what they do) for a BindingsMap; one row per action.

    Keys bound to one action (`up,k`) share a row, and so do numbered actions
    (`page(1)`…`page(9)` → `1…9`). System bindings without words are left out.
    """
    rows: dict[str, tuple[list[str], str]] = {}
    for key, key_bindings in bindings.key_to_bindings.items():
        for binding in key_bindings:
            label = binding.tooltip or binding.description
            if not label:
                continue
            group = re.sub(r"\d+", "N", f"{binding.action}|{label}")
            display = app.get_key_display(binding.with_key(key))
            if group in rows:
                rows[group][0].append(display)
            else:
                rows[group] = (
                    [display],
                    re.sub(r"\bpage \d+\b", "page 1…9", label)
                    if binding.action.startswith("page(")
                    else label,
                )
    result = []
    for keys, label in rows.values():
        if len(keys) > 2 and all(k.isdigit() for k in keys):
            shown = f"{keys[0]}…{keys[-1]}"
        else:
            shown = " / ".join(keys)
        result.append((shown, label))
    return result


def help_sections(app: Any, panels: list[tuple[str, type]]) -> list[Section]:
    """Every key: the board's (from the app's bindings), then each panel kind's."""
    sections: list[Section] = [
        ("Board", binding_rows(app, app._bindings)),
        ("Everywhere", NAVIGATION_KEYS),
    ]
    for name, cls in panels:
        rows = binding_rows(app, cls._merge_bindings())
        if rows:
            sections.append((name, rows))
    return sections


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
        width: 78;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen Static {
        width: 100%;
        height: auto;
    }
    """

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "esc closes"
            yield Static(keys_table(self.sections), id="help-keys")
