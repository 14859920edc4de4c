"""The `kpitui` command line.

Each group of commands lives in its own module and registers its sub-parsers here.
Every `KpituiError` becomes one line on stderr and its exit code; a traceback means a
bug in kpitui, never a user mistake.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import io
import os
import sys
from collections.abc import Sequence
from typing import IO, NoReturn

from kpitui import __version__
from kpitui.errors import EXIT_BAD_INPUT, EXIT_RUNTIME, KpituiError
from kpitui.literal import literal, shortened

COMMANDS = (
    "run",
    "demo",
    "check",
    "snapshot",
    "record",
    "import",
    "checkin",
    "metrics",
    "checkins",
    "annotate",
    "annotations",
    "store",
    "sync",
    "init",
    "watch",
    "digest",
    "delete",
    "rename",
    "prune",
    "serve",
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples in each command's epilog as written."""


class Parser(argparse.ArgumentParser):
    """Argument mistakes get one line, like every other user mistake, not a usage block."""

    def error(self, message: str) -> NoReturn:
        # argparse quotes the refused value whole: a 1 MB argument stays one short line.
        self.exit(2, f"{self.prog}: {shortened(message)} (see `{self.prog} --help`)\n")

    def _print_message(self, message: str, file: IO[str] | None = None) -> None:
        # argparse drops an OSError here; --help on a full disk must say it failed.
        if message:
            (file or sys.stderr).write(message)


# The commands `app_cmds` registers: their parser needs no other command module.
_APP_COMMANDS = frozenset({"run", "demo"})


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; for `run` and `demo` (`command`), one with just those two.

    Each command module imports what its commands need and their parsers take ~20 ms
    to build (regexes, gettext): the board's start pays only for its own."""
    from kpitui.cli import app_cmds

    parser = Parser(
        prog="kpitui",
        description="A terminal dashboard for product KPIs and OKRs.",
        epilog=(
            "examples:\n"
            "  kpitui demo                      open the live demo dashboard\n"
            "  kpitui dashboard.yaml            open a dashboard\n"
            "  kpitui record signups 42         write one point\n"
            "  kpitui snapshot --format text    print the board once\n"
            "  kpitui serve                     the live board in a browser\n\n"
            "Run `kpitui COMMAND --help` for each command."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kpitui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    app_cmds.register(sub)
    if command in _APP_COMMANDS:
        return parser
    from kpitui.cli import (
        alert_cmds,
        annotate_cmds,
        board_cmds,
        housekeeping_cmds,
        init_cmd,
        serve_cmd,
        store_cmds,
        sync_cmd,
    )

    board_cmds.register(sub)
    store_cmds.register(sub)
    sync_cmd.register(sub)
    init_cmd.register(sub)
    alert_cmds.register(sub)
    housekeeping_cmds.register(sub)
    annotate_cmds.register(sub)
    serve_cmd.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        _flush_stdout()  # a full disk must fail here, said, not in Python's exit
        return code
    except SystemExit:
        # argparse printed --help, --version or a usage line: it must reach stdout first.
        try:
            _flush_stdout()
        except OSError as exc:
            raise SystemExit(_output_failure(exc)) from None
        raise
    except OSError as exc:
        return _output_failure(exc)


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `kpitui [run] [SPEC]`: a bare spec path (or nothing) means `run`.
    if not args_list or (
        args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version")
    ):
        mistyped = _mistyped_command(args_list[0]) if args_list else None
        if mistyped:
            say(
                f"kpitui: {literal(args_list[0])}: no such command or file "
                f"(did you mean `kpitui {mistyped}`?)"
            )
            return EXIT_BAD_INPUT
        args_list.insert(0, "run")
    parser = build_parser(args_list[0])
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args) or 0)
    except KpituiError as exc:
        say(f"kpitui: {exc}".replace("\n", "\nkpitui: "))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        if exc.filename is None:
            raise
        # The system refused a path the user named (the spec, the store, an import, an
        # output: no rights, a name too long, ...): the user's to fix, not a bug.
        if isinstance(exc, PermissionError):
            why = "permission denied (check this user's rights on it and on the folders above it)"
        else:
            why = (exc.strerror or str(exc)).lower()
        say(f"kpitui: {literal(str(exc.filename))}: {why}")
        return EXIT_BAD_INPUT


# What a write to a full disk, a full quota, an over-large file or a failing device says.
_CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _output_failure(exc: OSError) -> int:
    """Exit 1 for stdout that cannot be written: one line on a full disk, nothing when
    the reader went away (`| head`); any other OSError is a bug and goes on up."""
    if not isinstance(exc, BrokenPipeError) and (
        exc.filename is not None or exc.errno not in _CANNOT_WRITE
    ):
        raise exc
    _drop_stdout()
    if not isinstance(exc, BrokenPipeError):
        say(f"kpitui: cannot write the output: {(exc.strerror or str(exc)).lower()}")
    return EXIT_RUNTIME


def _flush_stdout() -> None:
    if sys.stdout is not None:  # None: started with stdout closed (`>&-`)
        sys.stdout.flush()


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that what is still buffered does not fail again
    (and print "Exception ignored") when Python flushes it at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a file (a test's capture): nothing flushes it at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def say(line: str) -> None:
    """`line` on stderr, when stderr can still be written (a full disk may hold it too)."""
    if sys.stderr is None:  # started with stderr closed: print would use stdout
        return
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def _mistyped_command(word: str) -> str | None:
    """The command `word` was likely meant to be, when it is no file either: `kpitui
    snapshto` would otherwise be read as `kpitui run snapshto`, "no such file"."""
    if word.startswith("-") or os.path.exists(word):
        return None
    close = difflib.get_close_matches(word.lower(), COMMANDS, n=1, cutoff=0.75)
    return close[0] if close else None
