"""`kpitui sync` over a warehouse's exports: Parquet files queried in place through a
DuckDB source, and the one line a spec gets when the duckdb driver is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kpitui.cli import main
from tests.pg_server import unavailable
from tests.sync.sources import DAY, NOW
from tests.sync.test_sync import runner_for, write_spec


def parquet_orders(folder: Path) -> None:
    """exports/orders/{2025,2026}.parquet: on each of the 10 days before NOW's day, orders
    of 10 and 5 in one file, 1 in the other (a warehouse's export split by year)."""
    try:
        import duckdb
    except ImportError:
        unavailable("duckdb is not installed (pip install 'kpitui[duckdb]')")
    (folder / "exports" / "orders").mkdir(parents=True)
    first = NOW - NOW % DAY - 10 * DAY
    con = duckdb.connect()
    try:
        for name, amounts in (("2025", "[10, 5]"), ("2026", "[1]")):
            con.execute(
                f"COPY (SELECT to_timestamp({first} + d * {DAY}) AS ordered_at, unnest({amounts})"
                f" AS amount FROM range(10) t(d)) TO 'exports/orders/{name}.parquet'"
                " (FORMAT parquet)".replace("'exports", f"'{folder}/exports")
            )
    finally:
        con.close()
    # An empty DuckDB file: the source only reads the files beside it.
    duckdb.connect(str(folder / "exports" / "warehouse.duckdb")).close()


def test_a_duckdb_source_reads_parquet_files_named_from_the_specs_folder(tmp_path):
    # Given Parquet exports and a DuckDB file in exports/, When a pull names the files as
    # the spec's folder sees them, Then each day's orders are summed across both files.
    parquet_orders(tmp_path)
    spec = write_spec(
        tmp_path,
        {"warehouse": {"url": "exports/warehouse.duckdb"}},
        [{"metric": "revenue", "source": "warehouse", "backfill": "30d", "query":
          "SELECT date_trunc('day', ordered_at) AS time, sum(amount) AS value"
          " FROM 'exports/orders/*.parquet'"
          " WHERE ordered_at >= :start AND ordered_at < :end GROUP BY 1"}],
    )  # fmt: skip
    with runner_for(spec) as (runner, reader):
        ((index, pull),) = runner.pulls()
        result = runner.run(pull, index, NOW)
        assert result.ok, result.error
        assert (result.rows, result.changed) == (10, 10)
        first = NOW - NOW % DAY - 10 * DAY
        assert reader.aggregate("revenue", None, "sum", first, first) == 16.0
        assert reader.aggregate("revenue", None, "sum", 0, NOW) == 160.0
        again = runner.run(pull, index, NOW + 60, backfill=30 * DAY)
        assert (again.rows, again.changed) == (10, 0)


def test_a_duckdb_source_without_the_driver_is_one_line_naming_the_extra(tmp_path):
    # `import duckdb` fails in the child as it does where the extra is not installed.
    spec = write_spec(
        tmp_path,
        {"warehouse": {"url": "warehouse.duckdb"}},
        [{"metric": "revenue", "source": "warehouse", "query": "SELECT 1 AS time, 1 AS value"}],
    )
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    child = (
        "import sys; sys.modules['duckdb'] = None\n"
        "from kpitui.cli import main\n"
        f"sys.exit(main(['sync', {str(spec)!r}, '--once']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 1
    lines = [ln for ln in done.stderr.splitlines() if "created a new store" not in ln]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"kpitui: {spec}:")
    assert "DuckDB sources need the duckdb driver" in lines[0]
    assert "pip install 'kpitui[duckdb]'" in lines[0]


def test_sync_of_a_spec_without_pulls_says_what_to_add(tmp_path, capsys):
    spec = tmp_path / "dashboard.yaml"
    spec.write_text("title: t\nkpis:\n  - {metric: a, agg: sum, indicator: leading}\n")
    assert main(["sync", str(spec), "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no `pull:` queries" in err
    assert "Pulling from your database" in err
