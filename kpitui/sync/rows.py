"""A query's rows as points: the `time` column (a timestamp, a date, an ISO string or
epoch seconds), the `value` column (a finite number), every other column a label.

The first row that does not fit — a NULL or text value, a time that is no time, a
missing column — fails the whole pull with the row's number (1-based, in the order
the database returned them), so nothing half-read is written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from kpitui.errors import InputError
from kpitui.literal import quoted
from kpitui.store.times import TimeProblem, point_time
from kpitui.timeutil import parse_time

TIME_COLUMN = "time"
VALUE_COLUMN = "value"


class Columns:
    """Where `time` and `value` are among a result's columns (names compared without
    case), and the label columns."""

    def __init__(self, names: Sequence[str]) -> None:
        lowered = [n.lower() for n in names]
        missing = [c for c in (TIME_COLUMN, VALUE_COLUMN) if c not in lowered]
        if missing:
            got = ", ".join(names) or "none"
            raise InputError(
                f"the query returns no {' and no '.join(missing)} column (it returns: {got})",
                hint="name them in the SELECT: `... AS time`, `... AS value`",
            )
        twice = sorted({n for n in lowered if lowered.count(n) > 1})
        if twice:
            raise InputError(
                f"the query returns the column {quoted(twice[0])} twice",
                hint="give each column its own name with AS",
            )
        self.time = lowered.index(TIME_COLUMN)
        self.value = lowered.index(VALUE_COLUMN)
        self.labels = [(i, n) for i, n in enumerate(names) if i not in (self.time, self.value)]


def row_time(raw: object, row: int) -> int:
    """Epoch seconds of a time cell; a timestamp without a zone is UTC, as everywhere
    in kpitui."""
    if raw is None:
        raise InputError(f"row {row}: time is NULL", hint="filter out rows without a time")
    try:
        if isinstance(raw, datetime | date):
            return point_time(parse_time(raw))
        return point_time(float(raw) if isinstance(raw, Decimal) else raw)
    except TimeProblem as exc:
        raise InputError(f"row {row}: {exc.message}", hint=exc.hint) from None
    except (ValueError, OverflowError, OSError) as exc:
        raise InputError(f"row {row}: time {quoted(raw)} is out of range ({exc})") from None


def row_value(raw: object, row: int) -> float:
    if raw is None:
        raise InputError(
            f"row {row}: value is NULL",
            hint="COALESCE(…, 0) if none means zero, or filter the row out",
        )
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise InputError(
            f"row {row}: value {quoted(raw)} is not a number ({type(raw).__name__})",
            hint="CAST it to a number in the query",
        )
    value = float(raw)
    if not math.isfinite(value):
        raise InputError(f"row {row}: value {quoted(raw)} is not a finite number")
    return value


def label_text(raw: object) -> str | None:
    """A label cell as stored text; NULL (and an empty text) is no label."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return str(raw).lower()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    text = raw.isoformat() if isinstance(raw, date) else str(raw)
    return text.strip() or None


def points(
    columns: Columns, rows: Iterable[Sequence[object]], first_row: int = 1
) -> list[tuple[dict[str, str], int, float]]:
    """(labels, time, value) of each row, numbered from `first_row`."""
    out = []
    t, v, labels = columns.time, columns.value, columns.labels
    for n, row in enumerate(rows, first_row):
        found = {}
        for i, name in labels:
            text = label_text(row[i])
            if text is not None:
                found[name] = text
        out.append((found, row_time(row[t], n), row_value(row[v], n)))
    return out
