"""Chart series at one moment: each metric bucketed in SQL, plus a KPI's reference lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from kpitui import timeutil
from kpitui.engine.board import ChartSeries, ChartView, KpiView, RefLine
from kpitui.engine.kpi import EVALUATION_FAILURES, MetricSource, capped_bucket
from kpitui.spec.models import Chart


def reference_kpi(chart: Chart, kpis: Sequence[KpiView]) -> KpiView | None:
    """The KPI drawn as target/threshold lines: one on the chart's single metric.

    Prefer a KPI that has a target or thresholds, and one with the chart's own labels.
    """
    if len(chart.metrics) != 1:
        return None
    same = [k for k in kpis if k.metric == chart.metrics[0]]
    labels = tuple(sorted(chart.labels.items()))
    same.sort(key=lambda k: (k.target is None and k.warn is None and k.crit is None, k.labels != labels))
    return same[0] if same else None


def ref_lines(kpi: KpiView | None) -> tuple[RefLine, ...]:
    if kpi is None:
        return ()
    lines = [RefLine("target", kpi.target)] if kpi.target is not None else []
    lines += [RefLine("warn", kpi.warn)] if kpi.warn is not None else []
    lines += [RefLine("crit", kpi.crit)] if kpi.crit is not None else []
    return tuple(lines)


def evaluate_chart(
    chart: Chart, source: MetricSource, kpis: Sequence[KpiView], as_of: int, tz: tzinfo
) -> ChartView:
    rng = timeutil.window_range(chart.window, as_of, tz)
    bucket = capped_bucket(rng, timeutil.parse_duration(chart.bucket))
    reference = reference_kpi(chart, kpis)
    fmt = reference.format if reference is not None else _derived_format(chart, source)
    base = {
        "id": chart.id,
        "title": chart.title or chart.id,
        "window": chart.window,
        "bucket": bucket,
        "ref_lines": ref_lines(reference),
        "y_min": chart.y_min,
        "y_max": chart.y_max,
        "format": fmt,
    }
    try:
        series: list[ChartSeries] = []
        for metric in chart.metrics:
            if chart.split_by:
                split = source.buckets_by_label(
                    metric, chart.labels, chart.agg, rng, bucket, chart.split_by
                )
                for value, points in sorted(split.items()):
                    name = value or f"(no {chart.split_by})"
                    if len(chart.metrics) > 1:
                        name = f"{metric} {name}"
                    series.append(ChartSeries(name, tuple(points)))
            else:
                points = source.buckets(metric, chart.labels, chart.agg, rng, bucket)
                series.append(ChartSeries(metric, tuple(points)))
    except EVALUATION_FAILURES as exc:
        return ChartView(**base, series=(), error=str(exc) or exc.__class__.__name__)
    return ChartView(**base, series=tuple(series))


def _derived_format(chart: Chart, source: MetricSource) -> str:
    formats = {
        (source.derived[m].format if m in source.derived else None) or "number"
        for m in chart.metrics
    }
    return formats.pop() if len(formats) == 1 else "number"
