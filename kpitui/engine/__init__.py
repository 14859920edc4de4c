"""The engine: turns (spec, store reader, as-of) into a frozen Board. No Textual here."""

from kpitui.engine.evaluate import evaluate

__all__ = ["evaluate"]
