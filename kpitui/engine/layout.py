"""Which panels go on which page: the spec's `layout`, or the default single page."""

from __future__ import annotations

from collections.abc import Sequence

from kpitui.engine.board import PageView, Panel, PanelKind
from kpitui.spec.models import Dashboard, Kpi, Objective

KPIS_PER_ROW = 4
DEFAULT_PAGE_TITLE = "Overview"


def board_order(kpis: Sequence[Kpi]) -> list[Kpi]:
    """North Star first, then the spec's order."""
    return [k for k in kpis if k.north_star] + [k for k in kpis if not k.north_star]


def _objective_ids(objectives: Sequence[Objective]) -> list[str]:
    ids: list[str] = []
    for objective in objectives:
        ids.append(objective.id)
        ids.extend(_objective_ids(objective.children))
    return ids


def panel_kinds(spec: Dashboard) -> dict[str, PanelKind]:
    """Panel id → kind. On a clash a KPI wins over a chart, a chart over an objective."""
    kinds: dict[str, PanelKind] = {"okrs": "okrs", "alerts": "alerts"}
    for objective_id in _objective_ids(spec.okrs):
        kinds[objective_id] = "objective"
    for chart in spec.charts:
        kinds[chart.id] = "chart"
    for kpi in spec.kpis:
        kinds[kpi.id] = "kpi"
    return kinds


def default_page(spec: Dashboard) -> PageView:
    ordered = board_order(spec.kpis)
    rows: list[tuple[Panel, ...]] = []
    stars = [k for k in ordered if k.north_star]
    others = [k for k in ordered if not k.north_star]
    if stars:
        rows.append(tuple(Panel(k.id, "kpi") for k in stars))
    for i in range(0, len(others), KPIS_PER_ROW):
        rows.append(tuple(Panel(k.id, "kpi") for k in others[i : i + KPIS_PER_ROW]))
    rows.extend((Panel(chart.id, "chart"),) for chart in spec.charts)
    if spec.okrs:
        rows.append((Panel("okrs", "okrs"),))
    rows.append((Panel("alerts", "alerts"),))
    return PageView(DEFAULT_PAGE_TITLE, tuple(rows))


def board_pages(spec: Dashboard) -> tuple[PageView, ...]:
    if spec.layout is None:
        return (default_page(spec),)
    kinds = panel_kinds(spec)
    pages = []
    for number, page in enumerate(spec.layout.pages, start=1):
        rows = []
        for row in page.rows:
            # Unknown ids are `check` errors; a board still shows what it can.
            panels = tuple(Panel(pid, kinds[pid]) for pid in row if pid in kinds)
            if panels:
                rows.append(panels)
        pages.append(PageView(page.title or f"Page {number}", tuple(rows)))
    return tuple(pages)
