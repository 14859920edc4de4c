"""Commands on the metric store: `record`, `checkin` (write) and `metrics` (read); `import`
is in `import_cmd`.

The writing commands create the store when it does not exist yet; `metrics` only reads
it. Each prints one short line saying what it did, so a cron log reads well.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kpitui import timeutil
from kpitui.cli import HelpFormatter
from kpitui.cli.common import (
    ChosenStore,
    add_db_option,
    check_text_arguments,
    chosen_store,
    created_store_note,
    number_text,
    time_arg,
)
from kpitui.errors import InputError, KpituiError
from kpitui.literal import json_text, literal, quoted
from kpitui.store import open_reader, open_writer
from kpitui.store.api import SeriesStats, StoreWriter
from kpitui.store.checks import CONFIDENCES, METRIC_NAME_HINT, is_metric_name

_MAX_LABEL_VALUES = 6
# argparse takes an argument starting with "-" for an option unless it matches its own
# negative-number pattern, which knows neither exponents nor infinity: `record temp -1e-05`
# said "VALUE is required". None of these commands has an option that looks like a
# number, so anything float() might read as negative is left for VALUE to judge.
_NEGATIVE_NUMBER = re.compile(r"-\.?\d|-(?:inf|nan)", re.IGNORECASE)


def register(sub: argparse._SubParsersAction) -> None:
    from kpitui.cli import import_cmd, store_admin

    _register_record(sub)
    import_cmd.register(sub, _parser)
    _register_checkin(sub)
    _register_metrics(sub)
    store_admin.register(sub)


@contextmanager
def writing(chosen: ChosenStore) -> Iterator[StoreWriter]:
    """The writer of a writing command; a store it creates is said on stderr."""
    with open_writer(chosen.name) as writer:
        if writer.created:
            print(f"kpitui: {created_store_note(chosen)}", file=sys.stderr)
        yield writer


def _parser(
    sub: argparse._SubParsersAction, name: str, help: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog="examples:\n" + epilog,
        formatter_class=HelpFormatter,
    )
    parser._negative_number_matcher = _NEGATIVE_NUMBER
    return parser


# -- record ---------------------------------------------------------------------------


def _register_record(sub: argparse._SubParsersAction) -> None:
    parser = _parser(
        sub,
        "record",
        "write one point",
        "Write one point: METRIC = VALUE at a time (default: now), with optional labels.\n"
        "Writing the same metric, labels and time again replaces the value.\n"
        "Creates the store if it does not exist yet.",
        "  kpitui record signups 42\n"
        "  kpitui record mrr 12500 --label plan=pro --at 2026-11-01\n"
        "  kpitui record page_latency_ms 182.5 --at 2026-11-24T09:30:00+01:00\n"
        "  kpitui record churn_rate 0.021 --db /srv/kpi/metrics.db",
    )
    parser.add_argument(
        "metric",
        metavar="METRIC",
        help="metric name: letters, digits, _ . : - (not starting with a digit)",
    )
    parser.add_argument("value", metavar="VALUE", help="a finite number")
    parser.add_argument(
        "--at",
        type=time_arg,
        metavar="TIME",
        help="ISO 8601 time, date or epoch seconds (default: now; no zone means UTC)",
    )
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label of the series (repeatable)",
    )
    add_db_option(parser)
    parser.set_defaults(func=run_record)


def parse_labels(pairs: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(
                f"--label {quoted(pair)} is not KEY=VALUE", hint="e.g. --label plan=pro"
            )
        if key in labels:
            raise InputError(f"--label {quoted(key)} is given twice")
        if value.strip():
            labels[key] = value.strip()  # "region= eu" is region=eu, as in a CSV cell
    return labels


def parse_value(text: str, what: str = "VALUE") -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{what} {quoted(text)} is not a number") from None
    if not math.isfinite(value):
        raise InputError(
            f"{what} {quoted(text)} is not a finite number", hint="NaN and infinity are not stored"
        )
    return value


def series_name(metric: str, labels: dict[str, str]) -> str:
    if not labels:
        return literal(metric)
    pairs = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return literal(metric + "{" + pairs + "}")


def run_record(args: argparse.Namespace) -> int:
    check_text_arguments(("METRIC", args.metric), *(("--label", pair) for pair in args.label))
    metric = args.metric.strip()
    if not is_metric_name(metric):
        raise InputError(f"{quoted(args.metric)} is not a metric name", hint=METRIC_NAME_HINT)
    value = parse_value(args.value)
    labels = parse_labels(args.label)
    at = args.at if args.at is not None else timeutil.SystemClock().now()
    chosen = chosen_store(args.db, args.spec)
    with writing(chosen) as writer:
        writer.write_points([(metric, labels, at, value)])
    print(
        f"recorded {series_name(metric, labels)} = {number_text(value)}"
        f" at {timeutil.iso_utc(at)} in {literal(chosen.name)}"
    )
    return 0


# -- checkin --------------------------------------------------------------------------


def _register_checkin(sub: argparse._SubParsersAction) -> None:
    parser = _parser(
        sub,
        "checkin",
        "record a manual key-result check-in",
        "Record the current value of a manual key result (one without a metric), with how\n"
        "confident its owner is. The KR id is the one in the spec (the store accepts any id);\n"
        "a check-in at the same time replaces the earlier one. Creates the store if needed.",
        "  kpitui checkin launch-mobile-app 0.6 --confidence at_risk\n"
        '  kpitui checkin hire-support-leads 2 --note "second offer signed"\n'
        "  kpitui checkin launch-mobile-app 0.4 --at 2026-11-17",
    )
    parser.add_argument("kr_id", metavar="KR_ID", help="the key result's id in the spec")
    parser.add_argument("value", metavar="VALUE", help="its current value (a finite number)")
    parser.add_argument("--at", type=time_arg, metavar="TIME", help="when (default: now)")
    parser.add_argument("--confidence", choices=CONFIDENCES, help="the owner's confidence")
    parser.add_argument("--note", metavar="TEXT", help="a short note shown with the check-in")
    parser.add_argument(
        "--any-id",
        action="store_true",
        help="accept a KR id the spec does not define (default: refuse it, exit 2)",
    )
    add_db_option(parser)
    parser.set_defaults(func=run_checkin)


def run_checkin(args: argparse.Namespace) -> int:
    check_text_arguments(("KR_ID", args.kr_id), ("--note", args.note))
    kr_id = args.kr_id.strip()
    if not kr_id:
        raise InputError("KR_ID is empty", hint="use the key result's id from the spec")
    value = parse_value(args.value)
    at = args.at if args.at is not None else timeutil.SystemClock().now()
    chosen = chosen_store(args.db, args.spec)
    if chosen.spec is not None and not args.any_id:
        check_kr_id(kr_id, chosen.spec)
    with writing(chosen) as writer:
        writer.write_checkin(kr_id, at, value, args.confidence, args.note)
    confidence = f" ({args.confidence})" if args.confidence else ""
    print(
        f"checked in {literal(kr_id)} = {number_text(value)}{confidence}"
        f" at {timeutil.iso_utc(at)} in {literal(chosen.name)}"
    )
    return 0


def check_kr_id(kr_id: str, spec: Path) -> None:
    """Refuse a KR id that `spec` does not define: a check-in under a typo is data no
    board ever shows."""
    from kpitui.spec import load_dashboard
    from kpitui.spec.problems import did_you_mean
    from kpitui.spec.validate import walk_objectives

    try:
        dashboard = load_dashboard(spec).dashboard
    except KpituiError as exc:
        raise InputError(
            "the spec has problems, so its key-result ids are unknown",
            file=str(spec),
            hint="`kpitui check` explains; or pass --any-id",
        ) from exc
    ids = [
        kr.id for objective, _ in walk_objectives(dashboard.okrs) for kr in objective.key_results
    ]
    if kr_id in ids:
        return
    close = did_you_mean(kr_id, ids)
    hint = (
        f"{close} Or pass --any-id to record it anyway"
        if close
        else ("use a key-result id from the spec, or pass --any-id to record it anyway")
    )
    raise InputError(f"{quoted(kr_id)} is not a key result of this spec", file=str(spec), hint=hint)


# -- metrics --------------------------------------------------------------------------


def _register_metrics(sub: argparse._SubParsersAction) -> None:
    parser = _parser(
        sub,
        "metrics",
        "list the metrics in the store",
        "One row per metric: its points over all its series, how many series, the first and\n"
        "last time (UTC), and its label keys with their values. Reads the store only.",
        "  kpitui metrics\n"
        "  kpitui metrics --json | jq '.[].metric'\n"
        "  kpitui metrics --db /srv/kpi/metrics.db",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON array, one object per metric"
    )
    add_db_option(parser)
    parser.set_defaults(func=run_metrics)


def summarize(stats: Sequence[SeriesStats]) -> list[dict]:
    """One summary per metric, by name."""
    by_metric: dict[str, dict] = {}
    for s in stats:
        row = by_metric.setdefault(
            s.series.metric,
            {
                "metric": s.series.metric,
                "points": 0,
                "series": 0,
                "first": s.first_ts,
                "last": s.last_ts,
                "labels": {},
            },
        )
        row["points"] += s.count
        row["series"] += 1
        row["first"] = min(row["first"], s.first_ts)
        row["last"] = max(row["last"], s.last_ts)
        for key, value in s.series.labels.items():
            row["labels"].setdefault(key, set()).add(value)
    out = []
    for name in sorted(by_metric):
        row = by_metric[name]
        row["first"], row["last"] = timeutil.iso_utc(row["first"]), timeutil.iso_utc(row["last"])
        row["labels"] = {k: sorted(v) for k, v in sorted(row["labels"].items())}
        out.append(row)
    return out


def _labels_text(labels: dict[str, list[str]]) -> str:
    parts = []
    for key, values in labels.items():
        shown = "|".join(values) if len(values) <= _MAX_LABEL_VALUES else f"({len(values)} values)"
        parts.append(f"{key}={shown}")
    return literal(" ".join(parts)) or "-"


def run_metrics(args: argparse.Namespace) -> int:
    name = chosen_store(args.db, args.spec).name
    reader = open_reader(name)
    try:
        rows = summarize(reader.stats())
    finally:
        reader.close()
    if args.json:
        sys.stdout.write(json_text(rows))
        return 0
    if not rows:
        print(
            f"no metrics in {literal(name)} yet: write some with `kpitui record` or `kpitui import`"
        )
        return 0
    table = [("METRIC", "POINTS", "SERIES", "FIRST", "LAST", "LABELS")]
    table += [
        (
            literal(r["metric"]),
            f"{r['points']:,}",
            f"{r['series']:,}",
            r["first"],
            r["last"],
            _labels_text(r["labels"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    for row in table:
        cells = [
            row[0].ljust(widths[0]),
            row[1].rjust(widths[1]),
            row[2].rjust(widths[2]),
            row[3].ljust(widths[3]),
            row[4].ljust(widths[4]),
            row[5],
        ]
        print("  ".join(cells))
    return 0
