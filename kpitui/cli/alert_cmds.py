"""`kpitui watch` (the one process that notifies) and `kpitui digest` (the weekly review
in one page)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from kpitui import timeutil
from kpitui.cli import HelpFormatter
from kpitui.cli.common import add_spec_arguments, as_of_arg, missing_store, span_arg
from kpitui.errors import EXIT_OK, EXIT_RUNTIME, StoreError
from kpitui.literal import literal
from kpitui.store.name import StoreName, held_name


def register(sub: argparse._SubParsersAction) -> None:
    watch = sub.add_parser(
        "watch",
        help="evaluate the board headless and send its alerts (commands, webhooks)",
        description=(
            "Evaluate SPEC every `refresh:` with no screen, and send each alert its rules\n"
            "fire to their `notify:` targets: a command (the alert as JSON on stdin and as\n"
            "KPITUI_* variables) or a webhook (JSON, or a Slack/Mattermost message).\n"
            "Run one watcher per store: every open board shows the history it writes, and\n"
            "no board sends anything. The history lives in the store, so a restart sends\n"
            "nothing twice and loses nothing; a KPI already at warn or crit on the first\n"
            "run fires once. A target that fails is retried with backoff and said on\n"
            "stderr; it never holds up evaluation. Editing the spec reloads it."
        ),
        epilog=(
            "examples:\n"
            "  kpitui watch                          watch ./dashboard.yaml until stopped\n"
            "  kpitui watch --once                   one evaluation, for cron (exit 1 when a\n"
            "                                        target could not be reached)\n"
            "  SLACK_URL=https://hooks.slack.com/... kpitui watch team.yaml"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_arguments(watch)
    watch.add_argument(
        "--once",
        action="store_true",
        help="evaluate once, wait for the deliveries, then exit",
    )
    watch.set_defaults(func=run_watch)

    digest = sub.add_parser(
        "digest",
        help="the review in one page, for a weekly mail or channel post",
        description=(
            "The board's review for the span before as-of: KPIs off target with value,\n"
            "target, change and trend; the state changes in the span (from the alert\n"
            "history `kpitui watch` writes); key results at risk or off track with their\n"
            "gap to expected; check-ins due and by whom; the biggest movers."
        ),
        epilog=(
            "examples:\n"
            "  kpitui digest                         the last 7 days as plain text\n"
            "  kpitui digest --format html -o w.html for a mail (inline styles)\n"
            "  kpitui digest --format markdown --since 14d | post-to-channel\n"
            "  kpitui digest --as-of 2026-12-31      the quarter's last week"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_arguments(digest)
    digest.add_argument(
        "--since",
        type=span_arg,
        default=timeutil.Duration("7d"),
        metavar="SPAN",
        help="how far back the review reaches (default 7d)",
    )
    digest.add_argument(
        "--format", choices=("text", "markdown", "html"), default="text", help="default text"
    )
    digest.add_argument("--as-of", type=as_of_arg, metavar="TIME", help="review as of this time")
    digest.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    digest.set_defaults(func=run_digest)


def _store_of(args: argparse.Namespace, loaded) -> StoreName:
    store = held_name(StoreName.parse(args.db)) if args.db else loaded.store_path
    problem = missing_store(store, args.db, loaded.file, loaded.source_map)
    if problem is not None:
        raise problem
    return StoreName.parse(store)


def _say(line: str) -> None:
    print(line, flush=True)


def _complain(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_watch(args: argparse.Namespace) -> int:
    from kpitui.alerting.delivery import ATTEMPTS, BACKOFF, Deliveries
    from kpitui.alerting.watcher import SpecFollower, Watcher
    from kpitui.spec import load_dashboard
    from kpitui.store import open_reader, open_writer

    def load():
        return load_dashboard(Path(args.spec), file=args.spec)

    loaded = load()
    name = _store_of(args, loaded)
    clock = timeutil.SystemClock()
    with open_writer(name) as writer:
        reader = open_reader(name)
        deliveries = Deliveries()
        try:
            watcher = Watcher(loaded, reader, writer, deliveries, say=_say, complain=_complain)
            targets = sorted({t for r in watcher.rules.values() for t in map(_label, r.notify)})
            _complain(
                f"kpitui watch: {literal(args.spec)} on {literal(name.display)}, "
                f"{len(watcher.rules)} KPIs and key results, "
                + (f"telling {', '.join(literal(t) for t in targets)}" if targets else "no targets")
            )
            if args.once:
                watcher.tick(clock.now())
                longest = max(
                    (t.timeout.seconds for r in watcher.rules.values() for t in r.notify),
                    default=0,
                )
                # A failing target tries each alert once after its first: that long.
                bound = (ATTEMPTS + deliveries.pending) * longest + BACKOFF * 2**ATTEMPTS + 5
                deliveries.wait_idle(bound)
                watcher.collect()
                return EXIT_RUNTIME if watcher.failing else EXIT_OK
            _watch_forever(watcher, SpecFollower(Path(args.spec), load), clock)
            deliveries.wait_idle(5)
            watcher.collect()
            return EXIT_OK
        finally:
            deliveries.close()
            reader.close()


def _label(target) -> str:
    from kpitui.spec.alert_rules import label

    return label(target)


def _watch_forever(watcher, follower, clock) -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set():
            spec, problems = follower.changed()
            if spec is not None:
                watcher.use_spec(spec)
                _complain(f"kpitui watch: reloaded {literal(str(follower.path))}")
            elif problems is not None:
                _complain(f"kpitui watch: the edit is not used, the last good spec is:\n{problems}")
            try:
                watcher.tick(clock.now())
            except StoreError as exc:  # locked or gone for a while: the next tick retries
                _complain(f"kpitui watch: {exc}")
            stop.wait(max(1, watcher.spec.dashboard.refresh.seconds))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        _complain("kpitui watch: stopped")


def run_digest(args: argparse.Namespace) -> int:
    from kpitui.alerting.digest import build_digest
    from kpitui.alerting.digest_render import render
    from kpitui.engine.evaluate import evaluate
    from kpitui.spec import load_dashboard
    from kpitui.store import open_reader

    loaded = load_dashboard(Path(args.spec), file=args.spec)
    name = _store_of(args, loaded)
    as_of = args.as_of if args.as_of is not None else timeutil.SystemClock().now()
    reader = open_reader(name)
    try:
        digest = build_digest(loaded.dashboard, reader, as_of, args.since, evaluate)
    finally:
        reader.close()
    text = render(digest, args.format)
    if args.output:
        from kpitui.cli.snapshot_cmd import write_output

        write_output(Path(args.output), text, keep=(Path(args.spec), *name.files), what="digest")
        return EXIT_OK
    sys.stdout.write(text)
    return EXIT_OK
