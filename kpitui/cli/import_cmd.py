"""`kpitui import FILE`: bulk-load points from CSV, JSON Lines or JSON, in one transaction.

A CSV may say how it is written (`--sep`, `--decimal`, `--thousands`, `--time-column`,
`--label-column`); a number the flags do not read is refused with the flag or edit that
reads it. On a terminal a large file shows a progress bar (on stderr); in a pipe, only
the one line saying what was imported.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kpitui.cli.common import (
    add_db_option,
    check_text_arguments,
    chosen_store,
    counted,
    created_store_note,
)
from kpitui.errors import InputError, KpituiError
from kpitui.literal import literal
from kpitui.store import open_writer
from kpitui.store.csv_options import (
    CsvOptions,
    recognised_time_columns,
    separator_arg,
)
from kpitui.store.importers import DIRECTORY_HINT, FORMATS, detect_format, import_file

PROGRESS_BYTES = 4 << 20
"""The smallest file whose import shows a progress bar (a smaller one is done at once)."""


def register(sub: argparse._SubParsersAction, make_parser: Callable[..., argparse.ArgumentParser]):
    parser = make_parser(
        sub,
        "import",
        "bulk-load points from CSV, JSON Lines or JSON",
        "Load points from a file in one transaction: any bad line stops the import with its\n"
        "line number, and nothing of the file is written. Re-importing a file changes nothing.\n\n"
        "  long CSV     header metric,time,value and any label columns (an empty cell: no label)\n"
        "  --wide CSV   a time column and one column per metric (a spreadsheet export)\n"
        '  JSON Lines   one {"metric", "time", "value", "labels": {...}} object per line\n'
        "  JSON         an array of those objects\n\n"
        "The format comes from the extension (.csv, .jsonl/.ndjson, .json) unless --format is\n"
        "given; FILE - reads stdin (CSV unless --format). Times: ISO 8601, dates or epoch\n"
        "seconds, mixed freely (no zone means UTC). The time column is the one named\n"
        f"{recognised_time_columns()} (any case), or --time-column NAME. The separator is\n"
        "read off the header (, ; or tab) unless --sep says it. Numbers are written 1234.5\n"
        "unless --decimal/--thousands say otherwise; a number they do not read ($1,234, 12%,\n"
        "1,5) is refused with the flag or edit that reads it, never guessed.\n"
        "Creates the store if it does not exist yet.",
        "  kpitui import signups.csv\n"
        "  kpitui import latency.csv --metric page_latency_ms     (columns time,value,region)\n"
        "  kpitui import export.csv --wide                        (columns date,mrr,dau,mau)\n"
        "  kpitui import plans.csv --wide --label-column plan     (columns date,plan,mrr,seats)\n"
        "  kpitui import umsatz.csv --decimal , --thousands .     (1.234,5; sniffed ; columns)\n"
        "  kpitui import log.csv --time-column created_at --metric signups\n"
        "  kpitui import events.ndjson\n"
        "  etl.sh | kpitui import - --format jsonl",
    )
    parser.add_argument("file", metavar="FILE", help="the file to load, or - for stdin")
    parser.add_argument(
        "--metric",
        metavar="NAME",
        help="the metric of every row, when the file has no metric column",
    )
    parser.add_argument(
        "--wide", action="store_true", help="a time column and one column per metric"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        dest="fmt",
        help="the input format (default: from the extension)",
    )
    csv_flags = parser.add_argument_group("CSV")
    csv_flags.add_argument(
        "--sep",
        type=_separator,
        metavar="SEP",
        help="the separator: , ; tab or | (default: read off the header)",
    )
    csv_flags.add_argument(
        "--time-column",
        metavar="NAME",
        help=f"the column holding the time (default: {recognised_time_columns()})",
    )
    csv_flags.add_argument(
        "--label-column",
        action="append",
        default=[],
        metavar="NAME",
        help="with --wide: a column of labels, not a metric (repeat for more)",
    )
    csv_flags.add_argument(
        "--decimal",
        default=".",
        metavar="MARK",
        help="the decimal mark of the values: . (default) or ,",
    )
    csv_flags.add_argument(
        "--thousands",
        metavar="SEP",
        help="the thousands separator of the values: , . ' or a space (default: none)",
    )
    add_db_option(parser)
    parser.set_defaults(func=run_import)


def _separator(text: str) -> str:
    try:
        return separator_arg(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_import(args: argparse.Namespace) -> int:
    source = args.file
    check_text_arguments(
        ("--metric", args.metric),
        ("--time-column", args.time_column),
        *(("--label-column", name) for name in args.label_column),
    )
    options = CsvOptions(
        sep=args.sep,
        decimal=args.decimal,
        thousands=args.thousands,
        time_column=args.time_column,
        label_columns=tuple(args.label_column),
    )
    options.check()
    if args.label_column and not args.wide:
        raise InputError(
            "--label-column is for --wide files: every column of a long file but metric,"
            " time and value is a label already",
            hint="add --wide, or drop --label-column",
        )
    detect_format(source, args.fmt)  # a bad name fails before the store is touched
    size = None
    if source != "-":
        if not Path(source).exists():
            raise InputError("no such file", file=source, hint="check the path")
        if Path(source).is_dir():
            raise InputError("is a directory, not a file", file=source, hint=DIRECTORY_HINT)
        size = _size(source)
    chosen = chosen_store(args.db, args.spec)
    writer = open_writer(chosen.name)
    try:
        with _progress_bar(source, size) as progress:
            result = import_file(
                writer,
                source,
                metric=args.metric,
                wide=args.wide,
                fmt=args.fmt,
                options=options,
                progress=progress,
            )
    except (KpituiError, KeyboardInterrupt):
        # A failed or interrupted import leaves no trace, not even an empty store.
        writer.discard_if_unused()
        raise
    finally:
        writer.close()
    if writer.created:
        print(f"kpitui: {created_store_note(chosen)}", file=sys.stderr)
    unchanged = result.points - result.changed
    note = f"; {unchanged:,} already stored" if unchanged else ""
    print(
        f"imported {counted(result.points, 'point')} into {result.series:,} series"
        f" from {literal(result.source)}"
        f" ({result.seconds:.2f} s{note})"
    )
    return 0


def _size(source: str) -> int | None:
    try:
        stat = os.stat(source)
    except OSError:
        return None
    return stat.st_size if stat.st_size > 0 else None  # a FIFO, /dev/stdin: no size


@contextmanager
def _progress_bar(source: str, size: int | None) -> Iterator[Callable[[int], None] | None]:
    """A progress callback drawing a bar on stderr when stderr is a terminal and the file
    is large enough to wait for; None otherwise (a pipe, a cron job, a small file)."""
    if size is None or size < PROGRESS_BYTES or not _stderr_is_terminal():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True, highlight=False)
    bar = Progress(
        TextColumn("importing {task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,  # gone before the line saying what was imported, or the error
    )
    task = bar.add_task(literal(Path(source).name), total=size)
    with bar:
        yield lambda done: bar.update(task, completed=done)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except ValueError:  # closed
        return False
