"""When a change of state is an alert: `for:`, `on:` and `repeat:` as pure functions of
what was seen when.

Each KPI or key result has a `Track`: the state last alerted (the one the team was told
about) and the state seen now with the time it was first seen. `step` moves a track one
observation forward and says whether that observation fires:

- a new state fires once it has been seen continuously for the rule's `hold` (`for:`):
  a KPI that flaps between ok and warn inside that time fires nothing;
- it fires only when the change is one of the rule's `on` words (into warn, crit,
  no_data, stale, or `recover`: back to good from a bad state). A change the rule does
  not fire on leaves the alerted state as it was, so "crit → warn → ok" with `on:
  [crit, recover]` is told as crit, then crit → ok;
- the first state of a subject nothing was alerted for yet is its starting point; when
  it is bad and in `on`, it fires "at start" (from None), once;
- while the alerted state holds and is bad, `repeat` re-notifies every that many
  seconds after the last notification.

Key results move between statuses, read on the same scale: at_risk is warn,
off_track and missed are crit, on_track and achieved are good. A KPI in `error` (or a
key result that failed) is observed as None: it keeps its track as it was.
"""

from __future__ import annotations

from msgspec import Struct
from msgspec.structs import replace

from kpitui.spec.alert_rules import Rule

GOOD = "ok"
# A key result's status on the KPI scale.
_KR_LEVELS = {
    "on_track": "ok",
    "achieved": "ok",
    "not_started": "ok",
    "at_risk": "warn",
    "off_track": "crit",
    "missed": "crit",
}
_KPI_LEVELS = {"neutral": "ok"}


def level(kind: str, state: str) -> str:
    """The state on the KPI scale: ok, warn, crit, no_data or stale."""
    levels = _KR_LEVELS if kind == "kr" else _KPI_LEVELS
    return levels.get(state, state)


def is_bad(kind: str, state: str | None) -> bool:
    return state is not None and level(kind, state) != GOOD


def alert_word(kind: str, old: str | None, new: str) -> str | None:
    """The `on:` word a change from `old` to `new` is (None: a change no rule fires on,
    such as ok → neutral or a good start)."""
    to = level(kind, new)
    if to != GOOD:
        return to if old is None or level(kind, old) != to else None
    return "recover" if is_bad(kind, old) else None


class Track(Struct, frozen=True):
    """What the watcher knows of one KPI or key result."""

    fired: str | None = None
    """The state last alerted (None: nothing yet)."""
    fired_at: int | None = None
    """When it was last notified (a repeat too); None: the state was taken silently."""
    seen: str | None = None
    """The state seen last."""
    seen_since: int | None = None
    """When `seen` was first seen, continuously since."""


class Fire(Struct, frozen=True):
    """An observation that fires: notify from `from_state` (None: at start) to `to_state`."""

    from_state: str | None
    to_state: str
    repeat: bool = False


def step(
    track: Track, observed: str | None, at: int, rule: Rule, kind: str = "kpi"
) -> tuple[Track, Fire | None]:
    """`track` after seeing `observed` at `at` (epoch seconds), and what fires."""
    if observed is None:
        return track, None
    if observed != track.seen:
        track = replace(track, seen=observed, seen_since=at)
    assert track.seen_since is not None
    if track.fired is None and alert_word(kind, None, observed) is None:
        # A good start nobody needs telling about: the starting point at once, so a
        # change from it is told from it.
        return replace(track, fired=observed, fired_at=None), None
    if at - track.seen_since < rule.hold:
        return track, None
    if observed != track.fired:
        word = alert_word(kind, track.fired, observed)
        if word is not None and word in rule.on:
            fire = Fire(track.fired, observed)
            return replace(track, fired=observed, fired_at=at), fire
        if track.fired is None:  # a bad start the rule does not fire on
            return replace(track, fired=observed, fired_at=None), None
        return track, None
    if (
        rule.repeat is not None
        and track.fired_at is not None
        and is_bad(kind, observed)
        and at - track.fired_at >= rule.repeat
    ):
        return replace(track, fired_at=at), Fire(observed, observed, repeat=True)
    return track, None


def resumed(track: Track, now: str | None, then: str | None, at: int, hold: int) -> Track:
    """A track the watcher has not watched yet (it just started, or runs `--once`):
    when the state `hold` seconds ago (`then`) was already today's (`now`), the state
    is taken to have held that long, so a restart or a cron run does not wait out
    `for:` again for a state that has long been there."""
    if track.seen is None and now is not None and hold > 0 and then == now:
        return replace(track, seen=now, seen_since=at - hold)
    return track
