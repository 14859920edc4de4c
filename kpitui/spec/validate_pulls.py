"""Checks of a spec's `sources:` and `pull:` (what `kpitui sync` runs), each problem at
its line: a source with no URL or two, a URL that names no database kpitui reads, a pull
naming a source that is not there, a metric name the store refuses, two pulls with one
id, and queries that do not use the window they are given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kpitui.literal import quoted
from kpitui.spec.problems import did_you_mean
from kpitui.spec.sources import ENV_NAME_RE, PARAMETERS, query_parameters, source_target
from kpitui.vocabulary import METRIC_NAME_HINT, is_metric_name

if TYPE_CHECKING:
    from kpitui.spec.models import Dashboard
    from kpitui.spec.problems import Problems


def check_pulls(problems: Problems, d: Dashboard) -> None:
    base = Path(problems.file).parent if problems.file else None
    for name, source in d.sources.items():
        path = ("sources", name)
        if source.url is None and source.url_env is None:
            problems.error(
                path,
                "a source needs `url:` or `url_env:`",
                "url: a postgresql:// URL or a database file; url_env: the environment "
                "variable that holds it, so no password sits in the spec",
                at_key=True,
            )
        elif source.url is not None and source.url_env is not None:
            problems.error(
                (*path, "url_env"), "give `url:` or `url_env:`, not both", "keep one of them"
            )
        if source.url is not None:
            try:
                target = source_target(source.url, base)
            except ValueError as exc:
                problems.error((*path, "url"), str(exc))
            else:
                if target.path is not None and not target.path.exists() and base is not None:
                    problems.warn(
                        (*path, "url"),
                        f"the {target.engine} file {quoted(str(target.path))} does not exist yet",
                        "a relative path is taken from the spec's folder",
                    )
        if source.url_env is not None and not ENV_NAME_RE.match(source.url_env):
            problems.error(
                (*path, "url_env"),
                f"{quoted(source.url_env)} is not an environment variable name",
                "use letters, digits and _, e.g. APP_DB_URL",
            )
    seen: dict[str, int] = {}
    for i, pull in enumerate(d.pull):
        path = ("pull", i)
        if pull.source not in d.sources:
            hint = did_you_mean(pull.source, d.sources) or (
                f"sources defined: {', '.join(d.sources)}"
                if d.sources
                else "define it under `sources:`"
            )
            problems.error(
                (*path, "source"), f"no source named {quoted(pull.source)} under `sources:`", hint
            )
        if not is_metric_name(pull.metric):
            problems.error(
                (*path, "metric"), f"{quoted(pull.metric)} is not a metric name", METRIC_NAME_HINT
            )
        where = (*path, "id") if problems.written((*path, "id")) else path
        if pull.id in seen:
            problems.error(
                where,
                f"the pull id {quoted(pull.id)} is already used by pull[{seen[pull.id]}]",
                "a pull's id defaults to its metric: give one of them its own `id:`",
            )
        else:
            seen[pull.id] = i
        check_query(problems, (*path, "query"), pull.query)


def check_query(problems: Problems, path: tuple, query: str) -> None:
    if not query.strip():
        problems.error(path, "the query is empty", "write a SELECT returning time, value")
        return
    names = {p.name for p in query_parameters(query)}
    for name in sorted(names - set(PARAMETERS)):
        problems.warn(
            path,
            f"':{name}' is not a parameter kpitui binds (only :start and :end)",
            did_you_mean(f":{name}", [f":{p}" for p in PARAMETERS])
            or "write it as text, or drop the colon",
        )
    if "start" not in names:
        problems.warn(
            path,
            "the query does not use :start, so every run reads all it returns",
            "add e.g. `WHERE created_at >= :start AND created_at < :end`",
        )
