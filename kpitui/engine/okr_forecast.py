"""A key result's values in the period, read for its forecast (`engine.forecast`).

One day of data is one value: the key result as the board would read it at the end of
that local day (at as-of for today). Which days count as data:

- a manual key result: the days with a check-in (its last check-in of the day);
- a stock (`agg: last`) or `avg`/`min`/`max`: the days the metric has points;
- a flow (`sum`, `count`): every day since the period started, as the board reads a day
  without points as nothing happening (0) — but only days with points count towards the
  days a forecast needs;
- other aggs (`nps`, `csat`, percentiles) and derived metrics, whose value since the
  period start cannot be accumulated from daily buckets: the value at the end of each of
  the last `SAMPLED_DAYS` days, read like the board reads it.

The stored questions are daily buckets over the period (kept across refreshes by the
board's bucket cache), or at most `SAMPLED_DAYS` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from kpitui import timeutil
from kpitui.engine.forecast import DAY, Forecast, NoForecast, forecast_kr, last_per_day
from kpitui.engine.kpi import MetricSource
from kpitui.engine.okr import kr_metric_value
from kpitui.spec.models import KeyResult
from kpitui.store.api import Bucket, Checkin
from kpitui.timeutil import Period
from kpitui.vocabulary import FLOW_AGGS

SAMPLED_DAYS = 8
"""Day ends read for an agg that daily buckets cannot accumulate (a percentile)."""
_RUNNING = frozenset({"last", "avg", "min", "max"}) | FLOW_AGGS


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
    if kr.metric in source.derived or kr.agg not in _RUNNING:
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
    counted = {b.start for b in daily("count") if b.value}
    if kr.agg == "last":
        # A carried bucket (a plan written monthly) holds the day's total; only the days
        # something was written are news.
        values = [(b.start, b.value) for b in daily("last") if b.start in counted]
    elif kr.agg == "avg":
        sums = {b.start: b.value for b in daily("sum")}
        values, total, number = [], 0.0, 0.0
        for b in daily("count"):
            total += sums.get(b.start, 0.0)
            number += b.value
            if number:
                values.append((b.start, total / number))
    else:
        pick = min if kr.agg == "min" else max
        values, best = [], None
        for b in daily(kr.agg):
            best = b.value if best is None else pick(best, b.value)
            values.append((b.start, best))
    samples = [(min(start + DAY - 1, at), value) for start, value in values]
    return samples, len(samples)


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
    if kind == "milestone" or not period.start_ts <= as_of < period.end_ts:
        samples, days = [], 0  # no store question for what is not forecast
    else:
        samples, days = kr_samples(kr, source, period, as_of, checkins)
    return forecast_kr(
        kind, start, kr.target, current, samples, days, as_of, period.start_ts, period.end_ts
    )
