"""The `sources:`/`pull:` keys of a spec, their checks, the `:start`/`:end` binding,
the windows a run reads and the schedule."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kpitui.errors import SpecErrors, StoreLockedError
from kpitui.spec import load_dashboard
from kpitui.spec.sources import bind_parameters, query_parameters, source_target
from kpitui.store.api import PullState
from kpitui.sync.runner import pull_start
from kpitui.sync.schedule import run_forever
from kpitui.timeutil import FixedClock

DAY = 86400

GOOD = """\
title: t
sources:
  app: {url_env: APP_DB_URL, timeout: 10s}
  local: {url: data/app.sqlite}
pull:
  - metric: signups
    source: app
    every: 15m
    backfill: 90d
    query: |
      SELECT date_trunc('day', created_at) AS time, plan, count(*) AS value
      FROM accounts WHERE created_at >= :start AND created_at < :end GROUP BY 1, 2
kpis:
  - {metric: signups, agg: sum, indicator: leading}
"""


def load(tmp_path: Path, text: str):
    path = tmp_path / "dashboard.yaml"
    path.write_text(text)
    return load_dashboard(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecErrors) as caught:
        load(tmp_path, text)
    return [str(p) for p in caught.value.problems]


def test_a_spec_with_sources_and_pulls_loads_with_its_values(tmp_path):
    spec = load(tmp_path, GOOD)
    d = spec.dashboard
    assert d.sources["app"].url_env == "APP_DB_URL" and d.sources["app"].timeout.seconds == 10
    (pull,) = d.pull
    assert (pull.id, pull.every.seconds, pull.backfill.seconds) == ("signups", 900, 90 * DAY)
    # data/app.sqlite does not exist: a warning at its line, not an error.
    assert any("sources.local.url" in str(w) and ":4:" in str(w) for w in spec.warnings)


def test_each_pull_problem_is_said_at_its_line(tmp_path):
    text = GOOD.replace("source: app", "source: ap").replace("{url: data/app.sqlite}", "{}")
    said = problems(tmp_path, text)
    assert any(":4:3: sources.local: a source needs `url:` or `url_env:`" in p for p in said)
    assert any(":7:13: pull[0].source: no source named 'ap'" in p and "'app'" in p for p in said)


def test_a_url_naming_no_database_is_an_error_at_the_url(tmp_path):
    said = problems(tmp_path, GOOD.replace("data/app.sqlite", "mysql://db/x"))
    assert any(":4:16: sources.local.url: mysql:// is not a database" in p for p in said)


def test_a_typo_in_a_parameter_is_a_warning_with_the_right_name(tmp_path):
    spec = load(tmp_path, GOOD.replace(">= :start", ">= :star"))
    said = " ".join(str(w) for w in spec.warnings)
    assert "':star' is not a parameter kpitui binds" in said and "did you mean ':start'?" in said


@pytest.mark.parametrize(
    ("url", "engine", "path"),
    [
        ("postgresql://u@h/db", "postgresql", None),
        ("app.sqlite", "sqlite", "/spec/app.sqlite"),
        ("sqlite:///abs/x.data", "sqlite", "/abs/x.data"),
        ("duckdb:w.bin", "duckdb", "/spec/w.bin"),
        ("exports/w.duckdb", "duckdb", "/spec/exports/w.duckdb"),
    ],
)
def test_a_source_url_names_its_engine_and_a_relative_file_is_the_spec_folders(url, engine, path):
    target = source_target(url, Path("/spec"))
    assert target.engine == engine
    assert (str(target.path) if target.path else None) == path


def test_an_in_memory_duckdb_source_is_no_file_and_check_says_nothing_of_it(tmp_path):
    target = source_target("DuckDB::memory:", tmp_path)
    assert (target.engine, target.path, target.memory) == ("duckdb", None, True)
    spec = load(tmp_path, GOOD.replace("{url: data/app.sqlite}", '{url: "duckdb::memory:"}'))
    assert not any("sources.local" in str(w) for w in spec.warnings)
    said = problems(tmp_path, GOOD.replace("{url: data/app.sqlite}", "{url: 'duckdb:'}"))
    assert any("names no file" in p and "duckdb::memory:" in p for p in said)


def test_parameters_are_found_outside_strings_comments_and_casts():
    sql = "SELECT ':start', x::date, $$ :end $$, \"a:end\" -- :end\n/* :end */ WHERE t >= :start"
    assert [p.name for p in query_parameters(sql)] == ["start"]
    bound = bind_parameters("SELECT '5%' WHERE a LIKE 'x%' AND t >= :start", {"start": "%(start)s"},
                            escape_percent=True)  # fmt: skip
    assert bound == "SELECT '5%%' WHERE a LIKE 'x%%' AND t >= %(start)s"


def test_a_run_starts_at_the_backfill_the_high_water_mark_or_the_last_empty_run(tmp_path):
    pull = load(tmp_path, GOOD).dashboard.pull[0]
    now = 100 * DAY + 3600
    assert pull_start(pull, None, now, None) == 10 * DAY  # 90d back, at midnight
    assert pull_start(pull, None, now, 7 * DAY) == 93 * DAY
    assert pull_start(pull, PullState("signups", high_water=99 * DAY), now, None) == 99 * DAY
    assert pull_start(pull, PullState("signups", last_success=now - 60), now, None) == now - 60


def test_the_schedule_runs_each_pull_every_its_every(tmp_path):
    other = "  - {metric: b, source: app, every: 1h, query: 'SELECT :start AS time, 1 AS value'}\n"
    spec = load(tmp_path, GOOD.replace("kpis:", other + "kpis:"))
    pulls = list(enumerate(spec.dashboard.pull))
    clock = FixedClock(0)
    runs: list[tuple[str, int]] = []
    stop = threading.Event()

    class Runner:
        def run(self, pull, index, now):
            runs.append((pull.id, now))
            return pull

    def wait(seconds):
        clock.at += int(seconds)
        if clock.at >= 2 * 3600:
            stop.set()

    run_forever(Runner(), pulls, clock, lambda r: None, stop, lambda p, e: None, wait=wait)
    assert [t for p, t in runs if p == "signups"] == [i * 900 for i in range(8)]
    assert [t for p, t in runs if p == "b"] == [0, 3600]


def test_a_locked_store_skips_one_run_and_tries_again_a_minute_later(tmp_path):
    pull = load(tmp_path, GOOD).dashboard.pull[0]  # every 15m
    clock = FixedClock(0)
    runs: list[int] = []
    missed: list[tuple[str, int]] = []
    stop = threading.Event()

    class Runner:
        def run(self, pull, index, now):
            runs.append(now)
            if len(runs) == 1:
                raise StoreLockedError("store is locked")
            return pull

    def wait(seconds):
        clock.at += int(seconds)
        if clock.at >= 1800:
            stop.set()

    run_forever(Runner(), [(0, pull)], clock, lambda r: None, stop,
                lambda p, e: missed.append((p.id, clock.at)), wait=wait)  # fmt: skip
    # The locked run is said once; the pull runs again a minute later, then every 15m
    assert missed == [("signups", 0)]
    assert runs == [0, 60, 960]
