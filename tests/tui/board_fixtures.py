"""Hand-built Boards for TUI tests: every KPI state, a North Star, hostile text, OKRs.

Used by the widget tests and by the app and drill-down screen tests, so the screen can
be tested without a store or an engine. Everything is fixed to `AS_OF` in `TZ`.
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import msgspec

from kpitui.engine.board import (
    Board,
    ChartSeries,
    ChartView,
    KpiView,
    KrView,
    ObjectiveView,
    PageView,
    Panel,
    RefLine,
)
from kpitui.timeutil import parse_time

TZ = ZoneInfo("Europe/Berlin")
AS_OF = parse_time("2026-11-24T09:30:00Z")  # 1795512600
PERIOD_START = parse_time("2026-09-30T22:00:00Z")  # 2026-10-01 00:00 in Berlin
PERIOD_END = parse_time("2026-12-31T23:00:00Z")  # 2027-01-01 00:00 in Berlin
EXPECTED = (AS_OF - PERIOD_START) / (PERIOD_END - PERIOD_START)  # ≈ 0.596
DAY = 86400

MARKUP_TITLE = "[bold red]x[/]"
MARKUP_LABEL = "[/]"
ESC_TITLE = "Esc\x1b[31mRED"
ESC_SHOWN = "Esc\\x1b[31mRED"  # how the ESC title must appear on screen
EMOJI_TITLE = "🚀 Launches"


def kpi(
    kpi_id: str,
    title: str,
    *,
    value: float | None = 100.0,
    display: str = "100",
    state: str = "ok",
    band: str | None = None,
    **fields: object,
) -> KpiView:
    """A KpiView with sensible defaults; `band` defaults to `state`."""
    base = {
        "id": kpi_id,
        "title": title,
        "metric": kpi_id,
        "agg": "last",
        "window": None,
        "direction": "up",
        "format": "number",
        "value": value,
        "display": display,
        "state": state,
        "band": band if band is not None else state,
        "zone": "Europe/Berlin",
    }
    base.update(fields)
    return KpiView(**base)  # type: ignore[arg-type]


def spark(start: float, step: float, n: int = 24) -> tuple[float, ...]:
    """A gently rising (or falling) trend with a wobble, `n` buckets."""
    return tuple(
        round(start + step * i + (3 if i % 3 == 0 else -2) * abs(step), 2) for i in range(n)
    )


NORTH_STAR = kpi(
    "weekly_active_teams",
    "Weekly active teams",
    value=1284.0,
    display="1,284",
    state="ok",
    target=1200.0,
    target_display="1,200",
    warn=1100.0,
    crit=1000.0,
    previous=1200.0,
    delta=84.0,
    delta_pct=0.07,
    delta_display="▲ +84 (+7.0%)",
    delta_good=True,
    last_at=AS_OF - 600,
    spark=spark(1100, 8),
    indicator="lagging",
    north_star=True,
    description="Teams with at least 3 members active in the last 7 days.",
)

OK_KPI = kpi(
    "signups",
    "Signups",
    value=1532.0,
    display="1,532",
    state="ok",
    agg="sum",
    window="7d",
    target=1400.0,
    target_display="1,400",
    previous=1410.0,
    delta=122.0,
    delta_pct=0.0865,
    delta_display="▲ +122 (+8.7%)",
    delta_good=True,
    last_at=AS_OF - 120,
    spark=spark(180, 2),
    indicator="leading",
    description="New accounts created, summed over 7 days.",
)

WARN_KPI = kpi(
    "mrr",
    "MRR",
    value=48250.0,
    display="$48,250.00",
    state="warn",
    format="currency",
    target=50000.0,
    target_display="$50,000.00",
    warn=48500.0,
    crit=45000.0,
    previous=47000.0,
    delta=1250.0,
    delta_pct=0.0266,
    delta_display="▲ +$1,250.00 (+2.7%)",
    delta_good=True,
    last_at=AS_OF - 3600,
    spark=spark(46000, 90),
    indicator="lagging",
    description="Monthly recurring revenue, all plans.",
)

CRIT_KPI = kpi(
    "churn",
    "Logo churn",
    value=0.048,
    display="4.8%",
    state="crit",
    direction="down",
    format="percent",
    agg="avg",
    window="30d",
    target=0.02,
    target_display="2.0%",
    warn=0.03,
    crit=0.04,
    previous=0.039,
    delta=0.009,
    delta_pct=0.2308,
    delta_display="▲ +0.9% (+23.1%)",
    delta_good=False,
    last_at=AS_OF - 7200,
    spark=spark(0.03, 0.001),
    indicator="lagging",
    description="Share of paying accounts that cancelled, 30-day average.",
)

NEUTRAL_KPI = kpi(
    "nps",
    "NPS",
    value=32.0,
    display="32",
    state="neutral",
    agg="nps",
    window="30d",
    previous=35.0,
    delta=-3.0,
    delta_pct=-0.0857,
    delta_display="▼ -3 (-8.6%)",
    delta_good=False,
    last_at=AS_OF - 5400,
    spark=spark(30, 0.2),
    indicator="leading",
    description="Net promoter score of the in-app survey: % 9–10 minus % 0–6.",
)

STALE_KPI = kpi(
    "trials",
    "Trial starts",
    value=312.0,
    display="312",
    state="stale",
    band="warn",
    target=350.0,
    target_display="350",
    previous=300.0,
    delta=12.0,
    delta_pct=0.04,
    delta_display="▲ +12 (+4.0%)",
    delta_good=True,
    last_at=AS_OF - 3 * 3600,
    age_display="3h ago",
    spark=spark(280, 1.5),
    indicator="leading",
)

NO_DATA_KPI = kpi(
    "activation",
    "Activation rate",
    value=None,
    display="—",
    state="no_data",
    band="no_data",
    format="percent",
    target=0.4,
    target_display="40.0%",
)

ERROR_KPI = kpi(
    "latency_p90",
    "p90 latency",
    value=None,
    display="—",
    state="error",
    band="no_data",
    direction="down",
    format="duration",
    agg="p90",
    window="1d",
    error="store is locked (database is locked)",
)

MARKUP_KPI = kpi(
    "markup",
    MARKUP_TITLE,
    value=7.0,
    display="7",
    state="ok",
    delta_display="▲ +1 (+16.7%)",
    delta_good=True,
    labels=(("plan", MARKUP_LABEL),),
    description=f"label {MARKUP_LABEL} and title {MARKUP_TITLE} are data",
)

ESC_KPI = kpi("esc", ESC_TITLE, value=3.0, display="3", state="neutral")

EMOJI_KPI = kpi(
    "launches",
    EMOJI_TITLE,
    value=4.0,
    display="4",
    state="ok",
    target=3.0,
    target_display="3",
    indicator="leading",
    spark=(0, 1, 1, 2, 2, 3, 4),
)

STATE_KPIS: dict[str, KpiView] = {
    "ok": OK_KPI,
    "warn": WARN_KPI,
    "crit": CRIT_KPI,
    "stale": STALE_KPI,
    "no_data": NO_DATA_KPI,
    "neutral": NEUTRAL_KPI,
    "error": ERROR_KPI,
}
"""One KPI in each of the seven states."""

ALL_KPIS: tuple[KpiView, ...] = (
    NORTH_STAR,
    *STATE_KPIS.values(),
    MARKUP_KPI,
    ESC_KPI,
    EMOJI_KPI,
)
"""Board order: the North Star first."""


def with_value(view: KpiView, value: float, display: str, **changes: object) -> KpiView:
    """The same KPI with another value (and any other fields changed)."""
    return msgspec.structs.replace(view, value=value, display=display, **changes)  # type: ignore[arg-type]


# -- charts ------------------------------------------------------------------------------


def _daily(start: float, step: float, days: int = 30) -> tuple[tuple[int, float], ...]:
    first = AS_OF - AS_OF % DAY - (days - 1) * DAY
    return tuple(
        (first + i * DAY, round(start + step * i + (i % 4) * step, 2)) for i in range(days)
    )


REVENUE_CHART = ChartView(
    id="revenue_by_plan",
    title="MRR by plan",
    window="30d",
    bucket=DAY,
    series=(
        ChartSeries("pro", _daily(30000, 150)),
        ChartSeries("team", _daily(12000, 60)),
        ChartSeries(MARKUP_LABEL, _daily(4000, -20)),
    ),
    ref_lines=(RefLine("target", 50000.0), RefLine("warn", 48500.0), RefLine("crit", 45000.0)),
    y_min=0.0,
    format="currency",
    zone="Europe/Berlin",
)

SIGNUPS_CHART = ChartView(
    id="signups_daily",
    title=f"Signups {MARKUP_TITLE}",
    window="30d",
    bucket=DAY,
    series=(ChartSeries("signups", _daily(180, 2)),),
    ref_lines=(RefLine("target", 200.0),),
    zone="Europe/Berlin",
)

EMPTY_CHART = ChartView(id="empty", title="Refunds", window="7d", bucket=3600, series=())

ERROR_CHART = ChartView(
    id="broken",
    title="Latency",
    window="1d",
    bucket=300,
    series=(),
    error="no such metric: latency_ms",
)

ALL_CHARTS = (REVENUE_CHART, SIGNUPS_CHART, EMPTY_CHART, ERROR_CHART)


# -- OKRs --------------------------------------------------------------------------------


def kr(kr_id: str, title: str, **fields: object) -> KrView:
    base = {
        "id": kr_id,
        "title": title,
        "owner": None,
        "kind": "increase",
        "metric": None,
        "start": 0.0,
        "target": 1.0,
        "current": 0.0,
        "progress_raw": 0.0,
        "progress": 0.0,
        "status": "off_track",
        "zone": "Europe/Berlin",
    }
    base.update(fields)
    return KrView(**base)  # type: ignore[arg-type]


KR_MRR = kr(
    "kr_mrr",
    "MRR reaches $60K",
    owner="alice",
    metric="mrr",
    start=40000.0,
    target=60000.0,
    current=48250.0,
    progress_raw=0.4125,
    progress=0.4125,
    status="at_risk",
)
KR_LOGOS = kr(  # manual, over-achieved: 5 of 4 → 125%
    "kr_logos",
    "Sign 4 enterprise logos",
    owner="bob",
    start=0.0,
    target=4.0,
    current=5.0,
    progress_raw=1.25,
    progress=1.0,
    status="achieved",
    confidence="on_track",
    last_checkin_at=AS_OF - 2 * DAY,
)
KR_BERLIN = kr(  # manual, check-in overdue
    "kr_berlin",
    "Open the Berlin office",
    owner=MARKUP_LABEL,
    kind="milestone",
    start=0.0,
    target=1.0,
    current=0.0,
    progress_raw=0.0,
    progress=0.0,
    status="off_track",
    confidence="at_risk",
    checkin_due=True,
    last_checkin_at=AS_OF - 12 * DAY,
)
KR_NPS = kr(
    "kr_nps",
    "NPS stays above 40",
    owner="carol",
    kind="maintain_above",
    metric="nps",
    start=None,
    target=40.0,
    current=None,
    progress_raw=None,
    progress=None,
    status="off_track",
    error="no such metric: nps_responses",
)
KR_ACTIVATION = kr(
    "kr_activation",
    "Activation to 40%",
    owner="carol",
    metric="activation",
    start=0.3,
    target=0.4,
    current=0.36,
    progress_raw=0.6,
    progress=0.6,
    status="on_track",
)

OBJ_EU = ObjectiveView(
    id="obj_eu",
    title="Expand in the EU",
    owner=MARKUP_LABEL,
    weight=1.0,
    progress=0.0,
    expected=EXPECTED,
    status="off_track",
    key_results=(KR_BERLIN,),
)
OBJ_REVENUE = ObjectiveView(
    id="obj_revenue",
    title="Grow revenue",
    owner="alice",
    weight=2.0,
    progress=(0.4125 + 1.0 + 0.0) / 3,
    expected=EXPECTED,
    status="off_track",
    key_results=(KR_MRR, KR_LOGOS),
    children=(OBJ_EU,),
)
OBJ_DELIGHT = ObjectiveView(
    id="obj_delight",
    title="Delight users 🚀",
    owner="carol",
    weight=1.0,
    progress=0.6,
    expected=EXPECTED,
    status="off_track",
    key_results=(KR_ACTIVATION, KR_NPS),
)
OBJ_EMPTY = ObjectiveView(  # nothing to measure: progress None, shown as "—"
    id="obj_markup",
    title=MARKUP_TITLE,
    owner=None,
    weight=1.0,
    progress=None,
    expected=EXPECTED,
    status="not_started",
)

OBJECTIVES: tuple[ObjectiveView, ...] = (OBJ_REVENUE, OBJ_DELIGHT, OBJ_EMPTY)


# -- the board ---------------------------------------------------------------------------


def _row(*panels: tuple[str, str]) -> tuple[Panel, ...]:
    return tuple(Panel(panel_id, kind) for panel_id, kind in panels)  # type: ignore[arg-type]


BOARD = Board(
    title="Acme product board",
    as_of=AS_OF,
    timezone="Europe/Berlin",
    period_start=PERIOD_START,
    period_end=PERIOD_END,
    period_label="2026-Q4",
    expected=EXPECTED,
    kpis=ALL_KPIS,
    charts=ALL_CHARTS,
    okrs=OBJECTIVES,
    pages=(
        PageView(
            title="Overview",
            rows=(
                _row((NORTH_STAR.id, "kpi")),
                _row(*((k.id, "kpi") for k in STATE_KPIS.values())),
                _row((REVENUE_CHART.id, "chart"), (SIGNUPS_CHART.id, "chart")),
                _row(("okrs", "okrs"), ("alerts", "alerts")),
            ),
        ),
        PageView(
            title="Hostile text",
            rows=(
                _row((MARKUP_KPI.id, "kpi"), (ESC_KPI.id, "kpi"), (EMOJI_KPI.id, "kpi")),
                _row((EMPTY_CHART.id, "chart"), (ERROR_CHART.id, "chart")),
                _row((OBJ_EU.id, "objective")),
            ),
        ),
    ),
)

UTC_TZ = UTC
