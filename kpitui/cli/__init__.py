"""The `kpitui` command line.

Each group of commands lives in its own module and registers its sub-parsers here.
Every `KpituiError` becomes one line on stderr and its exit code; a traceback means a
bug in kpitui, never a user mistake.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from kpitui import __version__
from kpitui.errors import EXIT_BAD_INPUT, EXIT_RUNTIME, KpituiError
from kpitui.literal import literal

COMMANDS = (
    "run",
    "demo",
    "check",
    "snapshot",
    "record",
    "import",
    "checkin",
    "metrics",
    "serve",
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples in each command's epilog as written."""


class Parser(argparse.ArgumentParser):
    """Argument mistakes get one line, like every other user mistake, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    from kpitui.cli import app_cmds, board_cmds, serve_cmd, store_cmds

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
    board_cmds.register(sub)
    store_cmds.register(sub)
    serve_cmd.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `kpitui [run] [SPEC]`: a bare spec path (or nothing) means `run`.
    if not args_list or (
        args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version")
    ):
        mistyped = _mistyped_command(args_list[0]) if args_list else None
        if mistyped:
            print(
                f"kpitui: {literal(args_list[0])}: no such command or file "
                f"(did you mean `kpitui {mistyped}`?)",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        args_list.insert(0, "run")
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args) or 0)
    except KpituiError as exc:
        print(f"kpitui: {exc}".replace("\n", "\nkpitui: "), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_RUNTIME
    except OSError as exc:
        if exc.filename is None:
            raise
        # The system refused a path the user named (the spec, the store, an import, an
        # output: no rights, a name too long, ...): the user's to fix, not a bug.
        if isinstance(exc, PermissionError):
            why = "permission denied (check this user's rights on it and on the folders above it)"
        else:
            why = (exc.strerror or str(exc)).lower()
        print(f"kpitui: {literal(str(exc.filename))}: {why}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _mistyped_command(word: str) -> str | None:
    """The command `word` was likely meant to be, when it is no file either: `kpitui
    snapshto` would otherwise be read as `kpitui run snapshto`, "no such file"."""
    if word.startswith("-") or os.path.exists(word):
        return None
    close = difflib.get_close_matches(word.lower(), COMMANDS, n=1, cutoff=0.75)
    return close[0] if close else None
