"""Which alerts this viewer has acknowledged: the viewer's own, kept in the user's state
directory (`$XDG_STATE_HOME/kpitui/acks.json`, else `~/.local/state/kpitui/`), never in
the store — the dashboard never writes the store, and one person's `a` must not silence
the alert on a colleague's screen.

An acknowledgement is per KPI or key result and per store: "seen up to this alert" (its
time, and its id in the store's history for alerts within one second), and the state
that alert went into. An alert of that subject up to there is acknowledged, a newer one
is not, so a card's "new" mark clears when its newest alert is acknowledged, whatever
older alerts it had; a board's own "at start" into the state acknowledged last is
acknowledged too (with no watcher, a restart must not raise again what was seen).
A file that cannot be read is taken as empty; one that cannot be written is said by
`save` (the board notifies and carries on).

Under `kpitui serve` every browser is its own viewer, though all its boards run as the
server's user: the server names each browser with a cookie and hands that name to the
board it starts (`VIEWER_ENV`), whose acknowledgements go to `viewers/<name>.json` in the
same folder instead of the terminal user's `acks.json`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

Subject = tuple[str, str]
"""("kpi", id) or ("kr", id)."""
Mark = tuple[int, int]
"""(time, event id) of the newest alert acknowledged."""

VIEWER_ENV = "KPITUI_VIEWER"
"""The environment variable `kpitui serve` names a browser's viewer in."""
_VIEWER_NAME = re.compile(r"[A-Za-z0-9_-]{16,64}")

_VERSION = 1
_MAX_STORES = 50
"""Stores remembered; the least recently acknowledged are forgotten first."""


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """kpitui's folder in the user's XDG state directory."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "kpitui"


def valid_viewer(name: object) -> bool:
    """Whether `name` can name a viewer (it becomes a file name: letters, digits, `-`
    and `_` only, 16 to 64 of them)."""
    return isinstance(name, str) and _VIEWER_NAME.fullmatch(name) is not None


def acks_path(viewer: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The file of the terminal user's acknowledgements, or of one served viewer's."""
    if viewer is None:
        return state_dir(environ) / "acks.json"
    if not valid_viewer(viewer):
        raise ValueError(f"not a viewer name: {viewer!r}")
    return state_dir(environ) / "viewers" / f"{viewer}.json"


def _key(subject: Subject) -> str:
    return f"{subject[0]}:{subject[1]}"


Entry = tuple
"""How a subject's acknowledgement is kept: (time, event id), and the state the alert
acknowledged went into, when the board said it: `[200, 7, "crit"]` in the file."""


def _entry(value: object) -> Entry | None:
    if not isinstance(value, list) or len(value) not in (2, 3):
        return None
    ts, event_id, *state = value
    if not (isinstance(ts, int) and isinstance(event_id, int)):
        return None
    if state and not isinstance(state[0], str):
        return None
    return (ts, event_id, *state)


class Acks:
    """The acknowledgements of one store (`store`: how it is named, e.g. its path), the
    terminal user's or, with `viewer`, one served browser's."""

    def __init__(self, store: str, path: Path | None = None, *, viewer: str | None = None) -> None:
        self.store = store
        self.path = path if path is not None else acks_path(viewer)
        self._all = self._read()
        self._mine: dict[str, Entry] = dict(self._all.get(store, {}))

    def _read(self) -> dict[str, dict[str, Entry]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        stores = data.get("stores") if isinstance(data, dict) else None
        if not isinstance(stores, dict):
            return {}
        return {
            str(store): {str(k): _entry(v) for k, v in acks.items() if _entry(v) is not None}
            for store, acks in stores.items()
            if isinstance(acks, dict)
        }  # type: ignore[misc]

    def acked_until(self, subject: Subject) -> Mark | None:
        entry = self._mine.get(_key(subject))
        return None if entry is None else (entry[0], entry[1])

    def acked_state(self, subject: Subject) -> str | None:
        """The state the newest acknowledged alert of `subject` went into, when known:
        a board that starts again with that KPI still there knows it was seen."""
        entry = self._mine.get(_key(subject))
        return entry[2] if entry is not None and len(entry) == 3 else None

    def is_acked(self, subject: Subject, ts: int, event_id: int = 0) -> bool:
        """Whether the alert of `subject` at `ts` (`event_id`: its id in the history)
        has been acknowledged."""
        until = self.acked_until(subject)
        return until is not None and (ts, event_id) <= until

    def ack(
        self, newest: Mapping[Subject, Mark], states: Mapping[Subject, str] | None = None
    ) -> bool:
        """Acknowledge each subject's alerts up to (time, event id), the newest of them
        into `states[subject]` when given; True when anything changed."""
        changed = False
        for subject, mark in newest.items():
            key = _key(subject)
            if (self.acked_until(subject) or (-1, -1)) < tuple(mark):
                state = (states or {}).get(subject)
                self._mine[key] = (int(mark[0]), int(mark[1]), *([state] if state else []))
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
