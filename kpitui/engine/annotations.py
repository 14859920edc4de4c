"""Annotations a chart or screen shows: the store's marks (`kpitui annotate`) in a time
range, and a key result's check-in notes, as one kind of view.

An annotation naming metrics is on the charts of those metrics; one naming none is on
every chart. Its text is data: faces show it literally.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import tzinfo
from typing import Literal

from msgspec import Struct

from kpitui import timeutil
from kpitui.spec.models import Dashboard
from kpitui.store.api import Annotation, Checkin, StoreReader
from kpitui.timeutil import TimeRange, Window

AnnotationKind = Literal["annotation", "checkin"]


class AnnotationView(Struct, frozen=True):
    id: int  # the store's id (`kpitui annotations --delete ID`); a check-in's id for a note
    ts: int
    text: str
    time_display: str  # in the board's zone: "2026-11-20 14:05"
    metrics: tuple[str, ...] = ()  # () : on every chart
    labels: tuple[tuple[str, str], ...] = ()
    kind: AnnotationKind = "annotation"

    @property
    def time_iso(self) -> str:
        return timeutil.iso_utc(self.ts)


def annotation_view(a: Annotation, tz: tzinfo) -> AnnotationView:
    return AnnotationView(
        id=a.id,
        ts=a.ts,
        text=a.text,
        time_display=timeutil.format_time(a.ts, tz),
        metrics=tuple(a.metrics),
        labels=tuple(sorted(a.labels.items())),
    )


def annotations_in(
    reader: StoreReader, lo: int, hi: int, metrics: Iterable[str] | None, tz: tzinfo
) -> tuple[AnnotationView, ...]:
    """The store's annotations with lo <= ts <= hi, oldest first; with `metrics`, those
    on those metrics' charts (naming one of them, or none)."""
    if hi < lo:
        return ()
    wanted = None if metrics is None else sorted(set(metrics))
    return tuple(annotation_view(a, tz) for a in reader.annotations(lo, hi, wanted))


def checkin_notes(
    checkins: Sequence[Checkin], lo: int, hi: int, tz: tzinfo
) -> tuple[AnnotationView, ...]:
    """A key result's check-ins with a note, in [lo, hi], oldest first, as annotations."""
    return tuple(
        AnnotationView(
            id=c.id,
            ts=c.ts,
            text=c.note,
            time_display=timeutil.format_time(c.ts, tz),
            kind="checkin",
        )
        for c in sorted(checkins, key=lambda c: c.ts)
        if c.note and c.note.strip() and lo <= c.ts <= hi
    )


def merged(*groups: Sequence[AnnotationView]) -> tuple[AnnotationView, ...]:
    """Several groups as one list, oldest first (a store mark before a note at a tie)."""
    return tuple(
        sorted((a for g in groups for a in g), key=lambda a: (a.ts, a.kind != "annotation"))
    )


def nearest(annotations: Sequence[AnnotationView], ts: int, step: int) -> AnnotationView | None:
    """The next annotation after `ts` (`step` 1) or before it (-1), for a key that jumps
    from one mark to the next; None past the last (or first)."""
    if step > 0:
        return next((a for a in annotations if a.ts > ts), None)
    return next((a for a in reversed(annotations) if a.ts < ts), None)


def board_span(
    spec: Dashboard, as_of: int, tz: tzinfo, chart_window: Window | None = None
) -> TimeRange:
    """The span of the board's windows at as-of: from the earliest start of a KPI's
    window, a sparkline's or a chart's (`chart_window` standing in for every chart's when
    the board's range is set) to as-of."""
    windows: list[Window] = []
    for kpi in spec.kpis:
        if kpi.effective_window is not None:
            windows.append(kpi.effective_window)
        windows.append(kpi.effective_spark.window)
    windows += [chart_window or chart.window for chart in spec.charts]
    lo = min((w.range(as_of, tz).lo for w in windows), default=as_of)
    return TimeRange(lo, as_of)


def board_metrics(spec: Dashboard) -> set[str]:
    """The metrics the board shows: its KPIs', charts' and key results'."""
    from kpitui.spec.validate import walk_objectives

    names = {kpi.metric for kpi in spec.kpis}
    names |= {metric for chart in spec.charts for metric in chart.metrics}
    for objective, _ in walk_objectives(spec.okrs):
        names |= {kr.metric for kr in objective.key_results if kr.metric}
    return names


def board_annotations(
    spec: Dashboard,
    reader: StoreReader,
    as_of: int,
    tz: tzinfo,
    chart_window: Window | None = None,
) -> tuple[AnnotationView, ...]:
    """The annotations in the board's windows on its metrics (or on every chart)."""
    span = board_span(spec, as_of, tz, chart_window)
    return annotations_in(reader, span.lo, span.hi, board_metrics(spec), tz)
