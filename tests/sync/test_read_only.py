"""A source connection only reads, on every engine, whatever the query's text: one
statement that is a query runs; several statements, DDL and DML, ATTACH, PRAGMA,
DuckDB's COPY … TO / EXPORT / INSTALL / CREATE SECRET are refused before they run, in
one line at the pull's spec line saying why, and nothing is written, neither in the
source nor as a file beside it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.pg_server import unavailable
from tests.sync.sources import NOW, make_source, signup_rows
from tests.sync.test_sync import runner_for, write_spec


def run_one(spec: Path):
    with runner_for(spec) as (runner, reader):
        ((index, pull),) = runner.pulls()
        result = runner.run(pull, index, NOW)
        return result, reader.metric_names(), reader.pull_states()[pull.id]


def refusal(result, spec: Path) -> str:
    """The refusal's line, checked to be said at the pull's line naming the pull."""
    assert not result.ok
    text = str(result.error)
    line = spec.read_text().splitlines().index('  "pull": [') + 2
    assert text.startswith(f"{spec}:{line}:5: pull 'sneaky' from source 'app': not run: "), text
    assert "a pull runs one read-only query" in text
    assert "\n" not in text
    assert result.error.exit_code == 2
    return text


def sneaky_spec(folder: Path, url: str, query: str, **source) -> Path:
    return write_spec(
        folder,
        {"app": {"url": url, **source}},
        [{"metric": "sneaky", "source": "app", "query": query}],
    )


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("SELECT 1 AS time, 1 AS value; DROP TABLE accounts", "statements, not one"),
        ("SELECT 1 AS time, 1 AS value;\n-- a comment\nDELETE FROM accounts", "statements"),
        ("DROP TABLE accounts", ""),
        ("/* SELECT 1 AS time, 1 AS value; */ DELETE FROM accounts", ""),
        ("CREATE TABLE copied AS SELECT * FROM accounts", ""),
        ("UPDATE accounts SET plan = 'x'", ""),
    ],
)
def test_a_query_that_is_not_one_read_is_refused_and_changes_nothing(tmp_path, source, query, said):
    spec = sneaky_spec(tmp_path, source.url, query)
    before = source.count()
    result, metrics, state = run_one(spec)
    assert said in refusal(result, spec)
    assert source.count() == before  # the table is still there, every row of it
    assert "sneaky" not in metrics
    assert state.last_error is not None and "not run" in state.last_error


def test_a_semicolon_or_a_comment_inside_a_string_is_still_one_query(tmp_path, source):
    # A regex over the text would see two statements here; the engine's parser sees one.
    query = (
        f"SELECT {NOW} AS time, count(*) AS value, '; DROP TABLE accounts; --' AS note"
        " FROM accounts /* ; DELETE FROM accounts */"
    )
    result, metrics, _ = run_one(sneaky_spec(tmp_path, source.url, query))
    assert result.ok, result.error
    assert result.changed == 1 and "sneaky" in metrics


def test_sqlite_refuses_an_attach_and_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows())
    spec = sneaky_spec(tmp_path, source.url, "ATTACH 'x.db' AS x")
    text = refusal(run_one(spec)[0], spec)
    assert "the query would ATTACH 'x.db'" in text
    assert not (tmp_path / "x.db").exists()
    # VACUUM INTO writes a copy even of a read-only database: refused as well.
    spec = sneaky_spec(tmp_path, source.url, "VACUUM INTO 'copy.db'")
    refusal(run_one(spec)[0], spec)
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("PRAGMA user_version = 7", "would PRAGMA 'user_version'"),
        ("PRAGMA journal_mode = WAL", "would PRAGMA 'journal_mode'"),
        ("SELECT load_extension('evil') AS time, 1 AS value", "would call load_extension()"),
        ("CREATE TEMP TABLE t AS SELECT 1", ""),
    ],
)
def test_sqlite_refuses_a_pragma_or_an_extension(tmp_path, query, said):
    source = make_source("sqlite", tmp_path)
    spec = sneaky_spec(tmp_path, source.url, query)
    assert said in refusal(run_one(spec)[0], spec)
    with sqlite3.connect(source.target) as con:
        assert con.execute("PRAGMA user_version").fetchone() == (0,)
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    con.close()


def csv_export(folder: Path) -> None:
    (folder / "orders.csv").write_text(
        "ordered_at,amount\n2025-12-05T10:00:00Z,10\n2025-12-05T11:00:00Z,5\n"
    )


DUCKDB_WRITES = [
    ("COPY (SELECT 1) TO 'out.csv'", "a COPY statement", "out.csv"),
    ("COPY (FROM 'orders.csv') TO 'out.parquet' (FORMAT parquet)", "a COPY", "out.parquet"),
    ("EXPORT DATABASE 'dump'", "an EXPORT statement", "dump"),
    ("ATTACH 'x.duckdb' AS x", "an ATTACH statement", "x.duckdb"),
    ("INSTALL httpfs", "an INSTALL or LOAD statement", None),
    ("LOAD httpfs", "an INSTALL or LOAD statement", None),
    ("CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')", "a CREATE statement", None),
    ("CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')", "a CREATE", None),
    ("SET threads = 1", "a SET statement", None),
    ("PRAGMA enable_profiling", "a PRAGMA statement", None),
    ("SELECT 1 AS time, 1 AS value; COPY (SELECT 1) TO 'out.csv'", "2 statements", "out.csv"),
    ("CALL pragma_version()", "a CALL statement", None),
]


@pytest.mark.parametrize("where", ["memory", "file"])
@pytest.mark.parametrize(("query", "said", "made"), DUCKDB_WRITES)
def test_duckdb_writes_no_file_whatever_the_statement(
    tmp_path, monkeypatch, where, query, said, made
):
    # Given a DuckDB over a CSV export (in memory, or a read-only file: read_only alone
    # lets COPY … TO write), When a pull's query would write, Then it is refused and
    # no file appears, neither in the spec's folder nor in the working folder.
    try:
        import duckdb
    except ImportError:
        unavailable("duckdb is not installed (pip install 'kpitui[duckdb]')")
    csv_export(tmp_path)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    url = "duckdb::memory:"
    if where == "file":
        duckdb.connect(str(tmp_path / "w.duckdb")).close()
        url = "w.duckdb"
    spec = sneaky_spec(tmp_path, url, query)
    before = sorted(p.name for p in tmp_path.iterdir() if p.name != "cwd")
    result, _metrics, _ = run_one(spec)
    assert said in refusal(result, spec)
    if made is not None:
        assert not (tmp_path / made).exists() and not (work / made).exists()
    after = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("metrics.db", "cwd"))
    assert after == before
    assert list(work.iterdir()) == []


def test_an_in_memory_duckdb_reads_a_csv_export_from_the_specs_folder(tmp_path, monkeypatch):
    try:
        import duckdb  # noqa: F401
    except ImportError:
        unavailable("duckdb is not installed (pip install 'kpitui[duckdb]')")
    csv_export(tmp_path)
    monkeypatch.chdir(Path("/"))
    spec = write_spec(
        tmp_path,
        {"exports": {"url": "duckdb::memory:"}},
        [{"metric": "revenue", "source": "exports", "backfill": "3d", "query":
          "SELECT date_trunc('day', ordered_at) AS time, sum(amount) AS value"
          " FROM 'orders.csv' WHERE ordered_at >= :start AND ordered_at < :end GROUP BY 1"}],
    )  # fmt: skip
    with runner_for(spec) as (runner, reader):
        ((index, pull),) = runner.pulls()
        result = runner.run(pull, index, NOW)
        assert result.ok, result.error
        assert reader.aggregate("revenue", None, "sum", 0, NOW) == 15.0


def test_postgresql_settings_a_query_changes_do_not_reach_the_next_pull(tmp_path, pg_url):
    # Given a pull that turns the session's read-only default and timeout off with
    # set_config, When the next pulls write and sleep, Then each still runs in a READ
    # ONLY transaction with its own statement_timeout.
    source = make_source("postgresql", tmp_path, pg_url)
    source.add(signup_rows())
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url, "timeout": "1s"}},
        [
            {"metric": "loosen", "source": "app", "query":
             "SELECT now() AS time, 1 AS value,"
             " set_config('default_transaction_read_only', 'off', false) AS a,"
             " set_config('statement_timeout', '0', false) AS b"},
            {"metric": "sneaky", "source": "app", "query":
             "SELECT created_at AS time, 1 AS value, nextval('accounts_seq') AS n"
             " FROM accounts"},
            {"metric": "slow", "source": "app",
             "query": "SELECT :start AS time, 1 AS value FROM pg_sleep(30)"},
        ],
    )  # fmt: skip
    source.execute("CREATE SEQUENCE accounts_seq")
    with runner_for(spec) as (runner, _):
        loosen, sneaky, slow = (runner.run(p, i, NOW) for i, p in runner.pulls())
    assert loosen.ok, loosen.error
    assert "read-only transaction" in str(sneaky.error)
    assert "ran past the timeout (1 s)" in str(slow.error) and slow.seconds < 10


def test_postgresql_refuses_a_write_and_names_the_statement(tmp_path, pg_url):
    source = make_source("postgresql", tmp_path, pg_url)
    source.add(signup_rows())
    before = source.count()
    for query, said in [
        ("  -- first a comment\n INSERT INTO accounts VALUES (now(), 'x')", "an INSERT statement"),
        ("WITH w AS (DELETE FROM accounts RETURNING created_at)"
         " SELECT created_at AS time, 1 AS value FROM w", "data-modifying"),
        ("TRUNCATE accounts", "a TRUNCATE statement"),
    ]:  # fmt: skip
        spec = sneaky_spec(tmp_path, source.url, query)
        assert said in refusal(run_one(spec)[0], spec)
    assert source.count() == before


def test_postgresql_stops_at_the_row_cap_without_reading_the_rest(tmp_path, pg_url):
    # A query of a billion rows over a cap of 5: the server-side cursor hands over six
    # rows and the pull is refused at once (all of them would take far past the timeout).
    spec = sneaky_spec(
        tmp_path,
        pg_url,
        # In the select list the series streams (in FROM it would be built whole first).
        "SELECT now() AS time, generate_series(1, 1000000000) AS value",
        max_rows=5,
        timeout="20s",
    )
    result, metrics, _ = run_one(spec)
    assert "more than 5 rows" in str(result.error)
    assert result.seconds < 5
    assert "sneaky" not in metrics
