"""Numbers as the user reads them: the KPI `format`s of SPEC §3 and the delta line.

Every function takes plain numbers and returns text; nothing here knows about the
store or the screen, so the TUI, the text report and the JSON `display` fields agree.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MISSING = "—"  # no value
NO_COMPARISON = "n/a"  # no previous value to compare with

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

# The decimals each format shows when the spec gives none (a whole `number` shows 0,
# but a delta that rounds to 0 is not whole).
_DEFAULT_DECIMALS = {"number": 2, "percent": 1, "currency": 2, "compact": 1, "duration": 1}

_COMPACT_UNITS = (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3))
_DURATION_UNITS = (("d", 86400), ("h", 3600), ("m", 60))


def format_value(
    value: float | None,
    fmt: str = "number",
    *,
    currency: str | None = None,
    decimals: int | None = None,
) -> str:
    """`value` in the KPI format: number, percent, currency, compact or duration."""
    if value is None or math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if fmt == "percent":
        return f"{_grouped(value * 100, 1 if decimals is None else decimals)}%"
    if fmt == "currency":
        return _currency(value, currency, 2 if decimals is None else decimals)
    if fmt == "compact":
        return _compact(value, decimals)
    if fmt == "duration":
        return _duration(value, decimals)
    return format_number(value, decimals)


def format_number(value: float, decimals: int | None = None) -> str:
    """Thousands separators; whole values without decimals, others with 2."""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    return _grouped(value, decimals)


def _grouped(value: float, decimals: int) -> str:
    if abs(value) >= 1e15:
        return f"{value:.3g}"  # beyond any real KPI: a 300-digit string helps nobody
    # Half up, as people round (0.3125 → 31.3%), not Python's half-to-even on binary.
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}"
    # `-0` and `-0.0` after rounding a tiny negative read as a sign error to users.
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0:
        text = text[1:]
    return text


def currency_prefix(code: str | None) -> str:
    if not code:
        return ""
    symbol = CURRENCY_SYMBOLS.get(code.upper())
    return symbol if symbol else f"{code} "


def _currency(value: float, code: str | None, decimals: int) -> str:
    text = _grouped(abs(value), decimals)
    sign = "-" if value < 0 and text.strip("0.,") else ""
    return f"{sign}{currency_prefix(code)}{text}"


def _compact(value: float, decimals: int | None) -> str:
    places = 1 if decimals is None else decimals
    magnitude = abs(value)
    for index, (suffix, size) in enumerate(_COMPACT_UNITS):
        if magnitude >= size:
            scaled = round(magnitude / size, places)
            # 999,960 rounds to 1000.0K: carry it to the next unit (1.0M).
            if scaled >= 1000 and index > 0:
                suffix, size = _COMPACT_UNITS[index - 1]
                scaled = round(magnitude / size, places)
            sign = "-" if value < 0 else ""
            return f"{sign}{scaled:,.{places}f}{suffix}"
    if decimals is None and not float(value).is_integer():
        decimals = 1
    return format_number(value, decimals)


def _duration(value: float, decimals: int | None) -> str:
    """Seconds → `45s`, `12m 30s`, `2h 05m`, `3d 04h` (the two largest units)."""
    sign = "-" if value < 0 else ""
    seconds = abs(float(value))
    if seconds < 60:
        places = decimals if decimals is not None else (0 if seconds.is_integer() else 1)
        text = f"{seconds:.{places}f}"
        if float(text) < 60:
            return f"{sign if float(text) else ''}{text}s"
    whole = round(seconds)
    (_, day), (_, hour), (_, minute) = _DURATION_UNITS
    days, rest = divmod(whole, day)
    hours, rest = divmod(rest, hour)
    minutes, secs = divmod(rest, minute)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


# -- deltas ----------------------------------------------------------------------------


def _signed(value: float, text: str) -> str:
    """`text` (the formatted magnitude) with the sign of `value`, unless it rounds to 0."""
    if not _nonzero(text):
        return text
    return f"{'-' if value < 0 else '+'}{text}"


def format_signed(
    value: float, fmt: str, *, currency: str | None = None, decimals: int | None = None
) -> str:
    """A change in the KPI's own format with its sign: `+1,234`, `-$3.50`, `+0.3 pp`."""
    if fmt == "percent":
        # A change of a rate is read in percentage points, not as a percent of a percent.
        return _signed(
            value, f"{_grouped(abs(value) * 100, 1 if decimals is None else decimals)} pp"
        )
    return _signed(value, format_value(abs(value), fmt, currency=currency, decimals=decimals))


NEUTRAL_SIGN = "±"
"""The sign of a relative change too small to show (`±0.0%`): neither up nor down."""


def format_percent_change(fraction: float) -> str:
    """`0.052` → `+5.2%`, `-0.01` → `-1.0%`: a relative change, always signed; one that
    rounds to zero reads `±0.0%` (its change may still show, `▲ +$5 (±0.0%)`), so a
    column of percent changes never mixes signed and unsigned numbers."""
    text = f"{_grouped(abs(fraction) * 100, 1)}%"
    return _signed(fraction, text) if _nonzero(text) else NEUTRAL_SIGN + text


def format_delta(
    value: float | None,
    previous: float | None,
    fmt: str = "number",
    *,
    currency: str | None = None,
    decimals: int | None = None,
) -> str:
    """`▲ +1,234 (+5.2%)`, `▼ -0.3 pp (-12.5%)`, `= 0`; `n/a` with nothing to compare."""
    if value is None or previous is None:
        return NO_COMPARISON
    delta = value - previous
    change = format_signed(delta, fmt, currency=currency, decimals=decimals)
    # A change from zero has no meaningful percentage.
    percent = None if previous == 0 else format_percent_change(delta / abs(previous))
    if not _nonzero(change) and percent is not None and _nonzero(percent):
        # NPS 37.4 → 37.8 with `decimals: 0` read "▲ 0 (+1.1%)": a change the percent
        # shows gets the decimals it needs (two more at most) to be seen too.
        base = _DEFAULT_DECIMALS[fmt] if decimals is None else decimals
        for more in (base + 1, base + 2):
            change = format_signed(delta, fmt, currency=currency, decimals=more)
            if _nonzero(change):
                break
    if not _nonzero(change) and (percent is None or not _nonzero(percent)):
        # Too small to show: an arrow beside "0" would point at nothing.
        return f"= {format_signed(0.0, fmt, currency=currency, decimals=decimals)}"
    arrow = "▲" if delta > 0 else "▼"
    return f"{arrow} {change}" if percent is None else f"{arrow} {change} ({percent})"


def _nonzero(text: str) -> bool:
    return any(ch.isdigit() and ch != "0" for ch in text)


PROGRESS_NEARLY_DONE = 0.995
"""From here up to 1, half-up rounding would say 100% of a target not yet met."""


def filled_cells(progress: float, cells: int) -> int:
    """Cells of a `cells`-wide progress bar to fill: clamped to 0..1, half up like
    `format_progress` (45% of 10 cells → 5), so a bar and its percent agree; full only
    when the target is met (96% is 9 of 10: a full bar beside "off track" reads as done)."""
    filled = math.floor(min(1.0, max(0.0, progress)) * cells + 0.5)
    return min(filled, cells - 1) if progress < 1 else filled


def format_progress(progress: float | None) -> str:
    """A progress fraction as whole percent, half up (`0.125` → `13%`; 1.25 → `125%`,
    over-achievement as is), `—` when unknown: one rounding for every face of the board.
    Short of the target never reads 100% (0.997 → `99%`, beside "missed" or "on track")."""
    if progress is None:
        return "—"
    if PROGRESS_NEARLY_DONE <= progress < 1:
        return "99%"
    return format_value(progress, "percent", decimals=0)


def format_tick(value: float, fmt: str) -> str:
    """A short axis label in a chart's format, 3 significant digits: `12K`, `2.1%`, `2h`."""
    if fmt == "percent":
        shown = value * 100
        return f"{shown:.0f}%" if abs(shown - round(shown)) < 1e-9 else f"{shown:.1f}%"
    if fmt == "duration":
        seconds = abs(value)
        sign = "-" if value < 0 else ""
        for unit, size in _DURATION_UNITS:
            if seconds >= size:
                return f"{sign}{seconds / size:.3g}{unit}"
        return f"{sign}{seconds:.3g}s"
    magnitude = abs(value)
    for suffix, size in _COMPACT_UNITS:
        if magnitude >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}" if magnitude < 1000 else f"{value:.0f}"


def format_share(share: float | None) -> str:
    """A share of a total, 1 decimal: `0.123` → `12.3%`; empty when there is none."""
    return "" if share is None else format_value(share, "percent")


def gap_points(gap: float) -> int:
    """expected - progress in whole percentage points (0.25 → 25: a quarter behind)."""
    return round(gap * 100)


def gap_short(gap: float) -> str:
    """expected - progress in points, short: `12 pts behind`, `1 pt behind`, `3 pts ahead`,
    `on the expected line`."""
    points = gap_points(gap)
    if points == 0:
        return "on the expected line"
    unit = "pt" if abs(points) == 1 else "pts"
    return f"{points} {unit} behind" if points > 0 else f"{-points} {unit} ahead"


def gap_words(gap: float | None) -> str:
    """expected - progress in points: `12 pts behind expected`, `1 pt ahead of expected`."""
    if gap is None:
        return "no progress to compare"
    if gap_points(gap) == 0:
        return "right on the expected line"
    short = gap_short(gap)
    return f"{short} expected" if short.endswith("behind") else f"{short} of expected"
