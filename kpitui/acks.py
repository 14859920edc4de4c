"""Which alerts this viewer has acknowledged: the viewer's own, kept in the user's state
directory (`$XDG_STATE_HOME/kpitui/acks.json`, else `~/.local/state/kpitui/`), never in
the store — the dashboard never writes the store, and one person's `a` must not silence
the alert on a colleague's screen.

An acknowledgement is per KPI or key result and per store: "seen up to time T". An
alert of that subject at or before T is acknowledged, a newer one is not, so a card's
"new" mark clears when its newest alert is acknowledged, whatever older alerts it had.
A file that cannot be read is taken as empty; one that cannot be written is said by
`save` (the board notifies and carries on).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

Subject = tuple[str, str]
"""("kpi", id) or ("kr", id)."""

_VERSION = 1
_MAX_STORES = 50
"""Stores remembered; the least recently acknowledged are forgotten first."""


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """kpitui's folder in the user's XDG state directory."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "kpitui"


def _key(subject: Subject) -> str:
    return f"{subject[0]}:{subject[1]}"


class Acks:
    """The acknowledgements of one store (`store`: how it is named, e.g. its path)."""

    def __init__(self, store: str, path: Path | None = None) -> None:
        self.store = store
        self.path = path if path is not None else state_dir() / "acks.json"
        self._all = self._read()
        self._mine: dict[str, int] = dict(self._all.get(store, {}))

    def _read(self) -> dict[str, dict[str, int]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        stores = data.get("stores") if isinstance(data, dict) else None
        if not isinstance(stores, dict):
            return {}
        return {
            str(store): {str(k): int(v) for k, v in acks.items() if isinstance(v, int)}
            for store, acks in stores.items()
            if isinstance(acks, dict)
        }

    def acked_until(self, subject: Subject) -> int | None:
        return self._mine.get(_key(subject))

    def is_acked(self, subject: Subject, ts: int) -> bool:
        """Whether an alert of `subject` at `ts` has been acknowledged."""
        until = self.acked_until(subject)
        return until is not None and ts <= until

    def ack(self, newest: Mapping[Subject, int]) -> bool:
        """Acknowledge each subject's alerts up to its time; True when anything changed."""
        changed = False
        for subject, ts in newest.items():
            key = _key(subject)
            if self._mine.get(key, -1) < ts:
                self._mine[key] = int(ts)
                changed = True
        return changed

    def save(self) -> str | None:
        """Write the file (atomically); None, or why it could not be written."""
        stores = {s: a for s, a in self._read().items() if s != self.store}
        stores[self.store] = self._mine  # the newest last: the oldest are dropped first
        while len(stores) > _MAX_STORES:
            stores.pop(next(iter(stores)))
        body = json.dumps({"version": _VERSION, "stores": stores}, ensure_ascii=False, indent=1)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".acks-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(body)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            return f"cannot keep acknowledgements in {self.path}: {exc.strerror or exc}"
        return None
