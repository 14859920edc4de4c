"""Every StoreReader method, with worked numbers."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from kpitui.errors import InputError, StoreError
from kpitui.store import open_reader, open_writer
from kpitui.store.api import Bucket, Checkin, LastPoint, OutOfScale, Series
from tests.store.conftest import is_pg, sql

DAY = 86400
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z

pytestmark = pytest.mark.both_backends


@pytest.fixture
def mrr(write):
    # Given MRR by plan: pro 100 → 120, starter 10 → 15, over three days
    write(
        [
            ("mrr", {"plan": "pro"}, T0, 100.0),
            ("mrr", {"plan": "pro"}, T0 + DAY, 110.0),
            ("mrr", {"plan": "pro"}, T0 + 2 * DAY, 120.0),
            ("mrr", {"plan": "starter"}, T0, 10.0),
            ("mrr", {"plan": "starter"}, T0 + DAY + 60, 15.0),
        ]
    )


def test_reader_implements_the_protocol(mrr, db, reader):
    r = reader()
    for name in (
        "data_version",
        "metric_names",
        "series",
        "last",
        "aggregate",
        "aggregate_by_label",
        "last_ts_in",
        "out_of_scale",
        "buckets",
        "buckets_by_label",
        "stats",
        "checkins",
        "close",
    ):
        assert callable(getattr(r, name)), name
    assert r.path == str(db)


def test_metric_names_and_series(mrr, write, reader):
    write([("signups", {}, T0, 3.0)])
    r = reader()
    assert r.metric_names() == {"mrr", "signups"}
    assert [s.labels for s in r.series("mrr")] == [{"plan": "pro"}, {"plan": "starter"}]
    assert r.series("mrr", {"plan": "pro"}) == [Series(1, "mrr", {"plan": "pro"})]
    assert r.series("mrr", {"plan": "nope"}) == []
    assert r.series("unknown") == []


def test_last_sums_the_latest_point_of_each_series(mrr, reader):
    r = reader()
    # When asking at the end: pro 120 + starter 15, newest time pro's
    assert r.last("mrr", None, T0 + 10 * DAY) == LastPoint(135.0, T0 + 2 * DAY)
    # When asking between points: pro 110 (day 1) + starter 10 (day 0; its next point is 60 s later)
    assert r.last("mrr", {}, T0 + DAY + 59) == LastPoint(120.0, T0 + DAY)
    assert r.last("mrr", {"plan": "starter"}, T0 + DAY + 60) == LastPoint(15.0, T0 + DAY + 60)
    # Then before the first point, or for an unknown metric: nothing
    assert r.last("mrr", None, T0 - 1) is None
    assert r.last("nope", None, T0) is None


def test_aggregates_over_a_window(mrr, reader):
    r = reader()
    lo, hi = T0, T0 + 2 * DAY  # inclusive at both ends: all five points
    assert r.aggregate("mrr", None, "sum", lo, hi) == 355.0
    assert r.aggregate("mrr", None, "count", lo, hi) == 5
    assert r.aggregate("mrr", None, "avg", lo, hi) == 71.0
    assert r.aggregate("mrr", None, "min", lo, hi) == 10.0
    assert r.aggregate("mrr", None, "max", lo, hi) == 120.0
    assert r.aggregate("mrr", None, "last", lo, hi) == 135.0
    assert r.aggregate("mrr", {"plan": "pro"}, "sum", lo + 1, hi) == 230.0
    # An empty window has no value (not zero)
    assert r.aggregate("mrr", None, "sum", T0 + 5 * DAY, T0 + 6 * DAY) is None
    assert r.aggregate("mrr", None, "count", T0 + 5 * DAY, T0 + 6 * DAY) is None
    assert r.aggregate("nope", None, "sum", lo, hi) is None


def test_aggregate_by_label(mrr, write, reader):
    write([("mrr", {}, T0, 1.0)])  # a series without the plan label
    r = reader()
    assert r.aggregate_by_label("mrr", None, "sum", T0, T0 + 2 * DAY, "plan") == {
        "": 1.0,
        "pro": 330.0,
        "starter": 25.0,
    }
    assert r.aggregate_by_label("mrr", None, "last", T0, T0 + DAY, "plan") == {
        "": 1.0,
        "pro": 110.0,
        "starter": 10.0,
    }
    assert r.aggregate_by_label("mrr", None, "sum", T0 + 9 * DAY, T0 + 10 * DAY, "plan") == {}


def test_nps_worked_example(write, reader):
    # Given responses [10, 9, 9, 8, 7, 6, 3, 10]: promoters 4/8, detractors 2/8
    write(
        [("nps_response", {}, T0 + i, float(v)) for i, v in enumerate([10, 9, 9, 8, 7, 6, 3, 10])]
    )
    r = reader()
    # Then NPS = 50% - 25% = 25
    assert r.aggregate("nps_response", None, "nps", T0, T0 + DAY) == 25.0


def test_csat_worked_example(write, reader):
    # Given responses [5, 4, 3, 5, 1]: 3 of 5 are 4–5
    write([("csat_response", {}, T0 + i, float(v)) for i, v in enumerate([5, 4, 3, 5, 1])])
    assert reader().aggregate("csat_response", None, "csat", T0, T0 + DAY) == 0.6


def test_survey_responses_off_the_scale_are_left_out_and_counted(write, reader):
    write([("nps_response", {}, T0 + i, float(v)) for i, v in enumerate([10, 9, 0, 11, -1, 42])])
    r = reader()
    # 10, 9, 0 are on the 0–10 scale: 2 promoters, 1 detractor of 3 → 33.3
    assert r.aggregate("nps_response", None, "nps", T0, T0 + DAY) == pytest.approx(100 / 3)
    assert r.out_of_scale("nps_response", None, "nps", T0, T0 + DAY) == OutOfScale(
        used=3, ignored=3
    )
    # On the 1–5 CSAT scale only 0 is outside… and 9, 10, 11, 42, -1 too
    assert r.out_of_scale("nps_response", None, "csat", T0, T0 + DAY) == OutOfScale(
        used=0, ignored=6
    )
    assert r.aggregate("nps_response", None, "csat", T0, T0 + DAY) is None
    assert r.out_of_scale("nps_response", None, "sum", T0, T0 + DAY) == OutOfScale(
        used=6, ignored=0
    )
    assert r.out_of_scale("nope", None, "nps", T0, T0 + DAY) == OutOfScale(0, 0)


@pytest.mark.parametrize(
    ("values", "agg", "expected"),
    [
        ([42.0], "p50", 42.0),  # one point: every percentile is that point
        ([42.0], "p99", 42.0),
        ([1.0, 2.0, 3.0, 4.0], "p50", 2.0),  # rank ceil(0.5*4) = 2
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], "p90", 9.0),  # rank 9
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], "p95", 10.0),  # rank ceil(9.5) = 10
        ([5.0, 5.0, 5.0, 1.0], "p50", 5.0),  # ties: sorted 1,5,5,5 → rank 2 is 5
        ([7.0, 7.0, 7.0, 7.0], "p99", 7.0),
        ([3.0, 1.0, 2.0], "p90", 3.0),  # rank ceil(2.7) = 3
    ],
)
def test_percentiles_nearest_rank(write, reader, values, agg, expected):
    write([("page_latency_ms", {}, T0 + i, v) for i, v in enumerate(values)])
    assert reader().aggregate("page_latency_ms", None, agg, T0, T0 + DAY) == expected


def test_percentile_buckets_and_by_label(write, reader):
    write(
        [("lat", {"r": "eu"}, T0 + i, float(i)) for i in range(10)]
        + [("lat", {"r": "us"}, T0 + DAY + i, float(100 + i)) for i in range(4)]
    )
    r = reader()
    assert r.buckets("lat", None, "p90", T0, T0 + 2 * DAY - 1, DAY) == [
        Bucket(T0, 8.0),
        Bucket(T0 + DAY, 103.0),
    ]
    assert r.aggregate_by_label("lat", None, "p50", T0, T0 + 2 * DAY, "r") == {
        "eu": 4.0,
        "us": 101.0,
    }


def test_buckets_start_at_lo_and_skip_empty_ones(write, reader):
    # Given signups at 00:10 on day 0, 12:00 on day 0 and 06:00 on day 2
    write(
        [
            ("signups", {"region": "eu"}, T0 + 600, 2.0),
            ("signups", {"region": "us"}, T0 + 12 * 3600, 3.0),
            ("signups", {"region": "eu"}, T0 + 2 * DAY + 6 * 3600, 5.0),
        ]
    )
    r = reader()
    # When bucketing three days by day from midnight: day 1 is empty and left out
    assert r.buckets("signups", None, "sum", T0, T0 + 3 * DAY - 1, DAY) == [
        Bucket(T0, 5.0),
        Bucket(T0 + 2 * DAY, 5.0),
    ]
    # When the origin is 06:00 the day before, buckets start at lo + k*bucket; the last
    # one is cut at hi (the third point sits exactly on hi)
    lo = T0 - 18 * 3600
    assert r.buckets("signups", None, "count", lo, lo + 3 * DAY, DAY) == [
        Bucket(lo, 1.0),
        Bucket(lo + DAY, 1.0),
        Bucket(lo + 3 * DAY, 1.0),
    ]
    assert r.buckets_by_label("signups", None, "sum", T0, T0 + 3 * DAY - 1, DAY, "region") == {
        "eu": [Bucket(T0, 2.0), Bucket(T0 + 2 * DAY, 5.0)],
        "us": [Bucket(T0, 3.0)],
    }
    assert r.buckets("signups", None, "sum", T0 + 9 * DAY, T0 + 10 * DAY, DAY) == []
    assert r.buckets_by_label("nope", None, "sum", T0, T0 + DAY, DAY, "region") == {}


def test_bucketed_last_carries_each_series_newest_value_forward(mrr, reader):
    # Given starter's last point on day 2, When MRR is bucketed daily with `last`
    r = reader()
    # Then day 3 still counts starter's 15 beside pro's 120, as the card's total does
    assert r.buckets("mrr", None, "last", T0, T0 + 3 * DAY - 1, DAY) == [
        Bucket(T0, 110.0),
        Bucket(T0 + DAY, 125.0),
        Bucket(T0 + 2 * DAY, 135.0),
    ]
    assert r.last("mrr", None, T0 + 3 * DAY - 1).value == 135.0
    # And a window's `last` (not bucketed) still holds only the points in the window
    assert r.aggregate("mrr", None, "last", T0 + 2 * DAY, T0 + 3 * DAY - 1) == 120.0


def test_last_ts_in(mrr, reader):
    r = reader()
    assert r.last_ts_in("mrr", None, T0, T0 + DAY + 60) == T0 + DAY + 60
    assert r.last_ts_in("mrr", {"plan": "pro"}, T0, T0 + DAY + 60) == T0 + DAY
    assert r.last_ts_in("mrr", None, T0 + 5 * DAY, T0 + 6 * DAY) is None
    assert r.last_ts_in("nope", None, T0, T0 + DAY) is None


def test_stats_per_series(mrr, reader):
    stats = {
        tuple(s.series.labels.items()): (s.count, s.first_ts, s.last_ts) for s in reader().stats()
    }
    assert stats == {
        (("plan", "pro"),): (3, T0, T0 + 2 * DAY),
        (("plan", "starter"),): (2, T0, T0 + DAY + 60),
    }


def test_checkins_oldest_first_up_to_at(db, reader):
    with open_writer(db) as w:
        late = w.write_checkin("launch", T0 + DAY, 0.4, "at_risk", "slipped")
        early = w.write_checkin("launch", T0, 0.2)
        other = w.write_checkin("other", T0, 1.0)
    r = reader()
    assert r.checkins("launch") == [
        Checkin("launch", T0, 0.2, None, None, early),
        Checkin("launch", T0 + DAY, 0.4, "at_risk", "slipped", late),
    ]
    assert r.checkins("launch", at=T0 + DAY - 1) == [Checkin("launch", T0, 0.2, None, None, early)]
    # Without a KR id: every check-in, by KR then time, each with its own stable id
    assert [(c.kr_id, c.id) for c in r.checkins()] == [
        ("launch", early),
        ("launch", late),
        ("other", other),
    ]
    assert len({early, late, other}) == 3
    assert r.checkins("nobody") == []


def test_data_version_changes_when_another_connection_commits(mrr, write, reader):
    r = reader()
    first = r.data_version()
    assert r.data_version() == first
    write([("signups", {}, T0, 1.0)])
    assert r.data_version() != first
    assert "signups" in r.metric_names()  # the series cache follows


def test_unknown_aggregation_is_a_store_error(mrr, reader):
    with pytest.raises(StoreError, match="unknown aggregation"):
        reader().aggregate("mrr", None, "median", T0, T0 + DAY)


def test_reader_never_creates_a_store(db):
    # Given no store yet / When a reader opens it / Then one line says so and nothing is made
    with pytest.raises((InputError, StoreError), match=r"no store here|holds no kpitui store"):
        open_reader(db)
    if is_pg(db):
        assert sql(db, "SELECT to_regnamespace('kpitui')") == [(None,)]
    else:
        assert not db.exists()


def test_reader_is_read_only(mrr, db, reader):
    r = reader()
    if is_pg(db):
        import psycopg

        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            r._con.execute("INSERT INTO series (metric, labels) VALUES ('x', '{}')")
        return
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        r._con.execute("INSERT INTO series (metric, labels) VALUES ('x', '{}')")


@pytest.mark.sqlite_only
def test_a_store_deleted_while_open_is_an_error_not_stale_data(mrr, db, reader):
    r = reader()
    assert r.last("mrr", None, T0 + 9 * DAY) is not None
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{db}{suffix}"):
            os.remove(f"{db}{suffix}")
    with pytest.raises(StoreError, match="gone"):
        r.last("mrr", None, T0 + 9 * DAY)


@pytest.mark.sqlite_only
def test_a_store_replaced_while_open_is_reopened(mrr, db, tmp_path, reader):
    r = reader()
    assert r.last("mrr", None, T0 + 9 * DAY).value == 135.0
    other = tmp_path / "other.db"
    with open_writer(other) as w:
        w.write_points([("mrr", {}, T0, 7.0)])
    shutil.copy(other, tmp_path / "copy.db")
    os.replace(tmp_path / "copy.db", db)
    assert r.last("mrr", None, T0 + 9 * DAY).value == 7.0


@pytest.mark.sqlite_only
def test_a_store_corrupted_while_open_raises_store_error(mrr, db, reader):
    r = reader()
    r.close()
    db.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError):
        open_reader(db)


def test_reader_created_in_one_thread_used_in_another(mrr, reader):
    r = reader()
    found = []
    worker = threading.Thread(
        target=lambda: found.append(r.aggregate("mrr", None, "sum", T0, T0 + 9 * DAY))
    )
    worker.start()
    worker.join()
    assert found == [355.0]


@pytest.mark.sqlite_only
def test_data_version_changes_when_the_file_is_replaced(mrr, db, tmp_path, reader):
    r = reader()
    before = r.data_version()
    other = tmp_path / "other.db"
    with open_writer(other) as w:
        w.write_points([("mrr", {}, T0, 7.0)])
    os.replace(other, db)
    assert r.data_version() != before


def test_a_closed_reader_says_so(mrr, reader):
    r = reader()
    r.close()
    with pytest.raises(StoreError, match="closed"):
        r.metric_names()


AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root to run kpitui as another user",
)


def kpitui_as_nobody(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*AS_NOBODY, sys.executable, "-m", "kpitui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )


@pytest.fixture
def shared_folder():
    # pytest's own temp folders are private to root: this one others may enter
    folder = Path(tempfile.mkdtemp(prefix="kpitui-shared-"))
    folder.chmod(0o755)
    yield folder
    for path in (folder, *folder.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)


@needs_root
def test_a_store_in_a_folder_the_reader_cannot_write_is_read_all_the_same(shared_folder):
    # Given a store in a folder only its owner (root) may write, as a cron job leaves it
    with open_writer(shared_folder / "m.db") as writer:
        writer.write_points([("a", {}, 1_700_000_000, 1.0)])
    shared_folder.chmod(0o555)
    # When another user reads it (it makes no side files in a store it does not own)
    done = kpitui_as_nobody("metrics", "--db", str(shared_folder / "m.db"))
    # Then it is read, and nothing was left in the folder
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith("a ")
    assert [p.name for p in shared_folder.iterdir()] == ["m.db"]


@needs_root
def test_a_store_in_a_folder_the_writer_cannot_write_says_so(shared_folder):
    # Given a store anyone may write, in a folder only its owner (root) may write
    with open_writer(shared_folder / "m.db") as writer:
        writer.write_points([("a", {}, 1_700_000_000, 1.0)])
    (shared_folder / "m.db").chmod(0o666)
    shared_folder.chmod(0o555)
    # When another user records a point into it
    done = kpitui_as_nobody("record", "a", "2", "--db", str(shared_folder / "m.db"))
    # Then the same one line as a reader gets: the folder (the WAL files live there)
    assert done.returncode == 1, done.stderr
    assert "cannot write the store: its folder is not writable by this user" in done.stderr
    assert len(done.stderr.splitlines()) == 1


@needs_root
@pytest.mark.parametrize("command", ["metrics", "record", "import", "check"])
def test_a_path_the_user_may_not_enter_is_one_line_not_a_traceback(shared_folder, command):
    # Given files inside a folder only root may enter
    private = shared_folder / "private"
    private.mkdir()
    with open_writer(private / "m.db") as writer:
        writer.write_points([("a", {}, 1_700_000_000, 1.0)])
    (private / "points.csv").write_text("metric,time,value\na,1700000000,1\n")
    private.chmod(0o700)
    args = {
        "metrics": ["metrics", "--db", str(private / "m.db")],
        "record": ["record", "a", "2", "--db", str(private / "m.db")],
        "import": ["import", str(private / "points.csv"), "--db", str(shared_folder / "n.db")],
        "check": ["check", str(private / "dashboard.yaml")],
    }[command]
    # When another user names one of them
    done = kpitui_as_nobody(*args)
    # Then one line naming the file, exit 2
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("kpitui: ") and "permission denied" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_a_snapshot_reads_one_state_of_the_store(mrr, write, reader):
    # Given a reader inside a snapshot, which has read the pro plan's latest MRR
    r = reader()
    with r.snapshot():
        assert r.last("mrr", {"plan": "pro"}, T0 + 3 * DAY) == LastPoint(120.0, T0 + 2 * DAY)
        version = r.data_version()
        # When another connection commits a newer point and a new series meanwhile
        write([("mrr", {"plan": "pro"}, T0 + 3 * DAY, 130.0), ("churn", {}, T0, 1.0)])
        # Then every later read inside the snapshot still sees the store as it was
        assert r.last("mrr", {"plan": "pro"}, T0 + 3 * DAY) == LastPoint(120.0, T0 + 2 * DAY)
        assert r.aggregate("mrr", None, "sum", T0, T0 + 3 * DAY) == 100 + 110 + 120 + 10 + 15
        assert r.metric_names() == {"mrr"}
        assert r.data_version() == version
        with r.snapshot():  # nested: the same snapshot
            assert r.last("mrr", {"plan": "pro"}, T0 + 3 * DAY).value == 120.0
    # And once it has ended, the next read sees the write
    assert r.last("mrr", {"plan": "pro"}, T0 + 3 * DAY) == LastPoint(130.0, T0 + 3 * DAY)
    assert r.metric_names() == {"mrr", "churn"}
    assert r.data_version() != version


def test_a_snapshot_keeps_other_threads_waiting_until_it_ends(mrr, reader):
    r = reader()
    seen: list[float] = []
    with r.snapshot():
        other = threading.Thread(target=lambda: seen.append(r.last("mrr", None, T0).value))
        other.start()
        other.join(0.2)
        assert other.is_alive() and seen == []  # one thread at a time on the connection
    other.join(5)
    assert seen == [110.0]


@pytest.mark.sqlite_only
def test_a_snapshot_of_a_vanished_store_says_so(mrr, db, reader):
    r = reader()
    db.unlink()
    with pytest.raises(StoreError, match="the store file is gone"), r.snapshot():
        pass
    # And a failed start leaves the reader free for other threads (they get the reason)
    failures: list[BaseException] = []

    def read_names() -> None:
        try:
            r.metric_names()
        except StoreError as exc:
            failures.append(exc)

    other = threading.Thread(target=read_names)
    other.start()
    other.join(5)
    assert not other.is_alive()
    assert "the store file is gone" in str(failures[0])


@pytest.mark.sqlite_only
def test_a_failed_start_of_a_read_leaves_no_transaction_behind(mrr, reader):
    # Given a reader whose next read must reload the series list, and that reload fails
    # once (the store was locked at that moment)
    r = reader()
    r._version = None
    load = r._load_series
    failures = [sqlite3.OperationalError("database is locked")]

    def flaky(con):
        if failures:
            raise failures.pop()
        load(con)

    r._load_series = flaky
    with pytest.raises(StoreError):
        r.metric_names()
    # Then the next read starts afresh (not "cannot start a transaction within a transaction")
    assert r.metric_names() == {"mrr"}
