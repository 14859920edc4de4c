"""`kpitui sync` against real databases: a SQLite file, a DuckDB file and a PostgreSQL
server, each holding the same `accounts` table (see conftest)."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from kpitui.cli import main
from kpitui.spec import load_dashboard
from kpitui.store import open_reader, open_writer
from kpitui.sync.runner import Runner
from kpitui.sync.schedule import run_forever
from kpitui.timeutil import FixedClock
from tests.sync.sources import DAY, NOW, SourceDb, make_source, signup_rows


def write_spec(folder: Path, sources: dict, pulls: list[dict]) -> Path:
    spec = {
        "title": "sync",
        "store": "metrics.db",
        "sources": sources,
        "pull": pulls,
        "kpis": [{"metric": p["metric"], "agg": "sum", "indicator": "leading"} for p in pulls],
    }
    path = folder / "dashboard.yaml"
    path.write_text(json.dumps(spec, indent=2))  # JSON is YAML
    return path


@contextmanager
def runner_for(spec: Path, **kw):
    loaded = load_dashboard(spec)
    store = spec.parent / "metrics.db"
    with open_writer(store) as writer:
        reader = open_reader(store)
        try:
            yield Runner(loaded, writer, reader, **kw), reader
        finally:
            reader.close()


def signups_spec(tmp_path: Path, source: SourceDb, **pull) -> Path:
    return write_spec(
        tmp_path,
        {"app": {"url": source.url, "timeout": "10s"}},
        [{"metric": "signups", "source": "app", "backfill": "30d",
          "query": source.signups_query(), **pull}],
    )  # fmt: skip


def by_plan(reader, lo: int, hi: int) -> dict[str, float]:
    return reader.aggregate_by_label("signups", None, "sum", lo, hi, "plan")


def test_a_pull_with_labels_writes_a_series_per_label(tmp_path, source):
    # Given ten days of signups by plan, When the pull runs, Then each plan is a series
    # whose daily counts are the table's.
    with runner_for(signups_spec(tmp_path, source)) as (runner, reader):
        result = runner.run(*runner.pulls()[0][::-1], NOW)
        assert result.ok, result.error
        assert result.rows == 20 and result.changed == 20
        assert {s.labels["plan"] for s in reader.series("signups")} == {"free", "pro"}
        assert by_plan(reader, 0, NOW) == {"free": 55.0, "pro": 20.0}  # 1+2+…+10, 2×10
        today = NOW - NOW % DAY
        assert reader.aggregate("signups", {"plan": "free"}, "sum", today, today) == 10.0


def test_a_backfill_then_an_incremental_run_writes_nothing_twice(tmp_path, source):
    spec = signups_spec(tmp_path, source)
    with runner_for(spec) as (runner, reader):
        ((index, pull),) = runner.pulls()
        first = runner.run(pull, index, NOW, backfill=90 * DAY)
        assert (first.rows, first.changed) == (20, 20)
        # Run again a minute later: today's bucket is read again, and nothing changed.
        again = runner.run(pull, index, NOW + 60)
        assert again.start == NOW - NOW % DAY  # from the high-water mark: today's bucket
        assert (again.rows, again.changed) == (2, 0)
        # Two more signups today: only today's free point changes.
        source.add([(NOW + 100, "free"), (NOW + 200, "free")])
        later = runner.run(pull, index, NOW + 3600)
        assert (later.rows, later.changed) == (2, 1)
        assert (
            reader.aggregate("signups", {"plan": "free"}, "sum", NOW - NOW % DAY, NOW + 3600) == 12
        )
        state = reader.pull_states()["signups"]
        assert state.last_success == NOW + 3600 and state.last_error is None
        assert state.high_water == NOW - NOW % DAY


def test_a_corrected_row_replaces_the_old_value(tmp_path, source):
    with runner_for(signups_spec(tmp_path, source)) as (runner, reader):
        ((index, pull),) = runner.pulls()
        runner.run(pull, index, NOW)
        first_day = NOW - NOW % DAY - 9 * DAY
        source.execute(
            "DELETE FROM accounts WHERE plan = 'pro' AND created_at < "
            + (
                str(first_day + DAY)
                if source.engine == "sqlite"
                else f"to_timestamp({first_day + DAY})"
            )
        )
        result = runner.run(pull, index, NOW + 60, backfill=30 * DAY)
        assert result.ok and result.changed == 0  # the pro row of that day is gone, not changed
        source.add([(first_day + 5, "free")])
        result = runner.run(pull, index, NOW + 120, backfill=30 * DAY)
        assert result.changed == 1
        assert reader.aggregate("signups", {"plan": "free"}, "sum", first_day, first_day) == 2.0


SLOW = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
    " SELECT :start AS time, max(i) AS value FROM n",
    "duckdb": "SELECT $$x$$ AS s, :start AS time, count(*) AS value"
    " FROM range(100000000) a, range(100000000) b",
    "postgresql": "SELECT :start AS time, 1 AS value FROM pg_sleep(30)",
}


def test_a_query_that_runs_past_the_timeout_fails_alone(tmp_path, source):
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url, "timeout": "1s"}},
        [
            {"metric": "slow", "source": "app", "query": SLOW[source.engine]},
            {"metric": "signups", "source": "app", "query": source.signups_query()},
        ],
    )
    with runner_for(spec) as (runner, reader):
        slow, signups = (runner.run(p, i, NOW) for i, p in runner.pulls())
        assert not slow.ok and "ran past the timeout (1 s)" in str(slow.error)
        assert slow.error.exit_code == 1
        assert slow.seconds < 10
        assert signups.ok and signups.rows == 20
        assert "timeout" in reader.pull_states()["slow"].last_error


WRITES = {
    "sqlite": "INSERT INTO accounts (created_at, plan) VALUES (:start, 'x')"
    " RETURNING created_at AS time, 1 AS value",
    "duckdb": "INSERT INTO accounts VALUES (:start, 'x') RETURNING created_at AS time, 1 AS value",
    "postgresql": "WITH w AS (INSERT INTO accounts VALUES (:start, 'x') RETURNING created_at)"
    " SELECT created_at AS time, 1 AS value FROM w",
}


def test_the_read_only_connection_refuses_a_write_the_query_tries(tmp_path, source):
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url}},
        [{"metric": "sneaky", "source": "app", "query": WRITES[source.engine]}],
    )
    before = source.count()
    with runner_for(spec) as (runner, _):
        ((index, pull),) = runner.pulls()
        result = runner.run(pull, index, NOW)
    assert not result.ok
    assert any(w in str(result.error).lower() for w in ("read-only", "readonly", "read only"))
    assert source.count() == before


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("SELECT {day} AS time, NULL AS value FROM accounts", "row 1: value is NULL"),
        ("SELECT {day} AS time, plan AS value FROM accounts", "is not a number"),
        ("SELECT {day} AS time, count(*) AS n FROM accounts GROUP BY 1", "no value column"),
        ("SELEC {day} AS time, 1 AS value FROM accounts", "syntax error"),
        ("SELECT 1 AS time, 1 AS value FROM no_such_table", "no_such_table"),
    ],
)
def test_a_failing_query_is_said_at_its_pull_line_with_the_database_message(
    tmp_path, source, query, said
):
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url}},
        [{"metric": "bad", "source": "app", "query": query.format(day=source.day)}],
    )
    with runner_for(spec) as (runner, _):
        ((index, pull),) = runner.pulls()
        result = runner.run(pull, index, NOW)
    text = str(result.error)
    assert said in text.lower() or said in text
    line = spec.read_text().splitlines().index('  "pull": [') + 2
    assert text.startswith(f"{spec}:{line}:")
    assert "pull 'bad' from source 'app'" in text


def test_a_source_down_fails_its_pulls_while_another_source_works(tmp_path, pg_server):
    good = make_source("sqlite", tmp_path)
    good.add(signup_rows())
    spec = write_spec(
        tmp_path,
        {
            "app": {"url": good.url},
            "gone": {"url": "missing.duckdb"},
            "down": {"url": "postgresql://kpitui@127.0.0.1:1/nothing", "timeout": "2s"},
        },
        [
            {"metric": "a", "source": "gone", "query": "SELECT 1 AS time, 1 AS value"},
            {"metric": "b", "source": "down", "query": "SELECT 1 AS time, 1 AS value"},
            {"metric": "signups", "source": "app", "query": good.signups_query()},
        ],
    )
    with runner_for(spec) as (runner, reader):
        a, b, signups = (runner.run(p, i, NOW) for i, p in runner.pulls())
        assert "no such file" in str(a.error)
        assert "cannot reach the PostgreSQL source" in str(b.error)
        assert b.error.exit_code == 1
        assert signups.ok and signups.rows == 20
        states = reader.pull_states()
        assert states["b"].last_error_at == NOW and states["b"].last_success is None
        assert states["signups"].last_success == NOW


def test_a_week_bucket_is_read_whole_when_the_window_starts_inside_it(tmp_path, pg_url):
    source = make_source("postgresql", tmp_path, pg_url)
    rows = signup_rows(days=21)
    source.add(rows)
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url}},
        [{"metric": "weekly", "source": "app", "query":
          "SELECT date_trunc('week', created_at) AS time, count(*) AS value FROM accounts"
          " WHERE created_at >= :start AND created_at < :end GROUP BY 1"}],
    )  # fmt: skip
    with runner_for(spec) as (runner, reader):
        ((index, pull),) = runner.pulls()
        assert runner.run(pull, index, NOW, backfill=30 * DAY).ok
        buckets = reader.buckets("weekly", None, "sum", 0, NOW, 7 * DAY)
        total = sum(b.value for b in buckets)
    assert total == sum(t < NOW for t, _ in rows)  # every row before now counted once
    assert len(buckets) == 4  # the weeks the 21 days touch


def test_the_row_cap_refuses_a_query_returning_too_many_rows(tmp_path, source):
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url, "max_rows": 5}},
        [{"metric": "raw", "source": "app", "query":
          "SELECT created_at AS time, 1 AS value FROM accounts WHERE created_at >= :start"}],
    )  # fmt: skip
    with runner_for(spec) as (runner, reader):
        ((index, pull),) = runner.pulls()
        result = runner.run(pull, index, NOW)
        assert "more than 5 rows" in str(result.error)
        assert "raw" not in reader.metric_names()


def test_sync_once_prints_a_line_per_pull_and_exits_with_the_worst_failure(
    tmp_path, capsys, monkeypatch
):
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows(end=NOW))
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url}, "env": {"url_env": "KPITUI_TEST_NO_SUCH_URL"}},
        [
            {
                "metric": "signups",
                "source": "app",
                "query": source.signups_query(),
                "backfill": "3650d",
            },
            {"metric": "other", "source": "env", "query": "SELECT 1 AS time, 1 AS value"},
        ],
    )
    monkeypatch.delenv("KPITUI_TEST_NO_SUCH_URL", raising=False)
    assert main(["sync", str(spec), "--once"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("signups: 20 rows, 20 new or changed (")
    assert "the environment variable KPITUI_TEST_NO_SUCH_URL is not set" in err
    assert "Traceback" not in err
    assert main(["sync", str(spec), "--once", "--only", "signups"]) == 0
    assert "0 new or changed" in capsys.readouterr().out
    assert main(["sync", str(spec), "--once", "--only", "signup"]) == 2
    assert "did you mean 'signups'?" in capsys.readouterr().err


def test_check_warns_about_a_failing_and_a_late_pull(tmp_path, capsys):
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows())
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url}},
        [
            {"metric": "signups", "source": "app", "query": source.signups_query(), "every": "15m"},
            {"metric": "bad", "source": "app", "query": "SELECT :start AS time, NULL AS value"},
        ],
    )
    with runner_for(spec) as (runner, _):
        for index, pull in runner.pulls():
            runner.run(pull, index, NOW)  # long ago, by the system clock
    assert main(["check", str(spec)]) == 0
    err = capsys.readouterr().err
    assert "warning: pull[0]: pull 'signups' is late: its last success was" in err
    assert "runs every 15m" in err
    assert "warning: pull[1]: pull 'bad' has never worked (last tried" in err
    assert "value is NULL" in err


def test_a_pull_over_the_row_cap_is_one_whole_line_in_sync_and_check(tmp_path, capsys):
    # The hint's apostrophe ("the source's max_rows") once read as a quote, and the line
    # was cut in the middle of a word.
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows())
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url, "max_rows": 5}},
        [{"metric": "raw", "source": "app", "query":
          "SELECT created_at AS time, 1 AS value FROM accounts WHERE created_at >= :start"}],
    )  # fmt: skip
    assert main(["sync", str(spec), "--once", "--backfill", "2y"]) == 2
    assert main(["check", str(spec)]) == 0
    err = capsys.readouterr().err
    assert err.count("or raise the source's max_rows)") == 2, err
    assert "characters)" not in err
    assert "source 'app': source 'app'" not in err


def test_a_long_backfill_reads_longer_slices_and_halves_one_over_the_cap(tmp_path):
    # Given raw rows (12 on the busiest day) and a cap of 15 rows a query, When a 400-day
    # backfill runs, Then it reads far fewer than 400 windows (each fast one doubles the
    # next), a window over the cap is read again in halves instead of failing, and
    # every row is written once.
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows())
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url, "max_rows": 15}},
        [{"metric": "raw", "source": "app", "query":
          "SELECT created_at AS time, 1 AS value FROM accounts"
          " WHERE created_at >= :start AND created_at < :end"}],
    )  # fmt: skip
    seen: list[tuple[int, int]] = []
    with runner_for(spec, progress=lambda _, done, total: seen.append((done, total))) as (
        runner,
        reader,
    ):
        ((index, pull),) = runner.pulls()
        result = runner.run(pull, index, NOW, backfill=400 * DAY)
        assert result.ok, result.error
        # 55 free + 20 pro rows; 9 days have a free and a pro row at the same second
        assert (result.rows, result.changed) == (75, 66)
        assert reader.aggregate("raw", None, "count", 0, NOW) == 66
    assert len(seen) < 40
    assert seen[-1] == (401, 401)  # 400 days back from a UTC midnight, and today
    assert [d for d, _ in seen] == sorted({d for d, _ in seen})


def test_sync_left_running_outlasts_a_store_locked_by_another_writer(tmp_path):
    # Given a SQLite source and a store another writer holds locked
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows())
    spec = signups_spec(tmp_path, source, every="15m")
    store = tmp_path / "metrics.db"
    open_writer(store).close()
    other = sqlite3.connect(store, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    clock = FixedClock(NOW)
    missed: list[str] = []
    results = []
    stop = threading.Event()

    def wait(seconds):
        clock.at += int(seconds)
        if other.in_transaction:
            other.execute("ROLLBACK")  # the other writer is done
        if results:
            stop.set()

    # When sync runs on its schedule with a short busy timeout
    with open_writer(store, busy_timeout=0.2) as writer:
        reader = open_reader(store)
        try:
            runner = Runner(load_dashboard(spec), writer, reader)
            run_forever(runner, runner.pulls(), clock, results.append, stop,
                        lambda p, e: missed.append(str(e)), wait=wait)  # fmt: skip
            # Then the locked run is said as such, and the next one writes every row
            assert len(missed) == 1 and "store is locked" in missed[0]
            assert [r.ok for r in results] == [True] and results[0].changed == 20
            assert by_plan(reader, 0, NOW) == {"free": 55.0, "pro": 20.0}
        finally:
            reader.close()
    other.close()
