"""The writer and the schema: upserts, validation, one transaction, locks, versions."""

from __future__ import annotations

import math
import re
import sqlite3

import pytest

from kpitui.errors import InputError, StoreError, StoreLockedError
from kpitui.store import open_reader, open_writer
from kpitui.store.checks import canonical_labels
from kpitui.store.sqlite import schema
from tests.store.conftest import count_points, is_pg, sql

T0 = 1_767_225_600

pytestmark = pytest.mark.both_backends


@pytest.mark.sqlite_only
def test_a_new_store_is_versioned_and_in_wal_mode(db, write):
    write([("signups", {}, T0, 1.0)])
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert schema.user_tables(con) == schema.KPITUI_TABLES
        assert con.execute("SELECT metric, labels FROM series").fetchall() == [("signups", "{}")]


def test_labels_are_canonical_json(db, write):
    # Given the same labels in two orders
    write([("m", {"b": "2", "a": "1"}, T0, 1.0), ("m", {"a": "1", "b": "2"}, T0 + 1, 2.0)])
    # Then they are one series, stored with sorted keys
    assert sql(db, "SELECT labels FROM series") == [('{"a":"1","b":"2"}',)]
    assert canonical_labels({"é": "ü"}) == '{"é":"ü"}'


def test_upsert_is_idempotent_and_replaces(db, write):
    assert write([("m", {}, T0, 1.0), ("m", {}, T0 + 1, 2.0)]) == 2
    write([("m", {}, T0, 1.0), ("m", {}, T0 + 1, 2.0)])
    assert count_points(db) == 2
    write([("m", {}, T0, 5.0)])
    reader = open_reader(db)
    assert reader.aggregate("m", None, "sum", T0, T0 + 1) == 7.0
    assert reader.aggregate("m", None, "max", T0, T0 + 86400) == 5.0  # rollups follow
    reader.close()


def test_the_same_point_twice_in_one_batch_keeps_the_last(db, write):
    write([("m", {}, T0, float(i)) for i in range(450)])  # crosses the 200-row statements
    reader = open_reader(db)
    assert reader.aggregate("m", None, "count", T0, T0) == 1
    assert reader.aggregate("m", None, "sum", T0, T0) == 449.0
    reader.close()


@pytest.mark.parametrize(
    ("point", "message"),
    [
        (("m", {}, T0, math.nan), "point 2: nan is not a finite number"),
        (("m", {}, T0, math.inf), "point 2: inf is not a finite number"),
        (("m", {}, T0, "12"), "point 2: '12' is not a number"),
        (("m", {}, T0, True), "point 2: True is not a number"),
        (("m", {}, 1.5, 1.0), "point 2: time must be whole epoch seconds"),
        (("m", {}, T0 * 1000, 1.0), "out of range"),
        (("m", {}, -315_619_200, 1.0), "point 2: time -315619200 is out of range"),  # 1960
        (("m", {}, 2026, 1.0), "point 2: '2026' is a year, not a time"),
        (("bad name", {}, T0, 1.0), "point 2: 'bad name' is not a metric name"),
        (("m", {"": "x"}, T0, 1.0), "point 2: label names must be non-empty text"),
        (("m", {"k": 3}, T0, 1.0), "point 2: label 'k' must be text"),
        (("m", {"k": "\udcff"}, T0, 1.0), "point 2: label 'k': '\\udcff' is not UTF-8 text"),
        (("m", {"\ud800": "x"}, T0, 1.0), "point 2: label name '\\ud800' is not UTF-8 text"),
        (("m", T0, 1.0), "point 2: expected (metric, labels, time, value)"),
    ],
)
def test_invalid_points_write_nothing(db, write, point, message):
    with pytest.raises(InputError, match=re.escape(message)):
        write([("m", {}, T0 - 1, 1.0), point])
    assert count_points(db) == 0


def test_check_ins_that_are_not_utf8_text_write_nothing(db):
    with open_writer(db) as writer:
        # Given a KR id, then a note, holding a lone surrogate (bytes that were not UTF-8)
        # When each is checked in, Then an InputError says so instead of SQLite's traceback
        with pytest.raises(InputError, match="key-result id 'kr\\\\udcff' is not UTF-8 text"):
            writer.write_checkin("kr\udcff", T0, 0.5)
        with pytest.raises(InputError, match="the note must be UTF-8 text"):
            writer.write_checkin("kr", T0, 0.5, None, "caf\udce9")
    assert sql(db, "SELECT count(*) FROM checkins") == [(0,)]


def test_a_batch_refuses_a_series_that_is_not_utf8_text(db):
    # Given a batch given a label the importers did not check (a lone surrogate)
    # When its series is asked for, Then an InputError, not SQLite's UnicodeEncodeError
    with (
        open_writer(db) as writer,
        pytest.raises(InputError, match="is not UTF-8 text"),
        writer.batch() as batch,
    ):
        batch.series_id("m", {"k": "\udcff"})
    assert count_points(db) == 0


def test_names_and_labels_lose_surrounding_spaces(db, write):
    # Given the same series written with and without spaces around its names and values
    write([(" m ", {" plan ": " pro "}, T0, 1.0), ("m", {"plan": "pro"}, T0 + 1, 2.0)])
    write([("m", {"plan": "  ", "region": None}, T0 + 2, 3.0)])
    # Then it is one series; a label of only spaces is no label
    assert sql(db, "SELECT metric, labels FROM series ORDER BY id") == [
        ("m", '{"plan":"pro"}'),
        ("m", "{}"),
    ]
    # And a label named twice once stripped is refused
    with pytest.raises(InputError, match="point 1: label 'plan' is given twice"):
        write([("m", {"plan": "a", "plan ": "b"}, T0, 1.0)])


def test_empty_labels_mean_no_label(db, write):
    write(
        [("m", {"plan": ""}, T0, 1.0), ("m", {"plan": None}, T0 + 1, 1.0), ("m", {}, T0 + 2, 1.0)]
    )
    assert sql(db, "SELECT count(*) FROM series") == [(1,)]


def test_an_error_inside_a_batch_rolls_everything_back(db):
    with open_writer(db) as writer:
        with pytest.raises(RuntimeError), writer.batch() as batch:
            sid = batch.series_id("m", {"new": "series"})
            batch.add(sid, [T0, T0 + 1], [1.0, 2.0])
            raise RuntimeError("boom")
        # The series created in the failed batch is forgotten, so it is created again
        writer.write_points([("m", {"new": "series"}, T0, 3.0)])
    assert count_points(db) == 1


def test_checkins_upsert_and_validate(db):
    with open_writer(db) as writer:
        writer.write_checkin("launch", T0, 0.2, "on_track", "kickoff")
        writer.write_checkin("launch", T0, 0.3, None, None)  # same time: replaces
        with pytest.raises(InputError, match="unknown confidence 'great'"):
            writer.write_checkin("launch", T0 + 1, 0.5, "great")
        with pytest.raises(InputError, match="not a finite number"):
            writer.write_checkin("launch", T0 + 1, math.nan)
        with pytest.raises(InputError, match="id is empty"):
            writer.write_checkin(" ", T0 + 1, 0.5)
        with pytest.raises(InputError, match="check-in: time 0 is out of range"):
            writer.write_checkin("launch", 0, 0.5)
    reader = open_reader(db)
    assert [(c.ts, c.value, c.confidence, c.note) for c in reader.checkins("launch")] == [
        (T0, 0.3, None, None)
    ]
    reader.close()


def test_not_sqlite_is_a_store_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="not a SQLite database") as caught:
        open_writer(path)
    assert str(caught.value).startswith(f"{path}: ")
    with pytest.raises(StoreError, match="not a SQLite database"):
        open_reader(path)
    assert path.read_text().startswith("these are my notes")


def test_a_foreign_sqlite_database_is_left_alone(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE users (id INTEGER)")
    with pytest.raises(StoreError, match="not a kpitui store"):
        open_writer(path)
    with pytest.raises(StoreError, match="not a kpitui store"):
        open_reader(path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # untouched


@pytest.mark.sqlite_only
def test_a_newer_schema_is_refused_by_writers_and_readers(db, write):
    write([("m", {}, T0, 1.0)])
    with sqlite3.connect(db) as con:
        con.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    for opener in (open_writer, open_reader):
        with pytest.raises(StoreError, match="newer than this kpitui understands") as caught:
            opener(db)
        assert caught.value.hint == "upgrade kpitui"
        assert str(db) in str(caught.value)


@pytest.mark.sqlite_only
def test_readers_do_not_migrate_writers_do(db, write, monkeypatch):
    # Given a store at the current version and a kpitui one version ahead that cannot
    # read it any more
    write([("m", {}, T0, 1.0)])
    current = schema.SCHEMA_VERSION
    monkeypatch.setattr(schema, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(schema, "MIN_READ_VERSION", current + 1)
    monkeypatch.setitem(schema.MIGRATIONS, current + 1, ("CREATE TABLE notes (id INTEGER)",))
    # When a reader opens it: it refuses, and changes nothing
    with pytest.raises(StoreError, match="older schema"):
        open_reader(db)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == current
    # When a writer opens it: it migrates forward
    with open_writer(db):
        pass
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == current + 1
        assert "notes" in schema.user_tables(con)


def test_an_empty_file_is_initialised_by_a_writer_and_refused_by_a_reader(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(StoreError, match="the store is empty"):
        open_reader(path)
    with open_writer(path) as writer:
        writer.write_points([("m", {}, T0, 1.0)])
    assert count_points(path) == 1


def test_a_missing_directory_or_a_directory_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_writer(tmp_path / "nope" / "m.db")
    with pytest.raises(InputError, match="is a directory"):
        open_writer(tmp_path)
    with pytest.raises(InputError, match="is a directory"):
        open_reader(tmp_path)


@pytest.mark.sqlite_only
def test_a_writer_waits_then_gives_up_on_a_locked_store(db, write):
    write([("m", {}, T0, 1.0)])
    # Given another connection holding the write lock
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # When a writer (with a short timeout for the test) tries to write
        with (
            open_writer(db, busy_timeout=0.05) as writer,
            pytest.raises(StoreLockedError) as caught,
        ):
            writer.write_points([("m", {}, T0 + 1, 2.0)])
        # Then it says the store is locked, and how long it waited
        assert caught.value.message == "store is locked by another writer (waited 0.05 s)"
        assert caught.value.exit_code == 1
        # And a reader still reads (WAL: writers never block readers)
        reader = open_reader(db)
        assert reader.aggregate("m", None, "sum", T0, T0 + 1) == 1.0
        reader.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert count_points(db) == 1


def test_the_writer_is_a_context_manager_that_closes(db):
    with open_writer(db) as writer:
        writer.write_points([])
    if is_pg(db):
        assert writer._con.closed
        return
    with pytest.raises(sqlite3.ProgrammingError):
        writer._con.execute("SELECT 1")


def test_sparse_times_far_apart_use_the_grouping_refresh(db, write):
    # Given two points of one series 50 years apart (too many hours to walk one by one)
    years = 50 * 365 * 86400
    write([("m", {}, T0, 1.0), ("m", {}, T0 + years, 2.0)])
    write([("m", {}, T0 + 86400, 4.0), ("m", {}, T0 + years + 60, 8.0)])
    reader = open_reader(db)
    assert reader.aggregate("m", None, "sum", T0, T0 + years + 86400) == 15.0
    assert [b.value for b in reader.buckets("m", None, "sum", T0, T0 + years + 86400, 86400)] == [
        1.0,
        4.0,
        10.0,
    ]
    reader.close()


def test_interleaved_series_with_duplicates_keep_the_last_value(db, write):
    # Given points of three series interleaved, each (series, time) written twice
    rows = [(f"m{i % 3}", {}, T0 + i // 3, float(i)) for i in range(60)]
    write(rows + [(m, lab, ts, v + 1000) for m, lab, ts, v in rows])
    reader = open_reader(db)
    # Then each series holds its 20 points with the later values
    assert reader.aggregate("m1", None, "count", T0, T0 + 100) == 20
    assert reader.aggregate("m1", None, "sum", T0, T0 + 100) == sum(
        i + 1000 for i in range(1, 60, 3)
    )
    reader.close()
