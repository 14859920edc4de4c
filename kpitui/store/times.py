"""The one rule for the time of a point or a check-in, shared by every path that writes:
`record --at`, `checkin --at`, CSV and JSON imports and the writer itself, so a time one
of them refuses is refused by all (an import once stored `1960-01-01` that `record`
rejected, and `2026` as 2026 seconds after 1970).

Times are those `timeutil.parse_time` reads (ISO 8601, dates, epoch seconds), within
the years kpitui lays windows and periods in (`timeutil.FIRST_YEAR..LAST_YEAR`).
"""

from __future__ import annotations

import re

from kpitui.literal import quoted
from kpitui.timeutil import FIRST_YEAR, LAST_YEAR, parse_time

EARLIEST = parse_time(f"{FIRST_YEAR}-01-01")
"""The first second a point may have."""
LATEST = parse_time(f"{LAST_YEAR + 1}-01-01") - 1
"""The last second a point may have."""

RANGE_HINT = f"use a time from {FIRST_YEAR} to {LAST_YEAR}; epoch milliseconds? divide by 1000"

FORMS_HINT = "write a date like 2026-11-24, a time like 2026-11-24T09:30:00Z, or epoch seconds"

_YEAR = re.compile(r"\s*\d{4}\s*\Z")


class TimeProblem(ValueError):
    """A time that is not one, with a hint on how to write it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def point_time(raw: object) -> int:
    """Epoch seconds of `raw` (text, or epoch seconds as a number); TimeProblem when it
    is no time or lies outside EARLIEST..LATEST."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise TimeProblem(f"{quoted(raw)} is not a time", FORMS_HINT)
    if isinstance(raw, str) and not raw.strip():
        raise TimeProblem(
            "empty time", "every point needs one: " + FORMS_HINT.removeprefix("write ")
        )
    year = str(raw).strip() if isinstance(raw, str) else None
    if isinstance(raw, int) and 1000 <= raw <= 9999:
        year = str(raw)
    if year is not None and _YEAR.match(year):
        # As epoch seconds a bare year is a moment of January 1970: surely not meant.
        raise TimeProblem(
            f"{quoted(year)} is a year, not a time",
            f"write a date such as {year}-01-01, or epoch seconds",
        )
    if isinstance(raw, int) and not EARLIEST <= raw <= LATEST:
        raise TimeProblem(f"time {quoted(raw)} is out of range", RANGE_HINT)  # exact, however big
    try:
        ts = parse_time(raw)
    except ValueError as exc:
        raise TimeProblem(str(exc)) from None
    if not EARLIEST <= ts <= LATEST:
        raise TimeProblem(f"time {quoted(raw)} is out of range", RANGE_HINT)
    return ts
