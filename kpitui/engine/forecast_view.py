"""A key result's forecast as every face shows it: the numbers of `engine.forecast` with
their display text, in the key result's own format.

"on pace for 1,830 / 2,000 · 92%", "needs +23.3/day, doing +20/day", "→ 92% ✖" in the
tree: one wording, here, for the tree, the detail, the snapshots.
"""

from __future__ import annotations

import math
from datetime import tzinfo

from msgspec import Struct

from kpitui import timeutil
from kpitui.engine.board import STATUS_GLYPHS
from kpitui.engine.forecast import Forecast, NoForecast, ObjectiveForecast
from kpitui.engine.format import (
    _DEFAULT_DECIMALS,
    format_progress,
    format_signed,
    format_value,
)

# A pace too small to read per day (churn moving 0.0001 a day) gets more decimals, or is
# said per week, or per 30 days.
_PACE_UNITS = ((1, "day"), (7, "week"), (30, "30 days"))
_EXTRA_DECIMALS = (0, 1, 2)


class KrForecast(Struct, frozen=True):
    """A key result's forecast, or why it has none (`note`)."""

    kind: str
    target: float | None
    value: float | None = None  # None: no forecast (see `note`)
    progress: float | None = None
    progress_raw: float | None = None
    status: str | None = None  # "achieved" or "missed" at the period's end
    pace_now: float | None = None  # per day
    pace_needed: float | None = None
    days: int = 0
    target_at: int | None = None
    note: str | None = None
    format: str = "number"
    currency: str | None = None
    decimals: int | None = None
    target_at_display: str | None = None  # "Dec 12" in the board's zone

    @property
    def has_forecast(self) -> bool:
        return self.value is not None

    @property
    def target_at_iso(self) -> str | None:
        """When the line reaches or crosses the target, ISO 8601 UTC; None: not before the end."""
        return None if self.target_at is None else timeutil.iso_utc(self.target_at)

    def show(self, value: float | None) -> str:
        return format_value(value, self.format, currency=self.currency, decimals=self.decimals)

    @property
    def value_display(self) -> str:
        if self.value is not None and self._plain:
            return _estimate(self.value)
        return self.show(self.value)

    @property
    def _plain(self) -> bool:
        """A plain number without set decimals: shown as an estimate, to 3 digits."""
        return self.format == "number" and self.decimals is None

    @property
    def progress_display(self) -> str:
        return format_progress(self.progress_raw)

    @property
    def status_label(self) -> str:
        """`★ achieved` / `✖ missed`: where the pace ends, read without colour."""
        if self.status is None:
            return ""
        return f"{_glyph(self.status)} {self.status}"

    @property
    def summary(self) -> str:
        """The forecast in one phrase: `on pace for 1,830 / 2,000 · 92%`, or why none."""
        if self.value is None:
            return self.note or "no forecast"
        if self.kind in ("maintain_above", "maintain_below"):
            side = "above" if self.kind == "maintain_above" else "below"
            if self.status == "achieved":
                return f"on pace to stay {side} {self.show(self.target)}: ends near {self.value_display}"
            crosses = f", crossing on {self.target_at_display}" if self.target_at_display else ""
            return f"on pace to end at {self.value_display}, not {side} {self.show(self.target)}{crosses}"
        reaches = f", reaching it on {self.target_at_display}" if self.target_at_display else ""
        return (
            f"on pace for {self.value_display} / {self.show(self.target)}"
            f" · {self.progress_display}{reaches}"
        )

    @property
    def pace_display(self) -> str:
        """`needs +23.3/day, doing +20/day`; a maintain KR: `moving +1.50/day`."""
        if self.pace_now is None:
            return ""
        if self.pace_needed is None:
            return f"moving {self.paces(self.pace_now)[0]}"
        if self.pace_needed == 0:
            return f"target met, doing {self.paces(self.pace_now)[0]}"
        needed, doing = self.paces(self.pace_needed, self.pace_now)
        return f"needs {needed}, doing {doing}"

    def paces(self, *per_day: float) -> tuple[str, ...]:
        """Paces in the key result's format, in one unit: `+41/day`, `-0.07 pp/week`.

        Per day when that reads, else with up to two more decimals, else per week, else
        per 30 days; "reads" is: every pace that is not 0 shows a digit, and two paces
        that differ by more than 5% do not show the same text."""
        tried: tuple[str, ...] = ()
        for days, unit in _PACE_UNITS:
            for extra in _EXTRA_DECIMALS:
                tried = tuple(f"{self._signed(p * days, extra)}/{unit}" for p in per_day)
                if _readable(per_day, tried):
                    return tried
        return tried

    def _signed(self, value: float, extra: int) -> str:
        if self._plain:
            text = _estimate(abs(value), 2 + extra)
            return text if not _nonzero(text) else f"{'-' if value < 0 else '+'}{text}"
        base = _DEFAULT_DECIMALS.get(self.format, 2) if self.decimals is None else self.decimals
        decimals = base + extra if extra or self.decimals is not None else None
        return format_signed(value, self.format, currency=self.currency, decimals=decimals)

    @property
    def compact(self) -> str:
        """For the OKR tree: `→ 92% ✖` (its forecast progress and status glyph); empty
        without a forecast."""
        if self.value is None or self.status is None:
            return ""
        if self.kind in ("maintain_above", "maintain_below"):
            return f"→ {_glyph(self.status)} {self.status}"
        return f"→ {self.progress_display} {_glyph(self.status)}"


def _glyph(status: str) -> str:
    return STATUS_GLYPHS.get(status, "?")


def _estimate(value: float, most: int = 2) -> str:
    """An estimate to 3 significant digits, at most `most` decimals: 1,830 · 23.3 · 20 · 0.52."""
    magnitude = abs(value)
    decimals = 0 if magnitude < 1e-12 else min(most, max(0, 2 - math.floor(math.log10(magnitude))))
    text = format_value(value, decimals=decimals)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _nonzero(text: str) -> bool:
    return any(ch.isdigit() and ch != "0" for ch in text)


def _readable(values: tuple[float, ...], texts: tuple[str, ...]) -> bool:
    if any(v != 0 and not _nonzero(t) for v, t in zip(values, texts, strict=True)):
        return False
    if len(values) == 2 and texts[0] == texts[1]:
        a, b = values
        return abs(a - b) <= 0.05 * max(abs(a), abs(b))
    return True


def kr_forecast_view(
    found: Forecast | NoForecast,
    kind: str,
    target: float | None,
    tz: tzinfo,
    fmt: str = "number",
    currency: str | None = None,
    decimals: int | None = None,
) -> KrForecast:
    shown = {"kind": kind, "target": target, "format": fmt, "currency": currency}
    if isinstance(found, NoForecast):
        return KrForecast(**shown, decimals=decimals, note=found.reason)
    return KrForecast(
        **shown,
        decimals=decimals,
        value=found.value,
        progress=found.progress,
        progress_raw=found.progress_raw,
        status=found.status,
        pace_now=found.pace_now,
        pace_needed=found.pace_needed,
        days=found.days,
        target_at=found.target_at,
        target_at_display=(
            None
            if found.target_at is None
            else timeutil.to_local(found.target_at, tz).strftime("%b %d").replace(" 0", " ")
        ),
    )


class ObjectiveForecastView(Struct, frozen=True):
    progress: float
    status: str

    @property
    def progress_display(self) -> str:
        return format_progress(self.progress)

    @property
    def compact(self) -> str:
        return f"→ {self.progress_display} {_glyph(self.status)}"

    @property
    def words(self) -> str:
        """For the objective's detail: `92% at the period's end · ✖ missed`."""
        return f"{self.progress_display} at the period's end · {_glyph(self.status)} {self.status}"


def objective_forecast_view(found: ObjectiveForecast | None) -> ObjectiveForecastView | None:
    return None if found is None else ObjectiveForecastView(found.progress, found.status)
