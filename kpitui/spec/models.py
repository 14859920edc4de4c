"""The dashboard spec as typed models (SPEC §3), on msgspec.

These models check shape and types only; cross-references (ids, metrics in the store,
threshold order, formula syntax, cycles) are checked in `kpitui.spec.validate`, which
also maps every problem back to its line and column in the YAML file.

Values that need more than a type (a duration, a window, a quarter, a date in range,
labels written as numbers) are small types of their own, checked and normalised by
`decode` as msgspec converts the YAML data: `convert(data)` builds a Dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import Meta, field
from msgspec.structs import force_setattr

from kpitui import timeutil, vocabulary
from kpitui.literal import quoted
from kpitui.spec.problems import show_value
from kpitui.timeutil import Duration, Window, _Value
from kpitui.vocabulary import Agg

Format = Literal["number", "percent", "currency", "compact", "duration"]
Direction = Literal["up", "down"]
Indicator = Literal["leading", "lagging"]
KrKind = Literal["increase", "decrease", "maintain_above", "maintain_below", "milestone"]

METRIC_NAME_RE = vocabulary.METRIC_NAME_RE
_PERCENT = r"^\s*(-?\d+(?:\.\d+)?)\s*%\s*$"
_PERCENT_RE = re.compile(_PERCENT)
# A threshold written as text: a percentage of target, or a quoted number ("950"), read
# as the number as `target: "1000"` is.
_THRESHOLD_TEXT = rf"{_PERCENT}|^\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
DEFAULT_STORE = "metrics.db"

DEFAULT_WINDOW = Window("30d")
"""A KPI's window when it gives none and its agg is not `last` (SPEC §3)."""
DEFAULT_SPARK_WINDOW = Window("30d")
DEFAULT_SPARK_BUCKET = Duration("1d")
DEFAULT_CHART_WINDOW = Window("90d")
DEFAULT_CHART_BUCKET = Duration("1d")
DEFAULT_REFRESH = Duration("5s")


class Compare(_Value):
    """What a KPI's change is against, parsed once: `previous_period`, `none`, or an
    `offset` such as 7d (the same window that much earlier)."""

    __slots__ = ("offset",)
    offset: Duration | None

    def __init__(self, text: str) -> None:
        offset = None
        if not isinstance(text, str) or text not in ("previous_period", "none"):
            try:
                if not isinstance(text, str):
                    raise TypeError(text)
                offset = Duration(text)
            except (ValueError, TypeError, AttributeError):
                raise ValueError(
                    f"{show_value(text)} is not previous_period, none, or an offset such as 7d"
                ) from None
        object.__setattr__(self, "text", text if offset is None else offset.text)
        object.__setattr__(self, "offset", offset)

    @property
    def none(self) -> bool:
        return self.text == "none"

    @property
    def previous_period(self) -> bool:
        return self.text == "previous_period"


PREVIOUS_PERIOD = Compare("previous_period")


class Quarter(_Value):
    """A quarter such as 2026-Q4, parsed once: its first and last day."""

    __slots__ = ("first", "last")
    first: date
    last: date

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise ValueError(f"{show_value(text)} is not a quarter: write it as 2026-Q4")
        first, last = timeutil.parse_quarter(text)
        object.__setattr__(self, "text", text.strip())
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "last", last)


class Day(date):
    """A date in the years periods can span (1971–9998)."""


class Labels(dict[str, str]):
    """Label filters; YAML reads `region: 1` or `beta: true` as non-strings, but labels
    are always text."""


def _duration(value: object) -> Duration:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(
            f"{show_value(value)} is not a duration: use a number and a unit, e.g. 30s, 15m, 12h, 7d"
        )
    return Duration(value)


class Hold(_Value):
    """How long a state must hold before it alerts (`for:`): a duration, or 0 (at once,
    to override a board's `for:` on one KPI)."""

    __slots__ = ("seconds",)
    seconds: int

    def __init__(self, text: str | int) -> None:
        if text == 0 or (isinstance(text, str) and re.fullmatch(r"\s*0+\s*[smhdwy]?\s*", text)):
            seconds, shown = 0, "0s"
        else:
            duration = _duration(text)
            seconds, shown = duration.seconds, duration.text
        object.__setattr__(self, "text", shown)
        object.__setattr__(self, "seconds", seconds)


def _window(value: object) -> Window:
    if not isinstance(value, str):
        raise ValueError(f"{show_value(value)} is not a window: {timeutil.WINDOW_HINT}")
    return Window(value)


def _day(value: object) -> date:
    day: date | None = None
    reason = ""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError as exc:
            # "day is out of range for month" helps; "Invalid isoformat string" does not.
            reason = "" if "isoformat" in str(exc) else f": {exc}"
    if day is None:
        raise ValueError(f"expected a date like 2026-10-01, got {show_value(value)}{reason}")
    return timeutil.check_year(day, "the date")


def _labels(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping (key: value lines), got {show_value(value)}")
    nested = next((k for k, v in value.items() if isinstance(v, dict | list)), None)
    if nested is not None:
        raise ValueError(
            f"label {quoted(nested)} is {show_value(value[nested])}: a label filter matches one "
            "value (write a KPI per value, or a chart with split_by)"
        )
    return {
        str(k): ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
        for k, v in value.items()
    }


_DECODERS: dict[type, Callable[[object], Any]] = {
    Duration: _duration,
    Hold: Hold,
    Window: _window,
    Compare: Compare,
    Quarter: Quarter,
    Day: _day,
    Labels: _labels,
}
CHECKED_TYPES = frozenset(_DECODERS)
"""The types whose problems are the decoder's own message."""


def decode(tp: type, value: object) -> object:
    """msgspec's `dec_hook`: check and normalise a value of one of the types above."""
    check = _DECODERS.get(tp)
    if check is None:
        raise NotImplementedError(tp)
    checked = check(value)
    if tp is Day:
        return Day(checked.year, checked.month, checked.day)
    if tp is Labels:
        return Labels(checked)
    return checked


T = TypeVar("T")


def convert(data: object, tp: type[T] | Any = None) -> T:
    """`data` (as YAML loads it) as a `tp` (default: the Dashboard); raises
    msgspec.ValidationError at the first problem (`kpitui.spec` reports them all)."""
    # strict=False: a quoted number ("10") is read as the number, as YAML users expect.
    return msgspec.convert(data, Dashboard if tp is None else tp, dec_hook=decode, strict=False)


Threshold = float | Annotated[str, Meta(pattern=_THRESHOLD_TEXT)]
Decimals = Annotated[int, Meta(ge=0, le=10)]
Weight = Annotated[float, Meta(ge=0)]


def percent_of(value: float | str | None, target: float | None) -> float | None:
    """Resolve a threshold: a number as is, `"90%"` as that share of the target."""
    if value is None or isinstance(value, int | float):
        return value
    m = _PERCENT_RE.match(value)
    if m is None or target is None:
        return None
    return float(m.group(1)) / 100.0 * target


def slug(text: str) -> str:
    """A stable id from a title: `Grow revenue in EU!` → `grow-revenue-in-eu`."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "item"


class Model(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Frozen, and a key the model does not know is an error (kw_only is per class:
    models with required fields after defaults say so)."""


class Spark(Model):
    window: Window = DEFAULT_SPARK_WINDOW
    bucket: Duration = DEFAULT_SPARK_BUCKET


DEFAULT_SPARK = Spark()
"""A KPI's trend when it gives no `spark:`."""


def _default_ids(model: Any, source: str) -> None:
    """Fill `id` (from `source`) and `title` (from the id) when they are not written."""
    if not model.id and source:
        force_setattr(model, "id", source)
    if not model.title and model.id:
        force_setattr(model, "title", model.id)


AlertOn = Literal["warn", "crit", "recover", "no_data", "stale", "at_risk", "off_track"]
"""The changes an alert rule fires on: into warn, crit, no_data or stale, or back to ok;
a key result's rule may say them in its own words, `at_risk` (warn) and `off_track`
(crit, which `missed` is too)."""
DEFAULT_ALERT_ON: tuple[AlertOn, ...] = ("warn", "crit", "recover")
WebhookFormat = Literal["json", "slack"]
DEFAULT_TARGET_TIMEOUT = Duration("10s")


class Webhook(Model, kw_only=True):
    """Where a webhook posts: `url`, or `url_env` (the environment variable holding the
    URL, so a secret URL never sits in the spec), and the body's `format`."""

    url: str | None = None
    url_env: str | None = None
    format: WebhookFormat = "json"


class Target(Model, kw_only=True):
    """One place an alert goes: a `command` (run without a shell, in the spec's folder,
    the alert as JSON on stdin) or a `webhook` (a URL, or a Webhook mapping)."""

    command: str | None = None
    webhook: str | Webhook | None = None
    timeout: Duration = DEFAULT_TARGET_TIMEOUT
    """How long one delivery attempt may take."""


class AlertRule(Model, kw_only=True):
    """When a KPI's (or key result's) change of state is an alert, and who is told.
    A field left out takes the board's `alerts:` value (see `spec.alert_rules`)."""

    hold: Hold | None = field(default=None, name="for")
    """How long a new state must hold before it fires (`for:`)."""
    on: list[AlertOn] | None = None
    repeat: Duration | None = None
    """Re-notify this often while the state stays bad."""
    notify: list[Target] | None = None


class Alerts(AlertRule, kw_only=True):
    """The board's `alerts:`: the default rule of every KPI and key result, and the bell."""

    bell: bool = False


class Kpi(Model, kw_only=True):
    id: str = ""
    title: str = ""
    metric: str
    agg: Agg = "last"
    window: Window | None = None
    labels: Labels = field(default_factory=Labels)
    format: Format | None = None  # None: the derived metric's format, else number
    currency: str | None = None
    decimals: Decimals | None = None
    direction: Direction = "up"
    target: float | None = None
    warn: Threshold | None = None
    crit: Threshold | None = None
    compare: Compare = PREVIOUS_PERIOD
    stale_after: Duration | None = None
    spark: Spark | None = None
    indicator: Indicator | None = None
    north_star: bool = False
    description: str | None = None
    alert: AlertRule | None = None

    def __post_init__(self) -> None:
        _default_ids(self, self.metric)
        for key in ("warn", "crit"):
            value = getattr(self, key)
            if isinstance(value, str) and not _PERCENT_RE.match(value):
                force_setattr(self, key, float(value))

    @property
    def effective_window(self) -> Window | None:
        """`None` means "the latest point, however old" (agg `last` without a window)."""
        if self.window is not None:
            return self.window
        return None if self.agg == "last" else DEFAULT_WINDOW

    @property
    def effective_spark(self) -> Spark:
        return self.spark if self.spark is not None else DEFAULT_SPARK


class DerivedMetric(Model):
    formula: str
    format: Format | None = None
    currency: str | None = None
    decimals: Decimals | None = None
    description: str | None = None


class Chart(Model, kw_only=True):
    id: str = ""
    title: str = ""
    metrics: Annotated[list[str], Meta(min_length=1)]
    labels: Labels = field(default_factory=Labels)
    split_by: str | None = None
    window: Window = DEFAULT_CHART_WINDOW
    bucket: Duration = DEFAULT_CHART_BUCKET
    agg: Agg = "last"
    y_min: float | None = None
    y_max: float | None = None
    compare: Compare | None = None
    """The span its comparison line (`c`) shows; None: its KPI's `compare`, else
    `previous_period`."""

    def __post_init__(self) -> None:
        # `chart-` keeps a chart titled "MRR" from taking the id of the KPI on mrr.
        named = slug(self.title) if self.title else "-".join(self.metrics)
        _default_ids(self, f"chart-{named}")


class KeyResult(Model, kw_only=True):
    id: str = ""
    title: str
    owner: str | None = None
    metric: str | None = None
    labels: Labels = field(default_factory=Labels)
    agg: Agg = "last"
    kind: KrKind | None = None
    start: float | None = None
    target: float | None = None
    done: bool | None = None
    weight: Weight = 1.0
    checkin_every: Duration | None = None
    alert: AlertRule | None = None

    def __post_init__(self) -> None:
        _default_ids(self, slug(self.title))

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


class Objective(Model, kw_only=True):
    id: str = ""
    title: str
    owner: str | None = None
    weight: Weight = 1.0
    key_results: list[KeyResult] = field(default_factory=list)
    children: list[Objective] = field(default_factory=list)

    def __post_init__(self) -> None:
        _default_ids(self, slug(self.title))


class PeriodSpec(Model):
    start: Day | None = None
    end: Day | None = None
    quarter: Quarter | None = None

    def dates(self) -> tuple[date, date] | None:
        if self.quarter:
            return self.quarter.first, self.quarter.last
        if self.start and self.end:
            return self.start, self.end
        return None


class Page(Model):
    title: str = ""
    rows: list[list[str]] = field(default_factory=list)


class Layout(Model):
    pages: Annotated[list[Page], Meta(min_length=1)]


DEFAULT_PULL_EVERY = Duration("15m")
DEFAULT_BACKFILL = Duration("30d")
DEFAULT_SOURCE_TIMEOUT = Duration("30s")
DEFAULT_MAX_ROWS = 1_000_000


class Source(Model, kw_only=True):
    """A database `kpitui sync` reads: `url` (postgresql://…, a SQLite or DuckDB file,
    relative to the spec's folder) or `url_env` (the environment variable holding it)."""

    url: str | None = None
    url_env: str | None = None
    timeout: Duration = DEFAULT_SOURCE_TIMEOUT
    """How long one query may run."""
    max_rows: Annotated[int, Meta(ge=1)] = DEFAULT_MAX_ROWS
    """The most rows one query may return."""


class Pull(Model, kw_only=True):
    """One query `kpitui sync` runs on a schedule, its rows written as points of `metric`."""

    id: str = ""
    metric: str
    source: str
    query: str
    every: Duration = DEFAULT_PULL_EVERY
    backfill: Duration = DEFAULT_BACKFILL
    """How far back the first run reaches."""

    def __post_init__(self) -> None:
        if not self.id:
            force_setattr(self, "id", self.metric)


class Dashboard(Model):
    title: str = "kpitui"
    store: str = DEFAULT_STORE
    refresh: Duration = DEFAULT_REFRESH
    timezone: str | None = None
    period: PeriodSpec | None = None
    checkin_every: Duration | None = None
    alerts: Alerts = field(default_factory=Alerts)
    metrics: dict[str, DerivedMetric] = field(default_factory=dict)
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    okrs: list[Objective] = field(default_factory=list)
    layout: Layout | None = None
    sources: dict[str, Source] = field(default_factory=dict)
    pull: list[Pull] = field(default_factory=list)
