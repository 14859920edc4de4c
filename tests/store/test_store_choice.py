"""Writes land where the board reads: --spec, --db, KPITUI_STORE, the 'created' line,
check-ins refused for KR ids the spec does not define, and `kpitui checkins`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpitui.store import StoreName, open_reader
from kpitui.store.name import mask_password

SPEC = """\
title: Team
store: data/team.db
okrs:
  - title: Ship the app
    key_results:
      - {id: launch-mobile-app, title: Launch, start: 0, target: 1}
      - {id: hire-support-leads, title: Hire, start: 0, target: 3}
"""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KPITUI_STORE", raising=False)
    return tmp_path


def test_record_with_spec_writes_the_store_the_spec_reads(here, cli_raw):
    # Given a spec whose store is data/team.db (relative to the spec)
    (here / "team").mkdir()
    (here / "team" / "data").mkdir()
    (here / "team" / "board.yaml").write_text(SPEC, encoding="utf-8")
    # When a point is recorded with --spec
    code, out, err = cli_raw(
        "record", "mrr", "5", "--at", "2026-01-01", "--spec", "team/board.yaml"
    )
    # Then it is in team/data/team.db, and the new store is said on stderr
    assert code == 0
    assert "in team/data/team.db" in out
    assert err == (
        "kpitui: created a new store ./team/data/team.db; the dashboard reads ./team/data/team.db\n"
    )
    reader = open_reader(here / "team" / "data" / "team.db")
    assert reader.metric_names() == {"mrr"}
    reader.close()
    # And a second write says nothing more
    assert cli_raw("record", "mrr", "6", "--spec", "team/board.yaml")[2] == ""


def test_a_new_default_store_says_so_and_points_out_another_spec_here(here, cli_raw):
    # Given a folder with a spec that is not dashboard.yaml
    (here / "team.yaml").write_text(SPEC, encoding="utf-8")
    # When a point is recorded without --db or --spec
    code, _, err = cli_raw("record", "signups", "3")
    # Then ./metrics.db is created, and the line says where the dashboard reads and names team.yaml
    assert code == 0
    assert err.startswith(
        "kpitui: created a new store ./metrics.db; the dashboard reads ./metrics.db"
    )
    assert "./team.yaml" in err and "--spec" in err


def test_every_store_command_takes_spec(here, cli):
    (here / "data").mkdir()
    (here / "board.yaml").write_text(SPEC, encoding="utf-8")
    csv = here / "points.csv"
    csv.write_text("metric,time,value\nsignups,2026-01-01,4\n", encoding="utf-8")
    assert cli("import", str(csv), "--spec", "board.yaml")[0] == 0
    assert (
        cli("checkin", "launch-mobile-app", "0.5", "--at", "2026-01-02", "--spec", "board.yaml")[0]
        == 0
    )
    code, out, _ = cli("metrics", "--json", "--spec", "board.yaml")
    assert code == 0 and [row["metric"] for row in json.loads(out)] == ["signups"]
    code, out, _ = cli("checkins", "--json", "--spec", "board.yaml")
    assert code == 0 and [row["kr"] for row in json.loads(out)] == ["launch-mobile-app"]
    assert not (here / "metrics.db").exists()


def test_a_missing_spec_is_refused(here, cli):
    code, _, err = cli("record", "m", "1", "--spec", "nope.yaml")
    assert (
        code == 2
        and err == "kpitui: nope.yaml: no such file (pass the dashboard spec whose store to use)\n"
    )


def test_kpitui_store_names_the_store_when_nothing_else_does(here, cli, monkeypatch):
    monkeypatch.setenv("KPITUI_STORE", str(here / "env.db"))
    assert cli("record", "m", "1")[0] == 0
    assert (here / "env.db").exists() and not (here / "metrics.db").exists()
    # A spec without `store:` defers to it too; --db wins over both
    (here / "dashboard.yaml").write_text("kpis:\n  - {metric: m}\n", encoding="utf-8")
    assert cli("record", "m", "2")[0] == 0
    assert cli("record", "m", "3", "--db", "other.db")[0] == 0
    assert (here / "other.db").exists() and not (here / "metrics.db").exists()
    from kpitui.spec import load_dashboard

    assert load_dashboard(here / "dashboard.yaml").store_path == here / "env.db"


def test_checkin_refuses_a_kr_id_the_spec_does_not_define(here, cli):
    (here / "data").mkdir()
    (here / "dashboard.yaml").write_text(SPEC, encoding="utf-8")
    # When a KR id with a typo is checked in
    code, out, err = cli("checkin", "launch-mobile-ap", "0.5")
    # Then exit 2, a did-you-mean, and nothing written (not even a store)
    assert code == 2 and out == ""
    assert err == (
        "kpitui: dashboard.yaml: 'launch-mobile-ap' is not a key result of this spec "
        "(did you mean 'launch-mobile-app'? Or pass --any-id to record it anyway)\n"
    )
    assert not (here / "data" / "team.db").exists()
    # Unless --any-id
    assert cli("checkin", "launch-mobile-ap", "0.5", "--any-id")[0] == 0
    # And with --db alone there is no spec to check against
    assert cli("checkin", "whatever", "1", "--db", "free.db")[0] == 0


def test_checkins_lists_and_deletes(here, cli):
    db = str(here / "m.db")
    assert cli("checkin", "a", "1", "--at", "2026-01-01", "--db", db, "--note", "first")[0] == 0
    assert (
        cli("checkin", "b", "2", "--at", "2026-01-02", "--db", db, "--confidence", "at_risk")[0]
        == 0
    )
    code, out, _ = cli("checkins", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "KR", "TIME", "VALUE", "CONFIDENCE", "NOTE"]
    assert lines[1].split() == ["1", "a", "2026-01-01T00:00:00Z", "1", "-", "first"]
    assert lines[2].split() == ["2", "b", "2026-01-02T00:00:00Z", "2", "at_risk"]
    code, out, _ = cli("checkins", "b", "--json", "--db", db)
    assert [row["id"] for row in json.loads(out)] == [2]
    # --delete ID removes one; an unknown id is an input error
    assert cli("checkins", "--delete", "1", "--db", db)[0] == 2  # no terminal, no --yes
    assert cli("checkins", "b", "--delete", "1", "--db", db, "--yes")[0] == 2  # 1 is a's
    assert cli("checkins", "a", "--delete", "1", "--db", db, "--dry-run")[:2] == (
        0,
        "would delete check-in 1 of a (1 at 2026-01-01T00:00:00Z)\n",
    )
    assert cli("checkins", "--delete", "1", "--db", db, "--yes")[:2] == (
        0,
        f"deleted check-in 1 from {db}\n",
    )
    assert [r["kr"] for r in json.loads(cli("checkins", "--json", "--db", db)[1])] == ["b"]
    code, _, err = cli("checkins", "--delete", "1", "--db", db, "--yes")
    assert code == 2 and "no check-in 1" in err


def test_checkins_on_a_missing_store_creates_nothing(here, cli):
    code, _, err = cli("checkins", "--db", "none.db")
    assert code == 2 and "no store here" in err
    assert cli("checkins", "--delete", "3", "--db", "none.db")[0] == 2
    assert not (here / "none.db").exists()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://etl:s3cret@db.internal:5432/kpis",
            "postgresql://etl:***@db.internal:5432/kpis",
        ),
        ("postgres://etl@db/kpis", "postgres://etl@db/kpis"),
        (
            "postgresql://db/kpis?sslmode=require&password=hunter2",
            "postgresql://db/kpis?sslmode=require&password=***",
        ),
        ("postgresql://u:p%40ss@h1,h2/kpis", "postgresql://u:***@h1,h2/kpis"),
    ],
)
def test_a_url_shows_with_its_password_masked(url, shown):
    name = StoreName.parse(url)
    assert name.is_url and name.path is None and name.url == url
    assert str(name) == name.display == mask_password(url) == shown


def test_a_path_is_a_sqlite_store_relative_to_its_base(tmp_path):
    name = StoreName.parse("data/m.db", base=tmp_path)
    assert not name.is_url and name.path == tmp_path / "data" / "m.db"
    assert StoreName.parse(name) is name
    assert StoreName.parse(tmp_path / "x.db") == StoreName.parse(str(tmp_path / "x.db"))
