"""The dashboard spec as typed models (SPEC §3).

These models check shape and types only; cross-references (ids, metrics in the store,
threshold order, formula syntax, cycles) are checked in `kpitui.spec.validate`, which
also maps every problem back to its line and column in the YAML file.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kpitui import timeutil

Agg = Literal[
    "last", "sum", "avg", "min", "max", "count", "nps", "csat", "p50", "p90", "p95", "p99"
]
Format = Literal["number", "percent", "currency", "compact", "duration"]
Direction = Literal["up", "down"]
Indicator = Literal["leading", "lagging"]
KrKind = Literal["increase", "decrease", "maintain_above", "maintain_below", "milestone"]

METRIC_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")
_PERCENT_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*%\s*$")


def _check_duration(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value}s"  # a bare number of seconds
    if not isinstance(value, str):
        raise ValueError(
            f"{value!r} is not a duration: use a number and a unit, e.g. 30s, 15m, 12h, 7d"
        )
    timeutil.parse_duration(value)
    return value


def _check_window(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a window: use 7d, 30d, 12h, mtd, qtd or ytd")
    if not timeutil.is_calendar_window(value):
        timeutil.parse_duration(value)
    return value.lower()


def _check_percent_or_number(value: object) -> object:
    if isinstance(value, str) and not _PERCENT_RE.match(value):
        raise ValueError(f'{value!r} is neither a number nor a percentage of target like "90%"')
    return value


def _labels_to_text(value: object) -> object:
    # YAML reads `region: 1` or `beta: true` as non-strings; labels are always text.
    if isinstance(value, dict):
        return {
            str(k): ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in value.items()
        }
    return value


Duration = Annotated[str, BeforeValidator(_check_duration)]
Window = Annotated[str, BeforeValidator(_check_window)]
Threshold = Annotated[float | str, BeforeValidator(_check_percent_or_number)]
Labels = Annotated[dict[str, str], BeforeValidator(_labels_to_text)]


def percent_of(value: float | str | None, target: float | None) -> float | None:
    """Resolve a threshold: a number as is, `"90%"` as that share of the target."""
    if value is None or isinstance(value, int | float):
        return value
    m = _PERCENT_RE.match(value)
    if m is None or target is None:
        return None
    return float(m.group(1)) / 100.0 * target


def is_percent(value: float | str | None) -> bool:
    return isinstance(value, str)


def slug(text: str) -> str:
    """A stable id from a title: `Grow revenue in EU!` → `grow-revenue-in-eu`."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "item"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Spark(Model):
    window: Window = "30d"
    bucket: Duration = "1d"


def _default_id(data: object, source: str | None, slugify: bool) -> object:
    """Fill `id` (from `source`, slugged when it is a title) and `title` (from id)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if not data.get("id") and source and isinstance(data.get(source), str):
        data["id"] = slug(data[source]) if slugify else data[source]
    if not data.get("title") and isinstance(data.get("id"), str):
        data["title"] = data["id"]
    return data


class Kpi(Model):
    id: str = ""
    title: str = ""
    metric: str
    agg: Agg = "last"
    window: Window | None = None
    labels: Labels = Field(default_factory=dict)
    format: Format = "number"
    currency: str | None = None
    decimals: int | None = Field(default=None, ge=0, le=10)
    direction: Direction = "up"
    target: float | None = None
    warn: Threshold | None = None
    crit: Threshold | None = None
    compare: str = "previous_period"
    stale_after: Duration | None = None
    spark: Spark | None = None
    indicator: Indicator | None = None
    north_star: bool = False
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _ids(cls, data: object) -> object:
        return _default_id(data, "metric", False)

    @field_validator("compare")
    @classmethod
    def _compare(cls, value: str) -> str:
        if value not in ("previous_period", "none"):
            try:
                timeutil.parse_duration(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not previous_period, none, or an offset such as 7d"
                ) from None
        return value

    @property
    def effective_window(self) -> str | None:
        """`None` means "the latest point, however old" (agg `last` without a window)."""
        if self.window is not None:
            return self.window
        return None if self.agg == "last" else "30d"


class DerivedMetric(Model):
    formula: str
    format: Format | None = None
    currency: str | None = None
    decimals: int | None = Field(default=None, ge=0, le=10)
    description: str | None = None


class Chart(Model):
    id: str = ""
    title: str = ""
    metrics: list[str] = Field(min_length=1)
    labels: Labels = Field(default_factory=dict)
    split_by: str | None = None
    window: Window = "90d"
    bucket: Duration = "1d"
    agg: Agg = "last"
    y_min: float | None = None
    y_max: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _ids(cls, data: object) -> object:
        # `chart-` keeps a chart titled "MRR" from taking the id of the KPI on mrr.
        if isinstance(data, dict) and not data.get("id"):
            names = data.get("metrics")
            if isinstance(data.get("title"), str):
                data = {**data, "id": f"chart-{slug(data['title'])}"}
            elif isinstance(names, list) and all(isinstance(n, str) for n in names):
                data = {**data, "id": "chart-" + "-".join(names)}
        return _default_id(data, None, False)


class KeyResult(Model):
    id: str = ""
    title: str
    owner: str | None = None
    metric: str | None = None
    labels: Labels = Field(default_factory=dict)
    agg: Agg = "last"
    kind: KrKind | None = None
    start: float | None = None
    target: float | None = None
    done: bool | None = None
    weight: float = Field(default=1.0, ge=0)
    checkin_every: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _ids(cls, data: object) -> object:
        return _default_id(data, "title", True)

    @property
    def manual(self) -> bool:
        return self.metric is None

    @property
    def effective_kind(self) -> KrKind:
        if self.kind is not None:
            return self.kind
        if self.done is not None:
            return "milestone"
        if self.start is not None and self.target is not None and self.target < self.start:
            return "decrease"
        return "increase"


class Objective(Model):
    id: str = ""
    title: str
    owner: str | None = None
    weight: float = Field(default=1.0, ge=0)
    key_results: list[KeyResult] = Field(default_factory=list)
    children: list[Objective] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _ids(cls, data: object) -> object:
        return _default_id(data, "title", True)


class PeriodSpec(Model):
    start: date | None = None
    end: date | None = None
    quarter: str | None = None

    @field_validator("quarter")
    @classmethod
    def _quarter(cls, value: str | None) -> str | None:
        if value is not None:
            timeutil.parse_quarter(value)
        return value

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, value: date | None, info: ValidationInfo) -> date | None:
        return value if value is None else timeutil.check_year(value, f"the {info.field_name}")

    def dates(self) -> tuple[date, date] | None:
        if self.quarter:
            return timeutil.parse_quarter(self.quarter)
        if self.start and self.end:
            return self.start, self.end
        return None


class Alerts(Model):
    bell: bool = False


class Page(Model):
    title: str = ""
    rows: list[list[str]] = Field(default_factory=list)


class Layout(Model):
    pages: list[Page] = Field(min_length=1)


class Dashboard(Model):
    title: str = "kpitui"
    store: str = "metrics.db"
    refresh: Duration = "5s"
    timezone: str | None = None
    period: PeriodSpec | None = None
    checkin_every: Duration | None = None
    alerts: Alerts = Field(default_factory=Alerts)
    metrics: dict[str, DerivedMetric] = Field(default_factory=dict)
    kpis: list[Kpi] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    okrs: list[Objective] = Field(default_factory=list)
    layout: Layout | None = None


Objective.model_rebuild()
