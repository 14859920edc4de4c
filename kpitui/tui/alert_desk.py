"""The board's alerts: the log, the flashing cards, the toasts and acknowledgements.

A mixin of `KpituiApp`. The log shows the store's alert history (`kpitui watch` keeps
one: the same on every screen, surviving restarts) and, beside it, the board's own
session alerts — the changes it saw, and on its first board the KPIs already at warn or
crit ("at start") — that the history does not hold: with no watcher that is all of
them; a watcher's event replaces the board's line for the same change, and a change no
watcher recorded stays. Each is announced once, whichever of the two saw it first.

Acknowledging is the viewer's own (`kpitui.acks`, in the XDG state directory): `a`
acknowledges the focused KPI's alerts (the cursor's line's in the alerts log; the newest
alert's, when neither has focus), `A` every alert. A card's "new" mark clears when its
newest alert is acknowledged. Alerts of one KPI in one refresh make one toast, and a
KPI's new toast replaces its old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from textual.notifications import Notification, Notify

from kpitui.acks import Acks
from kpitui.engine.alerts import (
    StateChange,
    recorded_by,
    session_slack,
    settled_states,
    severity,
    start_changes,
    state_changes,
    unrecorded,
    worst_severity,
)
from kpitui.engine.board import Board
from kpitui.tui.text import safe_plain
from kpitui.tui.widgets.alerts_log import MAX_ALERTS, AlertsLog
from kpitui.tui.widgets.kpi_card import KpiCard

MAX_TOASTS = 2
"""Alerts of one refresh toasted one by one; more are said in one toast."""

Subject = tuple[str, str]


def _store_key(store: object) -> str:
    """How acknowledgements name a store: a SQLite file by its absolute path (two
    folders' `metrics.db` are two stores), a URL as shown (its password masked)."""
    if isinstance(store, Path):
        return str(store.absolute())
    return str(store)


class BoardAlerts:
    """Mixed into `KpituiApp` (an `App`)."""

    board: Board | None
    store_path: Any
    live: bool
    viewer: str | None

    def _init_alerts(self) -> None:
        self._settled: dict[str, str] | None = None  # KPI states session alerts diff against
        self._session: list[list[Any]] = []  # the session's [StateChange, acknowledged]
        self._told: list[StateChange] = []  # session alerts toasted, oldest first
        self._alerts: list[list[Any]] = []  # shown: [StateChange, acknowledged], newest last
        self._history_seen: set[int] | None = None  # event ids of the history shown
        self._toasts: dict[Subject, Notification] = {}
        self._acks: Acks | None = None

    @property
    def acks(self) -> Acks:
        if self._acks is None:
            self._acks = Acks(_store_key(self.store_path), viewer=self.viewer)
        return self._acks

    # -- taking a board's alerts ---------------------------------------------------------

    def take_alerts(self, board: Board) -> None:
        """The alerts of a new board: the store's history, and beside it the session's
        own changes since the last board (on the first, those at start) that the history
        does not hold (`kpitui.engine.alerts.unrecorded`). New ones are announced once: a
        watcher's event for a change this board already toasted is not toasted again."""
        if self._settled is None and self.live:
            changes = start_changes(board)
        else:
            changes = state_changes(self._settled, board)
        self._settled = settled_states(board, self._settled)
        history = board.alerts  # newest first
        known = self._history_seen
        fresh = [a for a in history if known is not None and a.event_id not in known]
        self._history_seen = {a.event_id for a in history}
        # A board's "at start" into the state this viewer acknowledged last (before a
        # restart) was seen: it is kept acknowledged, and not announced.
        seen = [bool(self.live and not c.old_state and self._acked_start(c)) for c in changes]
        self._session.extend([c, acked] for c, acked in zip(changes, seen, strict=True))
        changes = [c for c, acked in zip(changes, seen, strict=True) if not acked]
        del self._session[:-MAX_ALERTS]
        slack = session_slack(board.refresh_seconds)
        session = [a for a, _ in self._session]
        shown = unrecorded(session, history, slack)
        announce = [c for c in changes if c in shown]
        acked_session = [a for a, acked in self._session if acked]
        carried: dict[Subject, tuple[int, int]] = {}
        for event in reversed(fresh):
            if not recorded_by(event, self._told, slack):
                announce.append(event)
            if event.subject == "kpi" and recorded_by(event, acked_session, slack):
                carried[event.key] = (event.at, event.event_id)  # acknowledged already
        self._told.extend(c for c in changes if c in shown)
        del self._told[:-MAX_ALERTS]
        if carried and self.live and self.acks.ack(carried):
            self.acks.save()
        alerts = self._merge(history, shown)
        if alerts != self._alerts:
            self._alerts = alerts
            self._show_alerts()
        if announce:
            self._announce(sorted(announce, key=lambda a: (a.at, a.event_id == 0)))

    def _merge(self, history: Any, shown: list[StateChange]) -> list[list[Any]]:
        """The history and the session alerts it does not hold, newest last; a session
        alert beside the history is dated as its events are."""
        acked = {id(a): flag for a, flag in self._session}
        entries: list[tuple[tuple[int, int, int], list[Any]]] = [
            ((a.at, 0, a.event_id), [a, self._is_acked(a)]) for a in history
        ]
        for i, alert in enumerate(shown):
            flag = acked.get(id(alert), False)
            own = msgspec.structs.replace(alert, dated=True) if history else alert
            entries.append(((alert.at, 1, i), [own, flag]))
        entries.sort(key=lambda e: e[0])
        return [entry for _, entry in entries[-MAX_ALERTS:]]

    def _acked_start(self, alert: StateChange) -> bool:
        return self.acks.acked_state(alert.key) == alert.new_state

    def _is_acked(self, alert: StateChange) -> bool:
        if not (self.live and alert.event_id):
            return False
        return self.acks.is_acked(alert.key, alert.at, alert.event_id)

    def _show_alerts(self) -> None:
        """Every alerts log and card as `_alerts` says."""
        entries = list(reversed(self._alerts))  # newest first
        with self.batch_update():  # type: ignore[attr-defined]
            for page in self._pages():  # type: ignore[attr-defined]
                refit = False
                for log in page.query(AlertsLog):
                    lines = log.virtual_size.height
                    log.set_alerts([(a, acked) for a, acked in entries])
                    # A log as tall as its lines grew: the page shares its lines anew.
                    refit |= log.virtual_size.height != lines and not log.has_class("-beside-chart")
                if refit:
                    page.fit_to_height()
            self._mark_cards(self.query(KpiCard))  # type: ignore[attr-defined]

    def _mark_cards(self, cards: Any) -> None:
        unacknowledged = {a.kpi_id for a, acked in self._alerts if not acked and a.subject == "kpi"}
        for card in cards:
            if card.view.id in unacknowledged:
                card.alerted = True
            elif card.alerted:
                card.acknowledge()

    def _announce(self, alerts: list[StateChange]) -> None:
        """Flash, toast and ring for alerts just raised (oldest first)."""
        newest: dict[Subject, StateChange] = {}
        for alert in alerts:
            newest[alert.key] = alert
            if alert.subject == "kpi" and not self._is_acked(alert):
                for page in self._pages():  # type: ignore[attr-defined]
                    for card in page.widgets_for("kpi", alert.kpi_id):
                        card.flash()
        for subject in newest:
            old = self._toasts.pop(subject, None)
            if old is not None:
                self._unnotify(old)  # type: ignore[attr-defined]
        if len(newest) > MAX_TOASTS:
            # A board that starts with five KPIs at warn or crit would stack five toasts
            # over half an 80×24 screen: one toast says them, the log has each.
            changes = list(newest.values())
            lines = [safe_plain(a.summary) for a in changes[:MAX_TOASTS]]
            lines.append(f"… and {len(changes) - MAX_TOASTS} more in the alerts log")
            toast = Notification(
                "\n".join(lines),
                f"{len(changes)} alerts",
                worst_severity(changes),  # type: ignore[arg-type]
                markup=False,
            )
            for subject in newest:
                self._toasts[subject] = toast  # acking any of them clears it
            self.post_message(Notify(toast))  # type: ignore[attr-defined]
        else:
            for subject, alert in newest.items():
                toast = Notification(
                    safe_plain(alert.summary),
                    "KPI state changed" if alert.subject == "kpi" else "Key result status changed",
                    severity(alert),  # type: ignore[arg-type]
                    markup=False,
                )
                self._toasts[subject] = toast
                self.post_message(Notify(toast))  # type: ignore[attr-defined]
        if self.board is not None and self.board.bell:
            self.bell()  # type: ignore[attr-defined]

    def restore_alerts(self, page: Any) -> None:
        """A page built after alerts were raised (a spec edit, a page first shown) shows
        them: its alerts log the alerts kept, its cards the "new" marks."""
        if page is None or not self._alerts:
            return
        entries = [(a, acked) for a, acked in reversed(self._alerts)]
        panels = page.panel_widgets()
        for log in panels:
            if isinstance(log, AlertsLog):
                log.set_alerts(entries)
        cards = [p for p in panels if isinstance(p, KpiCard)]
        self.call_after_refresh(self._mark_cards, cards)  # type: ignore[attr-defined]

    # -- acknowledging -------------------------------------------------------------------

    def action_acknowledge(self) -> None:
        """Acknowledge the focused KPI's alerts (in the alerts log: those of the line under
        the cursor; when it has none, the newest alert's KPI or key result), all of them
        up to its newest."""
        focused = self.screen.focused  # type: ignore[attr-defined]
        open_ = [a for a, acked in reversed(self._alerts) if not acked]  # newest first
        subject = None
        if isinstance(focused, KpiCard):
            subject = ("kpi", focused.view.id)
        elif isinstance(focused, AlertsLog) and focused.alerts:
            subject = focused.alerts[focused.cursor].key
        if not any(a.key == subject for a in open_) and open_:
            subject = open_[0].key
        mine = [a for a in open_ if a.key == subject]
        if not mine:
            self.notify("No alert to acknowledge.", timeout=2)  # type: ignore[attr-defined]
            return
        self._acknowledge({subject: max((a.at, a.event_id) for a in mine)})

    def action_acknowledge_all(self) -> None:
        """Acknowledge every alert shown."""
        newest: dict[Subject, tuple[int, int]] = {}
        for alert, acked in self._alerts:
            if not acked:
                mark = (alert.at, alert.event_id)
                newest[alert.key] = max(mark, newest.get(alert.key, mark))
        if not newest:
            self.notify("No alert to acknowledge.", timeout=2)  # type: ignore[attr-defined]
            return
        self._acknowledge(newest)

    def _acknowledge(self, newest: dict[Subject, tuple[int, int]]) -> None:
        """Acknowledge, per subject, the alerts shown up to (time, event id)."""
        # Kept even for an alert of the board's own (event id 0): it acknowledges that
        # subject's history up to its time, so the card stays clear after the next
        # refresh, and its state, so the "at start" of the next run is seen already.
        states = {
            a.key: a.new_state
            for a, _ in sorted(self._alerts, key=lambda e: (e[0].at, e[0].event_id))
            if a.key in newest and (a.at, a.event_id) <= newest[a.key]
        }
        kept = self.live and self.acks.ack(newest, states)
        for entry in (*self._alerts, *self._session):
            alert = entry[0]
            if alert.key in newest and (alert.at, alert.event_id) <= newest[alert.key]:
                entry[1] = True
        for subject in newest:
            toast = self._toasts.pop(subject, None)
            if toast is not None:
                self._unnotify(toast)  # type: ignore[attr-defined]
        self._show_alerts()
        problem = self.acks.save() if kept else None
        if problem is not None:
            self.notify(  # type: ignore[attr-defined]
                safe_plain(problem), title="Acknowledged for this session", severity="warning"
            )
