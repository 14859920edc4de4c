"""`kpitui annotate` and `kpitui annotations`: marks on the charts (a release, an incident).

An annotation is a moment and a line of text, on the charts of the metrics it names (on
every chart when it names none). It is written through the store's writer like a point,
and shown as data: escaped, never styled.
"""

from __future__ import annotations

import argparse
import difflib
import sys

from kpitui import timeutil
from kpitui.cli import HelpFormatter
from kpitui.cli.common import (
    ChosenStore,
    add_db_option,
    check_text_arguments,
    chosen_store,
    time_arg,
)
from kpitui.cli.store_cmds import parse_labels, writing
from kpitui.errors import InputError, KpituiError
from kpitui.literal import json_text, literal, quoted
from kpitui.store import StoreName, open_reader
from kpitui.store.api import Annotation
from kpitui.store.checks import MAX_TS, METRIC_NAME_HINT, MIN_TS, is_metric_name


def register(sub: argparse._SubParsersAction) -> None:
    _register_annotate(sub)
    _register_annotations(sub)


# -- annotate -------------------------------------------------------------------------


def _register_annotate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "annotate",
        help="mark a release or an incident on the charts",
        description=(
            "Write an annotation: TEXT at a time (default: now), marked on the time axis of\n"
            "the charts of each --metric (of every chart without one) and listed in the\n"
            "detail screens and snapshots. Creates the store if it does not exist yet."
        ),
        epilog=(
            "examples:\n"
            '  kpitui annotate "v2.4 released"\n'
            '  kpitui annotate "pricing change" --at 2026-11-02 --metric mrr --metric arpu\n'
            '  kpitui annotate "EU outage" --at 2026-11-18T14:05+01:00 --metric page_latency_ms'
            " --label region=eu"
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("text", metavar="TEXT", help="what happened, in one line")
    parser.add_argument(
        "--at",
        type=time_arg,
        metavar="TIME",
        help="ISO 8601 time, date or epoch seconds (default: now; no zone means UTC)",
    )
    parser.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME",
        help="a metric whose charts show it (repeatable; default: every chart)",
    )
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label it is about (repeatable), e.g. --label region=eu",
    )
    add_db_option(parser)
    parser.set_defaults(func=run_annotate)


def run_annotate(args: argparse.Namespace) -> int:
    check_text_arguments(
        ("TEXT", args.text),
        *(("--metric", m) for m in args.metric),
        *(("--label", pair) for pair in args.label),
    )
    text = args.text.strip()
    if not text:
        raise InputError("TEXT is empty", hint='say what happened, e.g. "v2.4 released"')
    for metric in args.metric:
        if not is_metric_name(metric.strip()):
            raise InputError(
                f"--metric {quoted(metric)} is not a metric name", hint=METRIC_NAME_HINT
            )
    labels = parse_labels(args.label)
    at = args.at if args.at is not None else timeutil.SystemClock().now()
    chosen = chosen_store(args.db, args.spec)
    with writing(chosen) as writer:
        annotation_id = writer.write_annotation(at, text, args.metric, labels)
    on = ", ".join(literal(m.strip()) for m in args.metric) or "every chart"
    print(
        f"annotated {on} at {timeutil.iso_utc(at)}: {literal(text)}"
        f" (annotation {annotation_id} in {literal(chosen.name)})"
    )
    for note in _unknown_metrics(chosen, [m.strip() for m in args.metric]):
        print(f"kpitui: note: {note}", file=sys.stderr)
    return 0


def _unknown_metrics(chosen: ChosenStore, metrics: list[str]) -> list[str]:
    """A line per named metric neither the store nor the spec knows: likely a typo, and
    an annotation on it would be on no chart. Only said, never refused: the metric's
    points may come later."""
    if not metrics:
        return []
    known: set[str] = set()
    try:
        reader = open_reader(chosen.name)
        try:
            known |= reader.metric_names()
        finally:
            reader.close()
        if chosen.spec is not None:
            from kpitui.spec import load_dashboard

            known |= set(load_dashboard(chosen.spec).dashboard.metrics)
    except KpituiError:
        return []  # the note is advice: a spec with problems says nothing here
    notes = []
    for metric in metrics:
        if metric in known:
            continue
        close = difflib.get_close_matches(metric, sorted(known), n=1)
        hint = f" (did you mean {literal(close[0])}?)" if close else ""
        notes.append(f"no metric {literal(metric)} in {literal(chosen.name)} yet{hint}")
    return notes


# -- annotations ----------------------------------------------------------------------


def _register_annotations(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "annotations",
        help="list (or delete) the annotations",
        description=(
            "List the annotations in the store, oldest first: each with its id, time (UTC),\n"
            "the metrics whose charts show it ('*': every chart), its labels and its text.\n"
            "--metric keeps those shown on that metric's charts. --delete ID removes one,\n"
            "after asking: --yes for scripts, --dry-run to see it."
        ),
        epilog=(
            "examples:\n"
            "  kpitui annotations\n"
            "  kpitui annotations --metric mrr --json\n"
            "  kpitui annotations --delete 4 --yes"
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME",
        help="only those on this metric's charts (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.add_argument("--delete", type=int, metavar="ID", help="remove the annotation ID")
    confirm = parser.add_mutually_exclusive_group()
    confirm.add_argument("--yes", action="store_true", help="with --delete: without asking")
    confirm.add_argument(
        "--dry-run", action="store_true", help="with --delete: say what would go, change nothing"
    )
    add_db_option(parser)
    parser.set_defaults(func=run_annotations)


def _all(name: StoreName, metrics: list[str] | None = None) -> list[Annotation]:
    reader = open_reader(name)  # never creates a store just to find nothing in it
    try:
        return reader.annotations(MIN_TS, MAX_TS, metrics or None)
    finally:
        reader.close()


def _row(a: Annotation) -> dict:
    return {
        "id": a.id,
        "time": timeutil.iso_utc(a.ts),
        "text": a.text,
        "metrics": list(a.metrics),
        "labels": dict(a.labels),
    }


def run_annotations(args: argparse.Namespace) -> int:
    name = chosen_store(args.db, args.spec).name
    if args.delete is not None:
        return _delete(args, name)
    rows = [_row(a) for a in _all(name, [m.strip() for m in args.metric])]
    if args.json:
        sys.stdout.write(json_text(rows))
        return 0
    if not rows:
        print(f"no annotations in {literal(name)} yet: write one with `kpitui annotate`")
        return 0
    table = [("ID", "TIME", "METRICS", "LABELS", "TEXT")]
    table += [
        (
            str(r["id"]),
            r["time"],
            literal(",".join(r["metrics"])) or "*",
            literal(" ".join(f"{k}={v}" for k, v in sorted(r["labels"].items()))) or "-",
            literal(r["text"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        cells = [row[0].rjust(widths[0]), *(row[i].ljust(widths[i]) for i in range(1, 4)), row[4]]
        print("  ".join(cells).rstrip())
    return 0


def _delete(args: argparse.Namespace, name: StoreName) -> int:
    from kpitui.cli.housekeeping_cmds import confirmed
    from kpitui.store import open_writer

    found = [a for a in _all(name) if a.id == args.delete]
    if not found:
        raise InputError(
            f"no annotation {args.delete} in {name.display}",
            hint="`kpitui annotations` lists them with their ids",
        )
    a = found[0]
    what = f"annotation {a.id} ({timeutil.iso_utc(a.ts)}: {literal(a.text)})"
    if args.dry_run:
        print(f"would delete {what}")
        return 0
    if not confirmed(args, f"delete {what}"):
        print("kpitui: nothing changed", file=sys.stderr)
        return 0
    with open_writer(name) as writer:
        writer.delete_annotation(args.delete)
    print(f"deleted annotation {args.delete} from {literal(name)}")
    return 0
