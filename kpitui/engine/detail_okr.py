"""The numbers behind a key result's or objective's drill-down (SPEC §4).

Progress over the period, drawn against the expected-progress line, with the same
progress rule and roll-up as the board (`engine.okr`), so the last point of the history
is the number on the board. The history is one bucketed query per key result (a few
for `avg`; a bounded number of samples for aggs that cannot be accumulated from daily
buckets, such as percentiles and derived metrics).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta, tzinfo
from typing import Any, Literal

from msgspec import Struct
from msgspec.structs import replace

from kpitui import timeutil
from kpitui.engine.annotations import (
    AnnotationView,
    MarkList,
    annotations_in,
    checkin_notes,
    merged,
)
from kpitui.engine.board import (
    ChartSeries,
    ChartView,
    KrStatus,
    KrView,
    ObjectiveView,
    RefLine,
    _Progress,
    status_label,
)
from kpitui.engine.comparison import Comparison, comparison_series
from kpitui.engine.detail_kpi import DetailNotFound
from kpitui.engine.evaluate import prepare, read_snapshot
from kpitui.engine.forecast_view import KrForecast, ObjectiveForecastView
from kpitui.engine.format import format_progress, format_value, gap_words
from kpitui.engine.kpi import EVALUATION_FAILURES, MetricSource
from kpitui.engine.okr import (
    OkrEvaluator,
    kr_metric_value,
    kr_progress,
    kr_share,
    kr_start,
    okr_period,
    weighted_progress,
)
from kpitui.engine.okr_forecast import kr_forecast, okr_forecasts
from kpitui.engine.previous_period import moved_onto, previous_period, previous_words
from kpitui.spec.models import Dashboard, KeyResult, Objective
from kpitui.store.api import Checkin, StoreReader
from kpitui.timeutil import Period, TimeRange
from kpitui.vocabulary import FLOW_AGGS

DAY = 86400
# Aggs whose value since the period start follows from daily buckets.
RUNNING_AGGS = frozenset({"last", "sum", "count", "min", "max", "avg"})
# Other aggs (nps, csat, pNN, derived metrics) are read at most this many times.
MAX_SAMPLES = 31

NodeKind = Literal["kr", "objective"]


class NodeRow(_Progress, Struct, frozen=True):
    """A key result or child objective listed on an objective's detail."""

    kind: NodeKind
    id: str
    title: str
    owner: str | None
    progress: float | None
    progress_raw: float | None
    status: KrStatus
    confidence: str | None = None
    checkin_due: bool = False
    error: str | None = None

    @property
    def shown_progress(self) -> float | None:
        return self.progress_raw if self.progress is not None else None

    @property
    def kind_label(self) -> str:
        return "KR" if self.kind == "kr" else "obj"


class CheckinRow(Struct, frozen=True):
    """A check-in as the detail lists it."""

    ts: int
    time_display: str
    value_display: str
    confidence_label: str | None
    note: str


class KrDetail(Struct, frozen=True):
    kind: NodeKind
    id: str
    title: str
    owner: str | None
    as_of: int
    period_start: int
    period_end: int  # first second after the period
    period_label: str
    expected: float
    progress: float | None  # clamped 0..1 (objectives: the roll-up)
    progress_raw: float | None
    status: KrStatus
    gap: float | None  # expected - progress: > 0 behind, < 0 ahead
    history: ChartView  # series "progress" and "expected", as fractions
    kr: KrView | None = None
    objective: ObjectiveView | None = None
    children: tuple[NodeRow, ...] = ()
    checkins: tuple[Checkin, ...] = ()  # newest first
    metric_chart: ChartView | None = None  # the KR's value as it read over the period
    forecast: KrForecast | ObjectiveForecastView | None = None  # where it is heading
    annotations: tuple[AnnotationView, ...] = ()  # in the period: marks and check-in notes
    format: str = "number"  # of the KR's values: borrowed from a KPI on the same metric
    currency: str | None = None
    decimals: int | None = None
    error: str | None = None
    zone: str = "UTC"

    def show(self, value: float | None) -> str:
        return format_value(value, self.format, currency=self.currency, decimals=self.decimals)

    @property
    def marks(self) -> MarkList:
        """The period's marks on the node's charts, a key result's check-in notes among
        them, listed under its progress chart (`m` chooses one)."""
        where = f"{self.period_label} so far" if self.as_of < self.period_end else self.period_label
        return MarkList(self.annotations, where, self.zone)

    @property
    def progress_display(self) -> str:
        """As is: 125% for a target beaten."""
        return format_progress(self.progress_raw)

    @property
    def counted_display(self) -> str:
        """Clamped to 0..100%, as the objective counts it."""
        return format_progress(self.progress)

    @property
    def expected_display(self) -> str:
        return format_progress(self.expected)

    @property
    def gap_display(self) -> str:
        """`12 pts behind expected`, `1 pt ahead of expected`."""
        return gap_words(self.gap)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def as_of_display(self) -> str:
        return timeutil.format_time(self.as_of, timeutil.zone(self.zone))

    @property
    def period_words(self) -> str:
        """`period 2026-Q4 · expected 60% at 2026-11-24 10:30`."""
        return (
            f"period {self.period_label} · expected {self.expected_display} at {self.as_of_display}"
        )

    @property
    def checkin_rows(self) -> tuple[CheckinRow, ...]:
        """The check-ins, newest first, as shown."""
        tz = timeutil.zone(self.zone)
        return tuple(
            CheckinRow(
                ts=c.ts,
                time_display=timeutil.format_time(c.ts, tz),
                value_display=self.show(c.value),
                confidence_label=None if c.confidence is None else status_label(c.confidence),
                note=c.note or "",
            )
            for c in self.checkins
        )


# -- the grid ----------------------------------------------------------------------


def day_grid(period: Period, as_of: int) -> list[int]:
    """The moments the history is read at: the end of each local day of the period so
    far, the last one being as-of itself. Empty before the period starts."""
    if as_of < period.start_ts:
        return []
    end = min(as_of, period.end_ts - 1)
    grid: list[int] = []
    day = period.start
    while True:
        day_end = timeutil.local_midnight(day + timedelta(days=1), period.tz) - 1
        if day_end >= end:
            grid.append(end)
            return grid
        grid.append(day_end)
        day += timedelta(days=1)


def kr_values(
    kr: KeyResult,
    source: MetricSource,
    period: Period,
    grid: Sequence[int],
    start: float | None,
    checkins: Sequence[Checkin],
) -> list[float | None]:
    """The key result's current value as it read at each grid moment (SPEC §3 OKRs)."""
    if not grid:
        return []
    if kr.manual:
        values, index, current = [], 0, start
        for moment in grid:
            while index < len(checkins) and checkins[index].ts <= moment:
                current = checkins[index].value
                index += 1
            values.append(current)
        return values
    assert kr.metric is not None
    if kr.metric in source.derived or kr.agg not in RUNNING_AGGS:
        return _sampled_values(kr, source, period, grid)
    rng = TimeRange(period.start_ts, grid[-1])
    reader = source.reader
    if kr.agg == "last":
        before = reader.last(kr.metric, kr.labels, period.start_ts - 1)
        found = reader.buckets(kr.metric, kr.labels, "last", rng.lo, rng.hi, DAY)
        return _running(
            grid, found, None if before is None else before.value, lambda _acc, value: value
        )
    if kr.agg in FLOW_AGGS:
        # From 0 at the period's start, as the board counts a sum of nothing.
        found = reader.buckets(kr.metric, kr.labels, kr.agg, rng.lo, rng.hi, DAY)
        return _running(grid, found, 0.0, lambda acc, value: value + acc)
    if kr.agg in ("min", "max"):
        pick = min if kr.agg == "min" else max
        found = reader.buckets(kr.metric, kr.labels, kr.agg, rng.lo, rng.hi, DAY)
        return _running(
            grid, found, None, lambda acc, value: value if acc is None else pick(acc, value)
        )
    # avg since the period start = running sum / running count.
    sums = reader.buckets(kr.metric, kr.labels, "sum", rng.lo, rng.hi, DAY)
    counts = reader.buckets(kr.metric, kr.labels, "count", rng.lo, rng.hi, DAY)
    total = _running(grid, sums, None, lambda acc, value: value + (acc or 0.0))
    number = _running(grid, counts, None, lambda acc, value: value + (acc or 0.0))
    return [None if s is None or not n else s / n for s, n in zip(total, number, strict=True)]


def _running(grid, buckets, initial, combine) -> list[float | None]:
    values: list[float | None] = []
    acc, index = initial, 0
    for moment in grid:
        while index < len(buckets) and buckets[index].start <= moment:
            acc = combine(acc, buckets[index].value)
            index += 1
        values.append(acc)
    return values


def _sampled_values(
    kr: KeyResult, source: MetricSource, period: Period, grid: Sequence[int]
) -> list[float | None]:
    """Read the value at up to MAX_SAMPLES grid moments (the last one always), carried
    forward in between."""
    assert kr.metric is not None
    step = max(1, -(-len(grid) // MAX_SAMPLES))
    picked = set(range(len(grid) - 1, -1, -step))
    values: list[float | None] = []
    current: float | None = None
    for index, moment in enumerate(grid):
        if index in picked:
            current = kr_metric_value(source, kr, period, moment)
        values.append(current)
    return values


def progress_series(
    kind: str,
    start: float | None,
    target: float | None,
    done: bool | None,
    values: Sequence[float | None],
) -> list[float | None]:
    """Raw progress at each value, by the board's rule (`engine.okr.kr_progress`)."""
    return [kr_progress(kind, start, target, value, done)[0] for value in values]


# -- the detail ----------------------------------------------------------------------


def find_node(spec: Dashboard, kind: str, node_id: str) -> tuple[Objective, KeyResult | None]:
    """(the objective, the key result or None) named by `kind` and `node_id`."""

    def walk(objectives: Sequence[Objective]):
        for objective in objectives:
            if kind == "objective" and objective.id == node_id:
                return objective, None
            if kind == "kr":
                for kr in objective.key_results:
                    if kr.id == node_id:
                        return objective, kr
            found = walk(objective.children)
            if found is not None:
                return found
        return None

    found = walk(spec.okrs)
    if found is None:
        what = "key result" if kind == "kr" else "objective"
        raise DetailNotFound(f"there is no {what} {node_id!r} in the spec")
    return found


class _History:
    """Progress histories on one grid, one set of store queries per key result."""

    def __init__(self, evaluator: OkrEvaluator, grid: list[int]):
        # The board's evaluator: its check-ins, asked for the board's numbers, are reused.
        self.evaluator, self.grid = evaluator, grid
        self.values: dict[str, list[float | None]] = {}

    def kr_raw(self, kr: KeyResult) -> list[float | None]:
        ev = self.evaluator
        start = kr_start(kr)
        values = kr_values(kr, ev.source, ev.period, self.grid, start, ev.checkins(kr.id))
        self.values[kr.id] = values
        return progress_series(kr.effective_kind, start, kr.target, kr.done, values)

    def objective(self, objective: Objective) -> list[float | None]:
        parts: list[tuple[list[float | None], float]] = []
        for kr in objective.key_results:
            parts.append(([kr_share(p) for p in self.kr_raw(kr)], kr.weight))
        for child in objective.children:
            parts.append((self.objective(child), child.weight))
        return [
            weighted_progress([(series[i], weight) for series, weight in parts])
            for i in range(len(self.grid))
        ]


def history_chart(
    node_id: str,
    grid: Sequence[int],
    progress: Sequence[float | None],
    period: Period,
    zone: str = "UTC",
    forecast: float | None = None,
) -> ChartView:
    """Progress at the end of each day so far (a day without a value is a gap), against
    the expected line from 0 at the period's start to 1 at its end; with `forecast` (the
    projected progress at the period's end), a dashed line to it from the last value."""
    known = any(p is not None for p in progress)
    points = tuple(zip(grid, progress, strict=True)) if known else ()
    values = [p for _, p in points if p is not None]
    series = [
        ChartSeries("progress", points),
        ChartSeries("expected", ((period.start_ts, 0.0), (period.end_ts, 1.0))),
    ]
    if forecast is not None and values:
        values.append(forecast)
        series.append(_projection(series[0], period.end_ts, forecast))
    return ChartView(
        id=f"history-{node_id}",
        title="progress vs expected",
        window="period",
        bucket=DAY,
        series=tuple(series),
        ref_lines=(RefLine("target", 1.0),),
        y_min=min([0.0, *values]),
        y_max=max([1.0, *values]),
        format="percent",
        lo=period.start_ts,
        hi=period.end_ts,
        zone=zone,
    )


def kr_detail(
    spec: Dashboard, reader: StoreReader, kind: str, node_id: str, as_of: int
) -> KrDetail:
    """Everything the key-result or objective detail screen shows. Raises DetailNotFound
    for an unknown node; a failing store query gives a detail with `error` set."""
    with read_snapshot(reader) as snapshot:  # shown together: in the store together
        return _kr_detail(spec, snapshot, kind, node_id, as_of)


def _kr_detail(
    spec: Dashboard, reader: StoreReader, kind: str, node_id: str, as_of: int
) -> KrDetail:
    objective, kr = find_node(spec, kind, node_id)
    prepared = prepare(spec)  # the zone and formulas the board was evaluated with
    tz = prepared.tz
    source = MetricSource(reader, spec.metrics, prepared.formulas)
    period = okr_period(spec, as_of, tz)
    evaluator = OkrEvaluator(spec, source, as_of, period)
    grid = day_grid(period, as_of)
    history = _History(evaluator, grid)
    expected = period.expected_progress(as_of)
    node_kind: NodeKind = "objective" if kr is None else "kr"
    zone = spec.timezone or "local"
    # The node's forecast as the board has it, and the marks of the period on its charts.
    node_forecast: KrForecast | ObjectiveForecastView | None
    if kr is None:
        forecasts = okr_forecasts(
            [objective], [evaluator.objective(objective)], source, period, as_of, evaluator.checkins
        )
        node_forecast = forecasts.objectives.get(objective.id)
    else:
        node_forecast = kr_forecast(kr, evaluator.key_result(kr), source, period, as_of, evaluator)
    projected = None
    if isinstance(node_forecast, ObjectiveForecastView):
        projected = node_forecast.progress
    elif node_forecast is not None and node_forecast.has_forecast:
        projected = node_forecast.progress_raw
    marks = _period_marks(reader, kr, evaluator, period, as_of, tz)

    def detail(
        node: Objective | KeyResult,
        progress: float | None,
        progress_raw: float | None,
        status: KrStatus,
        history_progress: Sequence[float | None],
        **rest: Any,
    ) -> KrDetail:
        """The fields every node's detail has, and `rest`."""
        chart = history_chart(node.id, grid, history_progress, period, zone, projected)
        return KrDetail(
            kind=node_kind,
            id=node.id,
            title=node.title,
            owner=node.owner,
            as_of=as_of,
            period_start=period.start_ts,
            period_end=period.end_ts,
            period_label=period.label(),
            expected=expected,
            progress=progress,
            progress_raw=progress_raw,
            status=status,
            gap=None if progress is None else expected - progress,
            history=replace(chart, annotations=marks),
            forecast=node_forecast,
            annotations=marks,
            zone=zone,
            **rest,
        )

    if kr is not None:
        view = replace(evaluator.key_result(kr), forecast=node_forecast)
        fmt = (view.format, view.currency, view.decimals)
        error = view.error
        progress: list[float | None] = []
        metric_chart = None
        checkins: tuple[Checkin, ...] = ()
        try:
            progress = history.kr_raw(kr)
            checkins = tuple(reversed(evaluator.checkins(kr.id)))
            if not kr.manual:
                metric_chart = _value_chart(kr, grid, history.values[kr.id], fmt[0], period, zone)
                metric_chart = _with_projection(metric_chart, node_forecast, period, marks)
                metric_chart = _with_previous(metric_chart, kr, source, period)
        except EVALUATION_FAILURES as exc:
            error = error or str(exc) or exc.__class__.__name__
        return detail(
            kr,
            view.progress,
            view.progress_raw,
            view.status,
            progress,
            kr=view,
            checkins=checkins,
            metric_chart=metric_chart,
            format=fmt[0],
            currency=fmt[1],
            decimals=fmt[2],
            error=error,
        )
    view_o = evaluator.objective(objective)
    error = None
    rolled: list[float | None] = []
    try:
        rolled = history.objective(objective)
    except EVALUATION_FAILURES as exc:
        error = str(exc) or exc.__class__.__name__
    children = tuple(
        NodeRow(
            "kr",
            k.id,
            k.title,
            k.owner,
            k.progress,
            k.progress_raw,
            k.status,
            k.confidence,
            k.checkin_due,
            k.error,
        )
        for k in view_o.key_results
    ) + tuple(
        NodeRow("objective", c.id, c.title, c.owner, c.progress, c.progress, c.status)
        for c in view_o.children
    )
    return detail(
        objective,
        view_o.progress,
        view_o.progress,
        view_o.status,
        rolled,
        objective=view_o,
        children=children,
        format="percent",
        error=error,
    )


def _value_chart(
    kr: KeyResult,
    grid: Sequence[int],
    values: Sequence[float | None],
    fmt: str,
    period: Period,
    zone: str,
) -> ChartView:
    assert kr.metric is not None
    reads = "latest value" if kr.agg == "last" else f"{kr.agg} since the period start"
    return ChartView(
        id=f"kr-metric-{kr.id}",
        title=f"{kr.metric} · {reads}",
        window="period",
        bucket=DAY,
        series=(
            ChartSeries(
                kr.metric,
                tuple(zip(grid, values, strict=True)) if any(v is not None for v in values) else (),
                tuple(sorted(kr.labels.items())),
            ),
        ),
        ref_lines=() if kr.target is None else (RefLine("target", kr.target),),
        format=fmt,
        lo=grid[0] if grid else None,
        hi=grid[-1] if grid else None,
        zone=zone,
    )


def _with_previous(
    chart: ChartView, kr: KeyResult, source: MetricSource, period: Period
) -> ChartView:
    """The value chart with the key result's value over the period before, day k drawn
    on day k of this one (`c` shows it: "last quarter at this point")."""
    before = previous_period(period)
    assert kr.metric is not None
    if not chart.series:
        return chart
    if kr.metric not in source.derived:
        # A flow's running sum is 0 over a period without points: no line, not a flat 0.
        span = TimeRange(before.start_ts, before.end_ts - 1)
        count = source.read(kr.metric, kr.labels, "count", span, span.hi, want_time=False)
        if not count.value:
            return chart
    values = kr_values(kr, source, before, day_grid(before, before.end_ts - 1), kr_start(kr), ())
    if all(value is None for value in values):
        return chart
    offset = period.start_ts - before.start_ts
    comparison = Comparison(offset, previous_words(period))
    # As far as the chart's axis goes: to as-of, or to the period's end beside a forecast.
    days = [day for day in day_grid(period, period.end_ts - 1) if day <= chart.x_range[1]]
    line = comparison_series(chart.series[0].name, moved_onto(values, days), comparison)
    return replace(
        chart, comparison=(line,), comparison_label=comparison.label, comparison_offset=offset
    )


def _with_projection(
    chart: ChartView,
    forecast: KrForecast | ObjectiveForecastView | None,
    period: Period,
    marks: tuple[AnnotationView, ...],
) -> ChartView:
    """The value chart with the forecast's dashed line from the last value to the
    period's end, and the period's marks."""
    chart = replace(chart, annotations=marks)
    if not isinstance(forecast, KrForecast) or forecast.value is None:
        return chart
    if not chart.series or not chart.series[0].known:
        return chart
    line = _projection(chart.series[0], period.end_ts, forecast.value)
    return replace(chart, series=(*chart.series, line), hi=period.end_ts)


def _projection(measured: ChartSeries, end: int, value: float) -> ChartSeries:
    """The forecast's dashed line: from the last measured value to `value` at `end`."""
    return ChartSeries("forecast", (measured.known[-1], (end, value)), dashed=True)


def _period_marks(
    reader: StoreReader,
    kr: KeyResult | None,
    evaluator: OkrEvaluator,
    period: Period,
    as_of: int,
    tz: tzinfo,
) -> tuple[AnnotationView, ...]:
    """The annotations of the period so far on a key result's metric (every chart's for
    a manual one or an objective), with a key result's check-in notes."""
    hi = min(as_of, period.end_ts - 1)
    metrics = [kr.metric] if kr is not None and kr.metric else None
    try:
        stored = annotations_in(reader, period.start_ts, hi, metrics, tz)
        notes = checkin_notes(evaluator.checkins(kr.id), period.start_ts, hi, tz) if kr else ()
    except EVALUATION_FAILURES:
        return ()  # the detail's error says why; the marks are only extra
    if metrics is None:
        stored = tuple(a for a in stored if not a.metrics) if kr is not None else stored
    return merged(stored, notes)
