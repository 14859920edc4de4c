"""`evaluate(spec, reader, as_of) -> Board`: everything the user sees, computed once.

The store is asked a fixed number of questions per KPI, chart and key result (one per
operand for derived metrics), however many points it holds. What depends only on the
spec (parsed formulas, pages) is computed once per spec object; what depends only on
closed time buckets is kept with the reader across refreshes (`cache`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import tzinfo
from typing import Any, NoReturn

import msgspec
from msgspec import Struct

from kpitui import timeutil
from kpitui.engine.annotations import AnnotationView, board_annotations
from kpitui.engine.board import MISSING, Board, KpiView, PageView, StateChange
from kpitui.engine.cache import refreshing
from kpitui.engine.charts import evaluate_chart
from kpitui.engine.deliveries import delivery_health, header_message
from kpitui.engine.kpi import (
    EVALUATION_FAILURES,
    STORE_FAILURES,
    Formula,
    MetricSource,
    evaluate_kpi,
)
from kpitui.engine.layout import board_order, board_pages
from kpitui.engine.okr import okr_period
from kpitui.engine.okr_forecast import evaluate_okrs_forecast
from kpitui.engine.pulls import PullHealth, board_pulls, stale_pulls, stale_reason
from kpitui.engine.ranges import range_bucket, range_window
from kpitui.engine.spacing import usual_spacing
from kpitui.spec.formula import stored_operands
from kpitui.spec.models import Chart, Dashboard, Kpi
from kpitui.store.api import AlertEvent, SeriesStats, StoreReader
from kpitui.timeutil import Window


class _Prepared(Struct, frozen=True):
    spec: Dashboard  # kept so the id() key cannot be reused by another object
    formulas: dict[str, Formula | Exception]
    pages: tuple[PageView, ...]
    tz: tzinfo


ALERT_HISTORY = 50
"""Alerts of the store's history a board carries, newest first."""
# Read more than that: with --as-of in the past, the newest events are after it.
_HISTORY_READ = 1000

_PREPARED: dict[int, _Prepared] = {}
_PREPARED_MAX = 8  # the live board alternates between at most a couple of specs


def _parse_formulas(spec: Dashboard) -> dict[str, Formula | Exception]:
    if not spec.metrics:
        return {}
    from kpitui.spec.formula import parse_formula

    parsed: dict[str, Formula | Exception] = {}
    for name, metric in spec.metrics.items():
        try:
            parsed[name] = parse_formula(metric.formula)
        except ValueError as exc:  # `check` reports it with its line; the KPI shows error
            parsed[name] = exc
    return parsed


def prepare(spec: Dashboard) -> _Prepared:
    """Parsed formulas, pages and zone of `spec`, cached by the spec object (it is frozen)."""
    found = _PREPARED.get(id(spec))
    if found is not None and found.spec is spec:
        return found
    tz = timeutil.zone(spec.timezone)
    prepared = _Prepared(spec, _parse_formulas(spec), board_pages(spec), tz)
    if len(_PREPARED) >= _PREPARED_MAX:
        # The poller and detail workers may both get here: the oldest may be gone.
        _PREPARED.pop(next(iter(_PREPARED), None), None)
    _PREPARED[id(spec)] = prepared
    return prepared


def evaluate(
    spec: Dashboard, reader: StoreReader, as_of: int, *, chart_range: str | None = None
) -> Board:
    """The Board of `spec` over `reader` at `as_of` (UTC epoch seconds). Never raises for
    store trouble: a failing query makes that KPI, chart or key result show the reason.

    Successive calls with the same reader (the live board) keep the closed buckets of
    sparklines and charts between them (see `cache`); the Board is the same as with a
    fresh reader.

    `chart_range` (`7d`, `30d`, `90d`, `1y`: the board's range, `t`) shows every chart
    over that span instead of its own window."""
    with read_snapshot(reader) as snapshot, refreshing(snapshot) as cached:
        return _evaluate(spec, cached, as_of, chart_range)


@contextmanager
def read_snapshot(reader: StoreReader) -> Iterator[StoreReader]:
    """The reader to ask everything through, in one read transaction: what is shown
    together was in the store together, and the store is entered once, not once per
    question. When the store cannot be entered (locked, gone), a stand-in that gives
    that reason to every question at once: each would otherwise wait out the lock again,
    and answer from another state if it freed up meanwhile."""
    with ExitStack() as stack:
        try:
            stack.enter_context(reader.snapshot())
        except STORE_FAILURES as exc:
            unreadable: _Unreadable | None = _Unreadable(reader.path, exc)
        else:
            unreadable = None
        yield reader if unreadable is None else unreadable


class _Unreadable:
    """A reader of a store that could not be entered: every question fails with why."""

    changes_since = None  # nothing to keep buckets for (see cache.cache_for)

    def __init__(self, path: str, reason: BaseException) -> None:
        self.path = path
        self._reason = reason

    def __getattr__(self, name: str) -> Callable[..., NoReturn]:
        def fail(*args: object, **kwargs: object) -> NoReturn:
            raise self._reason.with_traceback(None)

        return fail


class Splice(Struct, frozen=True):
    """What of the last board a live refresh keeps (`live.LiveBoard`): every KPI and
    chart but those named here, the OKR tree unless `okrs`, and the alerts, marks and
    pulls as they were (each changes only with a write to its own table)."""

    board: Board
    kpis: frozenset[str]
    """Ids of the KPIs to evaluate again."""
    charts: frozenset[str]
    okrs: bool
    """Whether to evaluate the OKR tree again."""


def _evaluate(
    spec: Dashboard,
    reader: StoreReader,
    as_of: int,
    chart_range: str | None = None,
    splice: Splice | None = None,
) -> Board:
    prepared = prepare(spec)
    tz = prepared.tz
    source = MetricSource(reader, spec.metrics, prepared.formulas)
    zone = spec.timezone or "local"
    if splice is None:
        kpis = tuple(evaluate_kpi(kpi, source, as_of, tz, zone) for kpi in board_order(spec.kpis))
        pulls = _troubled_pulls(spec, reader, as_of)
        if pulls:
            kpis = tuple(_stale_by_pulls(k, pulls, prepared) for k in kpis)
    else:
        pulls = splice.board.pulls
        kept = {k.id: k for k in splice.board.kpis}

        def fresh(kpi: Kpi) -> KpiView:
            view = evaluate_kpi(kpi, source, as_of, tz, zone)
            return _stale_by_pulls(view, pulls, prepared) if pulls else view

        kpis = tuple(
            kept[kpi.id] if kpi.id in kept and kpi.id not in splice.kpis else fresh(kpi)
            for kpi in board_order(spec.kpis)
        )
    kept_charts = {} if splice is None else {c.id: c for c in splice.board.charts}
    fresh_charts = {
        chart.id
        for chart in spec.charts
        if splice is None or chart.id not in kept_charts or chart.id in splice.charts
    }
    # Asked only when a chart is drawn again: a live refresh that keeps every chart
    # must not scan every series' first and last point.
    stats = _series_stats(reader, chart_range) if fresh_charts else []
    charts = tuple(
        evaluate_chart(
            chart,
            source,
            kpis,
            spec.kpis,
            as_of,
            tz,
            zone,
            **_ranged(chart, chart_range, source, stats),
        )
        if chart.id in fresh_charts
        else kept_charts[chart.id]
        for chart in spec.charts
    )
    period = okr_period(spec, as_of, tz)
    if splice is not None:
        # Expected progress moves with the clock, as the key results' statuses do: kept
        # with the tree they were judged against, both move at the next whole refresh.
        old = splice.board
        okrs = evaluate_okrs_forecast(spec, source, as_of, period) if splice.okrs else old.okrs
        expected = period.expected_progress(as_of) if splice.okrs else old.expected
        return msgspec.structs.replace(
            old, as_of=as_of, expected=expected, kpis=kpis, charts=charts, okrs=okrs
        )
    window = range_window(chart_range) if chart_range else None
    events, annotations = _history(spec, reader, as_of, tz, window)
    return Board(
        title=spec.title,
        as_of=as_of,
        timezone=zone,
        period_start=period.start_ts,
        period_end=period.end_ts,
        period_label=period.label(),
        expected=period.expected_progress(as_of),
        kpis=kpis,
        charts=charts,
        okrs=evaluate_okrs_forecast(spec, source, as_of, period),
        pages=prepared.pages,
        refresh_seconds=spec.refresh.seconds,
        bell=spec.alerts.bell,
        alerts=_alerts(events, as_of, zone),
        annotations=annotations,
        pulls=pulls,
        chart_range=chart_range,
        undelivered=_undelivered(spec, events, as_of, tz),
    )


def _series_stats(reader: StoreReader, chart_range: str | None) -> list[SeriesStats]:
    """What the board's range needs to pick each chart's bucket: how often its metrics
    get a point (asked once, and only with a range set)."""
    if chart_range is None:
        return []
    try:
        return reader.stats()
    except EVALUATION_FAILURES:
        return []  # the charts' own reads say why; the bucket is then the range's alone


def _ranged(
    chart: Chart, chart_range: str | None, source: MetricSource, stats: list[SeriesStats]
) -> dict[str, Any]:
    """The window, bucket and label of `chart` over the board's range (`t`): the bucket
    the KPI detail picks for that range, never finer than the chart's points."""
    if chart_range is None:
        return {}
    stored = stored_operands(chart.metrics, source.formula)
    spacing = usual_spacing(stats, stored, chart.labels)
    return {
        "window": range_window(chart_range),
        "bucket": range_bucket(chart_range, spacing),
        "window_label": chart_range,
    }


def _troubled_pulls(spec: Dashboard, reader: StoreReader, as_of: int) -> tuple[PullHealth, ...]:
    """The pulls failing or late at as-of; none when the store cannot say (its KPIs say
    why) or the spec pulls nothing (and the store is not asked)."""
    if not spec.pull:
        return ()
    try:
        return board_pulls(spec, reader.pull_states(), as_of)
    except STORE_FAILURES:
        return ()


def _stale_by_pulls(view: KpiView, pulls: tuple[PullHealth, ...], prepared: _Prepared) -> KpiView:
    """`view` marked stale when a pull writing one of its stored metrics is failing or
    late: its value is only as fresh as that pull's last success. A KPI in error or
    without data keeps saying so."""
    if view.value is None or view.state == "error":
        return view

    def formula_of(name: str) -> Formula | None:
        found = prepared.formulas.get(name)
        return None if isinstance(found, Exception) else found

    troubled = stale_pulls(stored_operands([view.metric], formula_of), list(pulls))
    if not troubled:
        return view
    return msgspec.structs.replace(view, state="stale", stale_reason=stale_reason(troubled))


def _history(
    spec: Dashboard,
    reader: StoreReader,
    as_of: int,
    tz: tzinfo,
    chart_window: Window | None,
) -> tuple[list[AlertEvent], tuple[AnnotationView, ...]]:
    """The store's alert history (its newest events) and its marks inside the board's
    windows (`annotations.board_annotations`: on the metrics it shows, or on every
    chart); none when the store cannot say."""
    try:
        events = list(reader.alert_events(None, _HISTORY_READ))
        marks = board_annotations(spec, reader, as_of, tz, chart_window)
    except EVALUATION_FAILURES:
        return [], ()
    return events, marks


def _alerts(events: list[AlertEvent], as_of: int, zone: str) -> tuple[StateChange, ...]:
    """The alert history up to as-of as alerts, newest first, the last ALERT_HISTORY."""
    alerts = tuple(
        StateChange(
            e.ts,
            e.subject_id,
            e.title,
            e.from_state or "",
            e.to_state,
            value=e.value,
            display=e.display or MISSING,
            zone=zone,
            subject=e.subject_kind,
            event_id=e.id,
        )
        for e in events
        if e.ts <= as_of
    )
    return alerts[:ALERT_HISTORY]


def _undelivered(spec: Dashboard, events: list[AlertEvent], as_of: int, tz: tzinfo) -> tuple:
    """One line per notify target whose newest alerts did not reach it."""
    if not events:
        return ()  # no watcher: nothing was to be delivered
    return tuple(header_message(h, tz, as_of) for h in delivery_health(spec, events, as_of))
