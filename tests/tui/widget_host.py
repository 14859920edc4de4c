"""A small host app for the widget tests, and what they read off its screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget

from kpitui.engine.board import KpiView
from kpitui.tui.widgets import ChartPanel, KpiCard, OkrTree

SNAPSHOT_APPS = Path(__file__).parent / "snapshot_apps"


def screen_text(app: App) -> str:
    """The plain text on the app's screen, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def screen_has_raw_escape(app: App) -> bool:
    """True when a raw ESC would reach the terminal."""
    return any("\x1b" in strip.text for strip in app.screen._compositor.render_strips())


class Host(App[None]):
    """Mounts the given widgets and records the messages they post."""

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self._widgets = widgets
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield from self._widgets

    def on_kpi_card_drill_down(self, message: KpiCard.DrillDown) -> None:
        self.messages.append(message)

    def on_chart_panel_drill_down(self, message: ChartPanel.DrillDown) -> None:
        self.messages.append(message)

    def on_okr_tree_drill_down(self, message: OkrTree.DrillDown) -> None:
        self.messages.append(message)


def card(view: KpiView) -> KpiCard:
    return KpiCard(view, id=f"kpi-{view.id}")


def count_refreshes(widget: Widget, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every refresh of `widget` and of its descendants."""
    calls: list[str] = []
    for node in [widget, *widget.walk_children(Widget)]:
        original = node.refresh

        def spy(*args, _node=node, _original=original, **kwargs):
            calls.append(_node.id or type(_node).__name__)
            return _original(*args, **kwargs)

        monkeypatch.setattr(node, "refresh", spy)
    return calls
