"""The numbers behind a KPI's drill-down screen (SPEC §4 "Drill-down on a KPI").

A full-size chart over a chosen range, the range's stats, the period comparison (the very
KpiView of the board, so the two never disagree), a breakdown per label and the key
results that use the metric. Every number comes from a bounded number of store queries
(bucketed in SQL), whatever the range: no Python loop over points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Literal

from msgspec import Struct
from msgspec.structs import replace

from kpitui import timeutil
from kpitui.engine.annotations import MarkList, annotations_in
from kpitui.engine.board import ChartSeries, ChartView, KpiView, KrStatus, _Progress
from kpitui.engine.charts import ref_lines, same_span
from kpitui.engine.comparison import (
    Comparison,
    chart_comparison,
    compared_series,
    comparison_series,
)
from kpitui.engine.evaluate import prepare, read_snapshot
from kpitui.engine.format import format_delta, format_share
from kpitui.engine.kpi import (
    EVALUATION_FAILURES,
    MetricSource,
    change,
    current_range,
    delta_good,
    evaluate_kpi,
    metric_row,
    place_buckets,
    previous_range,
)
from kpitui.engine.okr import OkrEvaluator, okr_period
from kpitui.engine.ranges import (  # noqa: F401 (re-exported: the detail's names)
    AUTO_MAX_POINTS,
    BUCKET_LADDER,
    BUCKET_NAMES,
    RANGE_SECONDS,
    auto_bucket,
)
from kpitui.engine.spacing import coarsest_needed, usual_spacing
from kpitui.spec.formula import stored_operands
from kpitui.spec.models import Dashboard, Kpi, Objective
from kpitui.store.api import OutOfScale, SeriesStats, StoreReader
from kpitui.timeutil import TimeRange, span_label
from kpitui.vocabulary import ADDITIVE_AGGS, FLOW_AGGS

HOUR = 3600
DAY = 86400

RangeKey = Literal["7d", "30d", "90d", "1y", "all"]
RANGE_KEYS: tuple[RangeKey, ...] = ("7d", "30d", "90d", "1y", "all")
RANGE_WORDS: dict[str, str] = {
    "7d": "the last 7 days",
    "30d": "the last 30 days",
    "90d": "the last 90 days",
    "1y": "the last year",
    "all": "everything stored",
}
# `all` with no point to start from shows the last 30 days.
EMPTY_ALL_SECONDS = 30 * DAY

# An automatic bucket (`ranges.auto_bucket`) keeps the chart readable; a chosen one may
# be finer, up to a cap that still plots quickly.
MAX_POINTS = 1000
# A breakdown sparkline is a dozen or two cells wide.
SPARK_POINTS = 32


class DetailNotFound(LookupError):
    """The KPI or OKR node is not in the spec (any more: the spec was edited)."""


class RangeStats(Struct, frozen=True):
    """Stats of what the chart shows: min / max / avg / last of its buckets (each the
    KPI's agg over one bucket), so `last` always lies in [min, max]. `total` is the
    KPI's flow over the whole range (sum, count; None for other aggs), `points` the
    stored points in it (None for a derived metric)."""

    last: float | None
    min: float | None
    max: float | None
    avg: float | None
    total: float | None
    points: int | None
    buckets: int  # buckets with a value


class LabelRow(Struct, frozen=True):
    """One value of a label key: its share of the KPI over the KPI's window."""

    key: str
    value: str  # "" for series without this label
    current: float | None
    share: float | None  # of the total of the rows; None when the agg does not add up
    previous: float | None
    delta: float | None
    delta_pct: float | None
    spark: tuple[float | None, ...]  # None: a bucket without data
    current_display: str = ""
    share_display: str = ""
    delta_display: str = ""
    delta_good: bool | None = None

    @property
    def label(self) -> str:
        return f"{self.key}={self.value}" if self.value else f"{self.key} (none)"


class Breakdown(Struct, frozen=True):
    key: str
    rows: tuple[LabelRow, ...]  # biggest current value first


class KrUse(_Progress, Struct, frozen=True):
    """A key result measured on the KPI's metric."""

    id: str
    title: str
    objective_id: str
    objective_title: str
    progress: float | None
    progress_raw: float | None
    status: KrStatus
    error: str | None = None

    @property
    def shown_progress(self) -> float | None:
        return self.progress_raw if self.progress is not None else None


class KpiDetail(Struct, frozen=True):
    kpi: KpiView  # the board's view: value, state, comparison
    range_key: str
    range: TimeRange  # what the stats cover
    bucket: int  # the chart's bucket actually used (seconds)
    bucket_auto: bool
    chart: ChartView
    stats: RangeStats
    last_at: int | None  # the newest point at or before as-of (with the filter)
    age: int | None  # as_of - last_at
    breakdowns: tuple[Breakdown, ...] = ()
    label_filter: tuple[str, str] | None = None
    formula: str | None = None
    compare_label: str | None = None  # what the delta compares with: "previous 7d"
    out_of_scale: OutOfScale | None = None
    key_results: tuple[KrUse, ...] = ()
    error: str | None = None

    # How values are shown: the KPI's own presentation, as the board has it.
    @property
    def format(self) -> str:
        return self.kpi.format

    @property
    def currency(self) -> str | None:
        return self.kpi.currency

    @property
    def decimals(self) -> int | None:
        return self.kpi.decimals

    @property
    def description(self) -> str | None:
        return self.kpi.description

    @property
    def range_words(self) -> str:
        """`last 30d`, `all data`."""
        return "all data" if self.range_key == "all" else f"last {self.range_key}"

    @property
    def marks(self) -> MarkList:
        """The annotations on the chart, listed under it (`m` chooses one)."""
        where = RANGE_WORDS.get(self.range_key, f"the last {self.range_key}")
        return MarkList(self.chart.annotations, where, self.chart.zone)

    @property
    def stats_heading(self) -> str:
        """`sum per 1d · last 30d`: what min, max, avg and last run over (each a bucket
        of the chart above)."""
        return f"{self.kpi.agg} per {self.chart.bucket_label} · {self.range_words}"

    @property
    def stats_rows(self) -> tuple[tuple[str, str], ...]:
        """(name, value) of the stats block, in the KPI's format."""
        s, show = self.stats, self.kpi.show
        rows = [(name, show(getattr(s, name))) for name in ("last", "min", "max", "avg")]
        if s.total is not None:
            rows.append((f"{self.kpi.agg} of the range", show(s.total)))
        if s.points is not None:
            rows.append(("points", f"{s.points:,}"))
        return tuple(rows)

    @property
    def kpi_words(self) -> str:
        """What the KPI's own number is, and over which window: `1,045 = sum over 7d`."""
        return f"{self.kpi.display} = {self.kpi.reads}"

    @property
    def compare_words(self) -> str | None:
        """`vs previous 7d: ▲ +12 (+4.0%)`; None when the KPI does not compare."""
        if self.compare_label is None:
            return None
        return f"vs {self.compare_label}: {self.kpi.delta_display}"

    @property
    def head_delta(self) -> str:
        """The change as the detail's header says it: `▲ +12 (+4.0%) vs previous 7d`."""
        if self.compare_label is None or self.kpi.delta_display == "n/a":
            return self.kpi.delta_display
        return f"{self.kpi.delta_display} vs {self.compare_label}"

    @property
    def now_then(self) -> str:
        return f"now {self.kpi.display} · then {self.kpi.previous_display}"

    @property
    def targets_words(self) -> str:
        """`50,000 · warn 45,000 · crit 40,000`, or `none`."""
        view = self.kpi
        parts = [(name, view.show(getattr(view, name))) for name in ("target", "warn", "crit")]
        shown = [
            f"{'' if name == 'target' else name + ' '}{text}"
            for (name, text), value in zip(parts, (view.target, view.warn, view.crit), strict=True)
            if value is not None
        ]
        return " · ".join(shown) if shown else "none"

    @property
    def last_at_display(self) -> str | None:
        if self.last_at is None:
            return None
        return timeutil.format_time(self.last_at, timeutil.zone(self.kpi.zone))

    @property
    def age_display(self) -> str:
        return timeutil.format_age(self.age or 0)

    @property
    def out_of_scale_words(self) -> str | None:
        oos = self.out_of_scale
        if oos is None or not oos.ignored:
            return None
        return (
            f"Off scale: {oos.ignored:,} of {oos.used + oos.ignored:,} answers "
            f"left out of {self.kpi.agg}"
        )

    @property
    def breakdown_window(self) -> str:
        return self.kpi.window or "the latest points"


# -- ranges and buckets ----------------------------------------------------------------


def usable_bucket(requested: int, span: int) -> int:
    """`requested`, coarsened up the ladder until the chart holds at most MAX_POINTS."""
    bucket = requested
    for step in BUCKET_LADDER:
        if -(-span // bucket) <= MAX_POINTS:
            return bucket
        bucket = max(bucket, step)
    return max(bucket, -(-span // MAX_POINTS))


def step_bucket(current: int, direction: int) -> int:
    """The next ladder bucket finer (`direction` < 0) or coarser (> 0) than `current`."""
    if direction < 0:
        finer = [b for b in BUCKET_LADDER if b < current]
        return finer[-1] if finer else BUCKET_LADDER[0]
    coarser = [b for b in BUCKET_LADDER if b > current]
    return coarser[0] if coarser else max(current, BUCKET_LADDER[-1])


def first_point_ts(
    stats: Sequence[SeriesStats], stored: set[str], labels: Mapping[str, str]
) -> int | None:
    """The oldest point of the selected series of the `stored` metrics."""
    want = set(labels.items())
    firsts = [
        s.first_ts
        for s in stats
        if s.series.metric in stored and want <= set(s.series.labels.items())
    ]
    return min(firsts) if firsts else None


def range_of(range_key: str, as_of: int, first_ts: int | None) -> TimeRange:
    if range_key in RANGE_SECONDS:
        return TimeRange(as_of - RANGE_SECONDS[range_key] + 1, as_of)
    if range_key != "all":
        raise ValueError(f"unknown range {range_key!r}: use one of {', '.join(RANGE_KEYS)}")
    if first_ts is None or first_ts > as_of:
        return TimeRange(as_of - EMPTY_ALL_SECONDS + 1, as_of)
    return TimeRange(min(first_ts, as_of), as_of)


# -- the detail ----------------------------------------------------------------------


def _looking_back(
    chart: ChartView,
    source: MetricSource,
    kpi: Kpi,
    labels: dict[str, str],
    rng: TimeRange,
    bucket: int,
    as_of: int,
    tz: tzinfo,
    range_key: str,
) -> ChartView:
    """The detail's chart with the KPI's comparison line (`c` shows it: the same range
    `compare:` earlier, moved onto this one) and the annotations on its metric in range."""
    comparison: Comparison | None = None
    if kpi.compare.offset is not None:
        comparison = chart_comparison(kpi.compare, None, rng, as_of, tz)
    elif not kpi.compare.none and range_key != "all":
        # The range just before this one, on the same bucket grid.
        span = -(-(rng.hi - rng.lo + 1) // bucket) * bucket
        comparison = Comparison(span, f"previous {range_key}")
    compared: tuple[ChartSeries, ...] = ()
    if comparison is not None:
        name = chart.series[0].name
        compared = tuple(
            comparison_series(name, points, comparison)
            for _, points in compared_series(
                source, kpi.metric, labels, kpi.agg, rng, bucket, comparison
            )
        )
    marks = annotations_in(source.reader, rng.lo, rng.hi, [kpi.metric], tz)
    return replace(
        chart,
        comparison=compared,
        comparison_label=None if comparison is None else comparison.label,
        comparison_offset=None if comparison is None else comparison.offset,
        annotations=marks,
    )


def find_kpi(spec: Dashboard, kpi_id: str) -> Kpi:
    for kpi in spec.kpis:
        if kpi.id == kpi_id:
            return kpi
    raise DetailNotFound(f"there is no KPI {kpi_id!r} in the spec")


def compare_label(kpi: Kpi) -> str | None:
    """What the KPI's delta compares with, in words (SPEC §3 `compare`)."""
    if kpi.compare.none:
        return None
    window = kpi.effective_window
    if kpi.compare.offset is not None:
        return f"{kpi.compare.offset.label} earlier"
    if window is None:
        return "a day earlier"
    if window.calendar_unit is not None:
        return f"the same days of last {window.calendar_unit}"
    return f"previous {window.label}"


def kpi_detail(
    spec: Dashboard,
    reader: StoreReader,
    kpi_id: str,
    as_of: int,
    range_key: str = "30d",
    bucket: int | None = None,
    label_filter: tuple[str, str] | None = None,
) -> KpiDetail:
    """Everything the KPI detail screen shows. Raises DetailNotFound for an unknown id;
    a failing store query gives a detail with `error` set instead of raising."""
    with read_snapshot(reader) as snapshot:  # shown together: in the store together
        return _kpi_detail(spec, snapshot, kpi_id, as_of, range_key, bucket, label_filter)


def _kpi_detail(
    spec: Dashboard,
    reader: StoreReader,
    kpi_id: str,
    as_of: int,
    range_key: str,
    bucket: int | None,
    label_filter: tuple[str, str] | None,
) -> KpiDetail:
    kpi = find_kpi(spec, kpi_id)
    prepared = prepare(spec)  # the zone and formulas the board was evaluated with
    tz = prepared.tz
    source = MetricSource(reader, spec.metrics, prepared.formulas)
    zone = spec.timezone or "local"
    view = evaluate_kpi(kpi, source, as_of, tz, zone)
    derived = kpi.metric in spec.metrics
    labels = dict(kpi.labels)
    if label_filter is not None:
        labels[label_filter[0]] = label_filter[1]
    base = {
        "kpi": view,
        "range_key": range_key,
        "label_filter": label_filter,
        "formula": spec.metrics[kpi.metric].formula if derived else None,
        "compare_label": compare_label(kpi),
    }
    chart_base = {"id": f"kpi-{kpi.id}", "window": range_key, "format": view.format, "zone": zone}
    error = None
    try:
        stored = stored_operands([kpi.metric], source.formula)
        series_stats = reader.stats()  # one question, however many operands
        first = first_point_ts(series_stats, stored, labels) if range_key == "all" else None
        spacing = usual_spacing(series_stats, stored, labels)
        rng = range_of(range_key, as_of, first)
        if bucket is None:
            chosen = auto_bucket(rng.seconds, spacing)
        else:
            chosen = usable_bucket(bucket, rng.seconds)
        chart_rng = timeutil.bucket_aligned(rng, chosen, tz, widen=True)
        row = metric_row(source, kpi.metric, labels, kpi.agg, chart_rng, chosen, as_of)
        name = kpi.metric if label_filter is None else f"{label_filter[0]}={label_filter[1]}"
        chart = ChartView(
            **chart_base,
            title=f"{kpi.metric} · {kpi.agg} per {span_label(chosen)}",
            bucket=chosen,
            bucket_label=span_label(chosen),
            agg=kpi.agg,
            series=(ChartSeries(name, row.points, tuple(sorted(labels.items()))),),
            ref_lines=chart_ref_lines(kpi, view, derived, chosen),
            lo=row.starts[0] if row.starts else None,
            hi=row.starts[-1] if row.starts else None,
        )
        chart = _looking_back(chart, source, kpi, labels, chart_rng, chosen, as_of, tz, range_key)
        stats = range_stats(source, kpi, labels, rng, row.values, derived)
        if label_filter is None and view.window is None and view.state != "error":
            latest = view.last_at  # the board asked the very same question
        else:
            latest = source.read(kpi.metric, labels, "last", None, as_of).newest
        breakdowns = (
            ()
            if derived
            else label_breakdowns(
                reader,
                source,
                kpi,
                view,
                as_of,
                tz,
                chart_rng,
                max(chosen, coarsest_needed(BUCKET_LADDER, spacing) or 0),
            )
        )
        out_of_scale = None
        if kpi.agg in ("nps", "csat") and not derived:
            out_of_scale = reader.out_of_scale(kpi.metric, labels, kpi.agg, rng.lo, rng.hi)
        uses = key_results_using(spec, source, kpi.metric, as_of, tz)
    except EVALUATION_FAILURES as exc:
        error = str(exc) or exc.__class__.__name__
        rng = range_of(range_key if range_key in RANGE_SECONDS else "30d", as_of, None)
        chosen = bucket or auto_bucket(rng.seconds)
        chart = ChartView(
            **chart_base,
            title=kpi.metric,
            bucket=chosen,
            bucket_label=span_label(chosen),
            agg=kpi.agg,
            series=(),
            ref_lines=ref_lines(view),
            error=error,
        )
        stats = RangeStats(None, None, None, None, None, None, 0)
        latest, breakdowns, out_of_scale, uses = None, (), None, ()
    return KpiDetail(
        **base,
        range=rng,
        bucket=chosen,
        bucket_auto=bucket is None,
        chart=chart,
        stats=stats,
        last_at=latest,
        age=None if latest is None else as_of - latest,
        breakdowns=breakdowns,
        out_of_scale=out_of_scale,
        key_results=uses,
        error=error,
    )


def chart_ref_lines(kpi: Kpi, view: KpiView, derived: bool, bucket: int) -> tuple:
    """The KPI's target and thresholds, when a chart point is comparable with them.

    A `sum`/`count` KPI's target is for its whole window (700 signups a week): drawn over
    6-hour buckets it would sit far above every point and say nothing. Ratios (derived
    metrics) and stock or average aggs compare at any bucket size.
    """
    if derived or kpi.agg not in FLOW_AGGS or same_span(kpi.effective_window, bucket):
        return ref_lines(view)
    return ()


def range_stats(
    source: MetricSource,
    kpi: Kpi,
    labels: Mapping[str, str],
    rng: TimeRange,
    buckets: Sequence[float | None],
    derived: bool,
) -> RangeStats:
    """min / max / avg / last of the chart's `buckets` (an empty flow bucket is 0 there,
    a gap is left out), the flow's total over `rng`, and the points in it."""
    known = [v for v in buckets if v is not None]
    # A derived flow's total combines the operands' totals: a ratio of sums, never a
    # sum of ratios (SPEC §3 derived metrics).
    total = None
    if kpi.agg in FLOW_AGGS:
        total = source.read(kpi.metric, labels, kpi.agg, rng, rng.hi, want_time=False).value
        if total is None:
            total = source.empty_value(kpi.metric, kpi.agg)
    points = None
    if not derived:
        count = source.read(kpi.metric, labels, "count", rng, rng.hi, want_time=False).value
        points = int(count or 0)
    if not known:
        return RangeStats(None, None, None, None, total, points, 0)
    return RangeStats(
        last=known[-1],
        min=min(known),
        max=max(known),
        avg=sum(known) / len(known),
        total=total,
        points=points,
        buckets=len(known),
    )


def label_breakdowns(
    reader: StoreReader,
    source: MetricSource,
    kpi: Kpi,
    view: KpiView,
    as_of: int,
    tz: tzinfo,
    chart_rng: TimeRange,
    bucket: int,
) -> tuple[Breakdown, ...]:
    """One table per label key the KPI's series carry (keys the KPI pins are left out)."""
    keys = sorted(
        {k for s in reader.series(kpi.metric, kpi.labels) for k in s.labels} - set(kpi.labels)
    )
    if not keys:
        return ()
    current = current_range(kpi, as_of, tz)
    where = previous_range(kpi, as_of, tz)
    spark_bucket = next(
        (b for b in BUCKET_LADDER if b >= bucket and -(-chart_rng.seconds // b) <= SPARK_POINTS),
        BUCKET_LADDER[-1],
    )
    spark_bucket = max(spark_bucket, bucket)
    spark_rng = timeutil.bucket_aligned(chart_rng, spark_bucket, tz, widen=True)
    empty = source.empty_value(kpi.metric, kpi.agg)
    found = []
    for key in keys:
        now = _by_label(reader, kpi, current, as_of, key)
        before = {} if where is None else _by_label(reader, kpi, where[0], where[1], key)
        sparks = reader.buckets_by_label(
            kpi.metric, kpi.labels, kpi.agg, spark_rng.lo, spark_rng.hi, spark_bucket, key
        )
        total = sum(now.values())
        rows = []
        for value in sorted(set(now) | set(sparks), key=lambda v: (-(now.get(v) or 0.0), v)):
            cur, prev = now.get(value), before.get(value)
            delta, delta_pct = change(cur, prev)
            share = cur / total if kpi.agg in ADDITIVE_AGGS and cur is not None and total else None
            spark = place_buckets(
                {b.start: b.value for b in sparks.get(value, ())}, spark_rng, spark_bucket, empty
            )
            rows.append(
                LabelRow(
                    key=key,
                    value=value,
                    current=cur,
                    share=share,
                    previous=prev,
                    delta=delta,
                    delta_pct=delta_pct,
                    spark=spark.values,
                    current_display=view.show(cur),
                    share_display=format_share(share),
                    delta_display=format_delta(
                        cur, prev, view.format, currency=view.currency, decimals=view.decimals
                    ),
                    delta_good=delta_good(delta, kpi.direction),
                )
            )
        found.append(Breakdown(key, tuple(rows)))
    return tuple(found)


def _by_label(
    reader: StoreReader, kpi: Kpi, rng: TimeRange | None, at: int, key: str
) -> dict[str, float]:
    if rng is None:
        # `last` without a window: each series' latest point at or before `at`.
        return reader.aggregate_by_label(kpi.metric, kpi.labels, "last", 0, at, key)
    return reader.aggregate_by_label(kpi.metric, kpi.labels, kpi.agg, rng.lo, rng.hi, key)


def key_results_using(
    spec: Dashboard, source: MetricSource, metric: str, as_of: int, tz: tzinfo
) -> tuple[KrUse, ...]:
    """The key results measured on `metric`, with the board's progress and status."""
    evaluator = OkrEvaluator(spec, source, as_of, okr_period(spec, as_of, tz))
    uses = []

    def walk(objectives: Sequence[Objective]) -> None:
        for objective in objectives:
            for kr in objective.key_results:
                if kr.metric == metric:
                    view = evaluator.key_result(kr)
                    uses.append(
                        KrUse(
                            kr.id,
                            kr.title,
                            objective.id,
                            objective.title,
                            view.progress,
                            view.progress_raw,
                            view.status,
                            view.error,
                        )
                    )
            walk(objective.children)

    walk(spec.okrs)
    return tuple(uses)
