"""A chart, the OKR tree and the alerts log, for snapshot tests (`textual run` it to look)."""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import Grid

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from kpitui.tui.widgets import Alert, AlertsLog, ChartPanel, OkrTree
from tests.tui.board_fixtures import (
    AS_OF,
    CRIT_KPI,
    EMPTY_CHART,
    ERROR_KPI,
    ESC_TITLE,
    EXPECTED,
    MARKUP_TITLE,
    OBJECTIVES,
    REVENUE_CHART,
    WARN_KPI,
)


class PanelsApp(App[None]):
    """Two charts on top, the OKR tree and the alerts log below."""

    CSS = """
    Grid {
        grid-size: 2 2;
        grid-columns: 3fr 2fr;
        grid-rows: 1fr 1fr;
    }
    """

    def compose(self) -> ComposeResult:
        with Grid():
            yield ChartPanel(REVENUE_CHART, id="chart-revenue")
            yield ChartPanel(EMPTY_CHART, id="chart-empty")
            yield OkrTree(OBJECTIVES, expected=EXPECTED, id="okrs")
            yield AlertsLog(id="alerts")

    def on_mount(self) -> None:
        log = self.query_one(AlertsLog)
        log.add_alert(Alert(AS_OF - 3600, WARN_KPI.id, WARN_KPI.title, "ok", "warn"))
        log.add_alert(Alert(AS_OF - 1800, "markup", MARKUP_TITLE, "neutral", "ok"))
        log.add_alert(Alert(AS_OF - 900, "esc", ESC_TITLE, "ok", "stale"))
        log.add_alert(Alert(AS_OF - 300, ERROR_KPI.id, ERROR_KPI.title, "ok", "error"))
        log.add_alert(Alert(AS_OF - 60, CRIT_KPI.id, CRIT_KPI.title, "warn", "crit"))
        log.acknowledge_latest()
        log.add_alert(Alert(AS_OF, CRIT_KPI.id, CRIT_KPI.title, "crit", "warn"))
        self.query_one(OkrTree).focus()


app = PanelsApp()

if __name__ == "__main__":
    app.run()
