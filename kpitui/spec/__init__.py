"""The dashboard spec: load the YAML, check it against the models and the store, report
every problem at its `file:line:col`.

    spec = load_dashboard(Path("dashboard.yaml"), known_metrics=reader.metric_names())
    spec.dashboard      # the typed Dashboard (kpitui.spec.models), defaults filled
    spec.store_path     # the store, resolved relative to the spec file
    spec.warnings       # problems that do not stop the board (exit 0 in `check`)

`load_dashboard` raises `InputError` when the file cannot be read as YAML at all and
`SpecErrors` (every problem, sorted by line) when it can but is wrong.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import pydantic
from pydantic import BaseModel

from kpitui.errors import KpituiError, SpecErrors
from kpitui.spec.loader import (
    LoadedYaml,
    NodePath,
    Position,
    SourceMap,
    SpecProblem,
    read_yaml,
    sort_problems,
)
from kpitui.spec.models import Dashboard
from kpitui.spec.problems import did_you_mean, plain_number
from kpitui.spec.validate import check_dashboard, check_store_references

__all__ = ["LoadedSpec", "SpecProblem", "load_dashboard", "store_path_for", "validate_data"]


@dataclass(frozen=True)
class LoadedSpec:
    dashboard: Dashboard
    path: Path
    store_path: Path
    warnings: list[KpituiError] = field(default_factory=list)
    positions: dict[NodePath, Position] = field(default_factory=dict)
    source_text: str = ""
    source_map: SourceMap = field(default_factory=SourceMap)
    file: str | None = None  # how messages name the spec

    def position(self, path: NodePath) -> Position:
        """Where the node at `path` (or its nearest parent) is written in the spec."""
        return self.source_map.value(path)

    def with_store_metrics(self, known_metrics: set[str]) -> LoadedSpec:
        """This spec (loaded without `known_metrics`) plus the warnings only the store's
        metric names reveal: a caller that learns the store from the spec parses it once."""
        found = check_store_references(self.dashboard, self.source_map, self.file, known_metrics)
        return dataclasses.replace(self, warnings=sort_problems([*self.warnings, *found]))


def store_path_for(spec_path: Path, store: str | None) -> Path:
    """The store a spec names, relative to the spec's folder; empty means the default."""
    name = store or Dashboard.model_fields["store"].default
    return spec_path.parent / Path(name).expanduser()


def load_dashboard(
    path: Path | str, *, known_metrics: set[str] | None = None, file: str | None = None
) -> LoadedSpec:
    """Load, model-check and cross-check a spec. `known_metrics`: the store's metric names
    (None skips the store check). `file`: how messages name the spec (default: the path)."""
    spec_path = Path(path)
    loaded = read_yaml(spec_path, file)
    dashboard, warnings = validate_data(loaded, known_metrics=known_metrics)
    return LoadedSpec(
        dashboard=dashboard,
        path=spec_path,
        store_path=store_path_for(spec_path, dashboard.store),
        warnings=warnings,
        positions=dict(loaded.source_map.values),
        source_text=loaded.text,
        source_map=loaded.source_map,
        file=loaded.file,
    )


def validate_data(
    loaded: LoadedYaml, *, known_metrics: set[str] | None = None
) -> tuple[Dashboard, list[KpituiError]]:
    """The Dashboard and its warnings; raises SpecErrors (with `.warnings`) on problems."""
    file = loaded.file
    problems: list[KpituiError] = list(loaded.problems)
    warnings: list[KpituiError] = []
    dashboard: Dashboard | None = None
    try:
        dashboard = Dashboard.model_validate(loaded.data)
    except pydantic.ValidationError as exc:
        problems.extend(model_problems(exc, loaded, file))
    if dashboard is not None:
        errors, warnings = check_dashboard(dashboard, loaded.source_map, file, known_metrics)
        problems.extend(errors)
    if problems:
        failure = SpecErrors(sort_problems(problems))
        failure.warnings = sort_problems(warnings)  # type: ignore[attr-defined]
        raise failure
    assert dashboard is not None
    return dashboard, sort_problems(warnings)


# -- pydantic errors → one message each at its place -----------------------------------

_KIND_NAMES = {
    "Dashboard": "the dashboard",
    "Kpi": "a KPI",
    "DerivedMetric": "a derived metric",
    "Chart": "a chart",
    "KeyResult": "a key result",
    "Objective": "an objective",
    "PeriodSpec": "period",
    "Alerts": "alerts",
    "Page": "a page",
    "Layout": "layout",
    "Spark": "spark",
}
# Words people reach for that are not the key's name.
_SYNONYMS = {
    "objectives": "okrs",
    "okr": "okrs",
    "krs": "key_results",
    "keyresults": "key_results",
    "key-results": "key_results",
    "results": "key_results",
    "tz": "timezone",
    "db": "store",
    "database": "store",
    "derived": "metrics",
    "pages": "layout",
    "name": "title",
    "label": "labels",
    "aggregation": "agg",
    "aggregate": "agg",
    "goal": "target",
    "warning": "warn",
    "critical": "crit",
    "stale": "stale_after",
    "northstar": "north_star",
    "unit": "format",
    "expression": "formula",
}


def model_problems(
    exc: pydantic.ValidationError, loaded: LoadedYaml, file: str | None
) -> list[SpecProblem]:
    seen: set[NodePath] = set()
    problems: list[SpecProblem] = []
    for error in exc.errors():
        data_path, rest = _data_path(loaded.data, error["loc"])
        if error["type"] == "missing" and rest:
            data_path = (*data_path, rest[0])
        if data_path in seen:
            continue  # a union reports once per member; one message per place is enough
        seen.add(data_path)
        detail, hint, at_key = _describe(error, data_path)
        smap = loaded.source_map
        if error["type"] == "missing":
            # Said of the mapping that lacks the key, at the mapping's first line.
            data_path = data_path[:-1]
            line, col = smap.value(data_path)
        else:
            line, col = smap.key(data_path) if at_key else smap.value(data_path)
        problems.append(
            SpecProblem(detail, path=data_path, file=file, line=line, col=col, hint=hint)
        )
    return problems


def _data_path(data: object, loc: tuple) -> tuple[NodePath, tuple]:
    """Split pydantic's `loc` into the part that names nodes of the data and the rest
    (union member tags such as 'float', or a missing key)."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]  # type: ignore[index]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and i == len(loc) - 1:
            return tuple(path), (part,)
    return tuple(path), ()


def _show(value: object) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value) if not isinstance(value, bool) else str(value).lower()


def _model_at(path: NodePath) -> type[BaseModel] | None:
    """The model class describing the mapping at `path` (for its key names)."""
    tp: object = Dashboard
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(part))
            if info is None:
                return None
            tp = info.annotation
        else:
            args = typing.get_args(tp)
            if not args:
                return None
            tp = args[-1]  # list[X] → X, dict[str, X] → X
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: object) -> object:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
            if len(args) != 1:
                return tp
        else:
            return tp


def _unknown_key(key: str, parent: NodePath) -> tuple[str, str | None]:
    model = _model_at(parent)
    if model is None:
        return "unknown key", None
    names = list(model.model_fields)
    hint = did_you_mean(key, names)
    if hint is None and _SYNONYMS.get(key.lower()) in names:
        hint = f"did you mean {_SYNONYMS[key.lower()]!r}?"
    if hint is not None:
        return "unknown key", hint
    kind = _KIND_NAMES.get(model.__name__, model.__name__)
    return "unknown key", f"{kind} takes: {', '.join(names)}"


def _describe(error: dict, path: NodePath) -> tuple[str, str | None, bool]:
    """(detail, hint, point at the key rather than the value)."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    last = path[-1] if path else ""
    if kind == "extra_forbidden":
        detail, hint = _unknown_key(str(last), path[:-1])
        return detail, hint, True
    if kind == "missing":
        model = _model_at(path[:-1])
        what = _KIND_NAMES.get(model.__name__, "this") if model else "this"
        return f"missing required key {last!r}", f"{what} needs `{last}:`", True
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(str(value), options, cutoff=0.5)
        return f"{_show(value)} is not one of {', '.join(options)}", hint, False
    if path and last in ("warn", "crit") and kind in ("float_type", "string_type"):
        return (
            f'expected a number or a percentage of target like "90%", got {_show(value)}',
            None,
            False,
        )
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"expected a number, got {_show(value)}", None, False
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {_show(value)}", None, False
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_show(value)}", None, False
    if kind == "string_type":
        hint = f'quote it: "{value}"' if isinstance(value, int | float | bool) else None
        return f"expected text, got {_show(value)}", hint, False
    if kind == "list_type":
        return f"expected a list (lines starting with `- `), got {_show(value)}", None, False
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        hint = None
        if isinstance(value, str) and len(path) == 2 and path[0] == "kpis":
            hint = f"write `- metric: {value}`"
        return f"expected a mapping (key: value lines), got {_show(value)}", hint, False
    if kind.startswith("date"):
        reason = ctx.get("error")
        detail = f"expected a date like 2026-10-01, got {_show(value)}"
        return (f"{detail}: {reason}" if reason else detail), None, False
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"must be at least {plain_number(bound)}, got {_show(value)}", None, False
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"must be at most {plain_number(bound)}, got {_show(value)}", None, False
    if kind == "too_short":
        return "needs at least one entry", None, False
    if kind == "value_error":
        text = str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
        if last == "window" and "is not a duration" in text:
            text = f"{_show(value)} is not a window: use 7d, 30d, 12h, mtd, qtd or ytd"
        return text, None, False
    return f"{error['msg']}, got {_show(value)}", None, False
