"""KPI cards in every state, for snapshot tests (`textual run` this file to look at it).

The North Star sits on its own row above a grid of the other cards.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.events import Resize

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from kpitui.tui.widgets import KpiCard
from tests.tui.board_fixtures import ALL_KPIS


class CardsGridApp(App[None]):
    """Every KPI of the fixture board as a card."""

    CSS = """
    VerticalScroll { padding: 0 1; }
    Grid {
        grid-size: 4;
        grid-gutter: 0 1;
        grid-rows: auto;
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        north_star, *others = ALL_KPIS
        with VerticalScroll():
            yield KpiCard(north_star, id=f"kpi-{north_star.id}")
            with Grid():
                for view in others:
                    yield KpiCard(view, id=f"kpi-{view.id}")

    def on_mount(self) -> None:
        self.query_one(KpiCard).focus()  # show the focused look: inverse title, description

    def on_resize(self, event: Resize) -> None:
        # Reflow like the dashboard: as many ~26-column cards as fit, at most four.
        self.query_one(Grid).styles.grid_size_columns = max(1, min(4, event.size.width // 26))


app = CardsGridApp()

if __name__ == "__main__":
    app.run()
