"""Chart series at one moment: each metric bucketed in SQL, plus a KPI's reference lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from kpitui.engine.annotations import annotations_in
from kpitui.engine.board import ChartSeries, ChartView, KpiView, RefLine
from kpitui.engine.comparison import chart_comparison, compared_series, comparison_series
from kpitui.engine.kpi import (
    EVALUATION_FAILURES,
    MetricSource,
    bucket_grid,
    capped_bucket,
    metric_row,
)
from kpitui.spec.models import Chart, Kpi
from kpitui.timeutil import Window, span_label
from kpitui.vocabulary import FLOW_AGGS


def reference_kpi(
    chart: Chart, kpis: Sequence[KpiView], spec_kpis: Sequence[Kpi]
) -> KpiView | None:
    """The KPI whose target and thresholds are drawn as lines on `chart`.

    Only a KPI on the chart's single metric, with the same labels and a value on the
    chart's scale: the same agg, and for sums and counts a window as long as the bucket
    (a weekly target drawn over daily buckets would be 7 times too high). A chart split
    by a label draws none: the KPI's lines are for the total, not for each line.
    """
    if len(chart.metrics) != 1 or chart.split_by:
        return None
    labels = tuple(sorted(chart.labels.items()))
    bucket = chart.bucket.seconds
    windows = {k.id: k.effective_window for k in spec_kpis}
    for kpi in kpis:
        if kpi.metric != chart.metrics[0] or kpi.labels != labels or kpi.agg != chart.agg:
            continue
        if kpi.target is None and kpi.warn is None and kpi.crit is None:
            continue
        if kpi.agg in FLOW_AGGS and not same_span(windows.get(kpi.id), bucket):
            continue
        return kpi
    return None


def chart_kpi(chart: Chart, kpis: Sequence[KpiView]) -> KpiView | None:
    """A KPI on a one-metric chart's metric, for its detail to open: one with the chart's
    labels, else any (the KPI whose lines the chart draws comes first)."""
    if len(chart.metrics) != 1:
        return None
    on_metric = [kpi for kpi in kpis if kpi.metric == chart.metrics[0]]
    labels = tuple(sorted(chart.labels.items()))
    same_labels = [kpi for kpi in on_metric if kpi.labels == labels]
    return (same_labels or on_metric or [None])[0]


def same_span(window: Window | None, bucket: int) -> bool:
    """Whether a value over `window` is on the scale of one `bucket` (a rolling window
    exactly one bucket long)."""
    return window is not None and window.spans(bucket)


def ref_lines(kpi: KpiView | None) -> tuple[RefLine, ...]:
    if kpi is None:
        return ()
    lines = [RefLine("target", kpi.target)] if kpi.target is not None else []
    lines += [RefLine("warn", kpi.warn)] if kpi.warn is not None else []
    lines += [RefLine("crit", kpi.crit)] if kpi.crit is not None else []
    return tuple(lines)


def evaluate_chart(
    chart: Chart,
    source: MetricSource,
    kpis: Sequence[KpiView],
    spec_kpis: Sequence[Kpi],
    as_of: int,
    tz: tzinfo,
    zone: str = "UTC",
    *,
    window: Window | None = None,
    bucket: int | None = None,
    window_label: str | None = None,
) -> ChartView:
    """The chart at `as_of`: each line bucketed as a sparkline is (`kpi.place_buckets`),
    over its spec's window and bucket, or over `window` (the board's range, a detail's
    range key, shown as `window_label`) and `bucket`."""
    shown = window or chart.window
    rng = shown.range(as_of, tz)
    bucket = capped_bucket(rng, bucket or chart.bucket.seconds)
    rng = bucket_grid(rng, bucket, tz)
    reference = reference_kpi(chart, kpis, spec_kpis)
    fmt = _chart_format(chart, source, kpis)
    opens = reference or chart_kpi(chart, kpis)
    last_start = rng.lo + (rng.hi - rng.lo) // bucket * bucket
    comparison = chart_comparison(
        chart.compare or _kpi_compare(opens, spec_kpis), shown, rng, as_of, tz
    )
    base = {
        "id": chart.id,
        "title": chart.title or chart.id,
        "window": window_label or shown.label,
        "bucket": bucket,
        "bucket_label": span_label(bucket),
        "agg": chart.agg,
        "split_by": chart.split_by,
        "kpi_id": None if opens is None else opens.id,
        "ref_lines": ref_lines(reference),
        "y_min": chart.y_min,
        "y_max": chart.y_max,
        "format": fmt,
        "lo": rng.lo,
        "hi": last_start,
        "zone": zone,
    }
    try:
        series: list[ChartSeries] = []
        compared: list[ChartSeries] = []
        for metric in chart.metrics:
            if chart.split_by:
                split = source.buckets_by_label(
                    metric, chart.labels, chart.agg, rng, bucket, chart.split_by
                )
                for value, found in sorted(split.items()):
                    labels = {**chart.labels, chart.split_by: value} if value else chart.labels
                    row = metric_row(
                        source, metric, labels, chart.agg, rng, bucket, as_of, dict(found)
                    )
                    series.append(
                        ChartSeries(
                            _line_name(chart, metric, value),
                            row.points,
                            tuple(sorted(labels.items())),
                        )
                    )
            else:
                row = metric_row(source, metric, chart.labels, chart.agg, rng, bucket, as_of)
                labels_shown = tuple(sorted(chart.labels.items()))
                series.append(ChartSeries(metric, row.points, labels_shown))
            if comparison is not None:
                for group, earlier in compared_series(
                    source,
                    metric,
                    chart.labels,
                    chart.agg,
                    rng,
                    bucket,
                    comparison,
                    chart.split_by,
                ):
                    name = _line_name(chart, metric, group) if chart.split_by else metric
                    compared.append(comparison_series(name, earlier, comparison))
        marks = annotations_in(source.reader, rng.lo, rng.hi, chart.metrics, tz)
    except EVALUATION_FAILURES as exc:
        return ChartView(**base, series=(), error=str(exc) or exc.__class__.__name__)
    return ChartView(
        **base,
        series=tuple(series),
        comparison=tuple(compared),
        comparison_label=None if comparison is None else comparison.label,
        comparison_offset=None if comparison is None else comparison.offset,
        annotations=marks,
    )


def _line_name(chart: Chart, metric: str, value: str) -> str:
    """A split chart's line: the label value (with its metric when there are several)."""
    name = value or f"(no {chart.split_by})"
    return f"{metric} {name}" if len(chart.metrics) > 1 else name


def _kpi_compare(kpi: KpiView | None, spec_kpis: Sequence[Kpi]) -> object | None:
    """The `compare:` of the KPI a chart opens, which its comparison line follows."""
    if kpi is None:
        return None
    return next((k.compare for k in spec_kpis if k.id == kpi.id), None)


def _chart_format(chart: Chart, source: MetricSource, kpis: Sequence[KpiView]) -> str:
    """The format of the chart's values: a KPI's on its metric, else a derived metric's."""
    formats = set()
    for metric in chart.metrics:
        kpi = next((k for k in kpis if k.metric == metric and k.agg == chart.agg), None)
        derived = source.derived.get(metric)
        formats.add(
            kpi.format if kpi else (derived.format if derived and derived.format else "number")
        )
    return formats.pop() if len(formats) == 1 else "number"
