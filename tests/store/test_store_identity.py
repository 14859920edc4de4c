"""Only kpitui stores are touched: a store is marked as kpitui's, another program's SQLite
database is refused whatever its `user_version`, and a store's name is always a file.

A kpitui store carries `PRAGMA application_id` = `schema.APPLICATION_ID`. Stores made
before the mark (version 1 to 3, with kpitui's tables) are still read, and a writer marks
them. Anything else is refused in one line, never migrated, never switched to WAL.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess

import pytest

from kpitui.errors import StoreError
from kpitui.store import open_reader, open_writer
from kpitui.store.sqlite import schema
from tests.store.as_users import VIEWER, run_as, shared_dir  # noqa: F401

T0 = 1_790_000_000


def _pragma(path, name: str):
    con = sqlite3.connect(path)
    try:
        return con.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        con.close()


def test_a_new_store_is_marked_as_kpituis(db, write):
    # When a writer creates a store, Then it carries kpitui's application id
    write([("m", {}, T0, 1.0)])
    assert _pragma(db, "application_id") == schema.APPLICATION_ID


def _foreign(path, version: int, *, wal: bool = False, tables: tuple[str, ...] = ("notes",)):
    """Another program's database: its own tables, its own user_version."""
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode = WAL")
    for table in tables:
        con.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, body TEXT)")
        con.execute(f"INSERT INTO {table} (body) VALUES ('mine')")
    con.execute(f"PRAGMA user_version = {version}")
    con.commit()
    con.close()


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4, 99])
@pytest.mark.parametrize("command", ["record", "metrics", "import", "checkin"])
def test_another_programs_database_is_refused_and_left_as_it_was(
    version, command, tmp_path, cli_raw, monkeypatch
):
    # Given another program's SQLite database with some user_version of its own
    monkeypatch.chdir(tmp_path)
    _foreign(tmp_path / "app.db", version)
    (tmp_path / "p.csv").write_text("metric,time,value\nm,2026-01-01,1\n")
    before = _digest(tmp_path / "app.db")
    argv = {
        "record": ["record", "m", "1"],
        "metrics": ["metrics"],
        "import": ["import", "p.csv"],
        "checkin": ["checkin", "kr", "1", "--any-id"],
    }[command]
    # When a kpitui command is pointed at it
    code, _out, err = cli_raw(*argv, "--db", "app.db")
    # Then one line refuses it, and not a byte of it changed, nor its journal mode
    assert code == 1
    assert err.startswith("kpitui: app.db: not a kpitui store"), err
    assert len(err.splitlines()) == 1
    assert _digest(tmp_path / "app.db") == before
    assert _pragma(tmp_path / "app.db", "journal_mode") == "delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "p.csv"]


def test_another_programs_database_with_kpituis_table_names_is_refused(tmp_path):
    # Given a database that happens to have tables called "series" and "points"
    _foreign(tmp_path / "app.db", 3, wal=True, tables=("series", "points"))
    # When a writer or a reader opens it, Then it is refused
    for opener in (open_writer, open_reader):
        with pytest.raises(StoreError, match="not a kpitui store"):
            opener(tmp_path / "app.db")
    assert _pragma(tmp_path / "app.db", "user_version") == 3


def test_a_store_made_before_the_mark_is_read_and_a_writer_marks_it(db, write):
    # Given a kpitui store of schema version 3 from before stores were marked
    write([("m", {}, T0, 1.0)])
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA application_id = 0")
    con.close()
    # When a reader opens it, Then it reads it (and leaves it unmarked)
    reader = open_reader(db)
    assert reader.last("m", None, T0).value == 1.0
    reader.close()
    assert _pragma(db, "application_id") == 0
    # When a writer opens it, Then it marks it as kpitui's
    write([("m", {}, T0 + 1, 2.0)])
    assert _pragma(db, "application_id") == schema.APPLICATION_ID


def test_a_store_marked_by_another_program_is_refused(db, write):
    # Given a store whose application id another program set
    write([("m", {}, T0, 1.0)])
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA application_id = 1598903374")  # 'MPBS', not kpitui's
    con.close()
    # Then neither a reader nor a writer takes it
    for opener in (open_reader, open_writer):
        with pytest.raises(StoreError, match="not a kpitui store: a SQLite database of another"):
            opener(db)


@pytest.mark.parametrize("command", [["record", "m", "1"], ["metrics"], ["checkins"]])
def test_an_in_memory_store_is_refused(command, tmp_path, cli_raw, monkeypatch):
    # Given `--db :memory:`, where nothing written would persist
    monkeypatch.chdir(tmp_path)
    code, _out, err = cli_raw(*command, "--db", ":memory:")
    # Then one line says so, exit 2, and no file is made
    assert code == 2
    assert err == (
        "kpitui: :memory:: an in-memory database keeps nothing after the command"
        " (pass --db with a file name)\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["file:x.db", "y.db?mode=memory", "z%41.db#frag"])
def test_a_store_name_is_a_file_name_never_a_uri(name, tmp_path, cli_raw, monkeypatch):
    # Given a --db that reads like an SQLite URI
    monkeypatch.chdir(tmp_path)
    # When a point is recorded into it and read back
    assert cli_raw("record", "m", "1", "--db", name, "--at", "2026-01-01")[0] == 0
    code, out, _err = cli_raw("metrics", "--db", name)
    # Then it is a file of exactly that name, holding the point
    made = {p.name for p in tmp_path.iterdir()} - {name + "-wal", name + "-shm"}
    assert made == {name}
    assert code == 0 and out.splitlines()[1].startswith("m ")


def test_a_store_this_user_may_not_read_says_permission_denied(shared_dir, write):  # noqa: F811
    # Given a store only its owner (root) may read, in a folder others may enter
    store = shared_dir / "private.db"
    with open_writer(store) as writer:
        writer.write_points([("m", {}, T0, 1.0)])
    store.chmod(0o600)
    # When another user reads it
    done = run_as(VIEWER, ["metrics", "--db", str(store)], shared_dir)
    # Then one line names the file and says permission denied
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == 1
    assert done.stderr == (
        f"kpitui: {store}: cannot read the store: permission denied"
        " (ask its owner for read permission, or pass another --db)\n"
    )


def test_a_store_this_user_may_not_write_says_permission_denied(shared_dir):  # noqa: F811
    # Given a store others may only read
    store = shared_dir / "team.db"
    with open_writer(store) as writer:
        writer.write_points([("m", {}, T0, 1.0)])
    store.chmod(0o644)
    # When another user records into it
    done = run_as(VIEWER, ["record", "m", "2", "--db", str(store)], shared_dir)
    # Then one line names the file and says permission denied
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == 1
    assert done.stderr == (
        f"kpitui: {store}: cannot write the store: permission denied"
        " (ask its owner for write permission, or pass another --db)\n"
    )
