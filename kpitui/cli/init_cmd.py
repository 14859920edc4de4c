"""`kpitui init [--db STORE] [-o FILE] [--force]`: write a starter spec from what the
store holds (`kpitui.starter_spec`), checked as `kpitui check` would before it is put in
place, and never over an existing file without --force."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kpitui.cli import HelpFormatter
from kpitui.cli.common import DEFAULT_SPEC, chosen_store
from kpitui.errors import InputError, RuntimeFailure
from kpitui.literal import literal
from kpitui.store import open_reader
from kpitui.store.name import StoreName


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "init",
        help="write a starter dashboard spec from what the store holds",
        description=(
            "Write a dashboard spec with one KPI per metric of the store, each read as its\n"
            "data suggests: flows (signups, orders) summed over a window that fits how often\n"
            "their points come, levels (MRR, DAU, rates) as their latest value, survey\n"
            "answers as NPS/CSAT, latencies as p90; titles from the names, a sparkline per\n"
            "KPI, a chart per labelled metric, pages of at most six KPIs, and a commented\n"
            "example objective. The spec passes `kpitui check` as written. An existing file\n"
            "is never overwritten without --force."
        ),
        epilog=(
            "examples:\n"
            "  kpitui init                              ./metrics.db → ./dashboard.yaml\n"
            "  kpitui init --db shop.db -o shop.yaml\n"
            "  kpitui init --db postgresql://kpitui@db/metrics -o team.yaml\n"
            "  kpitui init -o - | less                  print it instead"
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--db",
        metavar="STORE",
        help="the store to read: a SQLite file or a postgresql:// URL (default: $KPITUI_STORE,"
        " else ./metrics.db)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=DEFAULT_SPEC,
        help=f"where to write the spec (default ./{DEFAULT_SPEC}; - prints it)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    from kpitui.starter_spec import profile_metrics, starter_spec

    out = None if args.output == "-" else Path(args.output)
    if out is not None and (out.exists() or out.is_symlink()) and not args.force:
        raise InputError(
            "already exists", file=args.output, hint="pass --force to overwrite it, or -o FILE"
        )
    if out is not None and not out.parent.is_dir():
        raise InputError(
            f"no folder {literal(out.parent)} to write it in",
            file=args.output,
            hint="create the folder, or name another file with -o",
        )
    # ./dashboard.yaml is what init writes, so its store is not the one to read.
    chosen = chosen_store(args.db, None)
    store = chosen.name
    if store.path is not None and not store.path.is_file():
        raise InputError(
            "no store here yet",
            file=store.display,
            hint="load some points first (kpitui import FILE, kpitui sync) or name one with --db",
        )
    reader = open_reader(store)
    try:
        profiles = profile_metrics(reader)
    finally:
        reader.close()
    if not profiles:
        raise InputError(
            "the store holds no metrics yet",
            file=store.display,
            hint="load some points first: kpitui import FILE, kpitui record, kpitui sync",
        )
    folder = out.parent if out is not None else Path.cwd()
    text = starter_spec(profiles, store=_store_for(store, folder), source=store.display)
    _checked(text, folder, args.output)
    if out is None:
        sys.stdout.write(text)
        return 0
    _put(text, out, force=args.force, name=args.output)
    kpis = len(profiles)
    print(
        f"wrote {literal(args.output)}: {kpis} KPI{'s' if kpis != 1 else ''} from"
        f" {literal(store.display)}; `kpitui check {literal(args.output)}` passes,"
        f" `kpitui {literal(args.output)}` opens it"
    )
    return 0


def _store_for(store: StoreName, folder: Path) -> str:
    """What the spec's `store:` says: a path relative to the spec's folder, or the URL
    without its password (libpq reads that from PGPASSWORD or ~/.pgpass)."""
    if store.path is not None:
        return os.path.relpath(store.path.resolve(), folder.resolve())
    assert store.url is not None
    parts = urlsplit(store.url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password"])
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _checked(text: str, folder: Path, name: str) -> None:
    """`text` as `kpitui check` sees it, from a file beside where it goes (its store path
    is relative to there); a problem is a bug of init, said before anything is written."""
    from kpitui.cli.board_cmds import check_spec

    handle, trial = tempfile.mkstemp(dir=folder, prefix=".kpitui-init-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        report = check_spec(Path(trial), file=name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(trial)
    if report.errors:
        raise RuntimeFailure(
            f"the starter spec does not pass check: {report.errors[0]}",
            file=name,
            hint="a bug in kpitui init: please report it with the metric names",
        )


def _put(text: str, out: Path, *, force: bool, name: str) -> None:
    """Write `out` whole or not at all; without `force`, never over a file that appeared
    meanwhile (a hard link fails where the name exists)."""
    handle, temp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        if force:
            os.replace(temp, out)
        else:
            try:
                os.link(temp, out)
            except FileExistsError:
                raise InputError(
                    "already exists", file=name, hint="pass --force to overwrite it"
                ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
