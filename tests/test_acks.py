"""The viewer's acknowledgements: in the XDG state directory, per store, surviving a
restart, and never a crash over an unreadable or unwritable file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitui.acks import Acks, state_dir

MRR = ("kpi", "mrr")
CHURN = ("kpi", "churn")


def test_the_state_directory_follows_xdg(tmp_path):
    assert state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "kpitui"
    # A relative XDG_STATE_HOME is invalid by the spec: the default is used
    assert state_dir({"XDG_STATE_HOME": "rel"}) == Path.home() / ".local/state/kpitui"


def test_an_ack_covers_older_alerts_not_newer_ones_and_survives_a_restart(tmp_path):
    # Given MRR's alert at 200 acknowledged
    path = tmp_path / "acks.json"
    acks = Acks("/srv/metrics.db", path)
    assert acks.ack({MRR: (200, 7)}) is True
    assert acks.save() is None
    # When the board starts again
    again = Acks("/srv/metrics.db", path)
    # Then alerts at or before 200 are acknowledged, a newer one is new, churn untouched
    assert again.is_acked(MRR, 100, 3) and again.is_acked(MRR, 200, 7)
    assert not again.is_acked(MRR, 201, 8)
    # And one in the same second, written after it, is new too
    assert not again.is_acked(MRR, 200, 8)
    assert not again.is_acked(CHURN, 50)
    # And acknowledging an older alert changes nothing
    assert again.ack({MRR: (150, 5)}) is False


def test_each_store_has_its_own_acks(tmp_path):
    path = tmp_path / "acks.json"
    team = Acks("postgresql://db/kpis", path)
    team.ack({MRR: (500, 1)})
    team.save()
    mine = Acks("metrics.db", path)
    mine.ack({CHURN: (10, 2)})
    mine.save()
    assert Acks("postgresql://db/kpis", path).is_acked(MRR, 500)
    assert not Acks("metrics.db", path).is_acked(MRR, 500)
    assert Acks("metrics.db", path).is_acked(CHURN, 10)


def test_an_unreadable_file_is_empty_and_an_unwritable_one_is_said(tmp_path):
    path = tmp_path / "acks.json"
    path.write_text("{not json", encoding="utf-8")
    acks = Acks("metrics.db", path)
    assert acks.acked_until(MRR) is None
    blocked = tmp_path / "file"
    blocked.write_text("")
    stuck = Acks("metrics.db", blocked / "acks.json")
    stuck.ack({MRR: (1, 1)})
    said = stuck.save()
    assert said is not None and said.startswith(f"cannot keep acknowledgements in {blocked}")


def test_a_served_viewer_has_a_file_of_its_own_and_a_bad_name_none(tmp_path):
    from kpitui.acks import acks_path, valid_viewer

    env = {"XDG_STATE_HOME": str(tmp_path)}
    assert acks_path(None, env) == tmp_path / "kpitui" / "acks.json"
    assert acks_path("Zx3_-abcdefghijklmn", env) == tmp_path / "kpitui" / "viewers" / (
        "Zx3_-abcdefghijklmn.json"
    )
    for bad in ("../../etc/passwd-xxxxxxx", "short", "a" * 65, "", None, "ümlaut-abcdefghijkl"):
        assert not valid_viewer(bad)
    with pytest.raises(ValueError):
        acks_path("../escape-the-folder-x", env)


def test_the_board_run_by_serve_takes_its_viewer_from_the_environment(monkeypatch):
    from kpitui.acks import VIEWER_ENV
    from kpitui.cli.app_cmds import served_viewer

    monkeypatch.delenv(VIEWER_ENV, raising=False)
    assert served_viewer() is None  # a terminal: the user's own acks.json
    monkeypatch.setenv(VIEWER_ENV, "b" * 24)
    assert served_viewer() == "b" * 24
    monkeypatch.setenv(VIEWER_ENV, "../../x")
    assert served_viewer() is None


def test_the_state_acknowledged_is_kept_and_an_older_file_still_reads(tmp_path):
    path = tmp_path / "acks.json"
    acks = Acks("metrics.db", path)
    acks.ack({MRR: (200, 0)}, {MRR: "crit"})
    acks.ack({CHURN: (100, 4)})
    assert acks.save() is None
    again = Acks("metrics.db", path)
    assert (again.acked_state(MRR), again.acked_until(MRR)) == ("crit", (200, 0))
    assert (again.acked_state(CHURN), again.acked_until(CHURN)) == (None, (100, 4))
    # And a file of two-number marks (written before states were kept) reads as before
    path.write_text('{"version": 1, "stores": {"metrics.db": {"kpi:mrr": [5, 1]}}}')
    assert Acks("metrics.db", path).is_acked(MRR, 5, 1)
