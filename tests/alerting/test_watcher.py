"""The watcher over a real SQLite store and a real webhook server, with an injected
clock: what fires, what the history holds, and what a restart does (nothing twice)."""

from __future__ import annotations

import textwrap

import pytest

from kpitui.alerting.delivery import Deliveries
from kpitui.alerting.watcher import Watcher
from kpitui.spec import load_dashboard
from kpitui.store import open_reader, open_writer

T0 = 1_796_000_000  # 2026-11-30T00:53:20Z
M = 60

SPEC = """\
title: Growth
timezone: UTC
store: metrics.db
alerts:
  {rule}
  notify:
    - webhook: {url}
kpis:
  - id: mrr
    metric: mrr
    indicator: leading
    target: 100
    warn: 80
    crit: 50
"""


class Scene:
    """A spec, its store and a webhook server; watchers opened on them like processes."""

    def __init__(self, tmp_path, hook, rule: str = "for: 0s") -> None:
        self.dir = tmp_path
        self.hook = hook
        self.spec_path = tmp_path / "dashboard.yaml"
        self.write_spec(rule)
        self.db = tmp_path / "metrics.db"
        self.lines: list[str] = []
        self.complaints: list[str] = []
        self.opened: list = []
        with open_writer(self.db):
            pass

    def write_spec(self, rule: str) -> None:
        self.spec_path.write_text(SPEC.format(rule=rule, url=self.hook.url), encoding="utf-8")

    def point(self, value: float, at: int, metric: str = "mrr") -> None:
        with open_writer(self.db) as writer:
            writer.write_points([(metric, {}, at, value)])

    def watcher(self) -> Watcher:
        """A new watcher process: its own reader, writer and delivery threads."""
        reader, writer = open_reader(self.db), open_writer(self.db)
        deliveries = Deliveries(attempts=1, backoff=0.01)
        self.opened.append((reader, writer, deliveries))
        spec = load_dashboard(self.spec_path)
        return Watcher(
            spec, reader, writer, deliveries, say=self.lines.append, complain=self.complaints.append
        )

    def settle(self, watcher: Watcher) -> None:
        assert watcher.deliveries.wait_idle(10)
        watcher.collect()

    def history(self) -> list[tuple]:
        reader = open_reader(self.db)
        try:
            return [
                (e.ts, e.subject_id, e.from_state, e.to_state, e.delivered)
                for e in reversed(reader.alert_events())
            ]
        finally:
            reader.close()

    def close(self) -> None:
        for reader, writer, deliveries in self.opened:
            deliveries.close()
            writer.close()
            reader.close()


@pytest.fixture
def scene(tmp_path, hook):
    made: list[Scene] = []

    def make(rule: str = "for: 0s") -> Scene:
        made.append(Scene(tmp_path, hook, textwrap.dedent(rule).strip()))
        return made[-1]

    yield make
    for s in made:
        s.close()


def test_a_kpi_already_crit_at_start_fires_once_and_is_recorded_delivered(scene):
    # Given MRR at 40 (crit) before the watcher's first run
    s = scene()
    s.point(40, T0 - 600)
    w = s.watcher()
    # When it ticks three times
    for i in range(3):
        w.tick(T0 + i * M)
    s.settle(w)
    # Then one webhook, "at start", and the history holds it, delivered
    assert [(b["kpi"], b["from"], b["to"], b["display"]) for b in s.hook.bodies()] == [
        ("mrr", None, "crit", "40")
    ]
    ((ts, kpi, frm, to, delivered),) = s.history()
    assert (ts, kpi, frm, to) == (T0, "mrr", None, "crit")
    assert len(delivered) == 1 and delivered[0].startswith("webhook: http://127.0.0.1")
    assert s.lines[0] == "2026-11-30T00:53:20Z kpi mrr: at start → crit (40), to 1 target"


def test_a_restart_resends_nothing_and_keeps_the_history(scene):
    # Given a watcher that told crit, then stopped
    s = scene()
    s.point(40, T0 - 600)
    first = s.watcher()
    first.tick(T0)
    s.settle(first)
    # When a new watcher starts an hour later, MRR still crit
    second = s.watcher()
    assert second.tick(T0 + 3600) == []
    s.settle(second)
    # Then nothing is sent again, and the history still has the one event
    assert len(s.hook.requests) == 1
    assert len(s.history()) == 1
    # And when MRR recovers, the new watcher tells it from crit
    s.point(120, T0 + 3700)
    second.tick(T0 + 3720)
    s.settle(second)
    assert [(b["from"], b["to"]) for b in s.hook.bodies()] == [(None, "crit"), ("crit", "ok")]


def test_an_alert_a_target_never_got_is_delivered_after_a_restart(scene):
    # Given the webhook is down when crit fires
    s = scene()
    s.hook.answers = [500, 200]
    s.point(40, T0 - 600)
    first = s.watcher()
    first.tick(T0)
    s.settle(first)
    assert s.history()[0][4] == () and "HTTP 500" in s.complaints[0]
    assert "not delivered there" in s.complaints[0]
    # When the watcher restarts ten minutes later (the hook is back)
    second = s.watcher()
    second.tick(T0 + 600)
    s.settle(second)
    # Then that alert is delivered now, once, and recorded
    assert len(s.hook.requests) == 2 and s.hook.bodies()[1]["to"] == "crit"
    assert len(s.history()[0][4]) == 1
    third = s.watcher()
    third.tick(T0 + 700)
    s.settle(third)
    assert len(s.hook.requests) == 2


def test_flapping_inside_for_fires_nothing_then_a_held_state_fires(scene):
    # Given for: 10m, MRR ok, then flapping between 70 (warn) and 90 (ok) every 3 minutes
    s = scene("for: 10m")
    s.point(90, T0 - 600)
    w = s.watcher()
    w.tick(T0)
    for i in range(1, 11):
        s.point(70 if i % 2 else 90, T0 + i * 3 * M)
        w.tick(T0 + i * 3 * M + 1)
    s.settle(w)
    assert s.hook.requests == [] and s.history() == []
    # When it stays at 70 from 0:33 on
    s.point(70, T0 + 33 * M)
    for minute in range(33, 45):
        w.tick(T0 + minute * M)
    s.settle(w)
    # Then warn fires once, 10 minutes after it was first seen
    assert [(e[0], e[2], e[3]) for e in s.history()] == [(T0 + 43 * M, "ok", "warn")]


def test_a_state_that_held_for_before_a_start_fires_on_the_first_run(scene):
    # Given for: 10m and MRR crit since an hour before the watcher starts (a cron run)
    s = scene("for: 10m")
    s.point(40, T0 - 3600)
    w = s.watcher()
    w.tick(T0)
    s.settle(w)
    # Then it fires at once, not ten minutes into the run
    assert [(e[0], e[3]) for e in s.history()] == [(T0, "crit")]


def test_repeat_renotifies_while_crit_across_a_restart(scene):
    # Given repeat: 4h, crit from the start
    s = scene("repeat: 4h")
    s.point(40, T0 - 60)
    w = s.watcher()
    w.tick(T0)
    w.tick(T0 + 3 * 3600)
    s.settle(w)
    # When a new watcher takes over at 3:30 and ticks on
    w2 = s.watcher()
    for hour in (3.5, 4, 5, 8):
        w2.tick(T0 + int(hour * 3600))
    s.settle(w2)
    # Then the repeats keep the first watcher's pace: at 4h and 8h
    assert [(e[0] - T0, e[2], e[3]) for e in s.history()] == [
        (0, None, "crit"),
        (4 * 3600, "crit", "crit"),
        (8 * 3600, "crit", "crit"),
    ]
    assert [b["repeat"] for b in s.hook.bodies()] == [False, True, True]


def test_a_key_result_alerts_on_its_status(scene, tmp_path):
    # Given a key result 10% of the way at half the period
    s = scene()
    s.spec_path.write_text(
        SPEC.format(rule="for: 0s", url=s.hook.url)
        + textwrap.dedent(
            """\
            period: {start: 2026-11-01, end: 2026-12-30}
            okrs:
              - title: Grow
                key_results:
                  - {title: Signups to 1000, metric: signups, agg: sum, start: 0, target: 1000}
            """
        ),
        encoding="utf-8",
    )
    s.point(100, T0 - 600)
    s.point(100, T0 - 600, metric="signups")
    w = s.watcher()
    w.tick(T0)
    s.settle(w)
    kr = [b for b in s.hook.bodies() if "kr" in b]
    assert [(b["kr"], b["from"], b["to"]) for b in kr] == [("signups-to-1000", None, "off_track")]
    assert "at 10% of the way, 48% expected by now" in kr[0]["reason"]


def test_a_locked_store_loses_no_alert_it_is_written_on_the_next_tick(scene):
    # Given crit, and another writer holding the store's write lock
    import sqlite3

    from kpitui.errors import StoreLockedError

    s = scene()
    s.point(40, T0 - 600)
    reader, writer = open_reader(s.db), open_writer(s.db, busy_timeout=0.1)
    deliveries = Deliveries(attempts=1, backoff=0.01)
    s.opened.append((reader, writer, deliveries))
    w = Watcher(load_dashboard(s.spec_path), reader, writer, deliveries, say=s.lines.append)
    lock = sqlite3.connect(s.db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreLockedError):
        w.tick(T0)
    lock.execute("ROLLBACK")
    lock.close()
    # When the next tick finds the store free
    w.tick(T0 + 60)
    s.settle(w)
    # Then crit is written and sent then, once
    assert [(e[0], e[3]) for e in s.history()] == [(T0 + 60, "crit")]
    assert len(s.hook.requests) == 1


def test_a_reloaded_spec_keeps_what_was_told(scene):
    # Given crit told, then the spec edited to add `repeat: 1h`
    s = scene()
    s.point(40, T0 - 600)
    w = s.watcher()
    w.tick(T0)
    s.write_spec("repeat: 1h")
    w.use_spec(load_dashboard(s.spec_path))
    w.tick(T0 + 600)
    w.tick(T0 + 3600)
    s.settle(w)
    # Then nothing is told twice, and the repeat counts from the first alert
    assert [(e[0] - T0, e[3]) for e in s.history()] == [(0, "crit"), (3600, "crit")]


def test_a_kpi_that_started_good_is_told_from_ok_by_a_later_run(scene):
    # Given a first run (cron, --once) with MRR crit and signups fine
    s = scene()
    s.spec_path.write_text(
        SPEC.format(rule="for: 0s", url=s.hook.url)
        + "  - id: signups\n    metric: signups\n    target: 100\n    warn: 80\n    crit: 50\n",
        encoding="utf-8",
    )
    s.point(40, T0 - 600)
    s.point(120, T0 - 600, metric="signups")
    first = s.watcher()
    first.tick(T0)
    s.settle(first)
    # When signups drop to crit before the next run
    s.point(30, T0 + 3000, metric="signups")
    second = s.watcher()
    second.tick(T0 + 3600)
    s.settle(second)
    # Then it is told "ok → crit", not "at start" (the first run saw it ok)
    assert [(b["kpi"], b["from"], b["to"]) for b in s.hook.bodies()] == [
        ("mrr", None, "crit"),
        ("signups", "ok", "crit"),
    ]
