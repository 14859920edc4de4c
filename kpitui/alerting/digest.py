"""The digest: the board's review for a span (`kpitui digest --since 7d`), as frozen data
the renderers (`digest_render`) only lay out.

Read from two Boards — at as-of and at as-of minus the span, both from the one
`evaluate` — and from the store's alert history for the span:

- KPIs off target: in warn or crit, or on the wrong side of their target, or without
  fresh data (stale, no_data, error), worst first;
- the state changes in the span, as `kpitui watch` recorded them, newest first;
- key results at risk, off track or missed, by their gap to expected progress;
- manual key results whose check-in is due, and whose it is;
- the biggest movers over the span (relative change, largest first).
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from kpitui import timeutil
from kpitui.engine.board import Board, KpiView, iter_objectives
from kpitui.engine.forecast_view import KrForecast
from kpitui.engine.format import format_delta, format_progress, gap_points, gap_short
from kpitui.engine.kpi import change as change_of
from kpitui.engine.kpi import delta_good
from kpitui.spec.models import Dashboard
from kpitui.store.api import AlertEvent, StoreReader
from kpitui.timeutil import Duration

MOVERS = 3
_STATE_RANK = {"crit": 0, "warn": 1, "error": 2, "no_data": 3, "stale": 4, "ok": 5, "neutral": 6}
_OFF_TRACK = ("missed", "off_track", "at_risk")


class KpiLine(Struct, frozen=True):
    id: str
    title: str
    state: str
    display: str
    target_display: str | None
    change: str
    """Over the span: `▲ +1,234 (+5.2%)`, or `n/a`."""
    trend: str
    """`better`, `worse` or `flat` for this KPI's direction; "" with nothing to compare."""
    good: bool | None
    """Whether the change is good for this KPI; None: no change or nothing to compare."""
    why: str
    """Why it is listed, in a few words: `crit`, `below target`, `last point 3d ago`."""
    change_pct: float | None = None


class ChangeLine(Struct, frozen=True):
    time: str
    """When, in the board's zone (`2026-12-07 09:30`)."""
    subject_kind: str
    subject_id: str
    title: str
    from_state: str | None
    to_state: str
    display: str | None


class KrLine(Struct, frozen=True):
    id: str
    title: str
    owner: str | None
    status: str
    progress: str
    expected: str
    gap_points: int
    """Expected minus progress, in percentage points (25: a quarter behind)."""
    gap_display: str
    """The gap in words, by the engine's rule: `25 pts behind`, `1 pt behind`."""
    forecast: str = ""
    """Where it is heading: `on pace for 120 / 200 · 40% ✖ missed`; "" without a forecast."""


class CheckinLine(Struct, frozen=True):
    id: str
    title: str
    owner: str | None
    last: str
    """The last check-in's age (`9d ago`), or `never`."""


class Digest(Struct, frozen=True):
    title: str
    as_of: str
    """As-of in the board's zone."""
    since: str
    """The span's start in the board's zone."""
    span: str
    """`7d`."""
    period: str
    expected: str
    off_target: tuple[KpiLine, ...]
    changes: tuple[ChangeLine, ...]
    history_kept: bool
    """Whether the store holds any alert history at all (a watcher has run)."""
    key_results: tuple[KrLine, ...]
    checkins_due: tuple[CheckinLine, ...]
    movers: tuple[KpiLine, ...]


def build_digest(
    spec: Dashboard,
    reader: StoreReader,
    as_of: int,
    span: Duration,
    evaluate: Callable[[Dashboard, StoreReader, int], Board],
) -> Digest:
    """The digest of `spec` for (as_of - span, as_of]."""
    seconds = span.seconds
    now = evaluate(spec, reader, as_of)
    then = evaluate(spec, reader, as_of - seconds)
    tz = timeutil.resolve_timezone(spec.timezone)
    events = [e for e in reader.alert_events(since=as_of - seconds + 1, limit=500) if e.ts <= as_of]
    history_kept = bool(events) or bool(reader.alert_events(limit=1))
    lines = [_kpi_line(kpi, then.kpi(kpi.id)) for kpi in now.kpis]
    off = sorted(
        (line for line in lines if line.why),
        key=lambda line: _STATE_RANK.get(line.state, 9),
    )
    movers = sorted(
        (line for line in lines if line.change_pct not in (None, 0.0)),
        key=lambda line: -abs(line.change_pct or 0.0),
    )[:MOVERS]
    return Digest(
        title=now.title,
        as_of=timeutil.format_time(as_of, tz),
        since=timeutil.format_time(as_of - seconds, tz),
        span=span.label,
        period=now.period_label,
        expected=format_progress(now.expected),
        off_target=tuple(off),
        changes=tuple(_change_line(e, tz, _one_year(as_of - seconds, as_of, tz)) for e in events),
        history_kept=history_kept,
        key_results=_key_results(now),
        checkins_due=_checkins_due(now, as_of),
        movers=tuple(movers),
    )


def _kpi_line(kpi: KpiView, before: KpiView | None) -> KpiLine:
    previous = before.value if before is not None else None
    change = format_delta(
        kpi.value, previous, kpi.format, currency=kpi.currency, decimals=kpi.decimals
    )
    # The board's rules for a change and its verdict, over the digest's own span.
    delta, pct = change_of(kpi.value, previous)
    good = delta_good(delta, kpi.direction)
    trend = "" if delta is None else "flat" if good is None else "better" if good else "worse"
    return KpiLine(
        id=kpi.id,
        title=kpi.title,
        state=kpi.state,
        display=kpi.display,
        target_display=kpi.target_display,
        change=change,
        trend=trend,
        good=good,
        why=_why(kpi),
        change_pct=pct,
    )


def _why(kpi: KpiView) -> str:
    """Why a KPI is off target ("" when it is not)."""
    if kpi.state in ("crit", "warn"):
        return kpi.state
    if kpi.state == "stale":
        return f"no fresh data: last point {kpi.age_display}" if kpi.age_display else "stale"
    if kpi.state == "no_data":
        return "no data"
    if kpi.state == "error":
        return f"error: {kpi.error}" if kpi.error else "error"
    if kpi.target is not None and kpi.value is not None:
        if kpi.direction == "up" and kpi.value < kpi.target:
            return "below target"
        if kpi.direction == "down" and kpi.value > kpi.target:
            return "above target"
    return ""


def _one_year(lo: int, hi: int, tz) -> bool:
    return timeutil.to_local(lo, tz).year == timeutil.to_local(hi, tz).year


def _change_line(event: AlertEvent, tz, one_year: bool) -> ChangeLine:
    # Inside one year the heading's dates say which: `11-27 01:00`, as the board's log.
    at = timeutil.to_local(event.ts, tz)
    return ChangeLine(
        time=at.strftime("%m-%d %H:%M") if one_year else timeutil.format_time(event.ts, tz),
        subject_kind=event.subject_kind,
        subject_id=event.subject_id,
        title=event.title,
        from_state=event.from_state,
        to_state=event.to_state,
        display=event.display,
    )


def _key_results(board: Board) -> tuple[KrLine, ...]:
    found: list[KrLine] = []
    for objective in iter_objectives(board.okrs):
        for kr in objective.key_results:
            if kr.status not in _OFF_TRACK:
                continue
            progress = kr.progress or 0.0
            found.append(
                KrLine(
                    id=kr.id,
                    title=kr.title,
                    owner=kr.owner or objective.owner,
                    status=kr.status,
                    progress=format_progress(kr.progress),
                    expected=format_progress(board.expected),
                    gap_points=gap_points(board.expected - progress),
                    gap_display=gap_short(board.expected - progress),
                    forecast=_forecast_words(kr.forecast),
                )
            )
    found.sort(key=lambda line: (_OFF_TRACK.index(line.status), -line.gap_points))
    return tuple(found)


def _forecast_words(forecast: KrForecast | None) -> str:
    if forecast is None or not forecast.has_forecast:
        return ""
    return f"{forecast.summary} {forecast.status_label}"


def _checkins_due(board: Board, as_of: int) -> tuple[CheckinLine, ...]:
    found: list[CheckinLine] = []
    for objective in iter_objectives(board.okrs):
        for kr in objective.key_results:
            if not kr.checkin_due:
                continue
            last = (
                "never"
                if kr.last_checkin_at is None
                else f"{timeutil.format_age(as_of - kr.last_checkin_at)}"
            )
            found.append(CheckinLine(kr.id, kr.title, kr.owner or objective.owner, last))
    return tuple(found)
