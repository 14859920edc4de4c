"""The OKR period before this one, for a key result's value chart to draw "last quarter"
beside this quarter (`c`): day k of the earlier period is drawn on day k of this one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from kpitui import timeutil
from kpitui.timeutil import Period


def previous_period(period: Period) -> Period:
    """The calendar quarter before a calendar quarter; before any other period, one as
    many days long ending the day before it starts."""
    if period == timeutil.quarter_containing(period.start_ts, period.tz):
        return timeutil.quarter_containing(period.start_ts - 1, period.tz)
    end = period.start - timedelta(days=1)
    return Period(end - (period.end - period.start), end, period.tz)


def previous_words(period: Period) -> str:
    """The legend's name for the period before `period`."""
    if period == timeutil.quarter_containing(period.start_ts, period.tz):
        return "last quarter"
    return "the period before"


def moved_onto(
    values: Sequence[float | None], days: Sequence[int]
) -> tuple[tuple[int, float | None], ...]:
    """`values` (one per day of the earlier period) on this period's `days`, day by day;
    the earlier period's days past this one's last are left out."""
    return tuple(zip(days, values, strict=False))
