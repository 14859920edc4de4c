"""Times, durations, windows and OKR periods.

Inside kpitui a moment is an `int` of UTC epoch seconds. Calendar arithmetic (month,
quarter, year boundaries; period dates) happens in the dashboard's timezone. Nothing here
reads the wall clock except `SystemClock`: the moment is always passed in.

A duration or window written in a spec is parsed once, when the spec loads, into a
`Duration` or a `Window`: everything after reads `.seconds`, `.calendar`, `.range()`,
and nothing parses "7d" again.
"""

from __future__ import annotations

import functools
import math
import os
import re
import time
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct

from kpitui.literal import quoted

CALENDAR_WINDOWS: dict[str, tuple[str, int]] = {
    "mtd": ("month", 1),
    "qtd": ("quarter", 3),
    "ytd": ("year", 12),
}
"""The calendar windows: the unit each runs from the start of, and its length in months."""

YEAR = 365 * 86400
"""A year as a duration says it (`2y`): 365 days, as the drill-down's `1y` range is."""
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": YEAR}
_DURATION_RE = re.compile(r"^(?:\d+(?:\.\d+)?[smhdwy])+$")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)([smhdwy])")
DURATION_EXAMPLES = "30s, 15m, 12h, 7d, 2w, 1y"
_EPOCH_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_QUARTER_RE = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


class Clock(Protocol):
    def now(self) -> int: ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())


class FixedClock(Struct):
    """A clock that says what it is told: `--as-of`, tests, reproducible snapshots."""

    at: int

    def now(self) -> int:
        return self.at


# -- parsing -------------------------------------------------------------------------


def parse_time(text: str | int | float | date | datetime) -> int:
    """ISO 8601 date-time (naive means UTC), a date (midnight UTC), or epoch seconds.

    Raises ValueError with a message fit to show the user.
    """
    if isinstance(text, bool):
        raise ValueError(f"{quoted(text)} is not a time")
    if isinstance(text, int | float):
        try:
            finite = math.isfinite(text)
        except OverflowError:  # an integer too big for a float
            raise ValueError(f"time {quoted(text)} is out of range") from None
        if not finite:
            raise ValueError(f"{quoted(text)} is not a time")
        return math.floor(text)
    if isinstance(text, datetime):
        dt = text if text.tzinfo else text.replace(tzinfo=UTC)
        return math.floor(dt.timestamp())
    if isinstance(text, date):
        return int(datetime(text.year, text.month, text.day, tzinfo=UTC).timestamp())
    raw = str(text).strip()
    if not raw:
        raise ValueError("empty time")
    if len(raw) == 8 and raw.isdigit():  # 20261101: a date, not a moment in 1970
        try:
            return parse_time(date.fromisoformat(raw))
        except ValueError:
            raise ValueError(
                f"{quoted(raw)} is not a date: write it as YYYYMMDD or 2026-11-01"
            ) from None
    if _EPOCH_RE.match(raw):
        seconds = float(raw)
        if not math.isfinite(seconds):  # more digits than a float holds: not "inf"
            raise ValueError(f"time {quoted(raw)} is out of range")
        return parse_time(seconds)
    try:
        if len(raw) == 10:
            return parse_time(date.fromisoformat(raw))
        return parse_time(datetime.fromisoformat(raw))
    except ValueError:
        raise ValueError(
            f"{quoted(raw)} is not a time: use ISO 8601 (2026-11-24T09:30:00Z), a date "
            "(2026-11-24) or epoch seconds"
        ) from None


MAX_DURATION = 36500 * 86400
"""The longest duration accepted (100 years of days)."""


def parse_duration(text: str) -> int:
    """`90s`, `15m`, `12h`, `7d`, `2w`, `2y` (of 365 days), or combined `1h30m` → seconds."""
    raw = str(text).strip().lower()
    if not _DURATION_RE.match(raw):
        raise ValueError(
            f"{quoted(text)} is not a duration: use a number and a unit, e.g. {DURATION_EXAMPLES}"
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART_RE.findall(raw))
    if seconds <= 0:
        raise ValueError(f"{quoted(text)} is not a positive duration")
    if seconds < 1:
        raise ValueError(f"{quoted(text)} is shorter than a second: durations are whole seconds")
    if seconds > MAX_DURATION:
        # Windows reach back from as-of: centuries would leave the calendar (and SQLite's
        # integers) behind.
        raise ValueError(f"{quoted(text)} is longer than 100 years: use at most 36500d")
    return int(seconds)


def span_label(seconds: int) -> str:
    """Seconds as a duration is written: `30s`, `15m`, `12h`, `7d`, `2w` (the largest
    whole unit)."""
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class _Value:
    """A small immutable value compared and hashed by its `text`, shown as its text."""

    __slots__ = ("text",)
    text: str

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.text == self.text  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.text))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (type(self), (self.text,))


class Duration(_Value):
    """A length of time as a spec or a command line writes it (`30s`, `15m`, `1h30m`,
    `7d`, `2w`, `2y`), parsed once: `.seconds`. Raises ValueError with a message fit to
    show the user."""

    __slots__ = ("seconds",)
    seconds: int

    def __init__(self, text: str | int) -> None:
        if isinstance(text, int) and not isinstance(text, bool):
            text = f"{text}s"  # a bare number of seconds
        seconds = parse_duration(text)
        object.__setattr__(self, "text", str(text).strip().lower())
        object.__setattr__(self, "seconds", seconds)

    @classmethod
    def of(cls, seconds: int) -> Duration:
        """The duration of `seconds`, written with its largest whole unit."""
        return cls(span_label(seconds))

    @property
    def label(self) -> str:
        """The duration as it reads: `1d`, `1h30m` (as written, lower-cased)."""
        return self.text


WINDOW_HINT = "use 7d, 30d, 12h, mtd, qtd or ytd"


class Window(_Value):
    """The points a KPI or chart reads, as a spec writes it: a rolling duration (`7d`:
    `as_of - 7d < ts <= as_of`) or a calendar window (`mtd`, `qtd`, `ytd`: from the start
    of the month, quarter or year, in the board's zone). Parsed once; raises ValueError
    with a message fit to show the user."""

    __slots__ = ("calendar", "seconds")
    calendar: str | None
    """`mtd`, `qtd` or `ytd`; None for a rolling window."""
    seconds: int | None
    """A rolling window's length; None for a calendar window."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise ValueError(f"{quoted(text)} is not a window: {WINDOW_HINT}")
        written = text.strip().lower()
        calendar = written if written in CALENDAR_WINDOWS else None
        seconds = None
        if calendar is None:
            try:
                seconds = parse_duration(written)
            except ValueError as exc:
                if "is not a duration" not in str(exc):
                    raise  # too long, too short: that message says more
                raise ValueError(f"{quoted(text)} is not a window: {WINDOW_HINT}") from None
        object.__setattr__(self, "text", written)
        object.__setattr__(self, "calendar", calendar)
        object.__setattr__(self, "seconds", seconds)

    @classmethod
    def rolling(cls, seconds: int) -> Window:
        """The rolling window `seconds` long (`400d` for 400 days), made from the number
        itself: a window the engine works out (a detail's "all data") is not written out
        as text to be parsed back."""
        window = cls.__new__(cls)
        days, rest = divmod(seconds, 86400)
        text = f"{days}d" if not rest and days else span_label(seconds)
        object.__setattr__(window, "text", text)
        object.__setattr__(window, "calendar", None)
        object.__setattr__(window, "seconds", seconds)
        return window

    @property
    def label(self) -> str:
        """The window as it reads: `7d`, `mtd`."""
        return self.text

    @property
    def calendar_unit(self) -> str | None:
        """`month`, `quarter` or `year` for a calendar window."""
        return None if self.calendar is None else CALENDAR_WINDOWS[self.calendar][0]

    def spans(self, seconds: int) -> bool:
        """Whether the window is a rolling one exactly `seconds` long (a value over it is
        on the scale of one bucket of that size)."""
        return self.seconds == seconds

    def range(self, as_of: int, tz: tzinfo) -> TimeRange:
        """`7d` → `as_of - 7d < ts <= as_of`; `mtd` → `start of month <= ts <= as_of`."""
        if self.calendar is not None:
            start = calendar_start(self.calendar, to_local(as_of, tz).date())
            return TimeRange(local_midnight(start, tz), as_of)
        assert self.seconds is not None
        return TimeRange(as_of - self.seconds + 1, as_of)

    def previous_range(self, as_of: int, tz: tzinfo) -> TimeRange:
        """The window of equal length just before; for mtd/qtd/ytd the same elapsed span
        of the previous month/quarter/year (clamped to that period's end)."""
        current = self.range(as_of, tz)
        if self.calendar is None:
            span = current.seconds
            return TimeRange(current.lo - span, current.hi - span)
        start = calendar_start(self.calendar, to_local(as_of, tz).date())
        months = CALENDAR_WINDOWS[self.calendar][1]
        prev_start = local_midnight(_add_months(start, -months), tz)
        elapsed = as_of - current.lo
        return TimeRange(prev_start, min(prev_start + elapsed, current.lo - 1))


FIRST_YEAR, LAST_YEAR = 1971, 9998
"""The years kpitui lays windows and periods in: a year's margin inside what dates and
epoch seconds can hold, so a window reaching back or a period's end never leaves it."""


def check_year(day: date, what: str) -> date:
    """`day`, or a ValueError when it lies outside FIRST_YEAR..LAST_YEAR."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{what} {day.isoformat()} is out of range: use a year from 1971 to 9998")
    return day


def parse_quarter(text: str) -> tuple[date, date]:
    """`2026-Q4` → (first day, last day) of that quarter, both inclusive."""
    m = _QUARTER_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"{quoted(text)} is not a quarter: write it as 2026-Q4")
    year, q = int(m.group(1)), int(m.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"{quoted(text)} is out of range: use a year from 1971 to 9998")
    start = date(year, 3 * q - 2, 1)
    end = _add_months(start, 3) - timedelta(days=1)
    return start, end


# -- zones ---------------------------------------------------------------------------


def resolve_timezone(name: str | None) -> tzinfo:
    """The spec's IANA zone, else the machine's local zone, else UTC."""
    if name:
        return ZoneInfo(name)
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    localtime = Path("/etc/localtime")
    if localtime.exists():
        try:
            with localtime.open("rb") as fh:
                return ZoneInfo.from_file(fh, key="localtime")
        except (OSError, ValueError):
            pass
    return UTC


def zone(name: str | None) -> tzinfo:
    """The zone a board is shown in, by the name the Board carries: an IANA name, or
    "local" / None for the machine's own (read again each time: `TZ` may change)."""
    if name in (None, "", "local"):
        return resolve_timezone(None)
    return _named_zone(name)


@functools.lru_cache(maxsize=64)
def _named_zone(name: str) -> tzinfo:
    return resolve_timezone(name)


def to_local(ts: int, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(ts, tz)


def local_midnight(day: date, tz: tzinfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def format_time(ts: int, tz: tzinfo, *, seconds: bool = False) -> str:
    return to_local(ts, tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_clock(ts: int, tz: tzinfo) -> str:
    """The time of day only, `14:14`: a moment of today, such as since when."""
    return to_local(ts, tz).strftime("%H:%M")


@functools.lru_cache(maxsize=4096)  # bucket starts come back on every refresh
def iso_utc(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def format_age(seconds: float) -> str:
    """A short age for humans: `just now`, `45s ago`, `3h ago`, `2d ago`."""
    s = max(0, int(seconds))
    if s < 5:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit} ago"
    return f"{s}s ago"


# -- windows -------------------------------------------------------------------------


class TimeRange(Struct, frozen=True):
    """Points with `lo <= ts <= hi` (both inclusive, epoch seconds)."""

    lo: int
    hi: int

    @property
    def seconds(self) -> int:
        return self.hi - self.lo + 1


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def calendar_start(window: str, day: date) -> date:
    """First day of the month/quarter/year holding `day`."""
    w = window.lower()
    if w == "mtd":
        return date(day.year, day.month, 1)
    if w == "qtd":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if w == "ytd":
        return date(day.year, 1, 1)
    raise ValueError(f"unknown calendar window {window!r}")


def bucket_aligned(rng: TimeRange, bucket: int, tz: tzinfo, *, widen: bool = False) -> TimeRange:
    """`rng` starting on a bucket boundary of the local grid (days begin at local
    midnight), so every bucket but the current one is whole: a daily sum is a calendar
    day's sum, and whole buckets can be read from the store's rollups. The start moves
    forward to the first boundary, or back to the one before it when `widen`."""
    offset = int(to_local(rng.lo, tz).utcoffset().total_seconds())  # type: ignore[union-attr]
    grid = min(bucket, 86400)
    back = (rng.lo + offset) % grid
    if widen or back == 0:
        return TimeRange(rng.lo - back, rng.hi)
    return TimeRange(rng.lo - back + grid, rng.hi)


def offset_range(current: TimeRange, offset: int) -> TimeRange:
    return TimeRange(current.lo - offset, current.hi - offset)


class Period(Struct, frozen=True):
    """An OKR period: from the start of `start` to the end of `end`, in `tz`."""

    start: date
    end: date
    tz: tzinfo

    @property
    def start_ts(self) -> int:
        return local_midnight(self.start, self.tz)

    @property
    def end_ts(self) -> int:
        """The first second after the period."""
        return local_midnight(self.end + timedelta(days=1), self.tz)

    def expected_progress(self, as_of: int) -> float:
        """Share of the period elapsed at `as_of`: 0 before it starts, 1 after it ends."""
        total = self.end_ts - self.start_ts
        return min(1.0, max(0.0, (as_of - self.start_ts) / total))

    def label(self) -> str:
        q_start, q_end = parse_quarter(f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}")
        if (q_start, q_end) == (self.start, self.end):
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def quarter_containing(as_of: int, tz: tzinfo) -> Period:
    day = to_local(as_of, tz).date()
    start = calendar_start("qtd", day)
    return Period(start, _add_months(start, 3) - timedelta(days=1), tz)
