"""The alert rule each KPI and key result has, resolved once from the spec: its own
`alert:` over the board's `alerts:` over the defaults, field by field (a KPI that only
writes `for: 1h` keeps the board's `notify:`).

Also what a notify target is called wherever it is shown or recorded (`label`): the
command as written, a webhook by its host and a short hash of its URL, or by the
environment variable that holds it, so a secret URL is never printed nor stored.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterator
from urllib.parse import urlsplit

from msgspec import Struct

from kpitui.spec.models import (
    DEFAULT_ALERT_ON,
    AlertOn,
    AlertRule,
    Dashboard,
    Target,
    Webhook,
)

SubjectKind = str  # "kpi" or "kr", as the store's AlertEvent says


class Rule(Struct, frozen=True):
    """A resolved alert rule: seconds, not text."""

    hold: int = 0
    """A new state must hold this many seconds before it fires (`for:`)."""
    on: frozenset[AlertOn] = frozenset(DEFAULT_ALERT_ON)
    repeat: int | None = None
    """Re-notify every this many seconds while the state stays bad; None: never."""
    notify: tuple[Target, ...] = ()


DEFAULT_RULE = Rule()
_STATUS_WORDS = {"at_risk": "warn", "off_track": "crit"}
"""A key result's words for the KPI scale's (see `alerting.transitions.level`)."""


def resolve(board: AlertRule, own: AlertRule | None) -> Rule:
    """`own` (a KPI's or key result's `alert:`) over `board` (the spec's `alerts:`)."""

    def pick(name: str) -> object:
        value = getattr(own, name) if own is not None else None
        return value if value is not None else getattr(board, name)

    hold, on, repeat, notify = (pick(n) for n in ("hold", "on", "repeat", "notify"))
    return Rule(
        hold=hold.seconds if hold is not None else 0,
        on=frozenset(_STATUS_WORDS.get(w, w) for w in on) if on is not None else DEFAULT_RULE.on,
        repeat=repeat.seconds if repeat is not None and repeat.seconds > 0 else None,
        notify=tuple(notify or ()),
    )


def subject_rules(dashboard: Dashboard) -> dict[tuple[SubjectKind, str], Rule]:
    """The rule of every KPI (`("kpi", id)`) and key result (`("kr", id)`) of the spec."""
    from kpitui.spec.validate import walk_objectives

    rules: dict[tuple[SubjectKind, str], Rule] = {}
    for kpi in dashboard.kpis:
        rules["kpi", kpi.id] = resolve(dashboard.alerts, kpi.alert)
    for objective, _ in walk_objectives(dashboard.okrs):
        for kr in objective.key_results:
            rules["kr", kr.id] = resolve(dashboard.alerts, kr.alert)
    return rules


def notify_paths(dashboard: Dashboard) -> Iterator[tuple[tuple, AlertRule]]:
    """Every alert rule written in the spec with its path: for the checks."""
    from kpitui.spec.validate import walk_objectives

    yield ("alerts",), dashboard.alerts
    for i, kpi in enumerate(dashboard.kpis):
        if kpi.alert is not None:
            yield ("kpis", i, "alert"), kpi.alert
    for objective, path in walk_objectives(dashboard.okrs):
        for j, kr in enumerate(objective.key_results):
            if kr.alert is not None:
                yield (*path, "key_results", j, "alert"), kr.alert


def webhook_of(target: Target) -> Webhook | None:
    """A target's webhook as a mapping (`webhook: URL` is `{url: URL}`)."""
    if target.webhook is None:
        return None
    if isinstance(target.webhook, str):
        return Webhook(url=target.webhook)
    return target.webhook


def command_words(target: Target) -> list[str]:
    """The command split like a shell would (raises ValueError on an unclosed quote)."""
    return shlex.split(target.command or "")


def label(target: Target) -> str:
    """How a target is named in messages and in the alert history: never a secret."""
    if target.command is not None:
        return f"command: {target.command}"
    hook = webhook_of(target)
    if hook is None:
        return "nothing"
    if hook.url_env is not None:
        return f"webhook: ${hook.url_env}"
    url = hook.url or ""
    # A webhook's path is often its secret (Slack's /services/T…/B…/XXXX): shown as a
    # hash, enough to tell two hooks on one host apart.
    digest = hashlib.sha256(url.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    try:
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.hostname or ''}"
        if parts.port:
            host += f":{parts.port}"
    except ValueError:
        host = "webhook"
    return f"webhook: {host} #{digest}"
