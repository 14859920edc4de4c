"""Schema 3: annotations, the alert history, pull state and check-in ids."""

from __future__ import annotations

import sqlite3

import pytest

from kpitui.errors import InputError
from kpitui.store import open_reader, open_writer
from kpitui.store.api import AlertEvent, PullState
from kpitui.store.sqlite import schema

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z

pytestmark = pytest.mark.both_backends


def test_annotations_with_and_without_metrics(db, reader):
    with open_writer(db) as w:
        everywhere = w.write_annotation(T0, "release 2.0")
        mrr_only = w.write_annotation(
            T0 + 60, "pricing change", metrics=["mrr"], labels={"plan": "pro"}
        )
        w.write_annotation(T0 + 120, "signup outage", metrics=["signups", "visits"])
        w.write_annotation(T0 + 10_000, "later")
    r = reader()
    assert [a.text for a in r.annotations(T0, T0 + 120)] == [
        "release 2.0",
        "pricing change",
        "signup outage",
    ]
    # Filtered by metric: those naming it, and those with no metrics (every chart)
    found = r.annotations(T0, T0 + 120, metrics=["mrr"])
    assert [a.id for a in found] == [everywhere, mrr_only]
    assert found[1].metrics == ("mrr",) and found[1].labels == {"plan": "pro"}
    with open_writer(db) as w:
        assert w.delete_annotation(mrr_only) is True
        assert w.delete_annotation(mrr_only) is False
    assert [a.id for a in r.annotations(T0, T0 + 120, metrics=["mrr"])] == [everywhere]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "  "}, "the annotation's text is empty"),
        ({"metrics": ["9bad"]}, "annotation: '9bad' is not a metric name"),
        ({"text": "x\udc80"}, "the annotation's text is not UTF-8 text"),
    ],
)
def test_a_bad_annotation_is_refused_and_nothing_written(db, reader, kwargs, message):
    with open_writer(db) as w, pytest.raises(InputError) as caught:
        w.write_annotation(**{"ts": T0, "text": "ok", **kwargs})
    assert caught.value.message == message
    assert reader().annotations(T0, T0) == []


def event(ts: int, to: str, kind: str = "kpi", subject: str = "churn", **extra) -> AlertEvent:
    return AlertEvent(ts, kind, subject, "Churn", extra.pop("frm", None), to, **extra)


def test_alert_events_are_idempotent_and_newest_first(db, reader):
    with open_writer(db) as w:
        first = w.write_alert_events([event(T0, "warn", value=0.03, display="3.0%")])
        again = w.write_alert_events(
            [event(T0, "warn", value=0.03), event(T0 + 60, "crit", frm="warn")]
        )
        w.write_alert_events([event(T0 + 30, "off_track", kind="kr", subject="launch")])
        w.mark_delivered(again[1], "webhook")
        w.mark_delivered(again[1], "webhook")
        w.mark_delivered(again[1], "command")
    # The same change written again keeps its id
    assert again[0] == first[0]
    r = reader()
    found = r.alert_events()
    assert [(e.ts, e.to_state) for e in found] == [
        (T0 + 60, "crit"),
        (T0 + 30, "off_track"),
        (T0, "warn"),
    ]
    assert found[0].from_state == "warn" and found[0].delivered == ("webhook", "command")
    assert found[2].from_state is None and found[2].value == 0.03 and found[2].display == "3.0%"
    assert [e.ts for e in r.alert_events(since=T0 + 30)] == [T0 + 60, T0 + 30]
    assert len(r.alert_events(limit=1)) == 1


def test_last_alert_events_is_the_newest_event_of_each_subject(db, reader):
    # Given churn warn → crit → ok, a key result at risk, and two events in one second
    with open_writer(db) as w:
        w.write_alert_events([event(T0, "warn"), event(T0 + 60, "crit", frm="warn")])
        w.write_alert_events([event(T0 + 120, "ok", frm="crit")])
        w.write_alert_events([event(T0 + 30, "at_risk", kind="kr", subject="launch")])
        w.write_alert_events([event(T0 + 30, "off_track", kind="kr", subject="launch")])
    # Then each subject's newest (the later id within one second)
    last = {(e.subject_kind, e.subject_id): e.to_state for e in reader().last_alert_events()}
    assert last == {("kpi", "churn"): "ok", ("kr", "launch"): "off_track"}


def test_pull_state_is_replaced_per_pull(db, reader):
    with open_writer(db) as w:
        w.set_pull_state(PullState("billing", last_success=T0, high_water=T0 - 60))
        w.set_pull_state(
            PullState("billing", last_success=T0, last_error_at=T0 + 5, last_error="timeout")
        )
        w.set_pull_state(PullState("support"))
    states = reader().pull_states()
    assert states == {
        "billing": PullState("billing", T0, T0 + 5, "timeout", None),
        "support": PullState("support"),
    }


def test_delete_checkin_by_id(db, reader):
    with open_writer(db) as w:
        kept = w.write_checkin("a", T0, 1.0)
        gone = w.write_checkin("a", T0 + 1, 2.0)
        # Replacing a check-in (same KR and time) keeps its id
        assert w.write_checkin("a", T0, 1.5, "on_track") == kept
        assert w.delete_checkin(gone) is True
        assert w.delete_checkin(gone) is False
    assert [(c.id, c.value) for c in reader().checkins("a")] == [(kept, 1.5)]


@pytest.mark.sqlite_only
def test_a_version_2_store_keeps_its_checkins_through_the_migration(db, reader):
    # Given a store at schema version 2 with check-ins (the old WITHOUT ROWID table)
    with sqlite3.connect(db) as con:
        for version in (1, 2):
            for statement in schema.MIGRATIONS[version]:
                con.execute(statement)
        con.execute(
            "INSERT INTO checkins VALUES ('a', ?, 0.5, 'at_risk', 'n'), ('b', ?, 1, NULL, NULL)",
            (T0, T0),
        )
        con.execute("PRAGMA user_version = 2")
    # A reader reads it as it is (ids 0, no annotations)
    r = open_reader(db)
    assert [(c.kr_id, c.id) for c in r.checkins()] == [("a", 0), ("b", 0)]
    assert r.annotations(T0, T0) == [] and r.alert_events() == [] and r.pull_states() == {}
    # When a writer opens it: migrated, check-ins kept with ids
    open_writer(db).close()
    assert [(c.kr_id, c.value, c.confidence, c.note) for c in r.checkins()] == [
        ("a", 0.5, "at_risk", "n"),
        ("b", 1.0, None, None),
    ]
    assert sorted(c.id for c in r.checkins()) == [1, 2]
    r.close()


@pytest.mark.parametrize(
    "write",
    [
        lambda w: w.write_annotation(T0, "deploy"),
        lambda w: w.write_alert_events([event(T0, "warn")]),
        lambda w: w.set_pull_state(PullState("p")),
        lambda w: w.write_checkin("kr", T0, 1.0),
    ],
)
def test_a_write_to_any_table_is_noticed_by_an_open_reader(db, reader, write):
    open_writer(db).close()
    r = reader()
    before = r.data_version()
    token, _ = r.changes_since(None)
    with open_writer(db) as w:
        write(w)
    # The board re-evaluates (the version moved); the bucket cache keeps every series
    assert r.data_version() != before
    assert r.changes_since(token)[1] == {}
