"""The range the board shows its charts over when the user picks one (`t`), instead of
each chart's own `window:`. A choice on screen only: never written to the spec."""

from __future__ import annotations

from kpitui.timeutil import Window

BOARD_RANGES: tuple[str | None, ...] = (None, "7d", "30d", "90d", "1y")
"""What `t` cycles through; None: each chart's own window."""
_WINDOWS = {"7d": Window("7d"), "30d": Window("30d"), "90d": Window("90d"), "1y": Window("365d")}


def next_board_range(current: str | None) -> str | None:
    index = BOARD_RANGES.index(current) if current in BOARD_RANGES else 0
    return BOARD_RANGES[(index + 1) % len(BOARD_RANGES)]


def range_window(key: str) -> Window:
    """The window of a range key (`7d`, `30d`, `90d`, `1y`); ValueError for another."""
    try:
        return _WINDOWS[key]
    except KeyError:
        raise ValueError(f"unknown range {key!r}: use one of 7d, 30d, 90d, 1y") from None


def range_bucket(key: str) -> int:
    """The bucket a chart gets over that range: as the KPI detail picks one for it."""
    # Imported here: the detail module builds on `evaluate`, which uses this one.
    from kpitui.engine.detail_kpi import RANGE_SECONDS, auto_bucket

    return auto_bucket(RANGE_SECONDS[key])
