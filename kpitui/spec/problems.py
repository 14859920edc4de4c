"""Where validation writes down what it finds: errors and warnings, each a `SpecProblem`
at the `file:line:col` of the key it is about, plus the wording helpers every check
shares (a "did you mean" for near-miss names, numbers written as in the spec).
"""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from kpitui.errors import KpituiError
from kpitui.literal import quoted
from kpitui.spec.loader import NodePath, Position, SourceMap, SpecProblem


def did_you_mean(word: str, options: object, cutoff: float = 0.6) -> str | None:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)  # type: ignore[call-overload]
    return f"did you mean {quoted(match[0])}?" if match else None


_SHOWN = 60


def show_value(value: object) -> str:
    """A value as a message quotes it: the way it was written in YAML, roughly."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, date):
        return value.isoformat()
    shown = repr(value)
    # A pasted blob or a 400-digit number: enough of it to find it in the file.
    return shown if len(shown) <= _SHOWN else f"{shown[: _SHOWN - 1]}…"


def plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class Problems:
    """The errors and warnings found in one spec; the checks add to it."""

    def __init__(self, smap: SourceMap, file: str | None) -> None:
        self.smap = smap
        self.file = file
        self.errors: list[KpituiError] = []
        self.warnings: list[KpituiError] = []

    def _problem(
        self,
        severity: str,
        path: NodePath,
        detail: str,
        hint: str | None,
        at: Position | None = None,
        at_key: bool = False,
    ) -> SpecProblem:
        line, col = at or (self.smap.key(path) if at_key else self.smap.value(path))
        return SpecProblem(detail, path=path, file=self.file, line=line, col=col, hint=hint,
                           severity=severity)  # fmt: skip

    def error(self, path: NodePath, detail: str, hint: str | None = None, **where: Any) -> None:
        """An error at `path` (its value; `at_key=True`: its key; `at=`: an exact place)."""
        self.errors.append(self._problem("error", path, detail, hint, **where))

    def warn(self, path: NodePath, detail: str, hint: str | None = None, **where: Any) -> None:
        self.warnings.append(self._problem("warning", path, detail, hint, **where))

    def line_of(self, path: NodePath) -> int:
        return self.smap.value(path)[0]

    def written(self, path: NodePath) -> bool:
        return path in self.smap.values
