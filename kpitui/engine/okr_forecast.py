"""A key result's values in the period, read for its forecast (`engine.forecast`).

A key result whose value moves like a line gets a trend forecast from its value as the
board would read it at the end of each local day with data (at as-of for today):

- a manual key result: the days with a check-in (its last check-in of the day);
- a stock (`agg: last`), `min` or `max`: the days the metric has points;
- a flow (`sum`, `count`): every day since the period started, as the board reads a day
  without points as nothing happening (0) — but only days with points count towards the
  days a forecast needs;
- a derived metric read `last`: its value at the end of each of the last `SAMPLED_DAYS`
  days.

A key result that averages over the period so far (`avg`, `nps`, `csat`, a percentile,
a derived metric over such aggs or sums: a ratio of sums) gets a level forecast from each
day's own value (`forecast.forecast_average`).

The stored questions are daily buckets over the period (kept across refreshes by the
board's bucket cache), or at most `SAMPLED_DAYS` reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from msgspec import Struct
from msgspec.structs import replace

from kpitui import timeutil
from kpitui.engine.board import KrView, ObjectiveView
from kpitui.engine.forecast import (
    DAY,
    Forecast,
    NoForecast,
    ObjectiveForecast,
    forecast_average,
    forecast_kr,
    last_per_day,
    rollup_forecast,
)
from kpitui.engine.forecast_view import (
    KrForecast,
    ObjectiveForecastView,
    kr_forecast_view,
    objective_forecast_view,
)
from kpitui.engine.kpi import EVALUATION_FAILURES, MetricSource
from kpitui.engine.okr import OkrEvaluator, kr_metric_value, kr_share
from kpitui.spec.models import Dashboard, KeyResult, Objective
from kpitui.store.api import Bucket, Checkin
from kpitui.timeutil import Period, TimeRange
from kpitui.vocabulary import FLOW_AGGS

SAMPLED_DAYS = 8
"""Day ends read for a derived metric read `last` (daily buckets do not carry it)."""
AVERAGING_AGGS = frozenset({"avg", "nps", "csat", "p50", "p90", "p95", "p99"})
"""Aggs whose value over the period is an average of its days, not a running total."""


def averages(kr: KeyResult, source: MetricSource) -> bool:
    """Whether the key result's value averages over the period so far (a level, not a
    line): an averaging agg, or a derived metric over anything but `last`."""
    if kr.manual:
        return False
    return kr.agg in AVERAGING_AGGS or (kr.metric in source.derived and kr.agg != "last")


def day_ends(period: Period, at: int) -> list[int]:
    """The last second of each local day of the period up to `at`, and `at` itself."""
    if at < period.start_ts:
        return []
    ends: list[int] = []
    day = period.start
    while True:
        end = timeutil.local_midnight(day + timedelta(days=1), period.tz) - 1
        if end >= at:
            ends.append(at)
            return ends
        ends.append(end)
        day += timedelta(days=1)


def kr_samples(
    kr: KeyResult,
    source: MetricSource,
    period: Period,
    at: int,
    checkins: Sequence[Checkin],
) -> tuple[list[tuple[int, float]], int]:
    """(one (time, value) per day of data, oldest first; distinct days with data) of the
    key result in the period up to `at`."""
    if at < period.start_ts:
        return [], 0
    if kr.manual:
        inside = [(c.ts, c.value) for c in checkins if period.start_ts <= c.ts <= at]
        samples = last_per_day(inside, period.tz)
        return samples, len(samples)
    assert kr.metric is not None
    if kr.metric in source.derived:
        return _sampled(kr, source, period, at)
    reader, lo = source.reader, period.start_ts

    def daily(agg: str) -> list[Bucket]:
        return reader.buckets(kr.metric, kr.labels, agg, lo, at, DAY)  # type: ignore[arg-type]

    if kr.agg in FLOW_AGGS:
        found = daily(kr.agg)
        total, index, samples = 0.0, 0, []
        for end in day_ends(period, at):
            while index < len(found) and found[index].start <= end:
                total += found[index].value
                index += 1
            samples.append((end, total))
        return samples, len(found)
    if kr.agg == "last":
        # A carried bucket (a plan written monthly) holds the day's total; only the days
        # something was written are news.
        counted = {b.start for b in daily("count") if b.value}
        values = [(b.start, b.value) for b in daily("last") if b.start in counted]
    else:
        pick = min if kr.agg == "min" else max
        values, best = [], None
        for b in daily(kr.agg):
            best = b.value if best is None else pick(best, b.value)
            values.append((b.start, best))
    samples = [(min(start + DAY - 1, at), value) for start, value in values]
    return samples, len(samples)


def kr_daily_values(
    kr: KeyResult, source: MetricSource, period: Period, at: int
) -> list[tuple[int, float]]:
    """Each local day's own value of an averaging key result (its agg over that day
    alone), oldest first, at the day's end (at `at` for today); days without data left out."""
    if at < period.start_ts:
        return []
    assert kr.metric is not None
    rng = TimeRange(period.start_ts, at)
    found = source.buckets(kr.metric, kr.labels, kr.agg, rng, DAY)
    return [(min(start + DAY - 1, at), value) for start, value in found]


def _sampled(
    kr: KeyResult, source: MetricSource, period: Period, at: int
) -> tuple[list[tuple[int, float]], int]:
    samples = []
    for end in day_ends(period, at)[-SAMPLED_DAYS:]:
        value = kr_metric_value(source, kr, period, end)
        if value is not None:
            samples.append((end, value))
    return samples, len(samples)


def forecast_key_result(
    kr: KeyResult,
    kind: str,
    start: float | None,
    current: float | None,
    source: MetricSource,
    period: Period,
    as_of: int,
    checkins: Sequence[Checkin],
) -> Forecast | NoForecast:
    """The key result's forecast at `as_of` (its `current` value as the board reads it)."""
    asked = kind != "milestone" and period.start_ts <= as_of < period.end_ts
    if averages(kr, source):
        daily = kr_daily_values(kr, source, period, as_of) if asked else []
        return forecast_average(
            kind, start, kr.target, current, daily, as_of, period.start_ts, period.end_ts
        )
    # No store question for what is not forecast.
    samples, days = kr_samples(kr, source, period, as_of, checkins) if asked else ([], 0)
    return forecast_kr(
        kind, start, kr.target, current, samples, days, as_of, period.start_ts, period.end_ts
    )


class OkrForecasts(Struct, frozen=True):
    """Every key result's and objective's forecast on a board, by id."""

    key_results: dict[str, KrForecast]
    objectives: dict[str, ObjectiveForecastView | None]


def okr_forecasts(
    objectives: Sequence[Objective],
    views: Sequence[ObjectiveView],
    source: MetricSource,
    period: Period,
    as_of: int,
    checkins: Callable[[str], Sequence[Checkin]],
) -> OkrForecasts:
    """The forecasts of the OKR tree `views` (evaluated from `objectives` at `as_of`):
    each key result's from its own values, each objective's rolled up from its children."""
    krs: dict[str, KrForecast] = {}
    rolled: dict[str, ObjectiveForecastView | None] = {}

    def key_result(kr: KeyResult, view: KrView) -> Forecast | NoForecast:
        found = _found(kr, view, source, period, as_of, checkins)
        krs[kr.id] = kr_forecast_view(
            found, view.kind, view.target, period.tz, view.format, view.currency, view.decimals
        )
        return found

    def objective(spec: Objective, view: ObjectiveView) -> ObjectiveForecast | None:
        parts: list[tuple[Forecast | ObjectiveForecast | None, float | None, float]] = []
        for kr, kr_view in zip(spec.key_results, view.key_results, strict=True):
            found = key_result(kr, kr_view)
            forecast = found if isinstance(found, Forecast) else None
            parts.append((forecast, kr_share(kr_view.progress), kr_view.weight))
        for child, child_view in zip(spec.children, view.children, strict=True):
            parts.append((objective(child, child_view), child_view.progress, child_view.weight))
        found_o = rollup_forecast(parts)
        rolled[spec.id] = objective_forecast_view(found_o)
        return found_o

    for spec_objective, view in zip(objectives, views, strict=True):
        objective(spec_objective, view)
    return OkrForecasts(krs, rolled)


def _found(
    kr: KeyResult,
    view: KrView,
    source: MetricSource,
    period: Period,
    as_of: int,
    checkins: Callable[[str], Sequence[Checkin]],
) -> Forecast | NoForecast:
    if view.error is not None:
        return NoForecast("no forecast: its value could not be read")
    try:
        return forecast_key_result(
            kr, view.kind, view.start, view.current, source, period, as_of, checkins(kr.id)
        )
    except EVALUATION_FAILURES as exc:
        return NoForecast(f"no forecast: {exc or exc.__class__.__name__}")


def kr_forecast(
    kr: KeyResult,
    view: KrView,
    source: MetricSource,
    period: Period,
    as_of: int,
    evaluator: OkrEvaluator,
) -> KrForecast:
    """One key result's forecast view (its detail), as `okr_forecasts` gives the board's."""
    found = _found(kr, view, source, period, as_of, evaluator.checkins)
    return kr_forecast_view(
        found, view.kind, view.target, period.tz, view.format, view.currency, view.decimals
    )


def with_forecasts(
    views: Sequence[ObjectiveView], forecasts: OkrForecasts
) -> tuple[ObjectiveView, ...]:
    """The OKR tree with each node's forecast in it."""

    def objective(view: ObjectiveView) -> ObjectiveView:
        return replace(
            view,
            key_results=tuple(
                replace(kr, forecast=forecasts.key_results.get(kr.id)) for kr in view.key_results
            ),
            children=tuple(objective(child) for child in view.children),
            forecast=forecasts.objectives.get(view.id),
        )

    return tuple(objective(view) for view in views)


def evaluate_okrs_forecast(
    spec: Dashboard, source: MetricSource, as_of: int, period: Period
) -> tuple[ObjectiveView, ...]:
    """The board's OKR tree (`okr.evaluate_okrs`) with its forecasts."""
    evaluator = OkrEvaluator(spec, source, as_of, period)
    views = evaluator.objectives()
    found = okr_forecasts(spec.okrs, views, source, period, as_of, evaluator.checkins)
    return with_forecasts(views, found)
