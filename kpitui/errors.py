"""Error types that carry where the problem is and how to fix it.

The CLI turns every `KpituiError` into one line on stderr and its exit code; nothing a
user can get wrong should ever surface as a traceback.
"""

from __future__ import annotations

from msgspec import Struct

from kpitui.literal import literal, shortened

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_BAD_INPUT = 2
EXIT_FAIL_ON = 3


class Location(Struct, frozen=True):
    """A place in a user's file: `file:line:col`, each part optional."""

    file: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.line, self.col) if p is not None]
        return ":".join(str(p) for p in parts)


class KpituiError(Exception):
    """A problem the user can fix, reported as one line: `where: what (hint)`."""

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = Location(file, line, col)
        self.hint = hint

    def __str__(self) -> str:
        # Messages quote the user's files (a spec's store name, a CSV cell): printed, a
        # control character in them must not reach the terminal raw.
        where = literal(self.location)
        # Values are quoted short where messages are made (`quoted`); a message that
        # carries someone else's text (a database's) is kept short here.
        message = literal(shortened(self.message))
        text = f"{where}: {message}" if where else message
        return f"{text} ({literal(shortened(self.hint))})" if self.hint else text


class InputError(KpituiError):
    """Bad input: a spec, an argument, a data file, a missing file. Exit 2."""

    exit_code = EXIT_BAD_INPUT


class RuntimeFailure(KpituiError):
    """Something kpitui could not do although the input was fine. Exit 1."""

    exit_code = EXIT_RUNTIME


class StoreError(KpituiError):
    """The store cannot be used: locked, unreachable, not a kpitui store, newer schema.
    Exit 1. Every backend raises this (or a subclass) and nothing of its own."""

    exit_code = EXIT_RUNTIME


class StoreLockedError(StoreError):
    """Another writer held the lock past the busy timeout."""


class StoreUnreachableError(StoreError):
    """The store's server cannot be reached (down, restarting, a dropped connection)."""


class SpecErrors(KpituiError):
    """Every problem found in a spec, reported together, one per line. Exit 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, problems: list[KpituiError], warnings: list[KpituiError] | None = None):
        self.problems = problems
        self.warnings = warnings or []  # found beside the problems, for `check` to list
        super().__init__("\n".join(str(p) for p in problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
