"""A pull that keeps failing (or stopped running) on the board: its KPIs stale by it, the
header's problems line, `snapshot` text and JSON; and sync into a shared PostgreSQL store
from a PostgreSQL source."""

from __future__ import annotations

import json
import os
import time

from kpitui.cli import main
from kpitui.engine import evaluate
from kpitui.engine.pulls import board_pulls
from kpitui.spec import load_dashboard
from kpitui.store import open_reader, open_writer
from kpitui.store.api import PullState
from kpitui.timeutil import iso_utc
from kpitui.tui.header import BoardHeader, ProblemsLine
from kpitui.tui.widgets.kpi_card import KpiCard
from tests.sync.sources import DAY, NOW, make_source, signup_rows
from tests.sync.test_sync import runner_for, write_spec
from tests.tui.snapshot_apps.app_world import AS_OF, SPEC, make_app, screen_text, settle

HOUR = 3600


def failing_world(tmp_path):
    """A spec pulling signups from a SQLite file and recording visits by hand; the pull
    worked at NOW, then its table went away and two runs (NOW+1h, NOW+2h) failed."""
    source = make_source("sqlite", tmp_path)
    source.add(signup_rows())
    spec = write_spec(
        tmp_path,
        {"app": {"url": source.url}},
        [{"metric": "signups", "source": "app", "every": "15m", "query": source.signups_query()}],
    )
    data = json.loads(spec.read_text())
    data["metrics"] = {"per_visit": {"formula": "signups / visits"}}
    data["kpis"] += [
        {"metric": "visits", "agg": "sum", "indicator": "leading"},
        {"metric": "per_visit", "agg": "sum", "indicator": "leading"},
    ]
    spec.write_text(json.dumps(data, indent=2))
    with runner_for(spec) as (runner, _):
        ((index, pull),) = runner.pulls()
        assert runner.run(pull, index, NOW).ok
        runner.writer.write_points([("visits", {}, NOW - HOUR, 400.0)])
        source.execute("DROP TABLE accounts")
        for later in (NOW + HOUR, NOW + 2 * HOUR):
            assert not runner.run(pull, index, later).ok
    return spec


def test_only_runs_up_to_as_of_count_and_a_failing_pull_keeps_its_last_success(tmp_path):
    spec = load_dashboard(failing_world(tmp_path)).dashboard
    state = PullState("signups", NOW, NOW + 2 * HOUR, "source 'app': SQLite: gone", NOW)
    (failing,) = board_pulls(spec, {"signups": state}, NOW + 2 * HOUR + 60)
    assert failing.condition == "failing" and failing.since == NOW
    assert failing.message == (
        "pull 'signups' is failing: its last success was 2h ago: source 'app': SQLite: gone"
    )
    # Looked at before the failure, the pull was fine; 15m × 2 after it, late.
    assert board_pulls(spec, {"signups": state}, NOW + 60) == ()
    (late,) = board_pulls(spec, {"signups": state}, NOW + HOUR - 60)
    assert late.condition == "late" and late.since == NOW
    never = PullState("signups", None, NOW, "source 'app': SQLite: gone")
    (failing,) = board_pulls(spec, {"signups": never}, NOW + 60)
    assert failing.message.startswith("pull 'signups' has never worked (last tried ")


def test_a_pull_that_keeps_failing_makes_its_kpis_stale_by_it(tmp_path):
    spec = failing_world(tmp_path)
    loaded = load_dashboard(spec)
    reader = open_reader(spec.parent / "metrics.db")
    try:
        board = evaluate(loaded.dashboard, reader, NOW + 2 * HOUR + 60)
        before = evaluate(loaded.dashboard, reader, NOW + 60)
    finally:
        reader.close()
    (pull,) = board.pulls
    assert pull.pull_id == "signups" and pull.since == NOW  # the success, not the last failure
    assert "no such table: accounts" in pull.message
    signups, visits, per_visit = (board.kpi(k) for k in ("signups", "visits", "per_visit"))
    assert signups.state == "stale" and signups.band == "neutral"
    assert signups.stale_reason == "pull 'signups' is failing"
    assert per_visit.state == "stale"  # a formula over a pulled metric is as old
    assert visits.state == "neutral" and visits.stale_reason is None
    assert before.pulls == () and before.kpi("signups").state == "neutral"


def test_snapshot_says_which_pull_is_failing_in_text_and_json(tmp_path, capsys):
    spec = failing_world(tmp_path)
    at = iso_utc(NOW + 2 * HOUR + 60)
    assert main(["snapshot", str(spec), "--as-of", at]) == 0
    text = capsys.readouterr().out
    assert "⚠ pull 'signups' is failing: its last success was 2h ago: source 'app'" in text
    assert "(was neutral), pull 'signups' is failing" in text
    assert main(["snapshot", str(spec), "--as-of", at, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (pull,) = doc["pulls"]
    assert pull["id"] == "signups" and pull["condition"] == "failing"
    assert pull["since"] == iso_utc(NOW)  # its last success
    kpi = next(k for k in doc["kpis"] if k["id"] == "signups")
    assert kpi["stale"] is True and kpi["stale_reason"] == "pull 'signups' is failing"


PULLING = SPEC.replace(
    "kpis:\n",
    "sources:\n  app: {url: app.sqlite}\npull:\n"
    "  - {metric: signups, source: app, every: 15m, query: 'SELECT 1 AS time, 1 AS value'}\n"
    "kpis:\n",
)


async def test_the_board_shows_a_failing_pull_under_its_header_until_it_works_again(tmp_path):
    app = make_app(tmp_path, PULLING)
    failing = PullState("signups", AS_OF - 3 * HOUR, AS_OF - 60, "source 'app': SQLite: boom")
    with open_writer(tmp_path / "metrics.db") as writer:
        writer.set_pull_state(failing)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        (line,) = app.query_one(ProblemsLine).lines
        assert line == (
            "pull 'signups' is failing: its last success was 3h ago: source 'app': SQLite: boom"
        )
        assert "⚠ see below" in str(app.query_one("#header-status").render())
        assert app.query_one("#p0-kpi-signups", KpiCard).has_class("-state-stale")
        assert not app.query_one("#p0-kpi-mrr", KpiCard).has_class("-state-stale")
        assert "3h ago" in screen_text(app)
        # When the next run works (a write to the store, as sync's is), the board is fresh.
        with open_writer(tmp_path / "metrics.db") as writer:
            writer.set_pull_state(PullState("signups", AS_OF, AS_OF - 60, failing.last_error))
        app.poll_now()
        await settle(pilot)
        assert app.query_one(ProblemsLine).lines == ()
        status = app.query_one(BoardHeader).query_one("#header-status")
        assert "see below" not in str(status.render())
        assert not app.query_one("#p0-kpi-signups", KpiCard).has_class("-state-stale")


def test_sync_writes_a_postgresql_source_into_the_shared_postgresql_store(
    tmp_path, pg_cluster, capsys
):
    # Given the product's PostgreSQL database and the team's store on the same server
    # (rows up to yesterday by the system clock, which `kpitui sync` reads)
    yesterday = int(time.time()) - DAY
    source = make_source("postgresql", tmp_path, pg_cluster.new_database("app"))
    source.add(signup_rows(end=yesterday))
    store = pg_cluster.new_database("store")
    assert main(["store", "init", store]) == 0
    spec = write_spec(
        tmp_path,
        {"app": {"url_env": "KPITUI_TEST_APP_URL"}},
        [{"metric": "signups", "source": "app", "backfill": "30d",
          "query": source.signups_query()}],
    )  # fmt: skip
    capsys.readouterr()
    os.environ["KPITUI_TEST_APP_URL"] = source.url
    try:
        # When sync runs twice, once with a corrected day in between
        assert main(["sync", str(spec), "--once", "--db", store]) == 0
        first = capsys.readouterr().out
        day = yesterday - yesterday % DAY - 5 * DAY
        source.add([(day + 60, "pro")])
        assert main(["sync", str(spec), "--once", "--db", store, "--backfill", "30d"]) == 0
        second = capsys.readouterr().out
    finally:
        del os.environ["KPITUI_TEST_APP_URL"]
    assert first.startswith("signups: 20 rows, 20 new or changed (")
    assert second.startswith("signups: 20 rows, 1 new or changed, 19 already stored (")
    reader = open_reader(store)
    try:
        assert reader.aggregate("signups", {"plan": "pro"}, "sum", day, day) == 3.0
        state = reader.pull_states()["signups"]
        assert state.last_error is None and state.last_success is not None
    finally:
        reader.close()
