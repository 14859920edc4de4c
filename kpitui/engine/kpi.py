"""One KPI at one moment: its value, comparison, state and trend (SPEC §3 KPIs).

The store answers one number per question (`aggregate`, `last`, `buckets`); derived
metrics aggregate each operand with the KPI's agg first and combine the results, so a
conversion rate is a ratio of sums, never a mean of ratios.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import tzinfo
from typing import Protocol

from msgspec import Struct

from kpitui import timeutil
from kpitui.engine.board import KpiView, State
from kpitui.engine.format import format_delta, format_value
from kpitui.errors import KpituiError
from kpitui.spec.formula import TooLarge
from kpitui.spec.models import DerivedMetric, Kpi, percent_of
from kpitui.store.api import StoreReader
from kpitui.timeutil import TimeRange
from kpitui.vocabulary import FLOW_AGGS

DAY = 86400
# A sparkline or chart never asks for more points than a wide screen can show.
MAX_BUCKETS = 1000

# What a failing store query may raise: the KPI shows `error` with the reason instead.
STORE_FAILURES: tuple[type[BaseException], ...] = (KpituiError, OSError)


class Formula(Protocol):
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, float | None]) -> float | None: ...


class FormulaProblem(ValueError):
    """A derived metric that cannot be computed (bad syntax, a cycle)."""


# Everything that turns one KPI, chart or key result into `error` instead of raising.
EVALUATION_FAILURES: tuple[type[BaseException], ...] = (*STORE_FAILURES, FormulaProblem, TooLarge)


def finite(value: float | None, metric: str, agg: str) -> float | None:
    """`value`, unless a sum (or an average of one) overflowed: that is no number to
    show or judge against a target, but an error with its reason."""
    if value is not None and not math.isfinite(value):
        raise TooLarge(f"the {agg} of {metric} is too large for a number (beyond ±1.8e308)")
    return value


class Reading(Struct, frozen=True):
    value: float | None
    newest: int | None  # time of the newest point used; for derived, the stalest operand's


def capped_bucket(rng: TimeRange, bucket: int) -> int:
    """The bucket, widened when the range would hold more than MAX_BUCKETS of them."""
    needed = -(-rng.seconds // MAX_BUCKETS)
    return max(bucket, needed)


class MetricSource:
    """Reads stored and derived metrics through a StoreReader."""

    def __init__(
        self,
        reader: StoreReader,
        derived: Mapping[str, DerivedMetric],
        formulas: Mapping[str, Formula | Exception],
    ) -> None:
        self.reader = reader
        self.derived = derived
        self.formulas = formulas
        # A source lives for one refresh (or one detail): a KPI and a key result on the
        # same metric, or a metric in two formulas, ask the store once.
        self._reads: dict[tuple[object, ...], Reading] = {}

    def formula(self, name: str) -> Formula | None:
        if name not in self.derived:
            return None
        parsed = self.formulas.get(name)
        if isinstance(parsed, Exception) or parsed is None:
            raise FormulaProblem(f"the formula of {name!r} cannot be used: {parsed}")
        return parsed

    def read(
        self,
        metric: str,
        labels: Mapping[str, str],
        agg: str,
        rng: TimeRange | None,
        at: int,
        *,
        want_time: bool = True,
        _seen: frozenset[str] = frozenset(),
    ) -> Reading:
        """The metric's value: over `rng` with `agg`, or (rng None) its latest at `at`."""
        formula = self.formula(metric)
        if formula is not None:
            if metric in _seen:
                raise FormulaProblem(f"derived metric {metric!r} refers to itself")
            seen = _seen | {metric}
            readings = {
                name: self.read(name, labels, agg, rng, at, want_time=want_time, _seen=seen)
                for name in sorted(formula.names)
            }
            values = {n: r.value for n, r in readings.items()}
            if any(v is not None for v in values.values()):
                # Trials over signups in a week with signups and no trials is 0%, as in a
                # bucket of the sparkline: an operand with nothing in the range is its empty.
                values = {
                    n: self.empty_value(n, agg) if v is None else v for n, v in values.items()
                }
            value = formula.evaluate(values)
            times = [r.newest for r in readings.values()]
            # A ratio is only as fresh as its stalest operand: old values never pass for fresh.
            newest = None if not times or None in times else min(times)
            return Reading(value, newest)
        # The latest point comes with its time; a range's newest time is asked only when
        # wanted, and once: a KPI wants it, a key result over the same range does not.
        span = None if rng is None else (rng.lo, rng.hi)
        key = (metric, tuple(sorted(labels.items())), agg if rng else "last", span, at)
        found = self._reads.get(key)
        if found is None:
            if rng is None:
                point = self.reader.last(metric, labels, at)
                found = (
                    Reading(None, None)
                    if point is None
                    else Reading(finite(point.value, metric, "last"), point.ts)
                )
            else:
                value = self.reader.aggregate(metric, labels, agg, rng.lo, rng.hi)
                found = Reading(finite(value, metric, agg), None)
            self._reads[key] = found
        if want_time and rng is not None and found.value is not None and found.newest is None:
            newest = self.reader.last_ts_in(metric, labels, rng.lo, rng.hi)
            found = self._reads[key] = Reading(found.value, newest)
        return found

    def empty_value(self, metric: str, agg: str) -> float | None:
        """What `agg` of `metric` is over a range or bucket without points: 0 of a flow,
        no value (None) otherwise; for a derived metric its formula over such operands
        (a sum of flows 0, a ratio of them None)."""
        if agg not in FLOW_AGGS:
            return None
        formula = self.formula(metric)
        if formula is None:
            return 0.0
        # A derived operand has its own empty value (the spec refuses cycles).
        return formula.evaluate({name: self.empty_value(name, agg) for name in formula.names})

    def buckets(
        self,
        metric: str,
        labels: Mapping[str, str],
        agg: str,
        rng: TimeRange,
        bucket: int,
    ) -> list[tuple[int, float]]:
        """(bucket start, value) oldest first; derived metrics combine operands per bucket."""
        return self._grouped(metric, labels, agg, rng, bucket, None).get("", [])

    def buckets_by_label(
        self,
        metric: str,
        labels: Mapping[str, str],
        agg: str,
        rng: TimeRange,
        bucket: int,
        by: str,
    ) -> dict[str, list[tuple[int, float]]]:
        """Like `buckets`, one row per value of label `by` (series without it: "")."""
        return self._grouped(metric, labels, agg, rng, bucket, by)

    def _grouped(
        self,
        metric: str,
        labels: Mapping[str, str],
        agg: str,
        rng: TimeRange,
        bucket: int,
        by: str | None,
        _seen: frozenset[str] = frozenset(),
    ) -> dict[str, list[tuple[int, float]]]:
        """{group: buckets}; one group "" when not split."""
        formula = self.formula(metric)
        if formula is None:
            if by is None:
                found = {"": self.reader.buckets(metric, labels, agg, rng.lo, rng.hi, bucket)}
            else:
                found = self.reader.buckets_by_label(
                    metric, labels, agg, rng.lo, rng.hi, bucket, by
                )
            return {
                k: [(b.start, finite(b.value, metric, agg)) for b in v] for k, v in found.items()
            }
        if metric in _seen:
            raise FormulaProblem(f"derived metric {metric!r} refers to itself")
        per_operand = {
            name: self._grouped(name, labels, agg, rng, bucket, by, _seen | {metric})
            for name in sorted(formula.names)
        }
        keys = sorted({k for split in per_operand.values() for k in split})
        # Trials over signups per 6h: a bucket with signups and no trials is 0%, not left
        # out (which made the buckets' average a mean of the non-zero ratios).
        empties = {name: self.empty_value(name, agg) for name in formula.names}
        result = {}
        for key in keys:
            operands = {n: dict(s.get(key, [])) for n, s in per_operand.items()}
            points = _combine(formula, operands, empties)
            if points:
                result[key] = points
        return result


def _combine(
    formula: Formula,
    operands: Mapping[str, Mapping[int, float]],
    empties: Mapping[str, float | None],
) -> list[tuple[int, float]]:
    """The formula per bucket start that any operand has; an operand without that bucket
    counts as its empty value."""
    starts = sorted({s for points in operands.values() for s in points})
    combined = []
    for start in starts:
        value = formula.evaluate({n: p.get(start, empties[n]) for n, p in operands.items()})
        if value is not None:
            combined.append((start, value))
    return combined


# -- presentation settings ------------------------------------------------------------


class Presentation(Struct, frozen=True):
    format: str
    currency: str | None
    decimals: int | None
    description: str | None


def presentation(kpi: Kpi, derived: Mapping[str, DerivedMetric]) -> Presentation:
    """The KPI's format, else its derived metric's, else `number`."""
    metric = derived.get(kpi.metric)
    fmt = kpi.format or (metric.format if metric is not None else None) or "number"
    currency = kpi.currency if kpi.currency is not None else (metric.currency if metric else None)
    decimals = kpi.decimals if kpi.decimals is not None else (metric.decimals if metric else None)
    description = kpi.description or (metric.description if metric else None)
    return Presentation(fmt, currency, decimals, description)


# -- states ---------------------------------------------------------------------------


def threshold_band(
    value: float | None,
    direction: str,
    target: float | None,
    warn: float | None,
    crit: float | None,
) -> State:
    """The band of a value: on a threshold is the worse side (SPEC §3)."""
    if value is None:
        return "no_data"
    if warn is not None or crit is not None:
        if direction == "down":
            if crit is not None and value >= crit:
                return "crit"
            if warn is not None and value >= warn:
                return "warn"
            return "ok"
        if crit is not None and value <= crit:
            return "crit"
        if warn is not None and value <= warn:
            return "warn"
        return "ok"
    if target is not None:
        met = value <= target if direction == "down" else value >= target
        return "ok" if met else "warn"
    return "neutral"


def change(value: float | None, previous: float | None) -> tuple[float | None, float | None]:
    """(delta, delta as a share of |previous|); None where it cannot be told."""
    delta = None if value is None or previous is None else value - previous
    return delta, None if delta is None or previous == 0 else delta / abs(previous)


def delta_good(delta: float | None, direction: str) -> bool | None:
    if delta is None or delta == 0:
        return None
    return delta < 0 if direction == "down" else delta > 0


# -- evaluation -----------------------------------------------------------------------


def current_range(kpi: Kpi, as_of: int, tz: tzinfo) -> TimeRange | None:
    window = kpi.effective_window
    return None if window is None else window.range(as_of, tz)


def previous_range(kpi: Kpi, as_of: int, tz: tzinfo) -> tuple[TimeRange | None, int] | None:
    """Where the comparison value lives: (range or None for "latest at", moment).

    None when the KPI does not compare.
    """
    compare = kpi.compare
    if compare.none:
        return None
    window = kpi.effective_window
    if compare.offset is None:
        if window is None:
            return None, as_of - DAY
        return window.previous_range(as_of, tz), as_of
    offset = compare.offset.seconds
    if window is None:
        return None, as_of - offset
    return timeutil.offset_range(window.range(as_of, tz), offset), as_of - offset


class BucketRow(Struct, frozen=True):
    """A metric bucketed over a range: a value per bucket, every bucket in its place."""

    starts: tuple[int, ...]
    values: tuple[float | None, ...]
    bucket: int

    @property
    def points(self) -> tuple[tuple[int, float | None], ...]:
        return tuple(zip(self.starts, self.values, strict=True))


def bucket_grid(rng: TimeRange, bucket: int, tz: tzinfo, *, widen: bool = False) -> TimeRange:
    """`rng` on the local bucket grid (see `timeutil.bucket_aligned`)."""
    return timeutil.bucket_aligned(rng, bucket, tz, widen=widen)


def place_buckets(
    found: Mapping[int, float],
    rng: TimeRange,
    bucket: int,
    empty: float | None,
    newest: int | None = None,
) -> BucketRow:
    """Every bucket of `rng` in its place, so old data never looks current: a bucket with
    no points is `empty` (0 for a flow, None — a gap — otherwise), and a `last` line
    (carried from point to point) stops at the bucket of its `newest` point. Nothing
    found at all is no line: every bucket None. The one rule of sparklines and charts."""
    starts = tuple(range(rng.lo, rng.hi + 1, bucket))
    if not found:
        return BucketRow(starts, (None,) * len(starts), bucket)
    end = rng.hi if newest is None else min(rng.hi, newest)
    values = tuple(found.get(start, empty) if start <= end else None for start in starts)
    return BucketRow(starts, values, bucket)


def metric_row(
    source: MetricSource,
    metric: str,
    labels: Mapping[str, str],
    agg: str,
    rng: TimeRange,
    bucket: int,
    at: int,
    found: Mapping[int, float] | None = None,
) -> BucketRow:
    """`metric` bucketed over `rng` (already on the bucket grid) by `place_buckets`;
    `found`: its buckets when already read (a split chart reads them all at once)."""
    if found is None:
        found = dict(source.buckets(metric, labels, agg, rng, bucket))
    newest = None
    if agg == "last" and found:
        newest = source.read(metric, labels, "last", None, at).newest
    return place_buckets(found, rng, bucket, source.empty_value(metric, agg), newest)


def spark_row(kpi: Kpi, source: MetricSource, as_of: int, tz: tzinfo) -> BucketRow:
    """The trend under the number: the KPI's agg per bucket of its spark window."""
    spark = kpi.effective_spark
    rng = spark.window.range(as_of, tz)
    size = capped_bucket(rng, spark.bucket.seconds)
    rng = bucket_grid(rng, size, tz)
    return metric_row(source, kpi.metric, kpi.labels, kpi.agg, rng, size, as_of)


def spark_values(
    kpi: Kpi, source: MetricSource, as_of: int, tz: tzinfo
) -> tuple[float | None, ...]:
    """The trend's values, oldest first; no data at all is no trend: ()."""
    row = spark_row(kpi, source, as_of, tz)
    return row.values if any(v is not None for v in row.values) else ()


def evaluate_kpi(
    kpi: Kpi, source: MetricSource, as_of: int, tz: tzinfo, zone: str = "UTC"
) -> KpiView:
    """The KpiView of `kpi` at `as_of`; a failing store query gives state `error`."""
    shown = presentation(kpi, source.derived)
    target = kpi.target
    warn = percent_of(kpi.warn, target)
    crit = percent_of(kpi.crit, target)

    def fmt(value: float | None) -> str:
        return format_value(value, shown.format, currency=shown.currency, decimals=shown.decimals)

    base = {
        "id": kpi.id,
        "title": kpi.title or kpi.id,
        "metric": kpi.metric,
        "agg": kpi.agg,
        "window": None if kpi.effective_window is None else kpi.effective_window.label,
        "direction": kpi.direction,
        "format": shown.format,
        "currency": shown.currency,
        "decimals": shown.decimals,
        "target": target,
        "target_display": None if target is None else fmt(target),
        "warn": warn,
        "crit": crit,
        "indicator": kpi.indicator,
        "north_star": kpi.north_star,
        "description": shown.description,
        "formula": source.derived[kpi.metric].formula if kpi.metric in source.derived else None,
        "labels": tuple(sorted(kpi.labels.items())),
        "zone": zone,
    }
    try:
        current = source.read(kpi.metric, kpi.labels, kpi.agg, current_range(kpi, as_of, tz), as_of)
        previous = None
        where = previous_range(kpi, as_of, tz)
        if where is not None:
            rng, at = where
            previous = source.read(kpi.metric, kpi.labels, kpi.agg, rng, at, want_time=False).value
        spark = spark_row(kpi, source, as_of, tz)
    except EVALUATION_FAILURES as exc:
        reason = str(exc) or exc.__class__.__name__
        return KpiView(
            **base, value=None, display=fmt(None), state="error", band="no_data", error=reason
        )

    value = current.value
    delta, delta_pct = change(value, previous)
    band = threshold_band(value, kpi.direction, target, warn, crit)
    state: State = band
    age = None if current.newest is None else as_of - current.newest
    stale_after = None if kpi.stale_after is None else kpi.stale_after.seconds
    if value is not None and stale_after is not None and age is not None and age > stale_after:
        state = "stale"
    return KpiView(
        **base,
        value=value,
        display=fmt(value),
        state=state,
        band=band,
        previous=previous,
        delta=delta,
        delta_pct=delta_pct,
        delta_display=format_delta(
            value, previous, shown.format, currency=shown.currency, decimals=shown.decimals
        ),
        delta_good=delta_good(delta, kpi.direction),
        last_at=current.newest,
        age_display=None if age is None else timeutil.format_age(age),
        spark=spark.values if any(v is not None for v in spark.values) else (),
        spark_starts=spark.starts,
        spark_bucket=timeutil.span_label(spark.bucket),
    )
