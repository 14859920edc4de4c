"""`kpitui delete`, `kpitui rename`, `kpitui prune`: looking after what a store holds.

Each counts first and says what it would do; then `--dry-run` stops there, `--yes`
goes on, a terminal is asked, and without either (a script, a pipe) the command refuses
in one line rather than destroy what nobody confirmed. None creates a store.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from kpitui import timeutil
from kpitui.cli import HelpFormatter
from kpitui.cli.common import (
    add_db_option,
    check_text_arguments,
    chosen_store,
    counted,
    span_arg,
    time_arg,
)
from kpitui.errors import InputError
from kpitui.literal import literal, quoted
from kpitui.store import StoreName, open_reader, open_writer
from kpitui.store.api import Removal, StoreWriter


def register(sub: argparse._SubParsersAction) -> None:
    delete = _parser(
        sub,
        "delete",
        "delete the points of a metric (or some of its series, or a span of time)",
        "Delete the points of METRIC: of every series, or of those with all the --label\n"
        "pairs, between --from and --to (inclusive; default: all time). The rollups are\n"
        "recomputed, and a series left empty goes.",
        "  kpitui delete test_metric --dry-run\n"
        "  kpitui delete signups --label region=apac --from 2026-11-01 --to 2026-11-02\n"
        "  kpitui delete mrr --to 2025-12-31 --yes",
    )
    delete.add_argument("metric", metavar="METRIC")
    delete.add_argument(
        "--label", action="append", default=[], metavar="KEY=VALUE", help="only these series"
    )
    delete.add_argument("--from", dest="lo", type=time_arg, metavar="TIME", help="first time")
    delete.add_argument("--to", dest="hi", type=time_arg, metavar="TIME", help="last time")
    delete.set_defaults(func=run_delete)

    rename = _parser(
        sub,
        "rename",
        "rename a metric",
        "Rename METRIC to NEW in the store: its series, points, rollups and the\n"
        "annotations that name it. NEW must not be a metric of the store yet. Update the\n"
        "specs that read it (kpitui check lists the references left).",
        "  kpitui rename signup signups\n  kpitui rename api_p90 api.latency.p90 --yes",
    )
    rename.add_argument("metric", metavar="METRIC")
    rename.add_argument("new", metavar="NEW")
    rename.set_defaults(func=run_rename)

    prune = _parser(
        sub,
        "prune",
        "delete raw points older than a span, keeping the hourly and daily rollups",
        "Delete every raw point older than SPAN (of every metric). The hourly and daily\n"
        "rollups stay, so long charts and sum/count/avg/min/max over whole hours and days\n"
        "still read those times; `last`, percentiles, nps and csat only see raw points.",
        "  kpitui prune --older-than 2y --dry-run\n  kpitui prune --older-than 400d --yes",
    )
    prune.add_argument(
        "--older-than", required=True, type=span_arg, metavar="SPAN", help="e.g. 2y, 400d, 8w"
    )
    prune.set_defaults(func=run_prune)


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
    confirm = parser.add_mutually_exclusive_group()
    confirm.add_argument("--yes", action="store_true", help="do it without asking (scripts)")
    confirm.add_argument(
        "--dry-run", action="store_true", help="say what would be done, change nothing"
    )
    add_db_option(parser)
    return parser


def existing_store(args: argparse.Namespace) -> StoreName:
    """The store these commands look after; it must exist (nothing is created)."""
    name = chosen_store(args.db, args.spec).name
    if name.path is not None and not name.path.exists():
        raise InputError(
            "store not found", file=name.display, hint="pass --db with an existing store"
        )
    open_reader(name).close()  # a file that is no store says so here
    return name


def confirmed(args: argparse.Namespace, question: str) -> bool:
    """Whether to go on: --yes, else the answer of a terminal; refused without one."""
    if args.yes:
        return True
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise InputError(
            f"{question}: not done without a confirmation, and there is no terminal to ask",
            hint="pass --yes to do it, or --dry-run to see what would go",
        )
    print(f"{question}? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _act(
    args: argparse.Namespace,
    work: Callable[[StoreWriter, bool], Removal],
    said: Callable[[Removal, bool], str],
    nothing: str,
) -> int:
    name = existing_store(args)
    with open_writer(name) as writer:
        counted = work(writer, True)
    if not counted.points and not counted.series:
        print(nothing)
        return 0
    if args.dry_run:
        print(said(counted, True))
        return 0
    if not confirmed(args, said(counted, True)):
        print("kpitui: nothing changed", file=sys.stderr)
        return 0
    with open_writer(name) as writer:
        done = work(writer, False)
    print(said(done, False))
    return 0


def _span_text(r: Removal) -> str:
    if r.first_ts is None or r.last_ts is None:
        return ""
    return f" from {timeutil.iso_utc(r.first_ts)} to {timeutil.iso_utc(r.last_ts)}"


def _series(metric: str, labels: dict[str, str]) -> str:
    from kpitui.cli.store_cmds import series_name

    return series_name(metric, labels)


def run_delete(args: argparse.Namespace) -> int:
    from kpitui.cli.store_cmds import parse_labels

    check_text_arguments(("METRIC", args.metric), *(("--label", p) for p in args.label))
    labels = parse_labels(args.label)
    if args.lo is not None and args.hi is not None and args.lo > args.hi:
        raise InputError("--from is after --to", hint="swap them")
    shown = _series(args.metric.strip(), labels)

    def said(r: Removal, would: bool) -> str:
        verb = "would delete" if would else "deleted"
        return (
            f"{verb} {counted(r.points, 'point')} of {r.series:,} series of {shown}{_span_text(r)}"
        )

    return _act(
        args,
        lambda w, dry: w.delete_points(args.metric, labels, args.lo, args.hi, dry_run=dry),
        said,
        f"nothing to delete: no points of {shown} in that span",
    )


def run_rename(args: argparse.Namespace) -> int:
    check_text_arguments(("METRIC", args.metric), ("NEW", args.new))
    old, new = literal(args.metric.strip()), literal(args.new.strip())
    if args.metric.strip() == args.new.strip():
        raise InputError("METRIC and NEW are the same name")

    def said(r: Removal, would: bool) -> str:
        verb = "would rename" if would else "renamed"
        return f"{verb} {old} to {new}: {r.series:,} series, {counted(r.points, 'point')}"

    def work(writer: StoreWriter, dry: bool) -> Removal:
        found = writer.rename_metric(args.metric, args.new, dry_run=dry)
        if not found.series:
            raise InputError(
                f"no metric {quoted(args.metric.strip())} in the store",
                hint="`kpitui metrics` lists them",
            )
        return found

    return _act(args, work, said, "")


def run_prune(args: argparse.Namespace) -> int:
    cutoff = timeutil.SystemClock().now() - args.older_than.seconds
    when = timeutil.iso_utc(cutoff)

    def said(r: Removal, would: bool) -> str:
        verb = "would prune" if would else "pruned"
        return (
            f"{verb} {counted(r.points, 'raw point')} of {r.series:,} series older than {when}"
            f"{_span_text(r)} (the hourly and daily rollups stay)"
        )

    return _act(
        args,
        lambda w, dry: w.prune(cutoff, dry_run=dry),
        said,
        f"nothing to prune: no raw point is older than {when}",
    )
