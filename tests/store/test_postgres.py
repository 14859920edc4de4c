"""What only a PostgreSQL store does: out-of-order commits, NOTIFY and its fallback,
read-only roles, locks, a server that goes away and comes back, masked passwords, the
schema's version, COPY imports written twice."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from kpitui.errors import StoreError, StoreLockedError, StoreUnreachableError
from kpitui.store import grant_statements, open_reader, open_writer
from kpitui.store.name import StoreName
from tests.pg_server import start_server
from tests.store.conftest import sql

T0 = 1_790_000_000


def raw(url: str) -> psycopg.Connection:
    """A connection of our own, outside kpitui (autocommit off: we open transactions)."""
    con = psycopg.connect(url)
    con.execute("SET search_path = kpitui")
    return con


def seeded(url: str) -> dict[str, int]:
    """A store with series a and b; their ids."""
    with open_writer(url) as w:
        w.write_points([("a", {}, T0, 1.0), ("b", {}, T0, 1.0)])
    return {m: sid for sid, m in sql(url, "SELECT id, metric FROM series")}


# -- the change token ---------------------------------------------------------------------


def test_a_writer_that_commits_after_a_later_one_is_not_missed(pg_url):
    # Given a reader that has looked, and writer A that has begun writing `a` (its
    # transaction id is the older one) but not committed
    ids = seeded(pg_url)
    r = open_reader(pg_url)
    token, _ = r.changes_since(None)
    version = r.data_version()
    with open_writer(pg_url) as a, open_writer(pg_url) as b:
        with a.batch() as batch:
            batch.add(ids["a"], [T0 + 60], [2.0])
            # When writer B writes `b` and commits first, and the reader looks
            b.write_points([("b", {}, T0 + 120, 3.0)])
            token, seen = r.changes_since(token)
            assert seen == {ids["b"]: T0 + 120}
            assert r.data_version() != version
            version = r.data_version()
        # And A commits afterwards
        # Then the reader's next look reports A's write (a growing id or max(xid) would not)
        token, seen = r.changes_since(token)
        assert seen == {ids["a"]: T0 + 60}
        assert r.data_version() != version
    r.close()


def test_a_log_row_with_the_smaller_id_committed_last_is_not_missed(pg_url):
    # Given a transaction that took the next write-log id, then waits
    ids = seeded(pg_url)
    r = open_reader(pg_url)
    token, _ = r.changes_since(None)
    slow = raw(pg_url)
    slow.execute("INSERT INTO write_log (series_id, lo, hi) VALUES (%s, %s, %s)", (ids["a"], 5, 6))
    # When a writer takes a larger id and commits first, and the reader looks
    with open_writer(pg_url) as w:
        w.write_points([("b", {}, T0 + 1, 9.0)])
    token, seen = r.changes_since(token)
    assert seen == {ids["b"]: T0 + 1}
    # Then the smaller id, committed later, is still reported
    slow.commit()
    slow.close()
    assert r.changes_since(token)[1] == {ids["a"]: 5}
    r.close()


def test_changes_since_a_token_whose_log_rows_were_trimmed_is_unknown(pg_url, monkeypatch):
    from kpitui.store.postgres import schema

    seeded(pg_url)
    r = open_reader(pg_url)
    token, _ = r.changes_since(None)
    # When enough batches run for the log to be trimmed past the token
    monkeypatch.setattr(schema, "WRITE_LOG_ROWS", 2)
    with open_writer(pg_url) as w:
        for i in range(6):
            w.write_points([("a", {}, T0 + 100 + i, float(i))])
    assert sql(pg_url, "SELECT count(*) FROM write_log")[0][0] <= 4
    # Then the reader is told it cannot know, and the fresh token works from there
    token, seen = r.changes_since(token)
    assert seen is None
    with open_writer(pg_url) as w:
        w.write_points([("b", {}, T0 + 7, 1.0)])
    assert set(r.changes_since(token)[1]) == {
        sql(pg_url, "SELECT id FROM series WHERE metric = 'b'")[0][0]
    }
    r.close()


# -- live updates --------------------------------------------------------------------------


def test_a_write_is_seen_through_its_notification(pg_url, monkeypatch):
    # Given an open reader whose look at the write log finds nothing (only NOTIFY tells)
    seeded(pg_url)
    r = open_reader(pg_url)
    version = r.data_version()
    monkeypatch.setattr(type(r), "_unseen_rows", lambda *a: False)
    # When a writer commits, and its notification reaches the reader's connection
    with open_writer(pg_url) as w:
        w.write_points([("c", {}, T0, 1.0)])
    deadline = time.monotonic() + 10
    while not r._notified and time.monotonic() < deadline:
        r._con.execute("SELECT 1")  # between transactions, as a poll's statements are
    assert r._notified
    # Then the next look sees a new version and the new series
    assert r.data_version() != version
    assert r.metric_names() == {"a", "b", "c"}
    r.close()


def test_a_lost_notification_costs_one_look_at_the_log(pg_url):
    # Given an open reader, and a commit that sends no notification (a pooler in
    # transaction mode drops LISTEN; here a program writes the log row by hand)
    ids = seeded(pg_url)
    r = open_reader(pg_url)
    version = r.data_version()
    assert r.data_version() == version  # nothing new: no change
    with raw(pg_url) as con:
        con.execute("INSERT INTO write_log (series_id, lo, hi) VALUES (%s, 1, 2)", (ids["a"],))
    # Then the next look still sees the change
    assert r.data_version() != version
    r.close()


def test_an_idle_reader_reads_no_table_to_know_nothing_changed(pg_url, monkeypatch):
    seeded(pg_url)
    r = open_reader(pg_url)
    r.data_version()
    monkeypatch.setattr(type(r), "_unseen_rows", lambda *a: pytest.fail("read the log"))
    # When nothing is written anywhere, Then looking again and again reads no table
    assert len({r.data_version() for _ in range(5)}) == 1
    r.close()


# -- roles, sessions and locks ---------------------------------------------------------


def test_a_reader_session_is_read_only_with_a_statement_timeout(pg_url):
    seeded(pg_url)
    r = open_reader(pg_url)
    con = r._con
    assert con.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
    assert con.execute("SHOW statement_timeout").fetchone() != ("0",)
    r.close()


def test_grants_let_a_writer_role_write_and_a_reader_role_only_read(pg_url, cli):
    # Given a store made by its owner, and the GRANTs `store init --grants` prints, run
    code, out, _ = cli("store", "init", pg_url, "--grants", "--writer", "etl", "--reader", "viewer")
    assert code == 0 and 'GRANT SELECT ON ALL TABLES IN SCHEMA kpitui TO "viewer";' in out
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute('CREATE ROLE "etl" LOGIN; CREATE ROLE "viewer" LOGIN')
        con.execute(out)
    host = pg_url.split("@", 1)[1]
    etl, viewer = f"postgresql://etl@{host}", f"postgresql://viewer@{host}"
    # When the writer role writes and the reader role reads
    with open_writer(etl) as w:
        w.write_points([("m", {}, T0, 4.0)])
        w.write_checkin("kr", T0, 1.0)
    r = open_reader(viewer)
    assert r.aggregate("m", None, "sum", T0, T0) == 4.0
    r.close()
    # Then the reader role may not write: one line saying so, nothing written
    with (
        pytest.raises(StoreError, match="may not write the store") as caught,
        open_writer(viewer) as w,
    ):
        w.write_points([("m", {}, T0 + 1, 5.0)])
    assert "\n" not in str(caught.value)
    assert sql(pg_url, "SELECT count(*) FROM points") == [(1,)]
    with psycopg.connect(pg_url, autocommit=True) as con:  # roles outlive the database
        con.execute("DROP OWNED BY etl, viewer; DROP ROLE etl; DROP ROLE viewer")


def test_grant_statements_quote_role_names(pg_url):
    text = grant_statements(StoreName.parse(pg_url), 'a"b', "viewer")
    assert 'TO "a""b";' in text


def test_a_writer_waits_for_a_lock_then_says_the_store_is_locked(pg_url):
    seeded(pg_url)
    holder = raw(pg_url)
    holder.execute("LOCK TABLE points IN EXCLUSIVE MODE")
    try:
        with open_writer(pg_url, busy_timeout=0.2) as w, pytest.raises(StoreLockedError) as caught:
            w.write_points([("a", {}, T0 + 1, 2.0)])
        assert caught.value.message == "store is locked by another writer (waited 0.2 s)"
        assert caught.value.exit_code == 1
        # And a reader still reads
        r = open_reader(pg_url)
        assert r.aggregate("a", None, "sum", T0, T0 + 1) == 1.0
        r.close()
    finally:
        holder.rollback()
        holder.close()


def test_concurrent_writers_of_one_series_lose_nothing(pg_url):
    # Given eight threads writing interleaved points of the same two series at once
    seeded(pg_url)
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            with open_writer(pg_url) as w:
                for i in range(15):
                    w.write_points([("a", {}, T0 + 1000 + i * 8 + k, 1.0), ("b", {}, T0 + i, 2.0)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then every point is there once, and the rollups agree with the points
    assert errors == []
    r = open_reader(pg_url)
    assert r.aggregate("a", None, "count", T0, T0 + 10**6) == 1 + 8 * 15
    assert r.aggregate("a", None, "sum", T0 - 86400, T0 + 10 * 86400) == 1 + 8 * 15
    r.close()
    assert sql(pg_url, "SELECT sum(n) FROM rollup_day") == sql(
        pg_url, "SELECT count(*) FROM points"
    )


# -- a store that is not there, or not ours -----------------------------------------


def test_an_empty_database_says_what_to_run(pg_url):
    with pytest.raises(StoreError) as caught:
        open_reader(pg_url)
    assert "holds no kpitui store yet" in str(caught.value)
    assert "kpitui store init" in caught.value.hint


def test_a_newer_schema_is_refused_by_writers_and_readers(pg_url):
    seeded(pg_url)
    sql(pg_url, "UPDATE meta SET version = 99")
    for opener in (open_writer, open_reader):
        with pytest.raises(StoreError, match="newer than this kpitui understands"):
            opener(pg_url)


def test_a_password_is_masked_in_every_message(pg_server):
    url = pg_server.replace("kpitui@", "kpitui:hunter2@") + "/no_such_database"
    for opener in (open_writer, open_reader):
        with pytest.raises(StoreError) as caught:
            opener(url)
        assert "hunter2" not in str(caught.value) and "***" in str(caught.value)
        assert 'no such database "no_such_database"' in str(caught.value)


def test_the_reader_shows_its_url_without_the_password(pg_url):
    seeded(pg_url)
    r = open_reader(pg_url.replace("kpitui@", "kpitui:s3cret@"))
    assert "s3cret" not in r.path and "kpitui:***@" in r.path
    r.close()


def test_an_unreachable_server_is_one_line(pg_server):
    port = int(pg_server.rsplit(":", 1)[1])
    url = f"postgresql://kpitui@127.0.0.1:{port + 1 if port < 65535 else port - 1}/x"
    with pytest.raises(StoreUnreachableError) as caught:
        open_reader(url)
    assert "\n" not in str(caught.value) and "cannot reach the store" in str(caught.value)


# -- server down, server back -----------------------------------------------------------


@pytest.fixture
def own_server():
    """A server of this test alone, to stop and start."""
    server = start_server()
    yield server
    server.destroy()


def test_a_reader_survives_a_server_restart(own_server):
    url = own_server.new_database("restart")
    seeded(url)
    r = open_reader(url)
    version = r.data_version()
    # When the server goes away
    own_server.stop()
    # Then reads fail with "unreachable", in one line
    with pytest.raises(StoreUnreachableError):
        r.data_version()
    with pytest.raises(StoreUnreachableError):
        r.metric_names()
    # And a writer fails in one line too
    with pytest.raises(StoreUnreachableError):
        open_writer(url)
    # When it comes back, the same reader reads again (a new connection: a new version)
    own_server.start()
    with open_writer(url) as w:
        w.write_points([("c", {}, T0, 1.0)])
    assert r.data_version() != version
    assert r.metric_names() == {"a", "b", "c"}
    r.close()


def test_the_board_says_since_when_the_store_is_unreachable_and_recovers(own_server, tmp_path):
    from kpitui.spec import load_dashboard
    from kpitui.timeutil import FixedClock
    from kpitui.tui.poller import Poller

    url = own_server.new_database("board")
    seeded(url)
    spec = tmp_path / "dashboard.yaml"
    spec.write_text(f"title: t\nstore: {url}\ntimezone: UTC\nkpis:\n  - metric: a\n")
    loaded = load_dashboard(spec)
    clock = FixedClock(T0 + 60)  # 2026-09-21T14:14Z
    poller = Poller(loaded, store_path=loaded.store_path, clock=clock)
    try:
        assert poller.poll().board is not None
        own_server.stop()
        down = poller.poll()
        assert down.store_error is not None and down.store_error.startswith(
            "store unreachable since 14:14, retrying"
        )
        assert poller.poll().store_error.startswith("store unreachable since 14:14")
        own_server.start()
        back = poller.poll()
        assert back.store_error is None and back.board is not None
    finally:
        poller.close()


# -- imports --------------------------------------------------------------------------------


def test_importing_a_file_twice_writes_nothing_new(pg_url, tmp_path, cli):
    csv = tmp_path / "points.csv"
    csv.write_text("metric,time,value,plan\n" + "".join(
        f"mrr,{T0 + i * 60},{i},{'pro' if i % 2 else 'free'}\n" for i in range(500)
    ))  # fmt: skip
    assert cli("import", str(csv), "--db", pg_url)[0] == 0
    log = sql(pg_url, "SELECT count(*) FROM write_log")
    code, _, err = cli("import", str(csv), "--db", pg_url)
    assert code == 0, err
    assert sql(pg_url, "SELECT count(*) FROM points") == [(500,)]
    assert sql(pg_url, "SELECT count(*) FROM write_log") == log  # nothing changed


def test_store_copy_from_sqlite_to_postgresql_and_back(pg_url, tmp_path, cli):
    # Given a SQLite store with points, a check-in and an annotation
    lite, back = tmp_path / "m.db", tmp_path / "offline.db"
    with open_writer(lite) as w:
        w.write_points(
            [("mrr", {"plan": p}, T0 + i * 3600, float(i)) for i in range(300) for p in "ab"]
        )
        w.write_checkin("kr", T0, 0.4, "on_track", "fine")
        w.write_annotation(T0, "deploy", ["mrr"])
    # When it is copied to PostgreSQL, twice, and from there to a new SQLite file
    code, out, err = cli("store", "copy", str(lite), pg_url)
    assert code == 0, err
    assert (
        "copied 600 points (600 new or changed) in 2 series, 1 check-ins, 1 new annotations" in out
    )
    code, out, _ = cli("store", "copy", str(lite), pg_url)
    assert "copied 600 points (0 new or changed)" in out and "0 new annotations" in out
    assert cli("store", "copy", pg_url, str(back))[0] == 0
    # Then all three hold the same
    readers = [open_reader(x) for x in (lite, pg_url, back)]
    try:
        seen = [
            (
                [(s.series.metric, dict(s.series.labels), s.count) for s in r.stats()],
                r.aggregate("mrr", None, "sum", T0, T0 + 400 * 3600),
                [(c.kr_id, c.value, c.note) for c in r.checkins()],
                [a.text for a in r.annotations(T0, T0)],
            )
            for r in readers
        ]
    finally:
        for r in readers:
            r.close()
    assert seen[0] == seen[1] == seen[2]


def test_store_init_creates_the_schema_once(pg_url, cli):
    assert cli("store", "init", pg_url)[1].startswith("created the schema of")
    assert cli("store", "init", pg_url)[1].startswith("the schema is up to date in")
