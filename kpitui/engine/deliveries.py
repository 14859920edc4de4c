"""Whether each notify target is getting its alerts, read from the store's alert history
(the events and the targets each was delivered to): for `kpitui check` (at the target's
line) and the board's problems line, so a webhook that has been failing for days is said
where people look, not only on the watcher's stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from msgspec import Struct

from kpitui import timeutil
from kpitui.spec.alert_rules import label, notify_paths, subject_rules
from kpitui.spec.models import Dashboard
from kpitui.store.api import AlertEvent

GRACE = 300
"""Seconds an alert may take to be delivered (retries included) before it is missed."""
LOOKBACK = 7 * 86400


class TargetHealth(Struct, frozen=True):
    target: str
    """The target's label."""
    path: tuple
    """Where the spec first names it."""
    missed: int
    """Alerts in a row, newest first, that did not reach it."""
    newest_missed: int | None
    oldest_missed: int | None = None
    """The first alert of that streak: since when the target has been failing."""


def delivery_health(
    dashboard: Dashboard, events: Sequence[AlertEvent], as_of: int
) -> list[TargetHealth]:
    """The targets whose newest due alert did not reach them, with how many in a row."""
    rules = subject_rules(dashboard)
    places: dict[str, tuple] = {}
    for path, rule in notify_paths(dashboard):
        for i, target in enumerate(rule.notify or ()):
            places.setdefault(label(target), (*path, "notify", i))
    streak: dict[str, int] = {}
    newest: dict[str, int] = {}
    oldest: dict[str, int] = {}
    settled: set[str] = set()
    for event in sorted(events, key=lambda e: (e.ts, e.id), reverse=True):
        if not (as_of - LOOKBACK <= event.ts <= as_of - GRACE):
            continue
        rule = rules.get((event.subject_kind, event.subject_id))
        for target in rule.notify if rule is not None else ():
            name = label(target)
            if name in settled:
                continue
            if name in event.delivered:
                settled.add(name)
            else:
                streak[name] = streak.get(name, 0) + 1
                newest.setdefault(name, event.ts)
                oldest[name] = event.ts
    return [
        TargetHealth(name, places.get(name, ("alerts",)), count, newest.get(name), oldest.get(name))
        for name, count in streak.items()
    ]


def health_message(health: TargetHealth, tz: tzinfo) -> str:
    alerts = "the last alert" if health.missed == 1 else f"the last {health.missed} alerts"
    when = (
        f" (newest {timeutil.format_time(health.newest_missed, tz)})"
        if health.newest_missed is not None
        else ""
    )
    return f"{alerts} did not reach {health.target}{when}"


HEADER_LABEL = 40
"""Cells of a target's name in the board's one-row line: its kind, host and hash fit,
and "failing since" still fits beside it in 80 columns."""


def header_message(health: TargetHealth, tz: tzinfo, as_of: int) -> str:
    """The board's one row for a failing target, its essentials first (which target,
    since when), so a narrow terminal cuts only the count:
    `webhook: $SLACK_URL failing since 10:42 (3 missed)`."""
    name = health.target
    if len(name) > HEADER_LABEL:
        name = name[: HEADER_LABEL - 1] + "…"
    since = ""
    if health.oldest_missed is not None:
        then = timeutil.to_local(health.oldest_missed, tz)
        today = timeutil.to_local(as_of, tz).date() == then.date()
        since = f" since {then.strftime('%H:%M' if today else '%m-%d %H:%M')}"
    return f"{name} failing{since} ({health.missed} missed)"
