"""The write log: what writers record per batch, and what `changes_since` tells a reader."""

from __future__ import annotations

import os
import sqlite3

import pytest

from kpitui.store import open_reader, open_writer
from kpitui.store.sqlite import schema
from tests.store.conftest import sql

T0 = 1_790_000_000
HOUR = 3600
DAY = 86400


def log_rows(db) -> list[tuple[int, int, int]]:
    return sql(db, "SELECT series_id, lo, hi FROM write_log ORDER BY id")


def series_id(db, metric: str, labels: str = "{}") -> int:
    return sql(db, "SELECT id FROM series WHERE metric = ? AND labels = ?", (metric, labels))[0][0]


def make_v1_store(db, write) -> None:
    """A store as kpitui with schema version 1 left it: no write log."""
    write([("m", {}, T0, 1.0), ("m", {}, T0 + HOUR, 2.0)])
    with sqlite3.connect(db) as con:
        for table in ("write_log", "annotations", "alert_events", "pull_state", "checkins"):
            con.execute(f"DROP TABLE {table}")
        for statement in schema.MIGRATIONS[1]:
            if "CREATE TABLE checkins" in statement:
                con.execute(statement)
        con.execute("PRAGMA user_version = 1")


@pytest.mark.both_backends
def test_each_batch_logs_one_row_per_series_it_changed(db, write):
    # Given two series written in one batch, then one series in another
    write([("a", {}, T0, 1.0), ("a", {}, T0 + 50, 2.0), ("b", {"x": "1"}, T0 + 10, 3.0)])
    write([("a", {}, T0 + 99, 4.0)])
    a, b = series_id(db, "a"), series_id(db, "b", '{"x":"1"}')
    # Then the log holds one row per (batch, series) with the span the batch wrote
    # (a batch's span covers all its points: a cheap upper bound, never too narrow)
    assert log_rows(db) == [(a, T0, T0 + 50), (b, T0, T0 + 50), (a, T0 + 99, T0 + 99)]


@pytest.mark.both_backends
def test_a_batch_that_changes_nothing_logs_nothing(db, write):
    # Given points written once
    write([("a", {}, T0, 1.0)])
    # When the same points are written again (idempotent import)
    write([("a", {}, T0, 1.0)])
    # Then the second batch left no trace
    assert len(log_rows(db)) == 1


def test_the_log_keeps_only_the_newest_rows(db, write, monkeypatch):
    # Given a log limited to 3 rows
    monkeypatch.setattr(schema, "WRITE_LOG_ROWS", 3)
    # When 5 batches write
    for i in range(5):
        write([("a", {}, T0 + i, float(i))])
    # Then only the newest 3 are left
    assert [lo for _, lo, _ in log_rows(db)] == [T0 + 2, T0 + 3, T0 + 4]


@pytest.mark.both_backends
def test_changes_since_reports_series_and_oldest_time_written(db, write, reader):
    write([("a", {}, T0, 1.0)])
    r = reader()
    # Given a first look (nothing to compare with: "anything may have changed")
    token, changes = r.changes_since(None)
    assert changes is None
    # When nothing is written, Then nothing changed
    token, changes = r.changes_since(token)
    assert changes == {}
    # When one batch backfills `a` and another creates `b`
    write([("a", {}, T0 - DAY, 5.0), ("a", {}, T0 + 5, 6.0)])
    write([("b", {}, T0 + 7, 1.0)])
    write([("a", {}, T0 + 9, 7.0)])
    token, changes = r.changes_since(token)
    # Then each changed series is there with the oldest time any batch wrote
    assert changes == {series_id(db, "a"): T0 - DAY, series_id(db, "b"): T0 + 7}
    assert r.changes_since(token)[1] == {}


def test_changes_since_a_token_the_log_no_longer_reaches_is_unknown(db, write, reader, monkeypatch):
    # Given a reader that looked after the first batch, and a log of 2 rows
    monkeypatch.setattr(schema, "WRITE_LOG_ROWS", 2)
    write([("a", {}, T0, 1.0)])
    r = reader()
    token, _ = r.changes_since(None)
    # When 3 more batches push its place out of the log
    for i in range(1, 4):
        write([("a", {}, T0 + i, float(i))])
    # Then it is told it cannot know, and gets a fresh token that works from now on
    token, changes = r.changes_since(token)
    assert changes is None
    write([("a", {}, T0 + 9, 9.0)])
    assert r.changes_since(token)[1] == {series_id(db, "a"): T0 + 9}


def test_a_token_of_a_replaced_store_file_is_void(tmp_path, write, db, reader):
    # Given a reader with a token of the store at `db`
    write([("a", {}, T0, 1.0), ("a", {}, T0 + 1, 2.0)])
    r = reader()
    token, _ = r.changes_since(None)
    # When the file is replaced by another store with as many log rows
    other = tmp_path / "other.db"
    with open_writer(other) as writer:
        writer.write_points([("z", {}, T0, 1.0)])
        writer.write_points([("z", {}, T0 + 1, 1.0)])
    os.replace(other, db)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(other) + suffix):
            os.replace(str(other) + suffix, str(db) + suffix)
    # Then its old token tells nothing about the new file
    assert r.changes_since(token)[1] is None


def test_a_version_1_store_is_read_without_a_log_and_migrated_by_the_next_write(db, write):
    # Given a store written by kpitui with schema version 1
    make_v1_store(db, write)
    # When a reader opens it: it reads it, says it cannot tell what changed, migrates nothing
    r = open_reader(db)
    try:
        assert r.aggregate("m", {}, "sum", T0, T0 + HOUR) == 3.0
        token, changes = r.changes_since(None)
        assert (token, changes) == (None, None)
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA user_version").fetchone()[0] == 1
        # When the next write opens it: it migrates to the current version and logs
        write([("m", {}, T0 + 2 * HOUR, 3.0)])
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert log_rows(db) == [(series_id(db, "m"), T0 + 2 * HOUR, T0 + 2 * HOUR)]
        # Then the reader opened before the migration goes on reading and starts tracking
        token, changes = r.changes_since(token)
        assert token is not None and changes is None
        write([("m", {}, T0 + 3 * HOUR, 4.0)])
        assert r.changes_since(token)[1] == {series_id(db, "m"): T0 + 3 * HOUR}
        assert r.aggregate("m", {}, "sum", T0, T0 + 3 * HOUR) == 10.0
    finally:
        r.close()


@pytest.mark.both_backends
def test_changes_since_with_others_tells_a_write_to_another_table_apart(db, write, reader):
    # Given a reader that looked after a first point
    write([("a", {}, T0, 1.0)])
    r = reader()
    token, _ = r.changes_since(None, others=True)
    # When a check-in and an annotation are written (no series changes)
    with open_writer(db) as writer:
        writer.write_checkin("kr-1", T0, 3.0)
        writer.write_annotation(T0, "release")
    # Then `others` reports them as key 0, and a reader not asking sees no change
    plain, _ = r.changes_since(None)
    token, changes = r.changes_since(token, others=True)
    assert changes == {0: 0}
    write([("a", {}, T0 + 5, 2.0)])
    assert r.changes_since(token, others=True)[1] == {series_id(db, "a"): T0 + 5}
    assert r.changes_since(plain)[1] == {series_id(db, "a"): T0 + 5}


def test_the_reader_series_index_follows_new_renamed_and_dropped_series(db, write, reader):
    # Given a reader that has read `a`, while points keep arriving
    write([("a", {"x": "1"}, T0, 1.0), ("gone", {}, T0, 1.0)])
    r = reader()
    assert [s.labels for s in r.series("a")] == [{"x": "1"}]
    write([("a", {"x": "1"}, T0 + 1, 2.0)])
    assert [s.labels for s in r.series("a")] == [{"x": "1"}]
    # When a series is created, one renamed and one deleted, each by another connection
    write([("a", {"x": "2"}, T0 + 2, 3.0)])
    assert [s.labels for s in r.series("a")] == [{"x": "1"}, {"x": "2"}]
    with open_writer(db) as writer:
        writer.rename_metric("a", "b")
    assert r.series("a") == [] and len(r.series("b")) == 2
    with open_writer(db) as writer:
        writer.delete_points("gone", None, None, None)
    # Then the reader's index says so each time, as a new reader would
    assert r.series("gone") == [] and r.metric_names() == {"b"}
