"""`kpitui sync`: run a spec's `pull:` queries against its `sources:` and write the rows
into its store.

One line per pull run on stdout (rows read, points new or changed, the window); a pull
that fails is one line on stderr at the pull's line in the spec, with the database's
message, and the other pulls go on. `--once` runs every pull now and exits (1 or 2 when
one failed); without it the pulls run on their schedules until interrupted.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from kpitui import timeutil
from kpitui.cli import HelpFormatter
from kpitui.cli.common import add_spec_arguments, span_arg
from kpitui.errors import EXIT_OK, InputError
from kpitui.literal import literal
from kpitui.store.name import StoreName, held_name


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sync",
        help="pull the spec's queries from your databases into the store",
        description=(
            "Run each `pull:` of SPEC against its source (PostgreSQL, SQLite or DuckDB) and\n"
            "write the rows into the store: a `time` column, a `value` column, any other\n"
            "column a label. Source connections are read-only, and a query must be one\n"
            "SELECT (or WITH … SELECT), as the database's own parser reads it; every query\n"
            "has the source's timeout and row cap. A re-run writes nothing it already wrote; a\n"
            "corrected row replaces the old value. Where each pull stands (last success,\n"
            "last error) is kept in the store, for `kpitui check` and the board."
        ),
        epilog=(
            "examples:\n"
            "  kpitui sync --once                    run every pull of ./dashboard.yaml once\n"
            "  kpitui sync                           keep running, each pull on its schedule\n"
            "  kpitui sync --once --backfill 90d     read the last 90 days again (2w, 2y: weeks, years)\n"
            "  kpitui sync team.yaml --only signups  only the pull of one metric"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_arguments(parser)
    parser.add_argument("--once", action="store_true", help="run every pull once, then exit")
    parser.add_argument(
        "--backfill",
        type=span_arg,
        metavar="SPAN",
        help="read this far back (e.g. 90d, 2w, 2y) instead of from where each pull left off",
    )
    parser.add_argument("--only", metavar="METRIC", help="run only the pull of this metric (or id)")
    parser.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    from kpitui.spec import load_dashboard
    from kpitui.store import open_reader, open_writer
    from kpitui.sync.runner import Runner

    loaded = load_dashboard(Path(args.spec), file=args.spec)
    if not loaded.dashboard.pull:
        raise InputError(
            "the spec has no `pull:` queries to run",
            file=args.spec,
            hint="add `sources:` and `pull:` (README.md, Pulling from your database)",
        )
    store = held_name(StoreName.parse(args.db)) if args.db else loaded.store_path
    name = StoreName.parse(store)
    backfill = args.backfill.seconds if args.backfill is not None else None
    with open_writer(name) as writer:
        if writer.created:
            print(f"kpitui: created a new store {literal(name)}", file=sys.stderr)
        reader = open_reader(name)
        try:
            with _Bar() as bar:
                runner = Runner(loaded, writer, reader, progress=bar)
                pulls = runner.pulls(args.only)
                clock = timeutil.SystemClock()
                if args.once or backfill is not None:
                    failed = EXIT_OK
                    for index, pull in pulls:
                        result = runner.run(pull, index, clock.now(), backfill)
                        _report(result, bar)
                        if result.error is not None:
                            failed = max(failed, result.error.exit_code)
                    return failed
                stop = threading.Event()
                from kpitui.sync.schedule import run_forever

                try:
                    run_forever(runner, pulls, clock, lambda r: _report(r, bar), stop, _locked)
                except KeyboardInterrupt:
                    print("kpitui: sync stopped", file=sys.stderr)
                return EXIT_OK
        finally:
            reader.close()


def _report(result: Any, bar: _Bar) -> None:
    bar.done(result.pull_id)
    if result.error is not None:
        print(f"kpitui: {result.error}", file=sys.stderr, flush=True)
        return
    unchanged = result.rows - result.changed
    note = f", {unchanged:,} already stored" if unchanged else ""
    print(
        f"{literal(result.pull_id)}: {result.rows:,} row{'' if result.rows == 1 else 's'}, {result.changed:,} new or changed"
        f"{note} ({timeutil.iso_utc(result.start)} to {timeutil.iso_utc(result.end)},"
        f" {result.seconds:.2f} s)",
        flush=True,
    )


def _locked(pull: Any, exc: Exception) -> None:
    print(
        f"kpitui: pull {literal(pull.id)} missed its run: {exc}; trying again in a minute",
        file=sys.stderr,
        flush=True,
    )


class _Bar:
    """A rich progress bar on a terminal's stderr while a pull reads more than one
    slice (a backfill); nothing in a pipe."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._tty = sys.stderr.isatty()

    def __enter__(self) -> _Bar:
        return self

    def __call__(self, pull_id: str, done: int, total: int) -> None:
        if not self._tty or total <= 1:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self._progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                "days",
                TimeRemainingColumn(),
                # On stderr, the terminal it checked: stdout may be a log file.
                console=Console(stderr=True, highlight=False),
                transient=True,
                # Each pull's line goes to stdout: drawn above the bar when stdout is this
                # terminal too, left alone when it is a pipe or a log.
                redirect_stdout=sys.stdout.isatty(),
                redirect_stderr=False,
            )
            self._progress.start()
        task = self._tasks.get(pull_id)
        if task is None:
            from rich.markup import escape

            task = self._tasks[pull_id] = self._progress.add_task(
                escape(f"pulling {literal(pull_id)}"), total=total
            )
        self._progress.update(task, completed=done, total=total)

    def done(self, pull_id: str) -> None:
        task = self._tasks.pop(pull_id, None)
        if task is not None and self._progress is not None:
            self._progress.remove_task(task)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def pull_warnings(dashboard: Any, loaded: Any, reader: Any, as_of: int) -> list[Any]:
    """`kpitui check`'s warnings for pulls that are failing, late or never ran, each at
    its pull's line in the spec (`loaded`: the spec's LoadedYaml)."""
    from kpitui.engine.pulls import pulls_health
    from kpitui.errors import KpituiError
    from kpitui.spec.loader import SpecProblem

    if not dashboard.pull:
        return []
    try:
        states = reader.pull_states()
    except KpituiError:
        return []  # the board will show the failure; `check` is about the spec
    found = []
    for i, health in enumerate(pulls_health(dashboard, states, as_of)):
        if health.condition == "ok":
            continue
        line, col = loaded.source_map.value(("pull", i))
        found.append(
            SpecProblem(
                health.message,
                path=("pull", i),
                file=loaded.file,
                line=line,
                col=col,
                severity="warning",
            )
        )
    return found
