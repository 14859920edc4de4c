"""The board's alerts: the log, the flashing cards, the toasts and acknowledgements.

A mixin of `KpituiApp`. When the store holds an alert history (`kpitui watch` keeps
one), the board shows that history — the same on every screen, surviving restarts —
and announces the events that are new since its last refresh. Without one it shows its
own session's state changes, and on its first board the KPIs already at warn or crit
("at start").

Acknowledging is the viewer's own (`kpitui.acks`, in the XDG state directory): `a`
acknowledges the focused KPI's alerts (the cursor's line's in the alerts log; the newest
alert's, when neither has focus), `A` every alert. A card's "new" mark clears when its newest alert is acknowledged. Alerts of
one KPI in one refresh make one toast, and a KPI's new toast replaces its old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.notifications import Notification, Notify

from kpitui.acks import Acks
from kpitui.engine.alerts import (
    StateChange,
    settled_states,
    severity,
    start_changes,
    state_changes,
)
from kpitui.engine.board import Board
from kpitui.tui.text import safe_plain
from kpitui.tui.widgets.alerts_log import MAX_ALERTS, AlertsLog
from kpitui.tui.widgets.kpi_card import KpiCard

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

    def _init_alerts(self) -> None:
        self._settled: dict[str, str] | None = None  # KPI states session alerts diff against
        self._alerts: list[list[Any]] = []  # [StateChange, acknowledged], newest last
        self._history_seen: set[int] | None = None  # event ids of the history shown
        self._toasts: dict[Subject, Notification] = {}
        self._acks: Acks | None = None

    @property
    def acks(self) -> Acks:
        if self._acks is None:
            self._acks = Acks(_store_key(self.store_path))
        return self._acks

    # -- taking a board's alerts ---------------------------------------------------------

    def take_alerts(self, board: Board) -> None:
        """The alerts of a new board: the store's history when it has one, else the
        session's own changes since the last board (on the first, those at start)."""
        if board.alerts:
            known = self._history_seen
            fresh = [a for a in board.alerts if known is not None and a.event_id not in known]
            self._history_seen = {a.event_id for a in board.alerts}
            self._settled = settled_states(board, self._settled)
            self._alerts = [[a, self._is_acked(a)] for a in reversed(board.alerts)]
            self._show_alerts()
            if fresh:
                self._announce(list(reversed(fresh)))
            return
        first = self._settled is None
        if first and self.live:
            changes = start_changes(board)
        else:
            changes = state_changes(self._settled, board)
        self._settled = settled_states(board, self._settled)
        if self._history_seen is None:
            self._history_seen = set()  # a history that starts later is all new
        if changes:
            # The session's own alerts are new: acknowledging them is this session's.
            self._alerts.extend([c, False] for c in changes)
            del self._alerts[:-MAX_ALERTS]  # as many as an alerts log shows
            self._show_alerts()
            self._announce(changes)

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
        for subject, alert in newest.items():
            old = self._toasts.pop(subject, None)
            if old is not None:
                self._unnotify(old)  # type: ignore[attr-defined]
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
        history = {s: m for s, m in newest.items() if m[1]}
        if history:
            self.acks.ack(history)
        for entry in self._alerts:
            alert = entry[0]
            if alert.key in newest and (alert.at, alert.event_id) <= newest[alert.key]:
                entry[1] = True
        for subject in newest:
            toast = self._toasts.pop(subject, None)
            if toast is not None:
                self._unnotify(toast)  # type: ignore[attr-defined]
        self._show_alerts()
        problem = self.acks.save() if history else None
        if problem is not None:
            self.notify(  # type: ignore[attr-defined]
                safe_plain(problem), title="Acknowledged for this session", severity="warning"
            )
