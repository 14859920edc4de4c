"""How often a metric gets a point: the usual spacing of its series.

A bucket or a window finer than that is mostly empty — weekly points in daily buckets
draw a value one day in seven (a gap, or 0 for a flow, the other six) — so the KPI
detail never picks an automatic bucket finer than it, and `check` warns about a KPI or
chart that asks for one.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping

from kpitui.store.api import SeriesStats

# Points a few percent early or late (a cron job's drift) still count as "daily".
TOLERANCE = 0.9


def usual_spacing(
    stats: Iterable[SeriesStats], metrics: Iterable[str], labels: Mapping[str, str]
) -> int | None:
    """The median over the matching series of `metrics` of the mean gap between their
    points, in seconds; the widest of the metrics' (a ratio is as coarse as its coarsest
    operand); None when no series holds two points."""
    want = set(labels.items())
    names = set(metrics)
    gaps: dict[str, list[float]] = {}
    for s in stats:
        if s.series.metric not in names or s.count < 2 or s.last_ts <= s.first_ts:
            continue
        if not want <= set(s.series.labels.items()):
            continue
        gaps.setdefault(s.series.metric, []).append((s.last_ts - s.first_ts) / (s.count - 1))
    if not gaps:
        return None
    return round(max(statistics.median(found) for found in gaps.values()))


def finer_than_spacing(seconds: int, spacing: int | None) -> bool:
    """Whether buckets of `seconds` are finer than points `spacing` apart."""
    return spacing is not None and seconds < spacing * TOLERANCE


def coarsest_needed(ladder: Iterable[int], spacing: int | None) -> int | None:
    """The finest step of `ladder` that is not finer than `spacing` (None: any will do;
    the ladder's last when all are finer)."""
    if spacing is None:
        return None
    steps = sorted(ladder)
    return next((step for step in steps if not finer_than_spacing(step, spacing)), steps[-1])
