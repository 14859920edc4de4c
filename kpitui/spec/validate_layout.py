"""Checks of the `layout:` pages: every panel id names a KPI, chart or objective (or a
reserved panel), appears once per page, every KPI is placed somewhere, and no page holds
more KPIs than a PM can focus on.
"""

from __future__ import annotations

from kpitui.literal import quoted
from kpitui.spec.loader import NodePath
from kpitui.spec.models import Dashboard, Objective, Page
from kpitui.spec.problems import Problems, did_you_mean

MAX_KPIS_PER_PAGE = 7
RESERVED_PANELS = ("okrs", "alerts")


def check_layout(
    problems: Problems, d: Dashboard, objectives: list[tuple[Objective, NodePath]]
) -> None:
    kpi_ids = {k.id for k in d.kpis}
    if d.layout is None:
        if len(d.kpis) > MAX_KPIS_PER_PAGE:
            focus_warning(problems, ("kpis",), len(d.kpis), "the board's one page")
    else:
        placed: set[str] = set()
        for i, page in enumerate(d.layout.pages):
            on_page = check_page(problems, d, objectives, page, ("layout", "pages", i))
            placed |= on_page
            if len(on_page & kpi_ids) > MAX_KPIS_PER_PAGE:
                focus_warning(problems, ("layout", "pages", i), len(on_page & kpi_ids), "this page")
        for i, kpi in enumerate(d.kpis):
            if kpi.id not in placed:
                problems.warn(
                    ("kpis", i),
                    f"KPI {quoted(kpi.id)} is on no page of the layout",
                    "add its id to a row, or drop it",
                )


def check_page(
    problems: Problems,
    d: Dashboard,
    objectives: list[tuple[Objective, NodePath]],
    page: Page,
    path: NodePath,
) -> set[str]:
    """The panel ids placed on this page; unknown and repeated panels are errors."""
    panels = {k.id for k in d.kpis} | {c.id for c in d.charts}
    panels |= {o.id for o, _ in objectives}
    kr_owner = {kr.id: o.id for o, _ in objectives for kr in o.key_results}
    if not any(page.rows):
        problems.warn(path, "this page has no panels", "add `rows: [[kpi_id, ...]]`")
    row_of: dict[str, int] = {}
    for j, row in enumerate(page.rows):
        for k, panel in enumerate(row):
            here = (*path, "rows", j, k)
            if panel not in panels and panel not in RESERVED_PANELS:
                hint = (
                    f"key results show inside their objective: use {quoted(kr_owner[panel])}"
                    if panel in kr_owner
                    else did_you_mean(panel, panels | set(RESERVED_PANELS))
                )
                problems.error(
                    here,
                    f"{quoted(panel)} is not a KPI, chart or objective id, nor okrs or alerts",
                    hint,
                )
            elif panel in row_of:
                problems.error(
                    here,
                    f"{quoted(panel)} is already on this page (row {row_of[panel] + 1})",
                    "a panel appears once per page",
                )
            else:
                row_of[panel] = j
    return set(row_of)


def focus_warning(problems: Problems, path: NodePath, count: int, where: str) -> None:
    problems.warn(
        path,
        f"{where} holds {count} KPIs: a board that tracks everything focuses on nothing",
        f"keep a North Star and a few supporting KPIs, at most {MAX_KPIS_PER_PAGE} per page",
        at_key=True,
    )
