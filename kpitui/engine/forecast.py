"""Where a key result is heading: its value at the period's end if its recent pace holds.

The method (docs/spec.md, "Forecasts"):

- The inputs are the key result's own values in the period, at most one per local day
  (the last of the day): the metric's value as the board reads it at the end of each day
  with data, or the check-ins of a manual key result. A forecast needs values on at least
  `MIN_DAYS` distinct days; fewer say "not enough data".
- The pace is the slope of a weighted least-squares line through those values against
  time, each value weighted by its age: `0.5 ** (age_days / HALF_LIFE_DAYS)`. A week-old
  value counts half as much as today's, a month-old one a twentieth: the pace follows the
  last few weeks (a stall shows within a week: +10/day that stopped a week ago reads
  +7.6/day, two weeks ago +4.8/day), while one noisy day moves it little, as all the
  period's values still carry the line.
- The projection starts at the current value (the number on the board) and goes on at
  that pace to the period's end: `value = current + pace * days_left`. Starting from the
  current value rather than the fitted line keeps the forecast and the pace the user
  reads ("doing +41/day") one sum apart.
- Its progress and status follow the board's rules at the period's end: `achieved` when
  the projected value meets the target (for `maintain_above`/`maintain_below`: stays
  on its side of it), else `missed`. The pace needed is what an increase or decrease
  still has to do per day to reach its target by the end.
- Milestones are not forecast (done or not is no line); nor is a period not yet begun or
  already over.

An objective's forecast rolls its children's up as its progress does: the weighted mean
of their projected progress, a child without a forecast counting its current progress
(it is taken to stay where it is); its status is its worst child's projected status.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Literal

from msgspec import Struct

from kpitui.engine.board import STATUS_RANK
from kpitui.engine.okr import kr_progress, kr_share, weighted_progress

DAY = 86400
MIN_DAYS = 3
"""Distinct days of data a forecast needs: two points make a line, not a trend."""
HALF_LIFE_DAYS = 7.0
"""Age at which a value counts half as much as today's in the fitted pace."""

ForecastStatus = Literal["achieved", "missed"]


class Forecast(Struct, frozen=True):
    """A key result's projection to the period's end. Paces are per day, in the key
    result's own unit (a `percent` KR's pace is a fraction per day)."""

    value: float
    progress_raw: float | None
    progress: float | None  # clamped 0..1, as the objective counts it
    status: ForecastStatus
    pace_now: float
    pace_needed: float | None  # increase/decrease only; 0 once the target is met
    days: int  # distinct days the pace was fitted on
    target_at: int | None = None
    """When the projection reaches the target (increase/decrease) or crosses it
    (maintain), if that is after as-of and before the period's end."""


class NoForecast(Struct, frozen=True):
    """Why a key result has no forecast, in words a face shows as they are."""

    reason: str


class ObjectiveForecast(Struct, frozen=True):
    progress: float  # clamped 0..1
    status: ForecastStatus


# -- the maths ------------------------------------------------------------------------


def last_per_day(points: Sequence[tuple[int, float]], tz: tzinfo) -> list[tuple[int, float]]:
    """The last (time, value) of each local day, oldest first (`points` oldest first)."""
    days: dict[object, tuple[int, float]] = {}
    for ts, value in points:
        days[datetime.fromtimestamp(ts, tz).date()] = (ts, value)
    return sorted(days.values())


def recency_weight(ts: int, now: int, half_life_days: float = HALF_LIFE_DAYS) -> float:
    return 0.5 ** (max(0, now - ts) / DAY / half_life_days)


def weighted_pace(
    samples: Sequence[tuple[int, float]], now: int, half_life_days: float = HALF_LIFE_DAYS
) -> float | None:
    """The slope, per day, of the weighted least-squares line through `samples`
    (time, value); None when they do not span two moments."""
    if len(samples) < 2:
        return None
    xs = [(ts - now) / DAY for ts, _ in samples]
    ys = [value for _, value in samples]
    ws = [recency_weight(ts, now, half_life_days) for ts, _ in samples]
    total = sum(ws)
    mean_x = sum(w * x for w, x in zip(ws, xs, strict=True)) / total
    mean_y = sum(w * y for w, y in zip(ws, ys, strict=True)) / total
    spread = sum(w * (x - mean_x) ** 2 for w, x in zip(ws, xs, strict=True))
    if spread <= 0:
        return None
    covariance = sum(w * (x - mean_x) * (y - mean_y) for w, x, y in zip(ws, xs, ys, strict=True))
    return covariance / spread


def meets(kind: str, value: float, target: float) -> bool:
    """Whether `value` is at or on the good side of `target` for `kind` (inclusive)."""
    if kind in ("increase", "maintain_above"):
        return value >= target
    return value <= target


def forecast_kr(
    kind: str,
    start: float | None,
    target: float | None,
    current: float | None,
    samples: Sequence[tuple[int, float]],
    days: int,
    as_of: int,
    period_start: int,
    period_end: int,
) -> Forecast | NoForecast:
    """Project a key result whose value moves like a line (a stock, a running sum) to
    `period_end` (the first second after the period): its current value plus its pace.

    `samples` are its values (time, value), oldest first, at most one per local day
    (see `last_per_day`); `days` is how many distinct days had data (for a flow, whose
    every day is a value, the days that had points). `current` is its value at as-of."""
    refused = _refused(kind, target, current, days, as_of, period_start, period_end)
    if refused is not None:
        return refused
    pace = weighted_pace(samples, as_of)
    if pace is None or not math.isfinite(pace):
        return NoForecast(f"not enough data (a forecast needs {MIN_DAYS} days)")
    assert current is not None and target is not None
    days_left = (period_end - as_of) / DAY
    return _projected(
        kind, start, target, current, current + pace * days_left, days, as_of, period_end
    )


def forecast_average(
    kind: str,
    start: float | None,
    target: float | None,
    current: float | None,
    daily: Sequence[tuple[int, float]],
    as_of: int,
    period_start: int,
    period_end: int,
) -> Forecast | NoForecast:
    """Project a key result that averages over the period so far (`avg`, `nps`, `csat`,
    a percentile, a ratio of sums): the days left are taken to read like its recent days,
    so its end value is the mean of what the period already holds and of that level, by
    time: `(elapsed * current + left * level) / period`, where the level is the
    recency-weighted mean of `daily` (each day's own value, oldest first)."""
    refused = _refused(kind, target, current, len(daily), as_of, period_start, period_end)
    if refused is not None:
        return refused
    assert current is not None and target is not None
    weights = [recency_weight(ts, as_of) for ts, _ in daily]
    level = sum(w * v for w, (_, v) in zip(weights, daily, strict=True)) / sum(weights)
    elapsed, left = as_of - period_start, period_end - as_of
    value = (elapsed * current + left * level) / (elapsed + left)
    return _projected(kind, start, target, current, value, len(daily), as_of, period_end)


def _refused(
    kind: str,
    target: float | None,
    current: float | None,
    days: int,
    as_of: int,
    period_start: int,
    period_end: int,
) -> NoForecast | None:
    """Why there is no forecast, or None when there is one to make."""
    if kind == "milestone":
        return NoForecast("milestones are not forecast")
    if as_of < period_start:
        return NoForecast("the period has not started")
    if as_of >= period_end:
        return NoForecast("the period is over")
    if target is None:
        return NoForecast("no target to forecast against")
    if current is None or days < MIN_DAYS:
        have = f"{days} day" + ("" if days == 1 else "s")
        return NoForecast(f"not enough data ({have}; a forecast needs {MIN_DAYS})")
    return None


def _projected(
    kind: str,
    start: float | None,
    target: float,
    current: float,
    value: float,
    days: int,
    as_of: int,
    period_end: int,
) -> Forecast:
    """The forecast of a key result now at `current` and projected to `value`."""
    days_left = (period_end - as_of) / DAY
    pace = (value - current) / days_left
    raw, progress = kr_progress(kind, start, target, value, None)
    needed = None
    if kind in ("increase", "decrease"):
        needed = (target - current) / days_left
        if meets(kind, current, target):
            needed = 0.0  # met already: holding is enough
    return Forecast(
        value=value,
        progress_raw=raw,
        progress=progress,
        status="achieved" if meets(kind, value, target) else "missed",
        pace_now=pace,
        pace_needed=needed,
        days=days,
        target_at=_crossing(current, pace, target, as_of, period_end),
    )


def _crossing(current: float, pace: float, target: float, as_of: int, end: int) -> int | None:
    """When `current + pace * t` meets `target`, if strictly after as-of and before `end`."""
    if pace == 0 or current == target:
        return None
    at = as_of + (target - current) / pace * DAY
    if as_of < at < end:
        return round(at)
    return None


def rollup_forecast(
    parts: Sequence[tuple[Forecast | ObjectiveForecast | None, float | None, float]],
) -> ObjectiveForecast | None:
    """An objective's forecast from its children's: (forecast or None, current progress,
    weight) each. A child without a forecast (a milestone, one with too little data) is
    taken to stay where it is: its current progress, `achieved` only if that is 1 already.
    None when no child has a forecast."""
    if not any(f is not None for f, _, _ in parts):
        return None
    shares: list[tuple[float | None, float]] = []
    statuses: list[str] = []
    for forecast, current, weight in parts:
        if forecast is not None:
            shares.append((kr_share(forecast.progress), weight))
            statuses.append(forecast.status)
        elif current is not None:
            shares.append((current, weight))
            statuses.append("achieved" if current >= 1 else "missed")
    progress = weighted_progress(shares)
    status = max(statuses, key=lambda s: STATUS_RANK[s])
    return ObjectiveForecast(progress=0.0 if progress is None else progress, status=status)  # type: ignore[arg-type]
