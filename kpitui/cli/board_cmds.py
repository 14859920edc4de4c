"""Commands that read a dashboard spec without a terminal UI: `check` (and `snapshot`,
registered from its own module).

`check` reports every problem of a spec at once, each at its `file:line:col`, so a PM
fixes them in one pass: problems and warnings go to stderr one per line, the summary of a
clean spec to stdout; `--json` prints one object for scripts and editors instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field

from kpitui import timeutil
from kpitui.cli import HelpFormatter
from kpitui.cli.common import add_spec_arguments, missing_store
from kpitui.errors import EXIT_OK, KpituiError, SpecErrors
from kpitui.literal import json_text, quoted
from kpitui.vocabulary import SURVEY_SCALES

if TYPE_CHECKING:
    from kpitui.spec.formula import Formula
    from kpitui.spec.loader import LoadedYaml
    from kpitui.spec.models import Dashboard
    from kpitui.store.api import StoreReader
    from kpitui.store.name import StoreName

# The spec layer is imported by the functions that use it: `record`, `import`
# and the other store commands build this parser too, and must start fast.

_SCALES = SURVEY_SCALES


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "check",
        help="validate a dashboard spec and its references into the store",
        description=(
            "Validate a dashboard spec: its YAML, every key and value, ids, formulas,\n"
            "thresholds, OKRs and layout, and the metrics it reads from the store.\n"
            "Every problem is listed at once as FILE:LINE:COL: KEY: MESSAGE.\n"
            "Exit 0 when clean (warnings allowed), 2 when the spec must be fixed, 1 when\n"
            "the store cannot be read."
        ),
        epilog=(
            "examples:\n"
            "  kpitui check                          check ./dashboard.yaml\n"
            "  kpitui check boards/growth.yaml       check another spec\n"
            "  kpitui check --json | jq .errors      problems for a script or an editor\n"
            "  kpitui check --db /srv/kpi/metrics.db check against another store"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object: ok, errors, warnings, summary"
    )
    parser.set_defaults(func=run_check)
    from kpitui.cli.snapshot_cmd import register_snapshot

    register_snapshot(sub)


class CheckReport(Struct):
    file: str
    errors: list[KpituiError] = field(default_factory=list)
    warnings: list[KpituiError] = field(default_factory=list)
    dashboard: Dashboard | None = None
    store: StoreName | None = None

    @property
    def exit_code(self) -> int:
        return max((e.exit_code for e in self.errors), default=EXIT_OK)

    def counts(self) -> dict[str, int] | None:
        from kpitui.spec.validate import walk_objectives

        if self.dashboard is None:
            return None
        objectives = [o for o, _ in walk_objectives(self.dashboard.okrs)]
        return {
            "kpis": len(self.dashboard.kpis),
            "charts": len(self.dashboard.charts),
            "objectives": len(objectives),
            "key_results": sum(len(o.key_results) for o in objectives),
        }


def run_check(args: argparse.Namespace) -> int:
    report = check_spec(Path(args.spec), file=args.spec, db=args.db)
    if args.json:
        sys.stdout.write(json_text(report_json(report)))
    else:
        print_report(report)
    return report.exit_code


def check_spec(spec_path: Path, *, file: str, db: str | None = None) -> CheckReport:
    """Everything `check` finds; never raises for a user mistake."""
    from kpitui.spec import validate_data
    from kpitui.spec.loader import read_yaml, sort_problems

    report = CheckReport(file)
    try:
        loaded = read_yaml(spec_path, file)
    except KpituiError as exc:
        report.errors.append(exc)
        return report
    reader = None
    known: set[str] | None = None
    from kpitui.spec import store_path_for
    from kpitui.store.name import StoreName

    name = loaded.data.get("store")
    report.store = StoreName.parse(
        db or store_path_for(spec_path, name if isinstance(name, str) else None)
    )
    store_problem = missing_store(report.store, db, report.file, loaded.source_map)
    if store_problem is not None:
        report.errors.append(store_problem)
    else:
        from kpitui.store import open_reader

        try:
            reader = open_reader(report.store)
            known = set(reader.metric_names())
        except KpituiError as exc:
            report.errors.append(exc)
            if reader is not None:
                reader.close()
                reader = None
    try:
        try:
            report.dashboard, warnings = validate_data(loaded, known_metrics=known)
        except SpecErrors as exc:
            report.errors.extend(exc.problems)
            report.warnings.extend(exc.warnings)
        else:
            report.warnings.extend(warnings)
            if reader is not None and known is not None:
                report.warnings.extend(_out_of_scale(report.dashboard, reader, loaded, known))
                report.warnings.extend(_unmatched_labels(report.dashboard, reader, loaded, known))
                report.warnings.extend(_finer_than_points(report.dashboard, reader, loaded, known))
                from kpitui.cli.sync_cmd import pull_warnings

                now = timeutil.SystemClock().now()
                report.warnings.extend(pull_warnings(report.dashboard, loaded, reader, now))
                report.warnings.extend(_delivery_warnings(report.dashboard, reader, loaded, now))
    finally:
        if reader is not None:
            reader.close()
    report.errors = sort_problems(report.errors)
    report.warnings = sort_problems(report.warnings)
    return report


def _delivery_warnings(
    dashboard: Dashboard, reader: StoreReader, loaded: LoadedYaml, as_of: int
) -> list[KpituiError]:
    """Warnings for notify targets the alert history says are not getting their alerts."""
    from kpitui.engine.deliveries import delivery_health, health_message
    from kpitui.spec.loader import SpecProblem

    if not any(rule.notify for _, rule in _rules(dashboard)):
        return []
    try:
        events = reader.alert_events(limit=500)
    except KpituiError:
        return []  # the board will show the failure; `check` is about the spec
    tz = timeutil.resolve_timezone(dashboard.timezone)
    found: list[KpituiError] = []
    for health in delivery_health(dashboard, events, as_of):
        line, col = loaded.source_map.value(health.path)
        found.append(
            SpecProblem(
                health_message(health, tz),
                path=health.path,
                file=loaded.file,
                line=line,
                col=col,
                hint="`kpitui watch` says why on its stderr",
                severity="warning",
            )
        )
    return found


def _rules(dashboard: Dashboard):
    from kpitui.spec.alert_rules import notify_paths

    return notify_paths(dashboard)


def _out_of_scale(
    dashboard: Dashboard, reader: StoreReader, loaded: LoadedYaml, known: set[str]
) -> list[KpituiError]:
    """Warnings for survey KPIs whose window holds responses off the nps/csat scale."""
    from kpitui.spec.loader import SpecProblem
    from kpitui.spec.models import DEFAULT_WINDOW

    found: list[KpituiError] = []
    tz = timeutil.resolve_timezone(dashboard.timezone)  # validated: an IANA name or None
    as_of = timeutil.SystemClock().now()
    for i, kpi in enumerate(dashboard.kpis):
        if kpi.agg not in _SCALES or kpi.metric not in known:
            continue
        window = kpi.effective_window or DEFAULT_WINDOW
        span = window.range(as_of, tz)
        try:
            counted = reader.out_of_scale(kpi.metric, kpi.labels or None, kpi.agg, span.lo, span.hi)
        except KpituiError:
            continue  # the board will show the failure; `check` is about the spec
        if counted.ignored:
            path = ("kpis", i, "agg")
            line, col = loaded.source_map.value(path)
            total = counted.used + counted.ignored
            found.append(
                SpecProblem(
                    f"{counted.ignored} of {total} responses of {quoted(kpi.metric)} in the {window} window "
                    f"are outside the {kpi.agg} scale {_SCALES[kpi.agg]} and are left out",
                    path=path,
                    file=loaded.file,
                    line=line,
                    col=col,
                    hint=f"check what writes {quoted(kpi.metric)}",
                    severity="warning",
                )
            )
    return found


def _unmatched_labels(
    dashboard: Dashboard, reader: StoreReader, loaded: LoadedYaml, known: set[str]
) -> list[KpituiError]:
    """Warnings for label filters that no series of their stored metric carries: a
    misspelt `plan: Pro` would otherwise show "no data" with a clean check."""
    from kpitui.spec.formula import parse_formula, stored_operands
    from kpitui.spec.loader import SpecProblem
    from kpitui.spec.validate import walk_objectives

    def formula_of(name: str) -> Formula | None:
        derived = dashboard.metrics.get(name)
        return None if derived is None else parse_formula(derived.formula)

    filters: list[tuple[tuple, list[str], dict[str, str]]] = []
    filters += [(("kpis", i), [k.metric], k.labels) for i, k in enumerate(dashboard.kpis)]
    filters += [(("charts", i), c.metrics, c.labels) for i, c in enumerate(dashboard.charts)]
    for objective, path in walk_objectives(dashboard.okrs):
        filters += [
            ((*path, "key_results", j), [kr.metric], kr.labels)
            for j, kr in enumerate(objective.key_results)
            if kr.metric
        ]
    found: list[KpituiError] = []
    for path, metrics, labels in filters:
        if not labels:
            continue
        for metric in sorted(stored_operands(metrics, formula_of) & known):
            try:
                if reader.series(metric, labels):
                    continue
                carried = reader.series(metric)
            except KpituiError:
                return found  # the board will show the failure; `check` is about the spec
            wanted = ", ".join(f"{k}={v}" for k, v in labels.items())
            values = sorted({f"{k}={v}" for s in carried for k, v in s.labels.items()})
            line, col = loaded.source_map.value((*path, "labels"))
            found.append(
                SpecProblem(
                    f"no series of {quoted(metric)} has the labels {wanted}",
                    path=(*path, "labels"),
                    file=loaded.file,
                    line=line,
                    col=col,
                    hint=f"its series carry: {', '.join(values[:8]) or 'no labels'}"
                    + (", …" if len(values) > 8 else ""),
                    severity="warning",
                )
            )
    return found


def _finer_than_points(
    dashboard: Dashboard, reader: StoreReader, loaded: LoadedYaml, known: set[str]
) -> list[KpituiError]:
    """Warnings for a KPI window, sparkline bucket or chart bucket finer than the usual
    spacing of its metric's points: weekly points in a 7d window make a value that jumps
    as one point enters or leaves it; in daily buckets, six days of seven are empty."""
    from kpitui.engine.spacing import TOLERANCE, finer_than_spacing, usual_spacing
    from kpitui.spec.formula import parse_formula, stored_operands
    from kpitui.spec.loader import SpecProblem

    def formula_of(name: str) -> Formula | None:
        derived = dashboard.metrics.get(name)
        return None if derived is None else parse_formula(derived.formula)

    try:
        stats = reader.stats()
    except KpituiError:
        return []  # the board will show the failure; `check` is about the spec
    found: list[KpituiError] = []

    def warn(path: tuple, detail: str, hint: str) -> None:
        line, col = loaded.source_map.value(path)
        found.append(
            SpecProblem(
                detail,
                path=path,
                file=loaded.file,
                line=line,
                col=col,
                hint=hint,
                severity="warning",
            )
        )

    def every(spacing: int) -> str:
        return f"one every {_span(spacing)}"

    for i, kpi in enumerate(dashboard.kpis):
        stored = stored_operands([kpi.metric], formula_of) & known
        spacing = usual_spacing(stats, stored, kpi.labels)
        if spacing is None:
            continue
        window = kpi.effective_window
        seconds = None if window is None else window.seconds
        if seconds is not None and seconds < 2 * spacing * TOLERANCE:
            warn(
                ("kpis", i, "window"),
                f"the {window} window holds about one point of {kpi.metric!r} "
                f"({every(spacing)}): its {kpi.agg} jumps as a point enters or leaves it",
                f"use a window of at least {_span(2 * spacing)}",
            )
        bucket = kpi.effective_spark.bucket.seconds
        if finer_than_spacing(bucket, spacing):
            warn(
                ("kpis", i, "spark", "bucket"),
                f"the sparkline's {_span(bucket)} buckets are finer than the "
                f"points of {kpi.metric!r} ({every(spacing)}): most of them are empty",
                f"use `spark: {{bucket: {_span(spacing)}}}`",
            )
    for i, chart in enumerate(dashboard.charts):
        stored = stored_operands(chart.metrics, formula_of) & known
        spacing = usual_spacing(stats, stored, chart.labels)
        if spacing is not None and finer_than_spacing(chart.bucket.seconds, spacing):
            warn(
                ("charts", i, "bucket"),
                f"the chart's {chart.bucket} buckets are finer than the points of "
                f"{', '.join(map(repr, sorted(stored)))} ({every(spacing)}): most of them are empty",
                f"use `bucket: {_span(spacing)}`",
            )
    return found


def _span(seconds: float) -> str:
    """A spacing as a user writes it, rounded: `7d`, `6h`, `15m`, `30s`."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{round(seconds / size)}{unit}"
    return f"{max(1, round(seconds))}s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(report: CheckReport) -> str:
    counts = report.counts()
    warned = f" ({_plural(len(report.warnings), 'warning')})" if report.warnings else ""
    if not report.errors and counts is not None:
        parts = [
            _plural(counts["kpis"], "KPI"),
            _plural(counts["charts"], "chart"),
            _plural(counts["objectives"], "objective"),
            _plural(counts["key_results"], "key result"),
        ]
        return f"{report.file}: ok — {', '.join(parts)}{warned}"
    return f"{report.file}: {_plural(len(report.errors), 'problem')} to fix{warned}"


def print_report(report: CheckReport) -> None:
    from kpitui.spec.loader import sort_problems

    # Errors and warnings in line order, so they read top to bottom like the file.
    for problem in sort_problems([*report.errors, *report.warnings]):
        print(str(problem), file=sys.stderr)
    print(summary_line(report), file=sys.stdout if not report.errors else sys.stderr)


def _problem_json(problem: KpituiError) -> dict[str, object]:
    from kpitui.spec.loader import SpecProblem, format_path

    if isinstance(problem, SpecProblem):
        path, message = format_path(problem.path), problem.full_detail
    else:
        path = ""
        message = f"{problem.message} ({problem.hint})" if problem.hint else problem.message
    loc = problem.location
    return {"file": loc.file, "line": loc.line, "col": loc.col, "path": path, "message": message}


def report_json(report: CheckReport) -> dict[str, object]:
    return {
        "ok": not report.errors,
        "errors": [_problem_json(p) for p in report.errors],
        "warnings": [_problem_json(p) for p in report.warnings],
        "summary": {
            "file": report.file,
            "store": str(report.store) if report.store is not None else None,
            **(report.counts() or dict.fromkeys(("kpis", "charts", "objectives", "key_results"))),
            "errors": len(report.errors),
            "warnings": len(report.warnings),
        },
    }
