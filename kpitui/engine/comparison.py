"""The comparison window of a chart: the same series over an earlier span, moved forward
onto the current one so both lines share the time axis ("this week against last week").

Which span: the chart's own `compare:` when it has one, else the `compare:` of the KPI its
detail opens, else `previous_period`. An offset (`7d`, `365d`) is that much earlier;
`previous_period` is the span of equal length just before the chart's range (for a
calendar range such as `qtd`, from the start of the previous quarter); `none` draws none.
"""

from __future__ import annotations

from datetime import tzinfo

from msgspec import Struct

from kpitui import timeutil
from kpitui.engine.board import ChartSeries
from kpitui.engine.kpi import BucketRow, MetricSource, place_buckets
from kpitui.timeutil import TimeRange, Window, span_label

DAY = 86400

# Offsets people name in words; any other reads "30d earlier".
_NAMED = {DAY: "yesterday", 7 * DAY: "last week", 364 * DAY: "last year", 365 * DAY: "last year"}


class Comparison(Struct, frozen=True):
    """Where a chart's comparison line comes from."""

    offset: int  # seconds the compared span lies before the current one
    label: str  # the legend's name for it: "last week", "previous 90d"


def comparison_label(offset: int, written: str | None = None) -> str:
    """`7d` → "last week"; others as written (or as `span_label` writes them) + "earlier"."""
    return _NAMED.get(offset) or f"{written or span_label(offset)} earlier"


def chart_comparison(
    compare: object | None,
    window: Window | None,
    rng: TimeRange,
    as_of: int,
    tz: tzinfo,
) -> Comparison | None:
    """The comparison of a chart over `rng` (read through `window` when it has one;
    None for a range that is not a window, such as the detail's "all"). `compare` is a
    `Compare` (spec), or None for `previous_period`. None: no comparison."""
    text = getattr(compare, "text", "previous_period")
    if text == "none":
        return None
    offset = getattr(compare, "offset", None)
    if offset is not None:
        return Comparison(offset.seconds, comparison_label(offset.seconds, offset.label))
    if window is not None and window.calendar is not None:
        previous = window.previous_range(as_of, tz)
        current = window.range(as_of, tz)
        return Comparison(current.lo - previous.lo, f"last {window.calendar_unit}")
    if window is None or not window.seconds:
        return None
    return Comparison(window.seconds, f"previous {window.label}")


def compared_series(
    source: MetricSource,
    metric: str,
    labels: dict[str, str],
    agg: str,
    rng: TimeRange,
    bucket: int,
    comparison: Comparison,
    split_by: str | None = None,
) -> list[tuple[str, tuple[tuple[int, float | None], ...]]]:
    """(group, points) of `metric` over `rng` moved back by the comparison's offset, each
    bucket's start moved forward again onto the current range; group "" unless split.
    Buckets are read on the same grid shifted, so bucket k of both lines is the same
    span of its own window, and placed as the chart's own are (`kpi.place_buckets`: an
    empty flow bucket 0, any other a gap; a `last` line is not cut at its newest point,
    which the current span's data lies after). A line with nothing in the earlier span
    is left out."""
    earlier = timeutil.offset_range(rng, comparison.offset)
    empty = source.empty_value(metric, agg)
    rows: list[tuple[str, BucketRow]] = []
    if split_by:
        split = source.buckets_by_label(metric, labels, agg, earlier, bucket, split_by)
        for group, found in sorted(split.items()):
            rows.append((group, place_buckets(dict(found), earlier, bucket, empty)))
    else:
        found = source.buckets(metric, labels, agg, earlier, bucket)
        rows.append(("", place_buckets(dict(found), earlier, bucket, empty)))
    return [
        (group, tuple((start + comparison.offset, value) for start, value in row.points))
        for group, row in rows
        if any(value is not None for value in row.values)
    ]


def comparison_series(
    name: str, points: tuple[tuple[int, float | None], ...], comparison: Comparison
) -> ChartSeries:
    """The compared line as a chart series: its name says which span it is."""
    return ChartSeries(f"{name} · {comparison.label}", points, compares=name)
