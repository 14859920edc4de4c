"""The Board: everything the user sees, computed once by `evaluate`, as frozen data.

The TUI, the text report and the JSON output only present a Board, so they never
disagree. Values are plain numbers (fractions 0..1 for progress); `*_display` fields
hold the text already formatted for the KPI's `format`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from msgspec import Struct

if TYPE_CHECKING:
    # Views of their own modules, which build on this one; a field's type is only read
    # by type checkers (msgspec needs it for decoding, which no Board goes through).
    from kpitui.engine.annotations import AnnotationView
    from kpitui.engine.forecast_view import KrForecast, ObjectiveForecastView

State = Literal["error", "no_data", "stale", "crit", "warn", "ok", "neutral"]
KrStatus = Literal["not_started", "on_track", "at_risk", "off_track", "achieved", "missed"]
PanelKind = Literal["kpi", "chart", "objective", "okrs", "alerts"]

# A glyph and a word for every state, so a state reads without colour.
STATE_GLYPHS: dict[str, str] = {
    "ok": "✔",
    "warn": "▲",
    "crit": "✖",
    "stale": "◌",
    "no_data": "∅",
    "neutral": "●",
    "error": "⚠",
}
STATUS_GLYPHS: dict[str, str] = {
    "achieved": "★",
    "on_track": "✔",
    "at_risk": "▲",
    "off_track": "✖",
    "missed": "✖",
    "not_started": "○",
}
# Higher is worse: objective status is its worst child's.
STATUS_RANK: dict[str, int] = {
    "missed": 5,
    "off_track": 4,
    "at_risk": 3,
    "on_track": 2,
    "achieved": 1,
    "not_started": 0,
}


class KpiView(Struct, frozen=True):
    id: str
    title: str
    metric: str
    agg: str
    window: str | None  # None: the latest point, however old
    direction: Literal["up", "down"]
    format: str
    value: float | None
    display: str  # the value formatted, "—" when there is none
    state: State
    band: State  # the threshold band of the value (ok/warn/crit/neutral/no_data), kept when stale
    target: float | None = None
    target_display: str | None = None
    warn: float | None = None  # resolved thresholds (a "90%" already applied to target)
    crit: float | None = None
    previous: float | None = None
    delta: float | None = None
    delta_pct: float | None = None
    delta_display: str = "n/a"  # "▲ +1,234 (+5.2%)", "▼ -3", "n/a"
    delta_good: bool | None = None  # None: no change, no comparison, or no data
    last_at: int | None = None
    age_display: str | None = None  # "3h ago"
    spark: tuple[float | None, ...] = ()
    indicator: str | None = None
    north_star: bool = False
    description: str | None = None
    formula: str | None = None  # derived metrics only
    error: str | None = None  # the reason, when state == "error"
    labels: tuple[tuple[str, str], ...] = ()
    currency: str | None = None  # the format's currency code, for values shown elsewhere
    decimals: int | None = None


class RefLine(Struct, frozen=True):
    """A horizontal reference line on a chart: a KPI's target or threshold."""

    name: Literal["target", "warn", "crit"]
    value: float


class ChartSeries(Struct, frozen=True):
    name: str  # metric name, or the label value when split
    points: tuple[tuple[int, float], ...]  # (bucket start, value), oldest first
    dashed: bool = False  # a projection (a forecast), not measured values


class ChartView(Struct, frozen=True):
    id: str
    title: str
    window: str
    bucket: int  # seconds
    series: tuple[ChartSeries, ...]
    bucket_label: str = ""  # "1d"
    agg: str = "last"
    split_by: str | None = None
    kpi_id: str | None = None  # the KPI its detail opens (`k`): the one it draws lines of
    ref_lines: tuple[RefLine, ...] = ()
    y_min: float | None = None
    y_max: float | None = None
    format: str = "number"
    error: str | None = None
    comparison: tuple[ChartSeries, ...] = ()
    """The same lines over the comparison span, moved onto this one (`c` shows them)."""
    comparison_label: str | None = None  # the legend's name for it: "last week"
    annotations: tuple[AnnotationView, ...] = ()  # the marks on its time axis


class KrView(Struct, frozen=True):
    id: str
    title: str
    owner: str | None
    kind: str
    metric: str | None  # None: manual (check-ins)
    start: float | None
    target: float | None
    current: float | None
    progress_raw: float | None
    progress: float | None  # clamped 0..1
    status: KrStatus
    confidence: str | None = None
    checkin_due: bool = False
    last_checkin_at: int | None = None
    weight: float = 1.0
    error: str | None = None
    # How its values are shown: a KPI's on the same metric, else the derived metric's.
    format: str = "number"
    currency: str | None = None
    decimals: int | None = None
    forecast: KrForecast | None = None  # where it is heading (or why no forecast)


class ObjectiveView(Struct, frozen=True):
    id: str
    title: str
    owner: str | None
    weight: float
    progress: float | None  # None: nothing to measure
    expected: float
    status: KrStatus
    key_results: tuple[KrView, ...] = ()
    children: tuple[ObjectiveView, ...] = ()
    forecast: ObjectiveForecastView | None = None  # None: nothing below it is forecast


class Panel(Struct, frozen=True):
    id: str
    kind: PanelKind


class PageView(Struct, frozen=True):
    title: str
    rows: tuple[tuple[Panel, ...], ...]


class Board(Struct, frozen=True):
    title: str
    as_of: int
    timezone: str  # IANA name, or "local"
    period_start: int  # epoch seconds, inclusive
    period_end: int  # first second after the period
    period_label: str  # "2026-Q4"
    expected: float  # share of the OKR period elapsed
    kpis: tuple[KpiView, ...]  # board order: North Star first, then as in the spec
    charts: tuple[ChartView, ...]
    okrs: tuple[ObjectiveView, ...]
    pages: tuple[PageView, ...]
    annotations: tuple[AnnotationView, ...] = ()  # in the board's windows, oldest first
    chart_range: str | None = None  # the board's range for its charts (`t`); None: the spec's

    def kpi(self, kpi_id: str) -> KpiView | None:
        return next((k for k in self.kpis if k.id == kpi_id), None)

    def chart(self, chart_id: str) -> ChartView | None:
        return next((c for c in self.charts if c.id == chart_id), None)

    def objective(self, objective_id: str) -> ObjectiveView | None:
        return next((o for o in iter_objectives(self.okrs) if o.id == objective_id), None)

    def key_result(self, kr_id: str) -> KrView | None:
        for objective in iter_objectives(self.okrs):
            for kr in objective.key_results:
                if kr.id == kr_id:
                    return kr
        return None


def iter_objectives(objectives: tuple[ObjectiveView, ...]):
    """Every objective, depth first, parents before children."""
    for objective in objectives:
        yield objective
        yield from iter_objectives(objective.children)
