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
    return [
        TargetHealth(name, places.get(name, ("alerts",)), count, newest.get(name))
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
