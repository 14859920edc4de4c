"""`kpitui watch`: the one process that notifies.

At each tick it evaluates the board (the same `evaluate` every face uses), moves each
KPI's and key result's `Track` forward (`transitions.step`), writes what fired into
the store's alert history through the writer, and hands the deliveries to the worker
threads (`delivery`), whose outcomes it records as the events' delivered targets.

A restart resumes from the store: each subject's last event is the state the team was
told about and when (so nothing already sent is sent again, and `repeat:` keeps its
pace), and an event of the last hour some target never got is delivered to it now. A
state that had already held for `for:` when the watcher started fires without waiting
`for:` again (see `transitions.resumed`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kpitui.alerting.delivery import Deliveries, Outcome, Sender, sender_for
from kpitui.alerting.observe import Observation, Subject, observe
from kpitui.alerting.payload import alert_json
from kpitui.alerting.transitions import Fire, Track, resumed, step
from kpitui.engine.board import Board
from kpitui.engine.evaluate import evaluate
from kpitui.errors import KpituiError
from kpitui.spec import LoadedSpec
from kpitui.spec.alert_rules import Rule, label, subject_rules
from kpitui.store.api import AlertEvent, StoreReader, StoreWriter

RESEND_WINDOW = 3600
"""An undelivered alert younger than this is delivered after a restart; older ones
are history (the state has likely moved on)."""


class Watcher:
    """Evaluates `spec` over `reader` at each `tick`, and notifies."""

    def __init__(
        self,
        spec: LoadedSpec,
        reader: StoreReader,
        writer: StoreWriter,
        deliveries: Deliveries,
        *,
        say: Callable[[str], None] = print,
        complain: Callable[[str], None] = print,
        evaluate_board: Callable[[Any, StoreReader, int], Board] = evaluate,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.deliveries = deliveries
        self.say = say
        self.complain = complain
        self.evaluate = evaluate_board
        self.tracks: dict[Subject, Track] = {}
        self.failing: dict[str, str] = {}
        """Targets whose last delivery failed, with why."""
        self._resumed = False
        self._senders: dict[str, Sender] = {}
        self.use_spec(spec)

    def use_spec(self, spec: LoadedSpec) -> None:
        """Watch this spec from the next tick on (a reloaded spec keeps every track)."""
        self.spec = spec
        self.rules: dict[Subject, Rule] = subject_rules(spec.dashboard)
        self._senders = {}
        for rule in self.rules.values():
            for target in rule.notify:
                self._senders.setdefault(label(target), sender_for(target, spec.path.parent))

    # -- one tick ----------------------------------------------------------------------

    def tick(self, now: int) -> list[AlertEvent]:
        """Evaluate at `now`, record and send what fires; the events written."""
        self.collect()
        board = self.evaluate(self.spec.dashboard, self.reader, now)
        seen = observe(board)
        if not self._resumed:
            self._resume(seen, now)
        tracks = dict(self.tracks)
        fired: list[tuple[Subject, Fire]] = []
        for subject, observation in seen.items():
            rule = self.rules.get(subject)
            if rule is None:
                continue
            track, fire = step(
                tracks.get(subject, Track()), observation.state, now, rule, subject[0]
            )
            tracks[subject] = track
            if fire is not None:
                fired.append((subject, fire))
        events = [_event(subject, fire, seen[subject], now) for subject, fire in fired]
        if events:
            ids = self.writer.write_alert_events(events)
            events = [_with_id(e, i) for e, i in zip(events, ids, strict=True)]
        # Only once the history holds them: a store that refused the write is tried
        # again on the next tick, nothing fired is lost.
        self.tracks = tracks
        for event in events:
            self._send(event, seen.get((event.subject_kind, event.subject_id)), board.title)
            self.say(_event_line(event, self._targets(event)))
        return events

    def collect(self) -> list[Outcome]:
        """Record the deliveries finished since the last call; say the failures."""
        outcomes = self.deliveries.drain()
        for outcome in outcomes:
            if outcome.ok:
                self.writer.mark_delivered(outcome.event_id, outcome.target)
                if self.failing.pop(outcome.target, None) is not None:
                    self.say(f"{outcome.target}: delivering again")
            else:
                error = outcome.error or "failed"
                if self.failing.get(outcome.target) == error:
                    continue  # said already; the next success says it is back
                self.failing[outcome.target] = error
                tries = "1 attempt" if outcome.attempts == 1 else f"{outcome.attempts} attempts"
                self.complain(
                    f"kpitui watch: {outcome.target}: {error} ({tries}; alert "
                    f"{outcome.event_id} not delivered there, nor any other until it is back)"
                )
        return outcomes

    # -- resuming from the store -------------------------------------------------------

    def _resume(self, seen: dict[Subject, Observation], now: int) -> None:
        self._resumed = True
        last = {(e.subject_kind, e.subject_id): e for e in self.reader.last_alert_events()}
        for subject, event in last.items():
            if subject not in self.tracks:
                self.tracks[subject] = Track(fired=event.to_state, fired_at=event.ts)
        if last:
            # A watcher ran here before, and it told every bad start: a subject it never
            # told about started good, so a run from cron says "ok → crit", not "at start".
            for subject in self.rules:
                if subject not in self.tracks:
                    good = "on_track" if subject[0] == "kr" else "ok"
                    self.tracks[subject] = Track(fired=good, fired_at=None)
        # For each `for:` in use, the board that long ago: a state already there then
        # has held, as far as anyone can tell.
        holds = {
            rule.hold
            for subject, rule in self.rules.items()
            if rule.hold > 0
            and subject in seen
            and seen[subject].state != self.tracks.get(subject, Track()).fired
        }
        for hold in sorted(holds):
            then = observe(self.evaluate(self.spec.dashboard, self.reader, now - hold))
            for subject, rule in self.rules.items():
                if rule.hold == hold and subject in seen:
                    was = then.get(subject)
                    self.tracks[subject] = resumed(
                        self.tracks.get(subject, Track()),
                        seen[subject].state,
                        was.state if was is not None else None,
                        now,
                        hold,
                    )
        for subject, event in last.items():
            if now - event.ts <= RESEND_WINDOW:
                self._send(event, seen.get(subject), self.spec.dashboard.title)

    # -- delivering --------------------------------------------------------------------

    def _targets(self, event: AlertEvent) -> list[str]:
        rule = self.rules.get((event.subject_kind, event.subject_id))
        return [label(t) for t in rule.notify] if rule is not None else []

    def _send(self, event: AlertEvent, seen: Observation | None, board: str) -> None:
        payload = alert_json(event, seen, board)
        for name in self._targets(event):
            if name not in event.delivered:
                self.deliveries.submit(self._senders[name], event.id, payload)


def _event(subject: Subject, fire: Fire, seen: Observation, now: int) -> AlertEvent:
    return AlertEvent(
        ts=now,
        subject_kind=subject[0],  # type: ignore[arg-type]
        subject_id=subject[1],
        title=seen.title,
        from_state=fire.from_state,
        to_state=fire.to_state,
        value=seen.value,
        display=seen.display,
    )


def _with_id(event: AlertEvent, event_id: int) -> AlertEvent:
    from msgspec.structs import replace

    return replace(event, id=event_id)


def _event_line(event: AlertEvent, targets: list[str]) -> str:
    from kpitui import timeutil
    from kpitui.literal import literal

    if event.from_state == event.to_state:
        change = f"still {event.to_state}"
    else:
        change = f"{event.from_state or 'at start'} → {event.to_state}"
    told = f", to {len(targets)} target{'s' * (len(targets) != 1)}" if targets else ", no targets"
    return literal(
        f"{timeutil.iso_utc(event.ts)} {event.subject_kind} {event.subject_id}: {change}"
        f" ({event.display or '—'}){told}"
    )


class SpecFollower:
    """Reloads the spec when its file changes; an invalid edit keeps the last good one
    (said once, with every problem)."""

    def __init__(self, path: Path, load: Callable[[], LoadedSpec]) -> None:
        self.path = path
        self.load = load
        self._stamp = self._now_stamp()
        self._told: str | None = None

    def _now_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def changed(self) -> tuple[LoadedSpec | None, str | None]:
        """(the new spec, None) after a good edit; (None, the problems) after a bad one,
        once; (None, None) when nothing changed."""
        stamp = self._now_stamp()
        if stamp == self._stamp:
            return None, None
        self._stamp = stamp
        try:
            spec = self.load()
        except KpituiError as exc:
            said = str(exc)
            if said == self._told:
                return None, None
            self._told = said
            return None, said
        self._told = None
        return spec, None
