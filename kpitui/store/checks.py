"""What every backend's writer accepts: metric names, labels, times, values, text.

The rules live here once, so a point one backend refuses the other refuses too, with
the same message. Importers check whole columns with their line numbers and hand the
writer's batch values already checked; the writer checks what reaches it directly.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Mapping

from kpitui.errors import InputError
from kpitui.literal import quoted
from kpitui.store.api import AlertEvent, PullState
from kpitui.store.times import TimeProblem, point_time

HOUR = 3600
DAY = 86400

METRIC_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*\Z")
CONFIDENCES = ("on_track", "at_risk", "off_track")
ALERT_SUBJECTS = ("kpi", "kr")

# Epoch seconds of 0001-01-01 and 9999-12-31T23:59:59Z: the bounds of every time query.
MIN_TS = -62135596800
MAX_TS = 253402300799

NUMBER_HINT = "write a plain number like 1234.5: no units, currency signs or thousands separators"
TEXT_HINT = "write it in UTF-8: a lone surrogate or bytes in another encoding cannot be stored"
METRIC_NAME_HINT = "a metric name starts with a letter or _ and holds letters, digits, _ . : -"
FINITE_HINT = "values must be finite numbers: no NaN or infinity"


def canonical_labels(labels: Mapping[str, str] | None) -> str:
    """The text stored in `series.labels`: sorted keys, no spaces, unicode kept."""
    return json.dumps(dict(labels or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def json_labels(text: str) -> dict[str, str]:
    """`series.labels` back to a dict (the reverse of `canonical_labels`)."""
    return json.loads(text) if text and text != "{}" else {}


def is_metric_name(name: object) -> bool:
    return isinstance(name, str) and METRIC_NAME_RE.match(name) is not None


def floor_to(ts: int, size: int) -> int:
    """Start of the `size`-second bucket holding `ts` (floor, also before 1970)."""
    return ts - ts % size


def is_text(value: object) -> bool:
    """A str a store can hold. Lone surrogates are not: the bytes of an argument that
    was not UTF-8 (kept by Python as U+DC80..U+DCFF), or a JSON escape like "\\ud800"."""
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def checked_series(metric: object, labels: object, where: str) -> tuple[str, dict[str, str]]:
    if isinstance(metric, str):
        metric = metric.strip()  # names and labels lose surrounding spaces in every writer
    if not is_metric_name(metric):
        raise InputError(f"{where}: {quoted(metric)} is not a metric name", hint=METRIC_NAME_HINT)
    assert isinstance(metric, str)
    return metric, checked_labels(labels, where)


def checked_labels(labels: object, where: str) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise InputError(f"{where}: labels must be a mapping of names to values")
    clean: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not key.strip():
            raise InputError(f"{where}: label names must be non-empty text")
        if value is None:
            continue
        if not isinstance(value, str):
            raise InputError(f"{where}: label {quoted(key)} must be text, not {quoted(value)}")
        key, value = key.strip(), value.strip()
        if not value:
            continue  # an empty label is no label
        if key in clean:
            raise InputError(f"{where}: label {quoted(key)} is given twice")
        if not is_text(key):
            raise InputError(f"{where}: label name {quoted(key)} is not UTF-8 text", hint=TEXT_HINT)
        if not is_text(value):
            raise InputError(
                f"{where}: label {quoted(key)}: {quoted(value)} is not UTF-8 text", hint=TEXT_HINT
            )
        clean[key] = value
    return clean


def checked_ts(ts: object, where: str) -> int:
    if isinstance(ts, bool):
        raise InputError(f"{where}: {quoted(ts)} is not a time")
    try:
        value = operator.index(ts)  # type: ignore[arg-type]
    except TypeError:
        raise InputError(f"{where}: time must be whole epoch seconds, not {quoted(ts)}") from None
    try:
        return point_time(value)
    except TimeProblem as exc:
        raise InputError(f"{where}: {exc.message}", hint=exc.hint) from None


def checked_value(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: {quoted(value)} is not a number", hint=NUMBER_HINT)
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"{where}: {quoted(value)} is not a finite number", hint=FINITE_HINT)
    return number


def checked_text(value: object, what: str, *, empty: bool = False) -> str:
    """Text a user gave (a note, an annotation): UTF-8, and not empty unless `empty`."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, not {quoted(value)}")
    if not is_text(value):
        raise InputError(f"{what} is not UTF-8 text", hint=TEXT_HINT)
    if not empty and not value.strip():
        raise InputError(f"{what} is empty")
    return value


def checked_checkin(
    kr_id: object, ts: object, value: object, confidence: object, note: object
) -> tuple[str, int, float, str | None, str | None]:
    """A check-in's fields as every backend stores them (the KR id stripped)."""
    if not isinstance(kr_id, str) or not kr_id.strip():
        raise InputError("the key-result id is empty", hint="use the KR id from the spec")
    kr_id = kr_id.strip()
    if not is_text(kr_id):
        raise InputError(f"the key-result id {quoted(kr_id)} is not UTF-8 text", hint=TEXT_HINT)
    if confidence is not None and confidence not in CONFIDENCES:
        raise InputError(
            f"unknown confidence {quoted(confidence)}", hint="use one of " + ", ".join(CONFIDENCES)
        )
    if note is not None and not is_text(note):
        raise InputError("the note must be UTF-8 text", hint=TEXT_HINT)
    return (
        kr_id,
        checked_ts(ts, "check-in"),
        checked_value(value, "check-in"),
        confidence,  # type: ignore[return-value]
        note,  # type: ignore[return-value]
    )


def checked_annotation(
    ts: object, text: object, metrics: object, labels: object
) -> tuple[int, str, tuple[str, ...], dict[str, str]]:
    at = checked_ts(ts, "annotation")
    body = checked_text(text, "the annotation's text")
    names: list[str] = []
    for metric in metrics or ():  # type: ignore[attr-defined]
        name = metric.strip() if isinstance(metric, str) else metric
        if not is_metric_name(name):
            raise InputError(
                f"annotation: {quoted(metric)} is not a metric name", hint=METRIC_NAME_HINT
            )
        if name not in names:
            names.append(name)
    return at, body, tuple(names), checked_labels(labels, "annotation")


def checked_event(event: AlertEvent) -> tuple[object, ...]:
    """An alert event's row: (ts, subject_kind, subject_id, title, from_state, to_state,
    value, display, delivered as JSON), the column order both backends insert."""
    if event.subject_kind not in ALERT_SUBJECTS:
        raise InputError(f"alert event: unknown subject kind {quoted(event.subject_kind)}")
    checked_text(event.subject_id, "alert event: the subject id")
    checked_text(event.title, "alert event: the title", empty=True)
    checked_text(event.to_state, "alert event: the new state")
    for target in event.delivered:
        checked_text(target, "alert event: a delivery target")
    return (
        checked_ts(event.ts, "alert event"),
        event.subject_kind,
        event.subject_id,
        event.title,
        event.from_state,
        event.to_state,
        None if event.value is None else checked_value(event.value, "alert event"),
        event.display,
        json.dumps(list(event.delivered), ensure_ascii=False),
    )


def checked_pull_state(state: PullState) -> tuple[object, ...]:
    """(pull_id, last_success, last_error_at, last_error, high_water)."""
    checked_text(state.pull_id, "the pull id")
    if state.last_error is not None:
        checked_text(state.last_error, "the pull's last error", empty=True)
    times = [
        None if t is None else checked_ts(t, "pull state")
        for t in (state.last_success, state.last_error_at)
    ]
    high = None if state.high_water is None else operator.index(state.high_water)
    return (state.pull_id, *times, state.last_error, high)
