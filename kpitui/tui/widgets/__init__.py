"""The dashboard's widgets: each presents one part of a Board, updated in place."""

from kpitui.tui.widgets.alerts_log import Alert, AlertsLog
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.kpi_card import KpiCard
from kpitui.tui.widgets.okr_tree import OkrTree

__all__ = ["Alert", "AlertsLog", "ChartPanel", "KpiCard", "OkrTree"]
