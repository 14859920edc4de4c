"""Checks that need the whole spec (and the store's metric names), run once the models
accept its shape: ids, metric references, formulas and their cycles, threshold order,
and the focus warnings a PM expects (one North Star, a leading indicator). The OKR
checks (period, objectives, key-result kinds) are in `validate_okrs`; the layout checks
(panels, KPIs per page) in `validate_layout`.

Every problem is a `SpecProblem` at the `file:line:col` of the key it is about (see
`problems`).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from kpitui.errors import KpituiError
from kpitui.literal import quoted
from kpitui.spec.formula import Formula, FormulaError, parse_formula
from kpitui.spec.loader import NodePath, Position, SourceMap, format_path
from kpitui.spec.models import METRIC_NAME_RE, Dashboard, Kpi, Objective, percent_of
from kpitui.spec.problems import Problems, did_you_mean, plain_number
from kpitui.spec.validate_alerts import check_alerts
from kpitui.spec.validate_layout import RESERVED_PANELS, check_layout
from kpitui.spec.validate_okrs import check_objective, check_period
from kpitui.spec.validate_pulls import check_pulls


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


# Where the clock of a common abbreviation is kept (a suggestion, not a rule).
_PLACES = {
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "EST5EDT": "America/New_York",
    "CST6CDT": "America/Chicago",
    "MST": "America/Denver",
    "MST7MDT": "America/Denver",
    "PST8PDT": "America/Los_Angeles",
    "HST": "Pacific/Honolulu",
    "CET": "Europe/Berlin",
    "MET": "Europe/Berlin",
    "EET": "Europe/Athens",
    "WET": "Europe/Lisbon",
    "GMT": "Europe/London (or UTC)",
}


def is_region_city(name: str) -> bool:
    """`Europe/Berlin`, `America/Argentina/Salta` or UTC itself; not `EST`, `CET` or an
    `Etc/GMT+5` offset."""
    if name in ("UTC", "Etc/UTC"):
        return True
    return "/" in name and not name.startswith("Etc/")


def walk_objectives(
    objectives: list[Objective], path: NodePath = ("okrs",)
) -> Iterator[tuple[Objective, NodePath]]:
    """Every objective at any depth with its path, parents first, in spec order."""
    for i, objective in enumerate(objectives):
        here = (*path, i)
        yield objective, here
        yield from walk_objectives(objective.children, (*here, "children"))


def check_dashboard(
    dashboard: Dashboard, source_map: SourceMap, file: str | None, known_metrics: set[str] | None
) -> tuple[list[KpituiError], list[KpituiError]]:
    """(errors, warnings) for a spec the models accepted."""
    checker = _Checker(dashboard, source_map, file, known_metrics)
    checker.run()
    return checker.errors, checker.warnings


def check_store_references(
    dashboard: Dashboard, source_map: SourceMap, file: str | None, known_metrics: set[str]
) -> list[KpituiError]:
    """The warnings only the store's metric names reveal, for a spec that already passed
    `check_dashboard` without them (so its formulas parse and nothing here is an error)."""
    checker = _Checker(dashboard, source_map, file, known_metrics)
    checker.check_formulas()
    checker.check_metric_references()
    return checker.warnings


class _Checker(Problems):
    def __init__(
        self, d: Dashboard, smap: SourceMap, file: str | None, known: set[str] | None
    ) -> None:
        super().__init__(smap, file)
        self.d = d
        self.known = known
        self.formulas: dict[str, Formula] = {}
        self.objectives = list(walk_objectives(d.okrs))

    # -- the checks --------------------------------------------------------------------

    def run(self) -> None:
        d = self.d
        if not (d.kpis or d.charts or d.okrs):
            self.error(
                (),
                "the dashboard shows nothing: it has no kpis, charts or okrs",
                "add a list of `kpis:` (each with a `metric:`); see docs/spec.md",
                at=(1, 1),
            )
        self.check_timezone()
        check_period(self, d)
        self.check_ids()
        self.check_formulas()
        self.check_metric_references()
        for i, kpi in enumerate(d.kpis):
            self.check_kpi(kpi, ("kpis", i))
        self.check_north_star()
        self.check_currencies()
        for i, chart in enumerate(d.charts):
            path: NodePath = ("charts", i)
            if chart.split_by and len(chart.metrics) > 1:
                self.error(
                    (*path, "split_by"),
                    f"split_by draws one metric as a line per {quoted(chart.split_by)} value, "
                    f"but this chart has {len(chart.metrics)} metrics",
                    "keep one metric, or drop split_by",
                )
            if chart.y_min is not None and chart.y_max is not None and chart.y_min >= chart.y_max:
                self.error(
                    (*path, "y_max"),
                    f"y_max ({plain_number(chart.y_max)}) must be above "
                    f"y_min ({plain_number(chart.y_min)})",
                )
        for objective, path in self.objectives:
            check_objective(self, objective, path)
        check_layout(self, d, self.objectives)
        check_pulls(self, d)
        check_alerts(self, d)
        self.check_leading_indicator()

    def check_timezone(self) -> None:
        name = self.d.timezone
        if name is None:
            return
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            if not is_region_city(name):
                place = _PLACES.get(name.upper())
                self.warn(
                    ("timezone",),
                    f"{name!r} is not a Region/City zone: an abbreviation or a fixed offset "
                    "names no place, so its clock may not follow that place's daylight "
                    "saving time",
                    f"did you mean {place}?"
                    if place
                    else "write the place whose clock the board follows, such as "
                    "America/New_York or Europe/Berlin (or UTC)",
                )
            return
        hint = did_you_mean(name, _zone_names(), cutoff=0.7) or (
            "use an IANA name such as Europe/Paris, America/New_York or UTC"
        )
        self.error(("timezone",), f"{quoted(name)} is not an IANA time zone name", hint)

    def check_ids(self) -> None:
        entries: list[tuple[str, str, NodePath]] = []
        entries += [("KPI", k.id, ("kpis", i)) for i, k in enumerate(self.d.kpis)]
        entries += [("chart", c.id, ("charts", i)) for i, c in enumerate(self.d.charts)]
        for objective, path in self.objectives:
            entries.append(("objective", objective.id, path))
            entries += [
                ("key result", kr.id, (*path, "key_results", j))
                for j, kr in enumerate(objective.key_results)
            ]

        def where(path: NodePath) -> NodePath:
            return (*path, "id") if self.written((*path, "id")) else path

        entries.sort(key=lambda e: self.smap.value(where(e[2])))
        first: dict[str, tuple[str, NodePath]] = {}
        for kind, ident, path in entries:
            if ident in RESERVED_PANELS:
                self.error(
                    where(path),
                    f"the id {quoted(ident)} is reserved for the layout panel {quoted(ident)}",
                    "choose another id",
                )
                continue
            if ident not in first:
                first[ident] = (kind, path)
                continue
            other_kind, other = first[ident]
            hint = None
            if not self.written((*path, "id")):
                hint = {
                    "chart": "a chart's id defaults to a slug of its title, else its metrics' "
                    "names; give it a `title:` or an `id:`",
                    "KPI": "a KPI's id defaults to its metric's name; give this one its own `id:`",
                }.get(kind, "an id defaults to a slug of the title; give this one its own `id:`")
            self.error(
                where(path),
                f"the id {quoted(ident)} is already used by {other_kind} "
                f"{format_path(other)} (line {self.line_of(where(other))})",
                hint,
            )

    def check_formulas(self) -> None:
        for name, derived in self.d.metrics.items():
            path: NodePath = ("metrics", name)
            if not METRIC_NAME_RE.match(name):
                self.bad_metric_name(path, name, at_key=True)
            if self.known is not None and name in self.known:
                self.warn(
                    path,
                    f"derived metric {quoted(name)} has the same name as a stored metric: "
                    "the formula is used",
                    at_key=True,
                )
            try:
                self.formulas[name] = parse_formula(derived.formula)
            except FormulaError as exc:
                fpath = (*path, "formula")
                self.error(
                    fpath,
                    f"{exc.reason} (column {exc.column} of the formula)",
                    at=self.smap.inside(fpath, exc.column),
                )
        for cycle in _cycles({n: sorted(f.names) for n, f in self.formulas.items()}):
            self.error(
                ("metrics", cycle[0], "formula"),
                "derived metrics form a cycle: " + " → ".join(cycle),
                "a derived metric cannot depend on itself",
            )

    def bad_metric_name(self, path: NodePath, name: str, **where: object) -> None:
        hint = "use letters, digits, _ . : - and start with a letter or _"
        self.error(path, f"{quoted(name)} is not a metric name", hint, **where)

    def references(self) -> Iterator[tuple[NodePath, str, str, Position | None]]:
        """(path, metric name, what happens without points, exact position or None)."""
        for i, kpi in enumerate(self.d.kpis):
            yield ("kpis", i, "metric"), kpi.metric, "shown as no_data", None
        for i, chart in enumerate(self.d.charts):
            for j, name in enumerate(chart.metrics):
                yield ("charts", i, "metrics", j), name, "its line stays empty", None
        for objective, path in self.objectives:
            for j, kr in enumerate(objective.key_results):
                if kr.metric is not None:
                    yield (
                        (*path, "key_results", j, "metric"),
                        kr.metric,
                        "the key result has no current value",
                        None,
                    )
        for name, formula in self.formulas.items():
            fpath: NodePath = ("metrics", name, "formula")
            for operand, column in formula.name_columns.items():
                yield fpath, operand, f"{name} has no value", self.smap.inside(fpath, column)

    def check_metric_references(self) -> None:
        derived = set(self.d.metrics)
        for path, name, consequence, at in self.references():
            if not METRIC_NAME_RE.match(name):
                self.bad_metric_name(path, name, at=at)
                continue
            if name in derived or self.known is None or name in self.known:
                continue
            options = self.known | derived
            hint = did_you_mean(name, options)
            parts = name.split("-")
            if len(parts) > 1 and all(p in options for p in parts):
                hint = f"to subtract, put spaces around '-': {' - '.join(parts)}"
            self.warn(
                path,
                f"metric {quoted(name)} has no points in the store yet ({consequence})",
                hint,
                at=at,
            )

    def check_kpi(self, kpi: Kpi, path: NodePath) -> None:
        if kpi.target is not None and not math.isfinite(kpi.target):
            self.error((*path, "target"), "the target must be a finite number")
        resolved: list[tuple[str, float]] = []
        for key in ("crit", "warn"):
            raw = getattr(kpi, key)
            if raw is None:
                continue
            if isinstance(raw, str) and kpi.target is None:
                self.error(
                    (*path, key),
                    f"{quoted(raw)} is a percentage of the target, but this KPI has no target",
                    f"add `target:` or write {key} as a number",
                )
                continue
            value = percent_of(raw, kpi.target)
            if value is None or not math.isfinite(value):
                self.error((*path, key), f"{key} must be a finite number")
                continue
            resolved.append((key, value))
        if kpi.target is not None and math.isfinite(kpi.target):
            resolved.append(("target", kpi.target))
        self.check_threshold_order(kpi, path, resolved)

    def check_threshold_order(
        self, kpi: Kpi, path: NodePath, levels: list[tuple[str, float]]
    ) -> None:
        up = kpi.direction == "up"
        wrong = [
            (a, b) for a, b in itertools.pairwise(levels) if (a[1] > b[1] if up else a[1] < b[1])
        ]
        if not wrong:
            return
        flipped = all((a[1] >= b[1] if up else a[1] <= b[1]) for a, b in itertools.pairwise(levels))
        rule = (
            "with direction up (higher is better) it is crit <= warn <= target"
            if up
            else "with direction down (lower is better) it is crit >= warn >= target"
        )
        hint = f"did you mean `direction: {'down' if up else 'up'}`?" if flipped else rule
        for (key, value), (other, other_value) in wrong:
            side = "above" if up else "below"
            self.error(
                (*path, key),
                f"{key} ({plain_number(value)}) is {side} {other} "
                f"({plain_number(other_value)}): thresholds are out of order for direction "
                f"{kpi.direction}",
                hint,
            )

    def check_currencies(self) -> None:
        hint = "add `currency: USD` (or EUR, GBP, JPY, any ISO 4217 code)"
        detail = "format: currency without `currency:` shows its values with no currency sign"
        for name, metric in self.d.metrics.items():
            if metric.format == "currency" and not metric.currency:
                self.warn(("metrics", name, "format"), detail, hint)
        for i, kpi in enumerate(self.d.kpis):
            derived = self.d.metrics.get(kpi.metric)
            currency = kpi.currency or (derived.currency if derived else None)
            if kpi.format == "currency" and not currency:
                self.warn(("kpis", i, "format"), detail, hint)

    def check_north_star(self) -> None:
        stars = [i for i, k in enumerate(self.d.kpis) if k.north_star]
        for i in stars[1:]:
            first = ("kpis", stars[0], "north_star")
            self.error(
                ("kpis", i, "north_star"),
                f"a second North Star: kpis[{stars[0]}] ({quoted(self.d.kpis[stars[0]].id)}, "
                f"line {self.line_of(first)}) is already one",
                "a board has one North Star: keep `north_star: true` on one KPI",
            )

    def check_leading_indicator(self) -> None:
        if self.d.kpis and not any(k.indicator == "leading" for k in self.d.kpis):
            self.warn(
                ("kpis",),
                "no KPI is marked `indicator: leading`: the board only shows "
                "what has already happened",
                "tag the KPIs that move first, such as activation or trial starts, "
                "with `indicator: leading`",
                at_key=True,
            )


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle among derived metrics once, as [a, b, a], found in spec order."""
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for operand in graph.get(name, ()):
            if operand not in graph:
                continue
            if state.get(operand) == 1:
                cycle = [*stack[stack.index(operand) :], operand]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append(cycle)
            elif operand not in state:
                visit(operand)
        stack.pop()
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name)
    return cycles
