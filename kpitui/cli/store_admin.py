"""`kpitui checkins` and `kpitui store init|copy`: looking after a store.

`checkins` lists (or deletes) manual check-ins; `store init` creates a store's schema
(for PostgreSQL it can print the GRANTs of a writer and a reader role); `store copy`
copies one store into another, idempotently.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kpitui import timeutil
from kpitui.cli import HelpFormatter
from kpitui.cli.common import add_db_option, chosen_store, number_text
from kpitui.errors import InputError
from kpitui.literal import json_text, literal, quoted
from kpitui.store import StoreName, grant_statements, open_reader, open_writer


def register(sub: argparse._SubParsersAction) -> None:
    _register_checkins(sub)
    _register_store(sub)


# -- checkins -------------------------------------------------------------------------


def _register_checkins(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "checkins",
        help="list (or delete) key-result check-ins",
        description=(
            "List the manual check-ins in the store, oldest first: each with its id, key\n"
            "result, time (UTC), value, confidence and note. With KR_ID, that key result's\n"
            "only. --delete ID removes one check-in (the id from this list; with KR_ID, it must\n"
            "be one of that key result's), after asking: --yes for scripts, --dry-run to see it."
        ),
        epilog=(
            "examples:\n"
            "  kpitui checkins\n"
            "  kpitui checkins launch-mobile-app --json\n"
            "  kpitui checkins launch-mobile-app --delete 12 --yes"
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("kr_id", nargs="?", metavar="KR_ID", help="only this key result's")
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.add_argument("--delete", type=int, metavar="ID", help="remove the check-in ID")
    confirm = parser.add_mutually_exclusive_group()
    confirm.add_argument("--yes", action="store_true", help="with --delete: without asking")
    confirm.add_argument(
        "--dry-run", action="store_true", help="with --delete: say what would go, change nothing"
    )
    add_db_option(parser)
    parser.set_defaults(func=run_checkins)


def run_checkins(args: argparse.Namespace) -> int:
    name = chosen_store(args.db, args.spec).name
    if args.delete is not None:
        return _delete_checkin(args, name)
    reader = open_reader(name)
    try:
        found = reader.checkins(args.kr_id.strip() if args.kr_id else None)
    finally:
        reader.close()
    rows = [
        {
            "id": c.id,
            "kr": c.kr_id,
            "time": timeutil.iso_utc(c.ts),
            "value": c.value,
            "confidence": c.confidence,
            "note": c.note,
        }
        for c in found
    ]
    if args.json:
        sys.stdout.write(json_text(rows))
        return 0
    if not rows:
        which = f" of {literal(args.kr_id)}" if args.kr_id else ""
        print(f"no check-ins{which} in {literal(name)} yet: record one with `kpitui checkin`")
        return 0
    table = [("ID", "KR", "TIME", "VALUE", "CONFIDENCE", "NOTE")]
    table += [
        (
            str(r["id"]),
            literal(r["kr"]),
            r["time"],
            number_text(r["value"]),
            r["confidence"] or "-",
            literal(r["note"]) if r["note"] else "",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    for row in table:
        cells = [row[0].rjust(widths[0]), *(row[i].ljust(widths[i]) for i in range(1, 5)), row[5]]
        print("  ".join(cells).rstrip())
    return 0


def _delete_checkin(args: argparse.Namespace, name: StoreName) -> int:
    from kpitui.cli.housekeeping_cmds import confirmed

    reader = open_reader(name)  # never creates a store just to find nothing in it
    try:
        kr_id = args.kr_id.strip() if args.kr_id else None
        found = [c for c in reader.checkins(kr_id) if c.id == args.delete]
    finally:
        reader.close()
    if not found:
        of = f" of {quoted(kr_id)}" if kr_id else ""
        raise InputError(
            f"no check-in {args.delete}{of} in {name.display}",
            hint="`kpitui checkins` lists them with their ids",
        )
    c = found[0]
    what = (
        f"check-in {c.id} of {literal(c.kr_id)} ({number_text(c.value)} at"
        f" {timeutil.iso_utc(c.ts)})"
    )
    if args.dry_run:
        print(f"would delete {what}")
        return 0
    if not confirmed(args, f"delete {what}"):
        print("kpitui: nothing changed", file=sys.stderr)
        return 0
    with open_writer(name) as writer:
        writer.delete_checkin(args.delete)
    print(f"deleted check-in {args.delete} from {literal(name)}")
    return 0


# -- store init / copy ----------------------------------------------------------------


def _register_store(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "store",
        help="create a store's schema, or copy one store into another",
        description="Look after a metric store (a SQLite file or a postgresql:// URL).",
        epilog=(
            "examples:\n"
            "  kpitui store init postgresql://kpi_owner@db.internal/kpis --grants\n"
            "  kpitui store copy metrics.db postgresql://etl@db.internal/kpis"
        ),
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="create (or migrate) a store's schema",
        description=(
            "Create the store's tables (or migrate them to this kpitui's schema). For a\n"
            "PostgreSQL database, run it as the role that should own the tables; with\n"
            "--grants it also prints the GRANT statements for a writer role and a reader\n"
            "role, for an administrator to run."
        ),
        epilog=(
            "examples:\n"
            "  kpitui store init metrics.db\n"
            "  kpitui store init postgresql://kpi_owner@db.internal/kpis --grants\n"
            "  kpitui store init postgresql://kpi_owner@db/kpis --grants --writer etl --reader viewer"
        ),
        formatter_class=HelpFormatter,
    )
    init.add_argument("store", metavar="STORE", help="a SQLite file or a postgresql:// URL")
    init.add_argument("--grants", action="store_true", help="print GRANTs for two roles")
    init.add_argument("--writer", default="kpitui_writer", metavar="ROLE", help="(with --grants)")
    init.add_argument("--reader", default="kpitui_reader", metavar="ROLE", help="(with --grants)")
    init.set_defaults(func=run_store_init)
    copy = actions.add_parser(
        "copy",
        help="copy every series, point, check-in and annotation into another store",
        description=(
            "Copy everything in SRC — series, points, check-ins, annotations, the alert\n"
            "history and sync state — into DST, creating DST's schema if needed. Points\n"
            "already in DST are replaced by SRC's value; copying twice writes nothing new.\n"
            "A progress bar on a terminal; the counts at the end."
        ),
        epilog=(
            "examples:\n"
            "  kpitui store copy metrics.db postgresql://etl@db.internal/kpis\n"
            "  kpitui store copy postgresql://viewer@db.internal/kpis offline.db"
        ),
        formatter_class=HelpFormatter,
    )
    copy.add_argument("source", metavar="SRC", help="the store to read")
    copy.add_argument("target", metavar="DST", help="the store to write (created if needed)")
    copy.set_defaults(func=run_store_copy)


def run_store_init(args: argparse.Namespace) -> int:
    from kpitui.store import init_store

    name = StoreName.parse(args.store)
    if args.grants and not name.is_url:
        raise InputError(
            "--grants is for a PostgreSQL store", hint="a SQLite file's rights are the file's"
        )
    created = init_store(name)
    what = "created the schema of" if created else "the schema is up to date in"
    print(f"{what} {literal(name)}", file=sys.stderr if args.grants else sys.stdout)
    if args.grants:
        print(grant_statements(name, args.writer, args.reader))
    return 0


def run_store_copy(args: argparse.Namespace) -> int:
    from kpitui.store.copy import copy_store

    source, target = StoreName.parse(args.source), StoreName.parse(args.target)
    if source == target:
        raise InputError("SRC and DST are the same store", hint="name another DST")
    reader = open_reader(source)
    try:
        with open_writer(target) as writer, _progress() as progress:
            result = copy_store(reader, writer, lambda: open_reader(target), progress)
    finally:
        reader.close()
    print(
        f"copied {result.points:,} points ({result.changed:,} new or changed) in"
        f" {result.series:,} series, {result.checkins:,} check-ins,"
        f" {result.annotations:,} new annotations, {result.alert_events:,} alert events"
        f" and {result.pulls:,} pull states from {literal(source)} to {literal(target)}"
    )
    return 0


class _progress:
    """A rich progress bar on a terminal's stderr; nothing in a pipe."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bar = Progress(
            "copying points",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            # On stderr, the terminal it checked: stdout (the count) may be a file.
            console=Console(stderr=True, highlight=False),
            transient=True,
        )
        self._bar.__enter__()
        self._task = self._bar.add_task("copy", total=None)
        return self._update

    def _update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
