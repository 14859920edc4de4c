"""The ranges a chart is shown over when the user picks one, and the one rule that picks
its bucket: the KPI detail's range keys (`1` 7d … `4` 1y), the chart detail's, and the
board's range for its chart panels (`t`, a choice on screen only, never written to the
spec) all ask `auto_bucket`."""

from __future__ import annotations

from kpitui.engine.spacing import coarsest_needed
from kpitui.timeutil import Window, span_label

HOUR = 3600
DAY = 86400

RANGE_SECONDS: dict[str, int] = {"7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY, "1y": 365 * DAY}
"""The span of each preset range."""

BUCKET_LADDER: tuple[int, ...] = (HOUR, 6 * HOUR, DAY, 7 * DAY, 30 * DAY)
"""The bucket sizes an automatic choice, and `[`/`]`, step through."""
BUCKET_NAMES = " ".join(span_label(bucket) for bucket in BUCKET_LADDER)
"""`1h 6h 1d 7d 30d`: the buckets by the names the screen shows them with."""
AUTO_MAX_POINTS = 120
"""An automatic bucket keeps a chart readable: at most this many buckets over its range."""

BOARD_RANGES: tuple[str | None, ...] = (None, "7d", "30d", "90d", "1y")
"""What `t` cycles through; None: each chart's own window."""
_WINDOWS = {key: Window(f"{seconds // DAY}d") for key, seconds in RANGE_SECONDS.items()}


def auto_bucket(span: int, spacing: int | None = None) -> int:
    """The finest ladder bucket giving at most AUTO_MAX_POINTS buckets over `span` and
    not finer than the metric's usual `spacing` of points (daily points in 6h buckets
    would draw three empty buckets a day): 7d of hourly points in 6h, 30d in 6h (120),
    90d in 1d, 1y in 7d; daily points in 1d up to 90d."""
    floor = coarsest_needed(BUCKET_LADDER, spacing) or BUCKET_LADDER[0]
    for bucket in BUCKET_LADDER:
        if bucket >= floor and -(-span // bucket) <= AUTO_MAX_POINTS:
            return bucket
    return max(BUCKET_LADDER[-1], -(-span // AUTO_MAX_POINTS))


def next_board_range(current: str | None) -> str | None:
    index = BOARD_RANGES.index(current) if current in BOARD_RANGES else 0
    return BOARD_RANGES[(index + 1) % len(BOARD_RANGES)]


def range_window(key: str) -> Window:
    """The window of a range key (`7d`, `30d`, `90d`, `1y`); ValueError for another."""
    try:
        return _WINDOWS[key]
    except KeyError:
        raise ValueError(f"unknown range {key!r}: use one of 7d, 30d, 90d, 1y") from None


def range_bucket(key: str, spacing: int | None = None) -> int:
    """The bucket a chart of points `spacing` apart gets over range `key`: the KPI
    detail's choice for that range (`auto_bucket`)."""
    range_window(key)  # the same error for an unknown key
    return auto_bucket(RANGE_SECONDS[key], spacing)


def range_holding(age: int) -> str:
    """The smallest preset range holding a moment `age` seconds before as-of (`all` past
    a year): where a chart's detail zooms to show a mark."""
    return next((key for key, seconds in RANGE_SECONDS.items() if age < seconds), "all")
