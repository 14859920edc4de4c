"""The engine: turns (spec, store reader, as-of) into a frozen Board. No Textual here."""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpitui.engine.evaluate import evaluate

__all__ = ["evaluate"]


class _Engine(types.ModuleType):
    """`kpitui.engine.evaluate` (the function) imported when first asked for.

    The faces import the Board's models (`kpitui.engine.board`, which runs this package
    first), and the board's first screen is evaluated by a child process
    (`kpitui.cli.first_board`): the app's start need not import the rest of the engine
    (~15 modules) before its first frame. A property, because importing the submodule
    of the same name binds it here, over the function."""

    @property
    def evaluate(self) -> Any:
        given = self.__dict__.get("_evaluate_given")
        if given is not None:
            return given
        from kpitui.engine.evaluate import evaluate

        return evaluate

    @evaluate.setter
    def evaluate(self, value: Any) -> None:
        # The submodule stays reachable as sys.modules["kpitui.engine.evaluate"]; any
        # other value (a test's stand-in) is what `evaluate` is from now on.
        if not isinstance(value, types.ModuleType):
            self.__dict__["_evaluate_given"] = value


sys.modules[__name__].__class__ = _Engine
