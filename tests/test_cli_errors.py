"""Argument and input mistakes: one line on stderr, exit 2, never a usage block."""

from __future__ import annotations

import json

import pytest

from kpitui.cli import main
from kpitui.store import open_writer


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["snapshot", "--as-of", "1795521600000"], "milliseconds? divide by 1000"),
        (["snapshot", "--as-of", "0001-01-01"], "out of range"),
        (["snapshot", "--as-of", "tomorrow"], "is not a time"),
        (["snapshot", "--format", "xml"], "invalid choice: 'xml'"),
        (["checkin", "k", "1", "--confidence", "great"], "invalid choice: 'great'"),
        (["record", "m", "1", "--at", "2026-02-30"], "is not a time"),
    ],
)
def test_argument_mistakes_are_one_line_and_exit_2(argv, fragment, capsys, tmp_path, monkeypatch):
    # Given an empty directory, When a command gets a bad argument
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    # Then it exits 2 with one line naming the problem and where help is
    assert exited.value.code == 2
    assert err.count("\n") == 1 and fragment in err and "--help" in err
    assert "usage:" not in err


def test_bad_yaml_in_the_default_spec_names_its_line(capsys, tmp_path, monkeypatch):
    # Given a ./dashboard.yaml that is not valid YAML
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text("title: [x\n")
    # When a store command looks for the store it names
    code = main(["record", "a", "1"])
    # Then one line names the file, line and column, and nothing is created
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("kpitui: dashboard.yaml:2:1: not valid YAML")
    assert not (tmp_path / "metrics.db").exists()


def test_metrics_prints_unicode_labels_and_escapes_only_controls(capsys, tmp_path):
    # Given a series labelled with emoji, CJK and an escape character
    db = tmp_path / "m.db"
    with open_writer(db) as writer:
        writer.write_points([("m", {"plan": "$💥 émoji 中文 \x1b[31m"}, 1_790_000_000, 1.0)])
    # When the metrics are listed as text
    assert main(["metrics", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    # Then the label is shown as written, with only the control character escaped
    assert "$💥 émoji 中文 \\x1b[31m" in out


def test_an_empty_label_name_in_json_lines_is_refused(capsys, tmp_path):
    # Given a JSON Lines point whose label has an empty name
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps({"metric": "a", "time": "2026-11-01", "value": 1, "labels": {"": "x"}}) + "\n")
    # When it is imported
    code = main(["import", str(src), "--db", str(tmp_path / "m.db")])
    # Then the import fails at line 1 and says why
    assert code == 2
    assert "p.jsonl:1: a label has an empty name" in capsys.readouterr().err


def test_a_failed_import_into_a_new_store_leaves_no_store_behind(capsys, tmp_path):
    # Given a CSV whose second data line is bad, and no store yet
    src = tmp_path / "p.csv"
    src.write_text("metric,time,value\nsignups,2026-11-01,3\nsignups,2026-11-02,lots\n")
    db = tmp_path / "new.db"
    # When it is imported
    assert main(["import", str(src), "--db", str(db)]) == 2
    # Then the error names line 3, and no store file was left behind
    assert "p.csv:3:" in capsys.readouterr().err
    assert not db.exists() and not (tmp_path / "new.db-wal").exists()
