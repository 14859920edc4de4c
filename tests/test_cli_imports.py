"""What every start of the CLI imports before it knows its command: the argument parser
of every command, and none of the libraries only some commands use (each costs tens of
milliseconds before the first frame of `kpitui run`)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("aiohttp", "jinja2", "textual_serve", "textual", "rich", "plotext", "psycopg", "duckdb")


def test_the_parser_imports_no_library_of_one_command():
    # Given a fresh interpreter; When it builds the parser of every command
    code = (
        "import sys; from kpitui.cli import build_parser; build_parser();"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Then none of the libraries that only run, serve or sync need is loaded
    assert done.stdout.split() == []
