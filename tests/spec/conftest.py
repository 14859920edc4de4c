"""Helpers for spec tests: write a YAML text to a temporary file and load it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kpitui.errors import KpituiError, SpecErrors
from kpitui.spec import LoadedSpec, load_dashboard


class SpecFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, text: str, name: str = "dashboard.yaml") -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def load(self, text: str, known: set[str] | None = None) -> LoadedSpec:
        return load_dashboard(self.write(text), known_metrics=known, file="dashboard.yaml")

    def problems(self, text: str, known: set[str] | None = None) -> list[KpituiError]:
        """Every problem `load_dashboard` raises for this spec ([] when it loads)."""
        try:
            self.load(text, known)
        except SpecErrors as exc:
            return list(exc.problems)
        except KpituiError as exc:
            return [exc]
        return []

    def warnings(self, text: str, known: set[str] | None = None) -> list[str]:
        return [str(w) for w in self.load(text, known).warnings]


@pytest.fixture
def specs(tmp_path: Path) -> SpecFiles:
    return SpecFiles(tmp_path)
