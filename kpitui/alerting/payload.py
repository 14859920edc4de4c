"""What an alert says to a target: one JSON object (a command's stdin, a webhook's body),
the same as `KPITUI_*` environment variables, and a Slack/Mattermost message.

    {"kpi": "mrr", "title": "MRR", "from": "warn", "to": "crit", "value": 9100.0,
     "display": "$9,100.00", "target": 10000.0, "target_display": "$10,000.00",
     "change": "▼ -400 (-4.2%)", "time": "2026-12-07T12:00:00Z", "repeat": false,
     "reason": "MRR went from warn to crit: $9,100.00 against a target of $10,000.00",
     "board": "Growth", "event": 17}

A key result's alert has "kr" in place of "kpi". `from` is null for a state the
watcher found at start. Every number is shown as the board shows it (`display`).
"""

from __future__ import annotations

import math
from typing import Any

from kpitui import timeutil
from kpitui.alerting.observe import Observation
from kpitui.alerting.transitions import is_bad, level
from kpitui.store.api import AlertEvent


def reason(event: AlertEvent, seen: Observation | None) -> str:
    """One line saying what happened, for a person."""
    who, new, old = event.title, event.to_state, event.from_state
    if old is not None and old == new:
        said = f"{who} is still {new}"
    elif old is None:
        said = f"{who} is {new} (found at start)"
    elif not is_bad(event.subject_kind, new):
        said = f"{who} is back to {new} from {old}"
    else:
        said = f"{who} went from {old} to {new}"
    numbers = event.display or "no value"
    if seen is not None and seen.target_display:
        numbers += f" against a target of {seen.target_display}"
    if seen is not None and seen.detail:
        numbers += f"; {seen.detail}"
    return f"{said}: {numbers}"


def alert_json(event: AlertEvent, seen: Observation | None, board: str) -> dict[str, Any]:
    """The alert as one JSON object (see the module docstring)."""
    value = event.value if event.value is not None and math.isfinite(event.value) else None
    return {
        event.subject_kind: event.subject_id,
        "title": event.title,
        "from": event.from_state,
        "to": event.to_state,
        "value": value,
        "display": event.display,
        "target": seen.target if seen is not None else None,
        "target_display": seen.target_display if seen is not None else None,
        "change": seen.change if seen is not None else None,
        "time": timeutil.iso_utc(event.ts),
        "repeat": event.from_state == event.to_state,
        "reason": reason(event, seen),
        "board": board,
        "event": event.id,
    }


def alert_env(payload: dict[str, Any]) -> dict[str, str]:
    """The alert as `KPITUI_*` environment variables (empty text for a missing value)."""

    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    kind = "kpi" if "kpi" in payload else "kr"
    env = {"KPITUI_SUBJECT": kind, f"KPITUI_{kind.upper()}": text(payload[kind])}
    for key in ("title", "from", "to", "value", "display", "target", "target_display"):
        env[f"KPITUI_{key.upper()}"] = text(payload[key])
    for key in ("change", "time", "repeat", "reason", "board", "event"):
        env[f"KPITUI_{key.upper()}"] = text(payload[key])
    return env


_COLOURS = {"crit": "#d40000", "warn": "#e8a200", "ok": "#2e9e44"}


def _escaped(text: object) -> str:
    """Text as Slack and Mattermost show it literally (their three control characters)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack (and Mattermost) incoming-webhook message: the reason as text, and an
    attachment with the value, target, change and states as fields."""
    kind = "kpi" if "kpi" in payload else "kr"
    to_level = level(kind, payload["to"])
    glyph = {"crit": "✖", "warn": "▲", "ok": "✔"}.get(to_level, "●")
    states = f"{payload['from'] or 'start'} → {payload['to']}"
    if payload["repeat"]:
        states = f"still {payload['to']}"
    fields = [
        {"title": "Value", "value": _escaped(payload["display"] or "—"), "short": True},
        {"title": "Target", "value": _escaped(payload["target_display"] or "—"), "short": True},
        {"title": "Change", "value": _escaped(payload["change"] or "n/a"), "short": True},
        {"title": "State", "value": _escaped(states), "short": True},
    ]
    text = f"{glyph} *{_escaped(payload['title'])}*: {_escaped(payload['reason'])}"
    return {
        "text": text,
        "attachments": [
            {
                "fallback": _escaped(payload["reason"]),
                "color": _COLOURS.get(to_level, "#888888"),
                "fields": fields,
                "footer": _escaped(f"{payload['board']} · kpitui · {payload['time']}"),
            }
        ],
    }
