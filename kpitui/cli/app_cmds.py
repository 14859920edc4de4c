"""`kpitui run` and `kpitui demo`: open the live dashboard.

Everything that can be wrong with the input (the spec, the store) is found here, before
the app takes over the terminal: a problem is printed as one line per error and the
command exits with its code, never leaving a half-drawn full-screen app behind.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpitui.cli import HelpFormatter
from kpitui.cli.common import (
    DEFAULT_SPEC,
    add_db_option,
    add_spec_arguments,
    as_of_arg,
    missing_store,
)
from kpitui.cli.first_board import evaluate_aside
from kpitui.errors import InputError
from kpitui.store.name import StoreName, held_name
from kpitui.timeutil import SystemClock

if TYPE_CHECKING:
    from kpitui.engine.board import Board
    from kpitui.spec import LoadedSpec
    from kpitui.tui.app import KpituiApp
    from kpitui.tui.poller import FirstRead


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="open the dashboard (the default command)",
        description=(
            "Open the live dashboard of SPEC on its metric store. The spec and the store\n"
            "are checked first: any problem is printed and nothing is opened (exit 2 for\n"
            "the spec or a missing store, 1 for a store that cannot be read).\n"
            "Keys: Tab/arrows/hjkl move, 1-9 pages, Enter details, r refresh, p pause,\n"
            "a acknowledge, ? all keys, Ctrl+P palette, q quit."
        ),
        epilog=(
            "examples:\n"
            "  kpitui                                  open ./dashboard.yaml\n"
            "  kpitui run team.yaml --db /data/metrics.db\n"
            "  kpitui run --as-of 2026-12-31T23:59:59Z  the quarter-end review"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_arguments(run)
    run.add_argument(
        "--as-of",
        type=as_of_arg,
        metavar="TIME",
        help="evaluate as if it were TIME (ISO 8601, a date, or epoch seconds)",
    )
    run.set_defaults(func=run_dashboard)

    demo = subparsers.add_parser(
        "demo",
        help="open the sample dashboard with a simulated live feed",
        description=(
            "Build the sample store if it is missing, start a feed that writes new points\n"
            "every couple of seconds through the normal writer, and open the sample board\n"
            f"on it: ./{DEFAULT_SPEC} when there is one, else the board installed with\n"
            "kpitui on ./kpitui-demo.db (a store of its own: the demo never writes into\n"
            "your metrics.db). The feed stops when you quit."
        ),
        epilog=(
            "examples:\n"
            "  kpitui demo                     what `make run` opens\n"
            "  kpitui demo --db /tmp/demo.db   keep the sample store elsewhere"
        ),
        formatter_class=HelpFormatter,
    )
    add_db_option(demo, spec=False)
    demo.set_defaults(func=run_demo)


def load_spec(spec_path: Path) -> LoadedSpec:
    """The spec, parsed once and without the store: an invalid spec stops here with
    every problem (and before a demo builds its store); the store's metric names only
    add warnings, in `load_for_app`."""
    from kpitui.spec import load_dashboard

    return load_dashboard(spec_path)


def load_for_app(
    loaded: LoadedSpec, db: str | None, as_of: int
) -> tuple[LoadedSpec, Path | StoreName, FirstRead, Board, type[KpituiApp]]:
    """Check the spec against its store (`--db`, else the spec's), evaluate the first
    board, and import the app: `(loaded spec with the store's warnings, store path, the
    open reader and what it saw, first board, KpituiApp)`. The app's poller goes on
    with that reader.

    The first board is computed here, so the app's first screen shows values rather
    than empty panels, by a child process while this one imports Textual (see
    `first_board`). Raises `SpecErrors`/`InputError`/`StoreError` for the CLI to print.
    """
    store_path = held_name(StoreName.parse(db)) if db else loaded.store_path
    problem = missing_store(store_path, db, loaded.file, loaded.source_map)
    if problem is not None:
        raise problem
    with evaluate_aside(loaded.dashboard, store_path, as_of) as aside:
        from kpitui.store import open_reader
        from kpitui.tui.poller import FirstRead

        reader = open_reader(store_path)  # a store it cannot read stops here, before the screen
        try:
            with reader.snapshot():
                loaded = loaded.with_store_metrics(reader.metric_names())
                read = FirstRead(reader, reader.data_version(), as_of)
            aside.go()
            from kpitui.tui.app import KpituiApp

            board = aside.result()
            if board is None:
                from kpitui.engine import evaluate

                with reader.snapshot():  # the version of the board evaluated here
                    read = FirstRead(reader, reader.data_version(), as_of)
                    board = evaluate(loaded.dashboard, reader, as_of)
        except BaseException:
            reader.close()
            raise
    return loaded, store_path, read, board, KpituiApp


def need_terminal() -> None:
    """The live board reads its keys from a terminal on standard input. Without one
    (`< /dev/null`, cron, a session whose input died) Textual's input thread would read
    end-of-input and select again at once, burning a core for as long as it ran.
    `kpitui serve` is no exception to make: textual-serve runs the app over pipes with
    its own driver, named in TEXTUAL_DRIVER, which reads no terminal."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return
    stdin = sys.__stdin__
    if stdin is None or stdin.closed or not stdin.isatty():
        raise InputError(
            "standard input is not a terminal: the live board reads its keys from one",
            hint="run it in a terminal, or print the board once with `kpitui snapshot`",
        )


def on_terminal(app: KpituiApp) -> KpituiApp:
    """`app` with kpitui's terminal driver, unless another is named (textual-serve's)."""
    if not os.environ.get("TEXTUAL_DRIVER") and sys.platform != "win32":
        from kpitui.tui.terminal_driver import HangupAwareDriver

        app.driver_class = HangupAwareDriver
    return app


def served_viewer() -> str | None:
    """The browser this board is served to, as `kpitui serve` names it (`kpitui.acks`);
    None in a terminal."""
    from kpitui.acks import VIEWER_ENV, valid_viewer

    name = os.environ.get(VIEWER_ENV)
    return name if valid_viewer(name) else None


def run_dashboard(args: argparse.Namespace) -> int:
    clock = SystemClock()
    as_of = args.as_of if args.as_of is not None else clock.now()
    loaded, store_path, read, board, app_class = load_for_app(
        load_spec(Path(args.spec)), args.db, as_of
    )
    try:
        need_terminal()  # after the spec and the store: their problems are said first
    except InputError:
        read.reader.close()
        raise
    app = app_class(
        loaded,
        store_path=store_path,
        clock=clock,
        as_of=args.as_of,
        board=board,
        first_read=read,
        viewer=served_viewer(),
    )
    on_terminal(app).run()
    return app.return_code or 0


def run_demo(args: argparse.Namespace) -> int:
    from kpitui.demo import DEMO_SPEC, DEMO_STORE, LiveFeed, ensure_sample_store

    spec_path = Path(DEFAULT_SPEC)
    own_spec = spec_path.is_file()
    clock = SystemClock()
    loaded = load_spec(spec_path if own_spec else DEMO_SPEC)
    need_terminal()  # before the sample store is built for nothing
    if args.db:
        store_path = held_name(StoreName.parse(args.db))
    elif own_spec:
        store_path = loaded.store_path
    else:
        store_path = held_name(StoreName.parse(str(Path.cwd() / DEMO_STORE)))
    ensure_sample_store(store_path, clock)
    loaded, store_path, read, board, app_class = load_for_app(loaded, str(store_path), clock.now())
    feed = LiveFeed(store_path, clock=clock)
    app = app_class(
        loaded, store_path=store_path, clock=clock, feed=feed, board=board, first_read=read
    )
    try:
        on_terminal(app).run()
    finally:
        feed.stop()
    return app.return_code or 0
