"""OKR progress, roll-up and status at one moment (SPEC §3 OKRs).

A key result's progress is measured against its own start and target; an objective's
is the weighted mean of its children's. Status compares progress with the share of the
period already gone, so "45% done" reads differently in week 2 and in week 12.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from kpitui import timeutil
from kpitui.engine.board import STATUS_RANK, KrStatus, KrView, ObjectiveView
from kpitui.engine.kpi import EVALUATION_FAILURES, MetricSource, presentation
from kpitui.spec.models import Dashboard, KeyResult, Objective
from kpitui.store.api import Checkin
from kpitui.timeutil import Period, TimeRange
from kpitui.vocabulary import agg_unit

ON_TRACK_GAP = 0.15
AT_RISK_GAP = 0.30
# Progress and expected progress are float ratios: 0.495 - 0.345 must still be on track.
_EPSILON = 1e-9


def okr_period(spec: Dashboard, as_of: int, tz: tzinfo) -> Period:
    """The spec's `period`, else the calendar quarter holding `as_of`, in the spec's zone."""
    dates = spec.period.dates() if spec.period else None
    if dates is None:
        return timeutil.quarter_containing(as_of, tz)
    return Period(dates[0], dates[1], tz)


# -- progress -------------------------------------------------------------------------


def kr_progress(
    kind: str, start: float | None, target: float | None, current: float | None, done: bool | None
) -> tuple[float | None, float | None]:
    """(progress_raw, progress clamped to 0..1); (None, None) when it cannot be measured."""
    if kind == "milestone":
        if done is not None:
            met = done
        elif current is None:
            return None, None
        else:
            met = current >= 1
        return (1.0, 1.0) if met else (0.0, 0.0)
    if current is None or target is None:
        return None, None
    if kind in ("maintain_above", "maintain_below"):
        met = current >= target if kind == "maintain_above" else current <= target
        return (1.0, 1.0) if met else (0.0, 0.0)
    begin = 0.0 if start is None else start
    if target == begin:
        met = current >= target if kind == "increase" else current <= target
        raw = 1.0 if met else 0.0
    else:
        raw = (current - begin) / (target - begin)
    return raw, min(1.0, max(0.0, raw))


def kr_start(kr: KeyResult) -> float | None:
    """The key result's start: an increase or decrease without one starts from 0."""
    if kr.start is None and kr.effective_kind in ("increase", "decrease"):
        return 0.0
    return kr.start


def kr_metric_value(source: MetricSource, kr: KeyResult, period: Period, at: int) -> float | None:
    """A metric key result's current value as it reads at `at` (SPEC §3 OKRs)."""
    assert kr.metric is not None
    if kr.agg == "last":
        # A stock such as MRR: its latest value, however old.
        return source.read(kr.metric, kr.labels, "last", None, at, want_time=False).value
    if at < period.start_ts:
        return None  # nothing of the period has happened yet
    rng = TimeRange(period.start_ts, at)
    value = source.read(kr.metric, kr.labels, kr.agg, rng, at, want_time=False).value
    # Nothing happened since the period started: a sum of nothing is 0 (of a derived
    # metric, its formula over such sums: a ratio of them has no value).
    return source.empty_value(kr.metric, kr.agg) if value is None else value


def kr_status(
    kind: str, progress: float | None, expected: float, period: Period, as_of: int
) -> KrStatus:
    if as_of < period.start_ts:
        return "not_started"
    measured = 0.0 if progress is None else progress  # nothing measured yet counts as no progress
    if as_of >= period.end_ts:
        return "achieved" if measured >= 1 else "missed"
    if kind in ("maintain_above", "maintain_below"):
        return "on_track" if measured >= 1 else "off_track"
    if measured >= 1:
        return "achieved"
    gap = expected - measured
    if gap <= ON_TRACK_GAP + _EPSILON:
        return "on_track"
    if gap <= AT_RISK_GAP + _EPSILON:
        return "at_risk"
    return "off_track"


def kr_share(progress: float | None) -> float:
    """A key result's progress as its objective counts it: none yet (no data) is no
    progress, as in its status; only a child objective with nothing to measure is left out."""
    return 0.0 if progress is None else min(1.0, max(0.0, progress))


def weighted_progress(parts: Sequence[tuple[float | None, float]]) -> float | None:
    """Weighted mean of the parts that have a progress; None when none has one."""
    measured = [(p, w) for p, w in parts if p is not None]
    total = sum(w for _, w in measured)
    if not measured or total <= 0:
        return None
    return sum(p * w for p, w in measured) / total


def worst_status(statuses: Sequence[str]) -> KrStatus:
    """The worst by STATUS_RANK; `not_started` only when every child is."""
    if not statuses:
        return "not_started"
    return max(statuses, key=lambda s: STATUS_RANK[s])  # type: ignore[return-value]


# -- evaluation -----------------------------------------------------------------------


def kr_presentation(spec: Dashboard, kr: KeyResult) -> tuple[str, str | None, int | None]:
    """Key results have no format of their own: use a KPI's on the same metric whose agg
    keeps the same unit (CAC's `avg` KPI in dollars formats its `last` KR in dollars; a
    count of CSAT responses is not shown as the CSAT KPI's percent)."""
    kpi = next(
        (
            k
            for k in spec.kpis
            if kr.metric is not None
            and k.metric == kr.metric
            and agg_unit(k.agg) == agg_unit(kr.agg)
        ),
        None,
    )
    if kpi is None:
        derived = spec.metrics.get(kr.metric or "")
        if derived is not None:
            return derived.format or "number", derived.currency, derived.decimals
        return "number", None, None
    shown = presentation(kpi, spec.metrics)
    return shown.format, shown.currency, shown.decimals


class OkrEvaluator:
    def __init__(self, spec: Dashboard, source: MetricSource, as_of: int, period: Period) -> None:
        self.spec = spec
        self.source = source
        self.as_of = as_of
        self.period = period
        # Values are read at as-of, or at the period's last second once it has ended: a
        # quarter-end review reads the quarter's result, not what came after it.
        self.read_at = min(as_of, period.end_ts - 1)
        self.expected = period.expected_progress(as_of)
        self.default_checkin_every = spec.checkin_every
        self._checkins: dict[str, list[Checkin]] = {}

    def checkins(self, kr_id: str) -> list[Checkin]:
        """The key result's check-ins at or before as-of, oldest first (asked once)."""
        if kr_id not in self._checkins:
            self._checkins[kr_id] = self.source.reader.checkins(kr_id, at=self.read_at)
        return self._checkins[kr_id]

    def objectives(self) -> tuple[ObjectiveView, ...]:
        return tuple(self.objective(o) for o in self.spec.okrs)

    def objective(self, objective: Objective) -> ObjectiveView:
        krs = tuple(self.key_result(kr) for kr in objective.key_results)
        children = tuple(self.objective(child) for child in objective.children)
        parts = [(kr_share(kr.progress), kr.weight) for kr in krs] + [
            (c.progress, c.weight) for c in children
        ]
        return ObjectiveView(
            id=objective.id,
            title=objective.title,
            owner=objective.owner,
            weight=objective.weight,
            progress=weighted_progress(parts),
            expected=self.expected,
            status=worst_status([kr.status for kr in krs] + [c.status for c in children]),
            key_results=krs,
            children=children,
        )

    def key_result(self, kr: KeyResult) -> KrView:
        kind = kr.effective_kind
        start = kr_start(kr)
        current = confidence = last_checkin_at = error = None
        checkin_due = False
        try:
            checkins = self.checkins(kr.id)
            latest = checkins[-1] if checkins else None
            if latest is not None:
                confidence, last_checkin_at = latest.confidence, latest.ts
            if kr.manual:
                current = latest.value if latest is not None else start
                checkin_due = self._checkin_due(kr, last_checkin_at)
            else:
                current = kr_metric_value(self.source, kr, self.period, self.read_at)
        except EVALUATION_FAILURES as exc:
            error = str(exc) or exc.__class__.__name__
            current = None
        raw, progress = kr_progress(kind, start, kr.target, current, kr.done)
        fmt, currency, decimals = kr_presentation(self.spec, kr)
        return KrView(
            id=kr.id,
            title=kr.title,
            owner=kr.owner,
            kind=kind,
            metric=kr.metric,
            start=start,
            target=kr.target,
            current=current,
            progress_raw=raw,
            progress=progress,
            status=kr_status(kind, progress, self.expected, self.period, self.as_of),
            confidence=confidence,
            checkin_due=checkin_due,
            last_checkin_at=last_checkin_at,
            weight=kr.weight,
            error=error,
            format=fmt,
            currency=currency,
            decimals=decimals,
            zone=self.spec.timezone or "local",
        )

    def _checkin_due(self, kr: KeyResult, last_checkin_at: int | None) -> bool:
        every = kr.checkin_every or self.default_checkin_every
        if every is None or kr.done is not None:
            return False  # a milestone marked `done:` in the spec is not checked in
        # Without a check-in yet, the first one falls due a cadence into the period.
        since = last_checkin_at if last_checkin_at is not None else self.period.start_ts
        return self.read_at - since > every.seconds


def evaluate_okrs(
    spec: Dashboard, source: MetricSource, as_of: int, period: Period
) -> tuple[ObjectiveView, ...]:
    return OkrEvaluator(spec, source, as_of, period).objectives()
