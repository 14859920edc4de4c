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

    @property
    def key(self) -> str:
        """Unique among the marks of one chart: a store mark and a check-in note may
        share an id."""
        return f"{self.kind}:{self.id}"


MARK_ROWS = 5
"""Marks a detail lists at once; `m` steps through the others."""


class MarkRow(Struct, frozen=True):
    """One line of a detail's list of marks."""

    key: str
    time_display: str  # in the board's zone
    text: str  # as written: shown literally
    kind_label: str  # "check-in" for a key result's note, "" for a store mark
    chosen: bool  # the one `m` jumped to: drawn apart on the chart too

    @property
    def glyph(self) -> str:
        """`▸` for the chosen mark, else the chart's own rule `│`."""
        return CHOSEN_GLYPH if self.chosen else MARK_GLYPH


MARK_GLYPH = "│"
CHOSEN_GLYPH = "▸"
CHOSEN_RULE = "┃"
"""The chosen mark's rule on the chart: heavier than the others', told apart in mono."""


class MarkList(Struct, frozen=True):
    """The annotations a detail lists under its chart: those in the range it shows
    (a key result's check-in notes among them), and which one `m` chose."""

    marks: tuple[AnnotationView, ...]  # oldest first
    where: str  # what they are in: "the last 30d", "the period so far"
    zone: str  # the zone their times are in

    def position(self, chosen: str | None) -> int | None:
        """The index (oldest first) of the mark keyed `chosen`; None if not listed."""
        return next((i for i, a in enumerate(self.marks) if a.key == chosen), None)

    def chosen(self, chosen: str | None) -> AnnotationView | None:
        at = self.position(chosen)
        return None if at is None else self.marks[at]

    def next_key(self, chosen: str | None) -> str | None:
        """The mark after `chosen`, oldest to newest and round again; the oldest when
        none is chosen (or the chosen one left the range); None with no marks."""
        if not self.marks:
            return None
        at = self.position(chosen)
        return self.marks[0 if at is None else (at + 1) % len(self.marks)].key

    def heading(self, chosen: str | None) -> str:
        """`Marks in the last 30d: 3 · 2 of 3 chosen · times Europe/Berlin`."""
        zone = "local time" if self.zone == "local" else f"times {self.zone}"
        if not self.marks:
            return f"No marks in {self.where}"
        at = self.position(chosen)
        picked = "" if at is None else f" · {at + 1} of {len(self.marks)}"
        return f"Marks in {self.where}: {len(self.marks)}{picked} · {zone}"

    def _first(self, chosen: str | None, limit: int) -> int:
        """The index, newest first, of the first mark listed."""
        at = self.position(chosen)
        if at is None:
            return 0
        index = len(self.marks) - 1 - at
        return max(0, min(index - limit // 2, len(self.marks) - limit))

    def rows(self, chosen: str | None, limit: int = MARK_ROWS) -> tuple[MarkRow, ...]:
        """Up to `limit` marks, newest first, holding the chosen one: the newest, or
        those around the chosen one when it is older."""
        first = self._first(chosen, limit)
        return tuple(
            MarkRow(
                key=a.key,
                time_display=a.time_display,
                text=a.text,
                kind_label="check-in" if a.kind == "checkin" else "",
                chosen=a.key == chosen,
            )
            for a in tuple(reversed(self.marks))[first : first + limit]
        )

    def newer_hidden(self, chosen: str | None, limit: int = MARK_ROWS) -> int:
        """How many marks newer than those `rows` lists are left out (said above them)."""
        return self._first(chosen, limit)

    def older_hidden(self, chosen: str | None, limit: int = MARK_ROWS) -> int:
        """How many marks older than those `rows` lists are left out (said below them)."""
        return max(0, len(self.marks) - self._first(chosen, limit) - limit)


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


def marks_on_chart(
    groups: Iterable[Sequence[AnnotationView]], metrics: Iterable[str]
) -> tuple[AnnotationView, ...]:
    """The marks of `groups` on a chart of `metrics` (naming one of them, or none), each
    once, oldest first: what a chart's detail jumps through, in range or not yet."""
    wanted = set(metrics)
    found = {
        a.key: a for group in groups for a in group if not a.metrics or wanted & set(a.metrics)
    }
    return tuple(sorted(found.values(), key=lambda a: (a.ts, a.kind != "annotation")))


def after(marks: Sequence[AnnotationView], current: AnnotationView | None) -> AnnotationView | None:
    """The mark after `current` (oldest to newest, then round again); the oldest when
    none is current; None without marks."""
    if not marks:
        return None
    if current is None:
        return marks[0]
    keys = [a.key for a in marks]
    if current.key in keys:  # by place, not time: two marks may share a moment
        return marks[(keys.index(current.key) + 1) % len(marks)]
    return next((a for a in marks if a.ts > current.ts), marks[0])


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
