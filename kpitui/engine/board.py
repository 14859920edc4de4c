"""The Board: everything the user sees, computed once by `evaluate`, as frozen data.

The TUI, the text report, the JSON and the SVG only present a Board, so they never
disagree: every number a face shows, its display string, glyph, state word, verdict,
progress-bar cells and time is a field of these models or a property computed from their
fields, here, by the engine's rules (`engine.format`). A face formats nothing itself.
Values are plain numbers (fractions 0..1 for progress); `*_display` hold the text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from msgspec import Struct

from kpitui import timeutil
from kpitui.engine.annotations import CHOSEN_RULE, MARK_GLYPH, AnnotationView, MarkList
from kpitui.engine.format import (
    MISSING,
    filled_cells,
    format_progress,
    format_tick,
    format_value,
)
from kpitui.engine.pulls import PullHealth

if TYPE_CHECKING:
    # Views of their own module, which builds on this one; a field's type is only read
    # by type checkers (msgspec needs it for decoding, which no Board goes through).
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
KIND_WORDS = {
    "increase": "increase to target",
    "decrease": "decrease to target",
    "maintain_above": "stay at or above target",
    "maintain_below": "stay at or below target",
    "milestone": "milestone (done or not)",
}

BAR_CELLS = 10
"""Cells of a progress bar."""
NARROW_BAR_CELLS = 5
"""Cells of a progress bar where titles need the room (a narrow OKR tree)."""


def words(name: str) -> str:
    """A state or status as the words shown: `no_data` → `no data`."""
    return name.replace("_", " ")


def state_label(state: str) -> str:
    """Glyph and word of a KPI state: `✖ crit`, `∅ no data` (reads without colour)."""
    return f"{STATE_GLYPHS.get(state, '?')} {words(state)}"


def status_label(status: str) -> str:
    """Glyph and words of an OKR status or a check-in's confidence: `▲ at risk`."""
    return f"{STATUS_GLYPHS.get(status, '?')} {words(status)}"


def expected_cell(expected: float | None, cells: int) -> int | None:
    """The bar cell the expected progress falls in (marked `│` when empty), or None at
    the period's very start or end."""
    if expected is None or not 0 < expected < 1:
        return None
    return max(0, math.ceil(expected * cells) - 1)


def expected_words(expected: float) -> str:
    """What the mark in the progress bars means: `│ expected 60% by now`."""
    return f"│ expected {format_progress(expected)} by now"


def _time(ts: int | None, zone: str, *, seconds: bool = False) -> str | None:
    return None if ts is None else timeutil.format_time(ts, timeutil.zone(zone), seconds=seconds)


class KpiView(Struct, frozen=True):
    id: str
    title: str
    metric: str
    agg: str
    window: str | None  # as written (`7d`, `mtd`, the default `30d`); None: the latest point
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
    spark_starts: tuple[int, ...] = ()  # the start of each spark bucket
    spark_bucket: str = ""  # "1d"
    indicator: str | None = None
    north_star: bool = False
    description: str | None = None
    formula: str | None = None  # derived metrics only
    error: str | None = None  # the reason, when state == "error"
    stale_reason: str | None = None  # a failing or late pull behind a stale value
    labels: tuple[tuple[str, str], ...] = ()
    currency: str | None = None  # the format's currency code, for values shown elsewhere
    decimals: int | None = None
    zone: str = "UTC"  # the board's timezone name, for the times shown

    def show(self, value: float | None) -> str:
        """Any value of this KPI (a threshold, a bucket) in its format."""
        return format_value(value, self.format, currency=self.currency, decimals=self.decimals)

    @property
    def state_label(self) -> str:
        return state_label(self.state)

    @property
    def stale(self) -> bool:
        return self.state == "stale"

    @property
    def warn_display(self) -> str | None:
        return None if self.warn is None else self.show(self.warn)

    @property
    def crit_display(self) -> str | None:
        return None if self.crit is None else self.show(self.crit)

    @property
    def previous_display(self) -> str:
        return self.show(self.previous)

    @property
    def last_at_display(self) -> str | None:
        """`2026-11-24 09:30` in the board's zone."""
        return _time(self.last_at, self.zone)

    @property
    def last_at_iso(self) -> str | None:
        return None if self.last_at is None else timeutil.iso_utc(self.last_at)

    @property
    def spark_buckets(self) -> tuple[tuple[str, float | None], ...]:
        """(start ISO 8601 UTC, value or None for a gap) of each trend bucket; () when the
        KPI has no trend."""
        if not self.spark or len(self.spark) != len(self.spark_starts):
            return ()
        return tuple(
            (timeutil.iso_utc(t), v) for t, v in zip(self.spark_starts, self.spark, strict=True)
        )

    @property
    def reads(self) -> str:
        """What the value is: `sum over 7d`, `the latest point`."""
        return "the latest point" if self.window is None else f"{self.agg} over {self.window}"

    @property
    def direction_words(self) -> str:
        return "higher is better" if self.direction == "up" else "lower is better"


class RefLine(Struct, frozen=True):
    """A horizontal reference line on a chart: a KPI's target or threshold."""

    name: Literal["target", "warn", "crit"]
    value: float


class ChartSeries(Struct, frozen=True):
    name: str  # metric name, or the label value when split
    points: tuple[tuple[int, float | None], ...]  # (bucket start, value or None: a gap)
    labels: tuple[tuple[str, str], ...] = ()  # the label values this line is of
    dashed: bool = False  # a projection (a forecast), not measured values
    compares: str | None = None  # a comparison line: the name of the line it is earlier of

    @property
    def buckets_iso(self) -> tuple[tuple[str, float | None], ...]:
        """(start ISO 8601 UTC, value or None for a gap) of every bucket."""
        return tuple((timeutil.iso_utc(t), v) for t, v in self.points)

    @property
    def known(self) -> tuple[tuple[int, float], ...]:
        """The buckets that have a value."""
        return tuple((t, v) for t, v in self.points if v is not None)  # type: ignore[misc]

    def segments(self) -> Iterator[tuple[tuple[int, float], ...]]:
        """Runs of buckets with a value, split at every gap: drawn apart, never joined."""
        run: list[tuple[int, float]] = []
        for start, value in self.points:
            if value is None:
                if run:
                    yield tuple(run)
                run = []
            else:
                run.append((start, value))
        if run:
            yield tuple(run)


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
    comparison_offset: int | None = None  # seconds the compared span lies before this one
    annotations: tuple[AnnotationView, ...] = ()  # the marks on its time axis
    lo: int | None = None  # the time axis: the range's first bucket start…
    hi: int | None = None  # …and its last (None: from the series)
    zone: str = "UTC"  # the board's timezone name: the time axis is labelled in it

    @property
    def reading_words(self) -> str:
        """What the chart reads: `180d window · 7d buckets · last per bucket`."""
        parts = [f"{self.window} window"] if self.window else []
        parts += [f"{self.bucket_label} buckets", f"{self.agg} per bucket"]
        return " · ".join(parts)

    @property
    def has_points(self) -> bool:
        return any(value is not None for s in self.series for _, value in s.points)

    def comparison_of(self, series: ChartSeries) -> ChartSeries | None:
        """`series`' comparison line (its buckets' starts moved onto `series`' own);
        None when the chart compares with nothing or that span held no data."""
        return next((c for c in self.comparison if c.compares == series.name), None)

    @property
    def x_range(self) -> tuple[int, int]:
        """The time axis: the whole range, where the data starts or not."""
        starts = [t for s in self.series for t, _ in s.points]
        lo = self.lo if self.lo is not None else min(starts, default=0)
        hi = self.hi if self.hi is not None else max(starts, default=lo)
        return lo, max(hi, lo)

    @property
    def y_range(self) -> tuple[float, float]:
        """The value axis: the spec's bounds, else the data and reference lines with 5% air."""
        return self.value_range()

    def value_range(self, comparison: bool = False) -> tuple[float, float]:
        """The value axis, holding the comparison lines too when they are drawn (`c`)."""
        lines = (*self.series, *self.comparison) if comparison else self.series
        ys = [v for s in lines for _, v in s.points if v is not None]
        refs = [ref.value for ref in self.ref_lines]
        return _y_range([*ys, *refs], self.y_min, self.y_max)

    def value_ticks(self, count: int, comparison: bool = False) -> tuple[tuple[float, str], ...]:
        """About `count` round values (1, 2, 5 × 10^k steps) on the value axis, labelled."""
        lo, hi = self.value_range(comparison)
        return tuple((t, format_tick(t, self.format)) for t in nice_ticks(lo, hi, count))

    def time_ticks(self, count: int) -> tuple[tuple[int, str], ...]:
        """`count` evenly spread times on the time axis, labelled in the board's zone with
        a resolution fit to the span (`14:00`, `Nov 24`, `2026-11`)."""
        lo, hi = self.x_range
        return time_ticks(lo, hi, count, self.zone)

    def mark_start(self, mark: AnnotationView) -> int | None:
        """Where `mark` is drawn on the time axis: the start of the bucket it falls in (a
        mark in the newest bucket lies past its start, the axis' end); None off the axis."""
        lo, hi = self.x_range
        start = lo + (mark.ts - lo) // self.bucket * self.bucket if self.bucket else mark.ts
        return start if lo <= start <= hi else None

    @property
    def mark_starts(self) -> tuple[int, ...]:
        """Where the annotations are drawn on the time axis."""
        starts = (self.mark_start(mark) for mark in self.annotations)
        return tuple(start for start in starts if start is not None)

    def chosen_start(self, chosen: str | None) -> int | None:
        """Where the mark keyed `chosen` (`m`) is drawn, apart from the others."""
        mark = next((a for a in self.annotations if a.key == chosen), None)
        return None if mark is None else self.mark_start(mark)

    @property
    def marks_legend(self) -> str | None:
        """The latest annotation on the chart, and how many more: `v2.4 released +1`."""
        if not self.annotations:
            return None
        more = len(self.annotations) - 1
        return f"{self.annotations[-1].text}{f' +{more}' if more else ''}"

    @property
    def marks(self) -> MarkList:
        """The annotations on the chart as a detail lists them."""
        where = "everything stored" if self.window == "all" else f"the {self.window} window"
        return MarkList(self.annotations, where, self.zone)

    def marks_legend_for(self, chosen: str | None) -> tuple[str, str] | None:
        """The legend's entry for the marks: (rule, words). The chosen mark (`┃`, its
        text) when `m` chose one on this chart, else the latest and how many more."""
        mark = next((a for a in self.annotations if a.key == chosen), None)
        if mark is not None:
            return CHOSEN_RULE, mark.text
        words = self.marks_legend
        return None if words is None else (MARK_GLYPH, words)

    @property
    def ref_labels(self) -> tuple[tuple[RefLine, str], ...]:
        """Each reference line with its value as the axis shows it (`50K`)."""
        return tuple((ref, format_tick(ref.value, self.format)) for ref in self.ref_lines)


def _y_range(values: list[float], y_min: float | None, y_max: float | None) -> tuple[float, float]:
    y_lo = y_min if y_min is not None else min(values, default=0.0)
    y_hi = y_max if y_max is not None else max(values, default=1.0)
    if y_hi <= y_lo and (y_min is None) != (y_max is None):
        # Every value lies beyond the one bound written: draw them (a churn chart capped
        # at y_max: 0.1 went blank exactly when churn spiked).
        return _y_range(values, None, None)
    if y_hi <= y_lo:
        pad = abs(y_lo) * 0.1 or 1.0
        return y_lo - pad, y_hi + pad
    pad = (y_hi - y_lo) * 0.05
    return (
        y_lo if y_min is not None else y_lo - pad,
        y_hi if y_max is not None else y_hi + pad,
    )


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """About `count` round tick values (1, 2, 5 × 10^k steps) within lo..hi."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = []
    value = math.ceil(lo / step) * step
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return [t for t in ticks if lo <= t <= hi]


def time_ticks(lo: int, hi: int, count: int, zone: str) -> tuple[tuple[int, str], ...]:
    """Evenly spread ticks over lo..hi, labelled in `zone` at a resolution fit to the span."""
    tz = timeutil.zone(zone)
    span = hi - lo
    form = "%H:%M" if span <= 2 * 86400 else "%b %d" if span <= 300 * 86400 else "%Y-%m"
    if span <= 0 or count < 2:
        return ((lo, timeutil.to_local(lo, tz).strftime(form)),)
    positions = [round(lo + span * i / (count - 1)) for i in range(count)]
    return tuple((p, timeutil.to_local(p, tz).strftime(form)) for p in positions)


class _Progress:
    """What a key result and an objective both show of their progress."""

    __slots__ = ()
    progress: float | None
    status: str

    @property
    def shown_progress(self) -> float | None:
        return self.progress

    @property
    def progress_display(self) -> str:
        """Whole percent, half up, over-achievement as is (`125%`), `—` when unknown."""
        return format_progress(self.shown_progress)

    @property
    def bar_cells(self) -> int | None:
        """Filled cells of a BAR_CELLS-wide bar (clamped 0..1, half up like the percent);
        None when there is no progress to draw."""
        return None if self.progress is None else filled_cells(self.shown_progress or 0, BAR_CELLS)

    @property
    def narrow_bar_cells(self) -> int | None:
        if self.progress is None:
            return None
        return filled_cells(self.shown_progress or 0, NARROW_BAR_CELLS)

    @property
    def status_label(self) -> str:
        return status_label(self.status)


class KrView(_Progress, Struct, frozen=True):
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
    zone: str = "UTC"

    def show(self, value: float | None) -> str:
        """A value of this key result (its current, a check-in) in its format."""
        return format_value(value, self.format, currency=self.currency, decimals=self.decimals)

    @property
    def shown_progress(self) -> float | None:
        # The percent is shown as is (125%); the bar fills to its end.
        return self.progress_raw if self.progress is not None else None

    @property
    def current_display(self) -> str:
        return self.show(self.current)

    @property
    def start_display(self) -> str:
        return self.show(self.start)

    @property
    def target_display(self) -> str:
        return self.show(self.target)

    @property
    def confidence_label(self) -> str | None:
        """`▲ at risk`: glyph and words of the newest check-in's confidence."""
        return None if self.confidence is None else status_label(self.confidence)

    @property
    def confidence_glyph(self) -> str | None:
        return None if self.confidence is None else STATUS_GLYPHS.get(self.confidence, "?")

    @property
    def confidence_words(self) -> str | None:
        return None if self.confidence is None else words(self.confidence)

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.kind, words(self.kind))

    @property
    def last_checkin_display(self) -> str | None:
        return _time(self.last_checkin_at, self.zone)


class ObjectiveView(_Progress, Struct, frozen=True):
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


# How loud a state is, for an alert's severity and `worsened`.
_SEVERITY: dict[str, int] = {
    "ok": 0,
    "neutral": 0,
    "no_data": 1,
    "stale": 1,
    "warn": 2,
    "crit": 3,
}


class StateChange(Struct, frozen=True):
    """An alert: a KPI (or, in the store's history, a key result) moved from one state
    to another at `at`. From the history `kpitui watch` keeps, `event_id` is the store's
    id; the board's own session alerts have 0."""

    at: int
    kpi_id: str  # the KPI's id, or the key result's when `subject` is "kr"
    title: str
    old_state: str  # "" : at start (nothing known before)
    new_state: str
    value: float | None = None  # the KPI's value then
    display: str = MISSING
    zone: str = "UTC"
    subject: Literal["kpi", "kr"] = "kpi"
    event_id: int = 0
    dated: bool = False
    """Shown with its date, as the store's history is (a session alert beside it)."""

    @property
    def key(self) -> tuple[str, str]:
        """("kpi", id) or ("kr", id): whose alert it is."""
        return (self.subject, self.kpi_id)

    @property
    def repeat(self) -> bool:
        """A reminder that the state still holds (`repeat:`), not a change."""
        return self.old_state == self.new_state

    @property
    def worsened(self) -> bool:
        return _SEVERITY.get(self.new_state, 0) > _SEVERITY.get(self.old_state, 0)

    @property
    def time_display(self) -> str:
        """`10:42:00` in the board's zone; `12-05 10:42` for one of the store's history,
        which spans days."""
        shown = "%m-%d %H:%M" if self.event_id or self.dated else "%H:%M:%S"
        return timeutil.to_local(self.at, timeutil.zone(self.zone)).strftime(shown)

    @property
    def at_iso(self) -> str:
        return timeutil.iso_utc(self.at)

    @property
    def glyph(self) -> str:
        return STATE_GLYPHS.get(self.new_state) or STATUS_GLYPHS.get(self.new_state, "?")

    @property
    def words(self) -> str:
        """`ok → crit`, `at start → crit`, `still crit`."""
        if self.repeat:
            return f"still {words(self.new_state)}"
        old = words(self.old_state) if self.old_state else "at start"
        return f"{old} → {words(self.new_state)}"

    @property
    def summary(self) -> str:
        """`MRR: ✔ ok → ✖ crit` (the notification)."""
        if self.repeat:
            return f"{self.title}: still {self._label(self.new_state)}"
        old = self._label(self.old_state) if self.old_state else "at start"
        return f"{self.title}: {old} → {self._label(self.new_state)}"

    def _label(self, state: str) -> str:
        return state_label(state) if self.subject == "kpi" else status_label(state)


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
    refresh_seconds: int = 5
    bell: bool = False  # ring the terminal bell on a new alert
    alerts: tuple[StateChange, ...] = ()  # the store's alert history to as-of, newest first
    annotations: tuple[AnnotationView, ...] = ()  # the marks inside the board's windows
    pulls: tuple[PullHealth, ...] = ()  # the `pull:` queries failing or late at as-of
    chart_range: str | None = None  # the board's range for its charts (`t`); None: the spec's
    undelivered: tuple[str, ...] = ()
    """Notify targets the history says are not getting their alerts, one line each."""

    @property
    def as_of_iso(self) -> str:
        return timeutil.iso_utc(self.as_of)

    @property
    def period_start_iso(self) -> str:
        return timeutil.iso_utc(self.period_start)

    @property
    def period_end_iso(self) -> str:
        """The first moment after the period."""
        return timeutil.iso_utc(self.period_end)

    @property
    def as_of_display(self) -> str:
        """`2026-11-24 10:30` in the board's zone."""
        return _time(self.as_of, self.timezone) or MISSING

    @property
    def timezone_label(self) -> str:
        return "local time" if self.timezone == "local" else self.timezone

    @property
    def expected_display(self) -> str:
        return format_progress(self.expected)

    @property
    def expected_cell(self) -> int | None:
        """The cell of a BAR_CELLS-wide bar where the expected progress falls."""
        return expected_cell(self.expected, BAR_CELLS)

    @property
    def narrow_expected_cell(self) -> int | None:
        return expected_cell(self.expected, NARROW_BAR_CELLS)

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


def iter_objectives(objectives: tuple[ObjectiveView, ...]) -> Iterator[ObjectiveView]:
    """Every objective, depth first, parents before children."""
    for objective in objectives:
        yield objective
        yield from iter_objectives(objective.children)
