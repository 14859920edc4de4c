"""The chart drill-down over a range the user picks (`1` 7d … `4` 1y, `0` all, `[`/`]`
the bucket): the board's chart evaluated again over that span, by the board's rules."""

from __future__ import annotations

from kpitui.engine.board import ChartView
from kpitui.engine.charts import evaluate_chart
from kpitui.engine.detail_kpi import DetailNotFound, first_point_ts, usable_bucket
from kpitui.engine.evaluate import prepare, read_snapshot
from kpitui.engine.kpi import MetricSource, evaluate_kpi
from kpitui.engine.ranges import RANGE_SECONDS, auto_bucket, range_window
from kpitui.engine.spacing import usual_spacing
from kpitui.spec.formula import stored_operands
from kpitui.spec.models import Dashboard
from kpitui.store.api import StoreReader
from kpitui.timeutil import Window

DAY = 86400
EMPTY_ALL_DAYS = 30
"""The span of `all` for a chart without any point yet."""


def chart_detail(
    spec: Dashboard,
    reader: StoreReader,
    chart_id: str,
    as_of: int,
    range_key: str,
    bucket: int | None = None,
) -> ChartView:
    """Chart `chart_id` over `range_key` (7d, 30d, 90d, 1y, all, or `own`: its spec's
    window) in `bucket`-second buckets (None: the range's own). Raises DetailNotFound for
    an unknown chart."""
    chart = next((c for c in spec.charts if c.id == chart_id), None)
    if chart is None:
        raise DetailNotFound(f"there is no chart {chart_id!r} in the spec")
    with read_snapshot(reader) as snapshot:
        prepared = prepare(spec)
        zone = spec.timezone or "local"
        source = MetricSource(snapshot, spec.metrics, prepared.formulas)
        stored = stored_operands(chart.metrics, source.formula)
        series_stats = snapshot.stats()
        if range_key == "own":
            window = chart.window  # its spec's window, in another bucket
        elif range_key == "all":
            first = first_point_ts(series_stats, stored, chart.labels)
            days = EMPTY_ALL_DAYS if first is None else max(1, -(-(as_of - first + 1) // DAY))
            window = Window.rolling(days * DAY)
        elif range_key in RANGE_SECONDS:
            window = range_window(range_key)
        else:
            raise DetailNotFound(f"unknown range {range_key!r}: use 7d, 30d, 90d, 1y or all")
        span = window.range(as_of, prepared.tz).seconds
        if bucket:
            size = usable_bucket(bucket, span)
        else:  # the one rule of every range: never finer than the metrics' points
            size = auto_bucket(span, usual_spacing(series_stats, stored, chart.labels))
        # The KPIs on the chart's metrics: its reference lines, format and `k`.
        on_chart = [k for k in spec.kpis if k.metric in chart.metrics]
        kpis = tuple(evaluate_kpi(k, source, as_of, prepared.tz, zone) for k in on_chart)
        return evaluate_chart(
            chart,
            source,
            kpis,
            spec.kpis,
            as_of,
            prepared.tz,
            zone,
            window=window,
            bucket=size,
            window_label=None if range_key == "own" else range_key,
        )
