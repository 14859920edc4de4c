"""`kpitui snapshot`: render the board once, with no terminal — text, JSON or SVG.

Text is for pipes and cron mail, JSON for scripts, SVG for a picture of the real screen.
All three present the Board that `kpitui.engine.evaluate` computes, so they show the
same numbers as the live dashboard. `--fail-on` turns it into a cron alert (exit 3).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from kpitui import timeutil
from kpitui.cli import HelpFormatter
from kpitui.cli.common import add_spec_arguments, as_of_arg, missing_store
from kpitui.errors import EXIT_FAIL_ON, EXIT_OK, InputError, RuntimeFailure
from kpitui.literal import quoted

if TYPE_CHECKING:
    from kpitui.engine.board import Board, KpiView

DEFAULT_TEXT_WIDTH = 100
DEFAULT_SVG_SIZE = (120, None)  # no height: as tall as the page drawn needs
# How bad each state is for --fail-on; a stale KPI counts by the band of its last value,
# so a feed that stops while a KPI is critical does not silence the alert.
_SEVERITY = {"warn": 1, "crit": 2}


def register_snapshot(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "snapshot",
        help="render the board once as text, JSON or SVG (no terminal needed)",
        description=(
            "Evaluate the dashboard once and print it: a plain-text board for pipes and\n"
            "cron mail, a JSON object for scripts (title, as_of, kpis, okrs), or an SVG\n"
            "of the real screen. With --fail-on, exit 3 when any KPI is at or beyond\n"
            "that state (a stale KPI counts by the band of its last value), so a cron\n"
            "job can alert."
        ),
        epilog=(
            "examples:\n"
            "  kpitui snapshot                              the board of ./dashboard.yaml\n"
            "  kpitui snapshot --format json | jq '.kpis[] | {id, state}'\n"
            "  kpitui snapshot --as-of 2026-12-31T23:59:59Z -o q4-review.txt\n"
            "  kpitui snapshot --format svg --page 2 -o board.svg   page 2, as tall as it needs\n"
            "  kpitui snapshot --fail-on crit > /dev/null || mail -s 'KPI alert' pm@acme.io"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json", "svg"),
        default="text",
        help="text (default), json or svg",
    )
    parser.add_argument(
        "--as-of",
        type=as_of_arg,
        metavar="TIME",
        help="evaluate as if it were TIME (ISO 8601, a date, or epoch seconds)",
    )
    parser.add_argument(
        "--width",
        type=_size_arg,
        metavar="W",
        help=f"columns (text: default {DEFAULT_TEXT_WIDTH}; svg: default {DEFAULT_SVG_SIZE[0]})",
    )
    parser.add_argument(
        "--height",
        type=_size_arg,
        metavar="H",
        help="rows of the svg screen (default: as many as the page needs)",
    )
    parser.add_argument(
        "--page",
        type=_page_arg,
        metavar="N",
        help="svg: the page of the layout to draw, from 1 (default 1)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE (replaced atomically) instead of stdout",
    )
    parser.add_argument(
        "--fail-on",
        choices=("warn", "crit"),
        metavar="STATE",
        help="exit 3 when any KPI is at STATE or worse: warn or crit",
    )
    parser.set_defaults(func=run_snapshot)


def _size_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a whole number") from None
    if not 10 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{value} is out of range: use 10..1000")
    return value


def _page_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a page number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a page: pages count from 1")
    return value


def run_snapshot(args: argparse.Namespace) -> int:
    from kpitui.engine import evaluate
    from kpitui.spec import load_dashboard
    from kpitui.store import open_reader
    from kpitui.store.name import StoreName, held_name

    as_of = args.as_of if args.as_of is not None else timeutil.SystemClock().now()
    # The spec first, without the store's metric names: they only add warnings, which
    # are `kpitui check`'s to tell, never a snapshot's.
    loaded = load_dashboard(Path(args.spec), file=args.spec)
    store = held_name(StoreName.parse(args.db)) if args.db else loaded.store_path
    problem = missing_store(store, args.db, args.spec, loaded.source_map)
    if problem is not None:
        raise problem
    if args.page is not None and args.format != "svg":
        raise InputError(
            f"--page draws one page of the screen, and --format {args.format} prints the "
            "whole board",
            hint="drop --page, or add --format svg",
        )
    reader = open_reader(store)
    try:
        board = evaluate(loaded.dashboard, reader, as_of)
        if args.format == "svg":
            from kpitui.tui.snapshot import render_svg

            page = args.page or 1
            if page > len(board.pages):
                pages = len(board.pages)
                raise InputError(
                    f"--page {page}: the board has {pages} page{'s' if pages != 1 else ''}",
                    file=args.spec,
                    hint=f"use --page 1..{pages}",
                )
            output = render_svg(
                loaded,
                board,
                store,
                as_of,
                args.width or DEFAULT_SVG_SIZE[0],
                args.height,
                page=page,
            )
        elif args.format == "json":
            from kpitui.report import board_to_json_text

            output = board_to_json_text(board)
        else:
            from kpitui.report import board_to_text

            output = board_to_text(board, width=args.width or DEFAULT_TEXT_WIDTH)
    finally:
        reader.close()
    if args.output:
        kept = (Path(args.spec), *StoreName.parse(store).files)
        write_output(Path(args.output), output, keep=kept)
    else:
        sys.stdout.write(output if output.endswith("\n") else output + "\n")
        sys.stdout.flush()
    return fail_on_exit(board, args.fail_on)


def tripped_kpis(board: Board, level: str) -> list[KpiView]:
    """KPIs at `level` or worse (a stale KPI by its last value's band)."""
    floor = _SEVERITY[level]
    return [
        kpi
        for kpi in board.kpis
        if _SEVERITY.get(kpi.band if kpi.state == "stale" else kpi.state, 0) >= floor
    ]


def fail_on_exit(board: Board, level: str | None) -> int:
    if level is None:
        return EXIT_OK
    found = tripped_kpis(board, level)
    if not found:
        return EXIT_OK
    from kpitui.literal import literal

    names = ", ".join(
        f"{literal(k.id)} ({k.band if k.state == 'stale' else k.state})" for k in found
    )
    print(f"kpitui: --fail-on {level}: {names}", file=sys.stderr)
    return EXIT_FAIL_ON


def write_output(
    path: Path, text: str, *, keep: tuple[Path, ...] = (), what: str = "snapshot"
) -> None:
    """Write `text` (a snapshot, a digest: `what`) to `path`, through a symlink to its
    target. A regular file is written beside and renamed over, so readers never see half
    a file; anything else (/dev/null, a FIFO) is written to as it is. The files in `keep` (the spec, the
    store and its side files) are never overwritten, by any of their names."""
    target = Path(os.path.realpath(path))
    if any(target == Path(os.path.realpath(k)) or _same_file(target, k) for k in keep):
        raise InputError(
            f"will not overwrite the dashboard's own spec or store with a {what}",
            file=str(path),
            hint="pass another file to --output",
        )
    try:
        if target.exists() and not target.is_file():
            with target.open("w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        else:
            _replace_file(target, text)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
            raise RuntimeFailure(
                f"cannot write the {what}: {(exc.strerror or str(exc)).lower()}",
                file=str(path),
                hint="free some space, or pass another file to --output",
            ) from None
        raise InputError(
            f"cannot write the {what}: {exc.strerror or exc}",
            file=str(path),
            hint="check that the directory exists and is writable",
        ) from None


def _same_file(a: Path, b: Path) -> bool:
    """Whether `a` and `b` are one file (a hard link), when both exist."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _replace_file(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
