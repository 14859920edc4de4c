"""A span on the command line (`sync --backfill`, `digest --since`, `prune --older-than`)
is read as a spec's duration is, years (`2y`, of 365 days) and weeks (`2w`) included; a
span that is none is one line and exit 2."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from kpitui.cli import main
from kpitui.spec import load_dashboard
from kpitui.store import open_reader, open_writer
from kpitui.timeutil import iso_utc

DAY = 86400


def app_with_signups(folder) -> None:
    """app.sqlite with one signup a day, at noon, for the last 800 days (epoch times)."""
    today = int(time.time()) // DAY * DAY
    with sqlite3.connect(folder / "app.sqlite") as con:
        con.execute("CREATE TABLE accounts (created_at INTEGER)")
        con.executemany(
            "INSERT INTO accounts VALUES (?)", [(today - k * DAY - DAY // 2,) for k in range(800)]
        )
    con.close()
    spec = {
        "store": "metrics.db",
        "sources": {"app": {"url": "app.sqlite"}},
        "pull": [{"metric": "signups", "source": "app", "backfill": "1y", "query":
                  "SELECT (created_at / 86400) * 86400 AS time, count(*) AS value"
                  " FROM accounts WHERE created_at >= :start AND created_at < :end"
                  " GROUP BY 1"}],
        "kpis": [{"metric": "signups", "agg": "sum", "indicator": "leading"}],
    }  # fmt: skip
    (folder / "dashboard.yaml").write_text(json.dumps(spec))


@pytest.mark.parametrize(("span", "days"), [("2y", 730), ("2w", 14), ("1y2w", 379)])
def test_sync_backfill_takes_years_and_weeks(tmp_path, monkeypatch, capsys, span, days):
    # Given 800 days of signups, When `sync --backfill SPAN` runs, Then it reads from the
    # UTC midnight SPAN ago: one point a day since.
    app_with_signups(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = int(time.time())
    assert main(["sync", "--backfill", span]) == 0
    out = capsys.readouterr().out
    starts = {iso_utc((t - days * DAY) // DAY * DAY) for t in (before, int(time.time()))}
    assert out.startswith(f"signups: {days} rows, {days} new or changed (")
    assert any(f"({s} to " in out for s in starts), out


def test_a_pulls_backfill_in_years_in_the_spec(tmp_path, monkeypatch, capsys):
    # The spec's `backfill: 1y` (app_with_signups) reads 365 days on the first run.
    app_with_signups(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert load_dashboard(tmp_path / "dashboard.yaml").dashboard.pull[0].backfill.seconds == (
        365 * DAY
    )
    assert main(["check"]) == 2  # no store yet: check says how to make it
    assert "store not found: metrics.db (run `kpitui sync --once` first" in capsys.readouterr().err
    assert main(["sync", "--once"]) == 0
    assert capsys.readouterr().out.startswith("signups: 365 rows, 365 new or changed (")
    assert main(["check"]) == 0


def test_prune_older_than_years_and_weeks(tmp_path, capsys):
    store = tmp_path / "metrics.db"
    now = int(time.time())
    with open_writer(store) as writer, writer.batch() as batch:
        sid = batch.series_id("m", {})
        batch.add([sid] * 3, [now - 800 * DAY, now - 20 * DAY, now - DAY], [1.0, 2.0, 3.0])
    assert main(["prune", "--older-than", "2y", "--dry-run", "--db", str(store)]) == 0
    assert capsys.readouterr().out.startswith("would prune 1 raw point of 1 series older than")
    assert main(["prune", "--older-than", "2w", "--yes", "--db", str(store)]) == 0
    assert capsys.readouterr().out.startswith("pruned 2 raw points of 1 series older than")
    reader = open_reader(store)
    try:
        assert reader.read_points(sid, None, 10) == [(now - DAY, 3.0)]
    finally:
        reader.close()


def test_digest_since_takes_years(tmp_path, monkeypatch, capsys):
    app_with_signups(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["sync", "--once"]) == 0
    capsys.readouterr()
    assert main(["digest", "--since", "1y"]) == 0
    assert "signups" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["sync", "--backfill", "2q"],
        ["sync", "--once", "--backfill", "0y"],
        ["sync", "--backfill", "200y"],
        ["digest", "--since", "a year"],
        ["prune", "--older-than", "2yy"],
        ["prune", "--older-than", "y"],
    ],
)
def test_a_span_that_is_none_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"kpitui {argv[0]}: argument {argv[-2]}: '{argv[-1]}' ")
    assert "Traceback" not in err
    assert not (tmp_path / "metrics.db").exists()
