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

import types
import typing
from datetime import date
from pathlib import Path

import msgspec
from msgspec import Struct, field

from kpitui.errors import KpituiError, SpecErrors
from kpitui.literal import quoted
from kpitui.spec import models
from kpitui.spec.loader import (
    LoadedYaml,
    NodePath,
    Position,
    SourceMap,
    SpecProblem,
    read_yaml,
    sort_problems,
)
from kpitui.spec.models import CHECKED_TYPES, DEFAULT_STORE, Dashboard
from kpitui.spec.problems import did_you_mean, plain_number, show_value
from kpitui.spec.validate import check_dashboard, check_store_references
from kpitui.store.name import StoreName, env_store, held_name

__all__ = ["LoadedSpec", "SpecProblem", "load_dashboard", "store_path_for", "validate_data"]


class LoadedSpec(Struct, frozen=True):
    dashboard: Dashboard
    path: Path
    store_path: Path | StoreName  # a SQLite file, or a URL's StoreName
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
        return msgspec.structs.replace(self, warnings=sort_problems([*self.warnings, *found]))


def store_path_for(spec_path: Path, store: str | None) -> Path | StoreName:
    """The store a spec names: a `postgresql://` URL as a StoreName, a SQLite path
    relative to the spec's folder. None or empty (no `store:`): $KPITUI_STORE when set,
    else metrics.db beside the spec."""
    if not store:
        store = env_store()
        if store:  # the environment's path is the user's, relative to where they are
            return held_name(StoreName.parse(store))
    return held_name(StoreName.parse(store or DEFAULT_STORE, base=spec_path.parent))


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
        store_path=store_path_for(spec_path, _written_store(loaded)),
        warnings=warnings,
        positions=dict(loaded.source_map.values),
        source_text=loaded.text,
        source_map=loaded.source_map,
        file=loaded.file,
    )


def _written_store(loaded: LoadedYaml) -> str | None:
    """The spec's own `store:`, None when it has none (the default defers to $KPITUI_STORE)."""
    data = loaded.data
    named = data.get("store") if isinstance(data, dict) else None
    return named if isinstance(named, str) else None


def validate_data(
    loaded: LoadedYaml, *, known_metrics: set[str] | None = None
) -> tuple[Dashboard, list[KpituiError]]:
    """The Dashboard and its warnings; raises SpecErrors (with `.warnings`) on problems."""
    file = loaded.file
    problems: list[KpituiError] = list(loaded.problems)
    warnings: list[KpituiError] = []
    dashboard: Dashboard | None = None
    try:
        dashboard = models.convert(loaded.data)
    except msgspec.ValidationError:
        problems.extend(model_problems(loaded, file))
    if dashboard is not None:
        errors, warnings = check_dashboard(dashboard, loaded.source_map, file, known_metrics)
        problems.extend(errors)
    if problems:
        raise SpecErrors(sort_problems(problems), sort_problems(warnings))
    assert dashboard is not None
    return dashboard, sort_problems(warnings)


# -- model problems → one message each at its place --------------------------------------

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
    "Source": "a source",
    "AlertRule": "an alert rule",
    "Target": "a notify target",
    "Webhook": "a webhook",
    "Pull": "a pull",
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
    "pulls": "pull",
    "source_url": "url",
    "interval": "every",
    "sql": "query",
    "alerts": "alert",
    "after": "for",
    "hold": "for",
    "every": "repeat",
    "targets": "notify",
    "url": "webhook",
    "cmd": "command",
    "run": "command",
}


class _Found(Struct, frozen=True):
    path: NodePath
    detail: str
    hint: str | None = None
    at_key: bool = False  # an unknown key is pointed at, not its value


def model_problems(loaded: LoadedYaml, file: str | None) -> list[SpecProblem]:
    """Every place the data does not fit the models. msgspec stops at the first problem,
    so a part that fails is converted again field by field and item by item."""
    found: list[_Found] = []
    _collect(loaded.data, Dashboard, (), found)
    smap = loaded.source_map
    problems: list[SpecProblem] = []
    for item in found:
        line, col = smap.key(item.path) if item.at_key else smap.value(item.path)
        problems.append(
            SpecProblem(item.detail, path=item.path, file=file, line=line, col=col, hint=item.hint)
        )
    return problems


def _collect(value: object, tp: object, path: NodePath, found: list[_Found]) -> None:
    try:
        models.convert(value, tp)
        return
    except msgspec.ValidationError as exc:
        error = str(exc)
    before = len(found)
    base, _ = _base(tp)
    origin = typing.get_origin(base)
    if isinstance(base, type) and issubclass(base, msgspec.Struct) and isinstance(value, dict):
        # Keys as written in YAML (`for:` is the field `hold`).
        fields = {f.encode_name: f for f in msgspec.structs.fields(base)}
        for key, item in value.items():
            if key in fields:
                _collect(item, fields[key].type, (*path, key), found)
            else:
                detail, hint = _unknown_key(str(key), base)
                found.append(_Found((*path, key), detail, hint, at_key=True))
        for name, info in fields.items():
            required = (
                info.default is msgspec.NODEFAULT and info.default_factory is msgspec.NODEFAULT
            )
            if required and name not in value:
                # Said of the mapping that lacks the key, at the mapping's first line.
                kind = _KIND_NAMES.get(base.__name__, "this")
                found.append(
                    _Found(path, f"missing required key {quoted(name)}", f"{kind} needs `{name}:`")
                )
    elif origin is list and isinstance(value, list):
        (item_type,) = typing.get_args(base)
        for i, item in enumerate(value):
            _collect(item, item_type, (*path, i), found)
    elif origin is dict and isinstance(value, dict):
        _, item_type = typing.get_args(base)
        for key, item in value.items():
            if isinstance(key, str):
                _collect(item, item_type, (*path, key), found)
            else:
                found.append(_Found((*path, key), *_leaf(key, str, error), at_key=True))
    if len(found) == before:
        found.append(_Found(path, *_leaf(value, tp, error, path)))


def _base(tp: object) -> tuple[object, tuple]:
    """`tp` without `| None` and `Annotated[...]`, and the Annotated metadata."""
    meta: tuple = ()
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp, *extra = typing.get_args(tp)
            meta += tuple(extra)
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, meta
            tp = args[0]
        else:
            return tp, meta


def _unknown_key(key: str, model: type) -> tuple[str, str | None]:
    names = [f.encode_name for f in msgspec.structs.fields(model)]
    hint = did_you_mean(key, names)
    if hint is None and _SYNONYMS.get(key.lower()) in names:
        hint = f"did you mean {quoted(_SYNONYMS[key.lower()])}?"
    if hint is not None:
        return "unknown key", hint
    kind = _KIND_NAMES.get(model.__name__, model.__name__)
    return "unknown key", f"{kind} takes: {', '.join(names)}"


def _leaf(value: object, tp: object, error: str, path: NodePath = ()) -> tuple[str, str | None]:
    """(detail, hint) for a value that does not fit `tp` (`error`: msgspec's message)."""
    base, meta = _base(tp)
    shown = show_value(value)
    last = path[-1] if path else ""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if base in CHECKED_TYPES:
        return error.split(" - at `")[0], None  # the decoder's own message
    if last in ("warn", "crit"):
        if isinstance(value, str):
            return (
                f'{quoted(value)} is neither a number nor a percentage of target like "90%"',
                None,
            )
        return f'expected a number or a percentage of target like "90%", got {shown}', None
    if typing.get_origin(base) is typing.Literal:
        options = [str(option) for option in typing.get_args(base)]
        hint = did_you_mean(str(value), options, cutoff=0.5)
        return f"{shown} is not one of {', '.join(options)}", hint
    if base is bool:
        return f"expected true or false, got {shown}", None
    if base in (int, float) and number and (base is float or isinstance(value, int)):
        for bound in meta:
            if bound.ge is not None and value < bound.ge:
                return f"must be at least {plain_number(bound.ge)}, got {shown}", None
            if bound.le is not None and value > bound.le:
                return f"must be at most {plain_number(bound.le)}, got {shown}", None
    if base is int:
        return f"expected a whole number, got {shown}", None
    if base is float:
        return f"expected a number, got {shown}", None
    if base is str:
        hint = f'quote it: "{shown}"' if number or isinstance(value, bool | date) else None
        return f"expected text, got {shown}", hint
    if typing.get_origin(base) is list:
        if isinstance(value, list):
            return "needs at least one entry", None
        return f"expected a list (lines starting with `- `), got {shown}", None
    if typing.get_origin(base) is dict or (
        isinstance(base, type) and issubclass(base, msgspec.Struct)
    ):
        hint = None
        if isinstance(value, str) and len(path) == 2 and path[0] == "kpis":
            hint = f"write `- metric: {value}`"
        return f"expected a mapping (key: value lines), got {shown}", hint
    return f"{error.split(' - at `')[0]}, got {shown}", None
