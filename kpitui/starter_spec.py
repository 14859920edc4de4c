"""The starter spec `kpitui init` writes from what a store holds.

Each metric becomes one KPI, read as the data suggests:

- how often its points come (the median over its series of their average spacing)
  picks the KPI's window and its sparkline's window and bucket, so a flow's sum covers
  a few dozen points and a sparkline a few dozen buckets;
- whether it is a flow (things that happen: signups, orders — summed over the window) or
  a level (a state: MRR, DAU, a rate — its latest value): by its name first, then by its
  values (whole numbers ≥ 0 that are not named like a level are counts);
- survey answers (nps, csat) and latencies (p90, lower is better) by their names.

What cannot be read off the data — targets, thresholds, which KPI leads — is left as
comments for the user to fill in. The text is YAML written by hand (not dumped), so the
comments sit where they help.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from statistics import median

from msgspec import Struct

from kpitui.literal import UNSAFE
from kpitui.store.api import SeriesStats, StoreReader

HOUR, DAY = 3600, 86400
KPIS_PER_PAGE = 6
"""At most this many KPIs on a page (check warns past 7: a page that tracks everything
focuses on nothing)."""
MAX_CHARTS = 4
SAMPLE_POINTS = 200
"""Points read per series to tell counts from levels and fractions from numbers."""

_ACRONYMS = {
    "mrr", "arr", "dau", "wau", "mau", "nps", "csat", "cac", "ltv", "arpu", "api",
    "id", "url", "sla", "p50", "p90", "p95", "p99", "kpi", "roi", "ctr", "cpc", "aov",
}  # fmt: skip
_SURVEY = {"nps": re.compile(r"(^|_)nps($|_)"), "csat": re.compile(r"(^|_)csat($|_)")}
_LATENCY = re.compile(r"latency|_ms$|(^|_)ms(_|$)|duration|response_time|load_time")
_LEVEL = re.compile(
    r"mrr|arr|(^|_)[dwm]au($|_)|users|active|rate|ratio|share|pct|percent|arpu|balance"
    r"|churn|cac|ltv|price|score|minutes|seconds|avg|mean|level|gauge|inventory|headcount"
    r"|stock|size|temperature|utili[sz]ation|capacity|backlog|queue|open_"
)
_FLOW = re.compile(
    r"signup|visit|order|event|click|view|conversion|purchase|install|download|request"
    r"|error|sale|login|message|upload|ticket|refund|registration|_count$|_total$|^new_"
)
_DOWN = re.compile(r"churn|cac|latency|_ms$|error|cost|refund|bounce|duration|ticket|backlog")


class MetricProfile(Struct, frozen=True):
    """What `init` knows of one metric: from the store's stats and a sample of values."""

    name: str
    series: int
    points: int
    spacing: float  # seconds between two points of a series (median over its series)
    label_values: dict[str, list[str]]
    whole: bool  # every sampled value a whole number
    non_negative: bool
    fraction: bool  # every sampled value within 0..1, not all whole


def profile_metrics(reader: StoreReader) -> list[MetricProfile]:
    """One profile per metric of the store, by name."""
    by_metric: dict[str, list[SeriesStats]] = {}
    for stat in reader.stats():
        by_metric.setdefault(stat.series.metric, []).append(stat)
    profiles = []
    for name in sorted(by_metric):
        stats = by_metric[name]
        spacings = [(s.last_ts - s.first_ts) / (s.count - 1) for s in stats if s.count > 1] or [
            float(DAY)
        ]
        labels: dict[str, set[str]] = {}
        for s in stats:
            for key, value in s.series.labels.items():
                labels.setdefault(key, set()).add(value)
        sample = [
            value
            for s in stats[:5]
            for _, value in reader.read_points(s.series.id, None, SAMPLE_POINTS)
        ]
        whole = all(float(v).is_integer() for v in sample)
        profiles.append(
            MetricProfile(
                name=name,
                series=len(stats),
                points=sum(s.count for s in stats),
                spacing=median(spacings),
                label_values={k: sorted(v) for k, v in sorted(labels.items())},
                whole=whole,
                non_negative=all(v >= 0 for v in sample),
                fraction=bool(sample) and not whole and all(0 <= v <= 1 for v in sample),
            )
        )
    return profiles


class KpiPlan(Struct, frozen=True):
    """The KPI `init` writes for a metric."""

    id: str
    metric: str
    title: str
    agg: str
    window: str | None
    spark_window: str
    spark_bucket: str
    format: str | None
    direction: str | None
    indicator: str
    why: str  # the comment saying how it was read


def plan_kpi(profile: MetricProfile, taken: set[str]) -> KpiPlan:
    name = profile.name
    lowered = name.lower()
    survey = next((agg for agg, pattern in _SURVEY.items() if pattern.search(lowered)), None)
    fmt = None
    if survey:
        kind, agg = "survey answers", survey
        fmt = "percent" if survey == "csat" else None
    elif _LATENCY.search(lowered) and not profile.fraction:
        kind, agg = "latency samples", "p90"
    elif _LEVEL.search(lowered) or profile.fraction:
        kind, agg = "a level", "last"
    elif _FLOW.search(lowered) or (profile.whole and profile.non_negative):
        kind, agg = "a flow", "sum"
    else:
        kind, agg = "a level", "last"
    if agg == "last" and profile.fraction:
        fmt = "percent"
    window, spark_window, spark_bucket = _windows(profile.spacing, agg)
    every = _spacing_words(profile.spacing)
    why = f"{kind}, a point {every}" + (
        f" per series ({profile.series} series)" if profile.series > 1 else ""
    )
    if agg == "sum":
        why += f": summed over {window}"
    elif agg == "last":
        why += ": its latest value" + (
            " (the series' latest values added up)" if profile.series > 1 else ""
        )
    else:
        why += f": {agg} over {window}"
    ident = name if name not in ("okrs", "alerts") else f"{name}-kpi"
    while ident in taken:
        ident += "-kpi"
    taken.add(ident)
    title = title_of(name)
    if window is not None:
        title += f" ({_window_words(window)})"
    return KpiPlan(
        id=ident,
        metric=name,
        title=title,
        agg=agg,
        window=window,
        spark_window=spark_window,
        spark_bucket=spark_bucket,
        format=fmt,
        direction="down" if _DOWN.search(lowered) else None,
        indicator="leading" if agg == "sum" else "lagging",
        why=why,
    )


# (spacing at most, the window a flow sums over, the sparkline of a flow, of a level)
_LADDER = (
    (HOUR, "7d", ("30d", "1d"), ("7d", "6h")),
    (DAY, "30d", ("90d", "3d"), ("90d", "3d")),
    (7 * DAY, "90d", ("365d", "14d"), ("365d", "14d")),
    (math.inf, "365d", ("730d", "30d"), ("730d", "30d")),
)


def _windows(spacing: float, agg: str) -> tuple[str | None, str, str]:
    for most, window, flow_spark, level_spark in _LADDER:
        if spacing <= most * 1.5:  # a daily export a little late is still daily
            if agg == "last":
                return None, *level_spark
            if agg == "p90" and spacing <= HOUR:
                return "1d", "7d", "6h"
            return window, *flow_spark
    raise AssertionError("the ladder ends at infinity")


def _spacing_words(spacing: float) -> str:
    for seconds, unit in ((DAY, "day"), (HOUR, "hour"), (60, "minute")):
        if spacing >= seconds * 0.95:
            count = spacing / seconds
            if count < 1.5:
                return f"every {unit}"
            return f"every {count:.0f} {unit}s" if count < 100 else f"every {count:,.0f} {unit}s"
    return f"every {max(spacing, 1):.0f} seconds"


def _window_words(window: str) -> str:
    number, unit = int(window[:-1]), window[-1]
    word = {"d": "day", "h": "hour"}[unit]
    return f"{number} {word}" + ("s" if number != 1 else "")


def title_of(name: str) -> str:
    """`trial_conversions` → "Trial conversions", `mrr` → "MRR", `api.p90_ms` → "API p90 ms"."""
    words = [w for w in re.split(r"[_.:\-]+", name) if w]
    shown = [w.upper() if w.lower() in _ACRONYMS else w.lower() for w in words] or [name]
    first = shown[0]
    shown[0] = first if first.isupper() else first[:1].upper() + first[1:]
    return " ".join(shown)


# -- the text ------------------------------------------------------------------------------


def starter_spec(profiles: Sequence[MetricProfile], *, store: str, source: str) -> str:
    """The YAML of the starter spec for `profiles`; `store` is what its `store:` says,
    `source` how the header comment names the store it was made from."""
    taken: set[str] = set()
    # Flows first (they move first), then levels, then surveys and latencies; by name.
    kpis = sorted((plan_kpi(p, taken) for p in profiles), key=lambda k: (_RANK.get(k.agg, 2), k.id))
    by_metric = {p.name: p for p in profiles}
    charts = _charts(kpis, by_metric)
    out = [
        f"# A starter board for {source}, written by `kpitui init`.",
        "# Each metric is one KPI, read as its data suggests (the comment above it says how);",
        "# add targets and thresholds, mark the North Star, and run `kpitui check`.",
        "# docs/spec.md explains every key.",
        f"title: {_text(title_of(_title_source(source)) + ' board')}",
        f"store: {_text(store)}",
        "refresh: 5s",
        "",
        "kpis:",
    ]
    for kpi in kpis:
        out += _kpi_lines(kpi)
    if charts:
        out += ["", "charts:"]
        for _, lines in charts:
            out += lines
    out += ["", *_EXAMPLE_OBJECTIVE(kpis)]
    out += ["", *_layout(kpis, [chart_id for chart_id, _ in charts])]
    return "\n".join(out) + "\n"


def _kpi_lines(kpi: KpiPlan) -> list[str]:
    lines = [
        f"  # {kpi.why}",
        f"  - id: {_text(kpi.id)}",
        f"    metric: {_text(kpi.metric)}",
        f"    title: {_text(kpi.title)}",
        f"    indicator: {kpi.indicator}",
    ]
    if kpi.agg != "last":
        lines.append(f"    agg: {kpi.agg}")
    if kpi.window is not None:
        lines.append(f"    window: {kpi.window}")
    if kpi.direction:
        lines.append(f"    direction: {kpi.direction}")
    if kpi.format:
        lines.append(f"    format: {kpi.format}")
    lines += [
        f"    spark: {{window: {kpi.spark_window}, bucket: {kpi.spark_bucket}}}",
        '    # target: 100        # then warn/crit: numbers, or a share of target like "90%"',
    ]
    return lines


def _charts(
    kpis: Sequence[KpiPlan], by_metric: dict[str, MetricProfile]
) -> list[tuple[str, list[str]]]:
    """A chart per labelled metric (split by its label with the fewest values, 2..8):
    its id and its lines."""
    charts = []
    for kpi in kpis:
        labels = by_metric[kpi.metric].label_values
        fitting = [(len(v), k) for k, v in labels.items() if 2 <= len(v) <= 8]
        if not fitting or len(charts) >= MAX_CHARTS:
            continue
        label = min(fitting)[1]
        agg = kpi.agg if kpi.agg in ("sum", "last") else "avg"
        window, bucket = kpi.spark_window, kpi.spark_bucket
        chart_id = "chart-" + kpi.id
        charts.append(
            (
                chart_id,
                [
                    f"  - id: {_text(chart_id)}",
                    f"    title: {_text(title_of(kpi.metric) + ' by ' + title_of(label).lower())}",
                    f"    metrics: [{_text(kpi.metric)}]",
                    f"    split_by: {_text(label)}",
                    f"    agg: {agg}",
                    f"    window: {window}",
                    f"    bucket: {bucket}",
                ],
            )
        )
    return charts


def _EXAMPLE_OBJECTIVE(kpis: Sequence[KpiPlan]) -> list[str]:
    flow = next((k for k in kpis if k.agg == "sum"), kpis[0] if kpis else None)
    metric = flow.metric if flow else "signups"
    agg = "sum" if flow is None or flow.agg == "sum" else flow.agg
    return [
        "# Objectives and key results: uncomment, then fill in your own.",
        "# okrs:",
        "#   - id: grow",
        f"#     title: Grow {title_of(metric).lower()} this quarter",
        "#     owner: you",
        "#     key_results:",
        f"#       - title: {title_of(metric)} this quarter reach 1,000",
        f"#         metric: {metric}",
        f"#         agg: {agg}               # sum: what happened since the period started",
        "#         start: 0",
        "#         target: 1000",
        "#       - id: launch-onboarding      # a manual one: kpitui checkin launch-onboarding 0.5",
        "#         title: Launch the new onboarding",
        "#         start: 0",
        "#         target: 1",
    ]


def _layout(kpis: Sequence[KpiPlan], chart_ids: Sequence[str]) -> list[str]:
    lines = ["layout:", "  pages:"]
    pages = [kpis[i : i + KPIS_PER_PAGE] for i in range(0, len(kpis), KPIS_PER_PAGE)] or [[]]
    for number, page in enumerate(pages):
        title = "Overview" if number == 0 else f"More ({number + 1})"
        lines.append(f"    - title: {_text(title)}")
        rows = [page[i : i + 3] for i in range(0, len(page), 3)]
        panels = [[_text(k.id) for k in row] for row in rows]
        if number == 0 and chart_ids:
            panels += [
                [_text(c) for c in chart_ids[i : i + 2]] for i in range(0, len(chart_ids), 2)
            ]
        if not panels:
            lines.append("      rows: []")
            continue
        lines.append("      rows:")
        lines += [f"        - [{', '.join(row)}]" for row in panels]
    return lines


def _title_source(source: str) -> str:
    stem = re.split(r"[/\\]", source.rstrip("/\\"))[-1]
    return re.sub(r"\.(db|sqlite3?)$", "", stem) or "kpitui"


_RANK = {"sum": 0, "last": 1}
# What YAML reads back as the same text unquoted: no ": ", " #", nor a leading indicator.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*( [A-Za-z0-9_.\-()]+)*\Z")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _text(value: str) -> str:
    """`value` as a YAML scalar: plain when that reads back the same, else a JSON string
    (a valid YAML double-quoted scalar, every character escaped as JSON does)."""
    if _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        return value
    # YAML refuses C1 controls and lone surrogates even escaped by JSON's rules: ASCII then.
    return json.dumps(value, ensure_ascii=bool(UNSAFE.search(value)))
