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
        # a day from the edge years: 9998-12-31 12:00 UTC is already 9999 in Kiritimati
        (["snapshot", "--as-of", "9998-12-31T12:00:00Z"], "use a time from 1971-01-02 to"),
        (["run", "--as-of", "1971-01-01"], "use a time from 1971-01-02 to 9998-12-30"),
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


def test_a_mistyped_command_is_named_with_the_command_meant(capsys, tmp_path, monkeypatch):
    # Given a directory with no file called "snapshto"
    monkeypatch.chdir(tmp_path)
    # When the user types it as a command
    code = main(["snapshto", "--format", "text"])
    # Then one line suggests the command, not "no such file" for a spec
    assert code == 2
    assert capsys.readouterr().err == (
        "kpitui: snapshto: no such command or file (did you mean `kpitui snapshot`?)\n"
    )


def test_a_file_named_like_a_command_is_still_opened_as_a_spec(capsys, tmp_path, monkeypatch):
    # Given a spec file called "chek" (close to "check") that names no store
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chek").write_text("title: x\n")
    # When it is run, Then it is read as the spec (here: its store is missing)
    assert main(["chek"]) == 2
    assert "did you mean" not in capsys.readouterr().err


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


@pytest.mark.parametrize("store", ["42", "true", "[a.db]", ""])
@pytest.mark.parametrize(
    "argv", [["record", "z", "1"], ["checkin", "kr", "1"], ["import", "p.csv"], ["metrics"]]
)
def test_a_default_spec_whose_store_is_not_text_is_refused_as_check_says(
    capsys, tmp_path, monkeypatch, store, argv
):
    # Given a ./dashboard.yaml whose store: is a number, a boolean, a list or nothing
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text(f"title: x\nstore: {store}\n")
    (tmp_path / "p.csv").write_text("metric,time,value\nz,1800000000,1\n")
    main(["check"])
    said = capsys.readouterr()
    [check_line] = [
        line for line in (said.out + said.err).splitlines() if ": store: expected text" in line
    ]
    # When a store command looks for the store it names
    code = main(argv)
    # Then it exits 2 with check's own line (file:line:col) and writes no ./metrics.db
    assert code == 2
    assert capsys.readouterr().err == f"kpitui: {check_line}\n"
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
    src.write_text(
        json.dumps({"metric": "a", "time": "2026-11-01", "value": 1, "labels": {"": "x"}}) + "\n"
    )
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


def _board_with_store(root, store_key: str):
    """A spec at root/board/dashboard.yaml with `store: <store_key>`; the store it means
    is created at root/board/metrics.db."""
    board = root / "board"
    board.mkdir()
    spec = board / "dashboard.yaml"
    spec.write_text(f"store: {store_key}\nkpis:\n  - {{metric: mrr, indicator: leading}}\n")
    with open_writer(board / "metrics.db") as writer:
        writer.write_points([("mrr", {}, 1_790_000_000, 5.0)])
    return spec


@pytest.mark.parametrize("command", ["run", "snapshot", "check"])
def test_an_empty_store_key_means_the_default_store_for_every_command(
    command, tmp_path, monkeypatch, capsys
):
    from kpitui.tui.app import KpituiApp

    # Given a spec whose `store:` is empty text, beside a metrics.db
    spec = _board_with_store(tmp_path, '""')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(KpituiApp, "run", lambda self, **kw: None)
    monkeypatch.setattr("kpitui.cli.app_cmds.need_terminal", lambda: None)  # no tty here
    # When any command reads the spec / Then it uses that metrics.db, as `check` always did
    assert (
        main([command, str(spec), "--as-of", "2026-10-01"][: 2 if command == "check" else 4]) == 0
    )
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "snapshot", "check"])
def test_every_command_says_a_missing_store_alike(command, tmp_path, monkeypatch, capsys):
    from kpitui.tui.app import KpituiApp

    monkeypatch.setattr(KpituiApp, "run", lambda self, **kw: pytest.fail("app started"))
    spec = _board_with_store(tmp_path, "nope.db")
    # When the store the spec names is not there: named at its `store:` line
    assert main([command, str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:1:8: store: store not found: {spec.parent / 'nope.db'}" in err
    assert err.count("\n") == (2 if command == "check" else 1)  # check adds its tally
    # When --db names a directory: it says so, not that nothing is there
    (tmp_path / "dir.db").mkdir()
    assert main([command, str(spec), "--db", str(tmp_path / "dir.db")]) != 0
    err = capsys.readouterr().err
    assert "is a directory" in err and "Traceback" not in err


def test_run_and_snapshot_parse_the_spec_once(tmp_path, monkeypatch, capsys):
    import kpitui.spec
    from kpitui.tui.app import KpituiApp

    # Given a spec naming its store, and a count of the times it is read
    spec = _board_with_store(tmp_path, "metrics.db")
    reads: list[object] = []
    real = kpitui.spec.read_yaml
    monkeypatch.setattr(kpitui.spec, "read_yaml", lambda *a: reads.append(a) or real(*a))
    monkeypatch.setattr(KpituiApp, "run", lambda self, **kw: None)
    monkeypatch.setattr("kpitui.cli.app_cmds.need_terminal", lambda: None)  # no tty here
    # When the dashboard is opened, and a snapshot taken, without --db
    assert main(["run", str(spec)]) == 0
    assert main(["snapshot", str(spec), "--format", "json"]) == 0
    # Then each read the spec once
    assert len(reads) == 2


def test_run_on_a_directory_says_it_is_a_directory(tmp_path, capsys):
    # Given a directory holding a dashboard.yaml
    (tmp_path / "dashboard.yaml").write_text("kpis: [{metric: mrr}]\n")
    # When it is run
    assert main(["run", str(tmp_path)]) == 2
    # Then one line says what it is and which file was meant, as `check` does
    err = capsys.readouterr().err
    assert "is a directory" in err and f"did you mean {tmp_path / 'dashboard.yaml'}?" in err
    assert err.count("\n") == 1


def test_store_commands_expand_a_home_store_like_the_dashboard_does(tmp_path, monkeypatch):
    # Given ./dashboard.yaml naming `store: ~/kpi/m.db`, and a home directory
    home = tmp_path / "home"
    (home / "kpi").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text("store: ~/kpi/m.db\nkpis: [{metric: a}]\n")
    # When a point is recorded without --db
    assert main(["record", "a", "1"]) == 0
    # Then it lands in the store under home, the one `kpitui run` opens
    assert (home / "kpi" / "m.db").is_file()
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize("command", ["run", "snapshot", "check", "metrics"])
def test_a_file_that_is_not_a_store_is_the_same_error_for_every_command(
    command, capsys, tmp_path, monkeypatch
):
    # Given a valid spec whose --db is not a SQLite file
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text("kpis: [{metric: mrr}]\n")
    (tmp_path / "notes.db").write_text("not a database\n")
    args = ["--db", "notes.db"] if command == "metrics" else ["dashboard.yaml", "--db", "notes.db"]
    # When any command reads it (run stops before taking the screen)
    code = main([command, *args])
    err = capsys.readouterr().err
    # Then the same exit code, and one line saying what the file is (check goes on to
    # list the spec's own findings after it)
    assert code == 1, err
    assert err.startswith("kpitui: notes.db: not a kpitui store") or err.startswith(
        "notes.db: not a kpitui store"
    )
    assert "not a SQLite database" in err.splitlines()[0]
    assert command == "check" or len(err.splitlines()) == 1


def test_a_file_name_too_long_is_one_line_not_a_traceback(capsys):
    # Given a spec path longer than the system allows
    code = main(["check", "a" * 300])
    # Then one line says so, exit 2
    err = capsys.readouterr().err
    assert code == 2
    assert err.endswith(": file name too long\n") and err.count("\n") == 1


def test_a_store_under_an_unknown_home_is_not_found_not_a_traceback(capsys, tmp_path):
    # Given a spec whose store is in the home folder of a user that does not exist
    spec = tmp_path / "dashboard.yaml"
    spec.write_text("store: ~no-such-user-here/m.db\nkpis: [{metric: m}]\n")
    # When it is checked
    code = main(["check", str(spec)])
    # Then the store is reported as not found, at its line
    err = capsys.readouterr().err
    assert code == 2
    assert f"{spec}:1:8: store: store not found: {tmp_path}/~no-such-user-here/m.db" in err


def test_a_default_spec_nested_too_deeply_is_one_line_for_store_commands(
    capsys, tmp_path, monkeypatch
):
    # Given a ./dashboard.yaml nested deeper than YAML parsers allow
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    # When a store command looks for the store it names
    code = main(["metrics"])
    # Then one line at the place, not a RecursionError
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("kpitui: dashboard.yaml:1:") and err.count("\n") == 1


@pytest.mark.parametrize("command", ["check", "snapshot"])
def test_control_characters_from_a_spec_are_escaped_in_error_lines(capsys, tmp_path, command):
    # Given a spec whose store name holds a colour code and a terminal-title sequence
    spec = tmp_path / "dashboard.yaml"
    spec.write_text('store: "x\\e[31mRED\\e]0;pwned\\a"\nkpis: [{metric: m}]\n')
    # When the command reports the missing store
    assert main([command, str(spec)]) == 2
    err = capsys.readouterr().err
    # Then the sequence is shown escaped, never sent to the terminal
    assert "\x1b" not in err and "\x07" not in err
    assert "x\\x1b[31mRED\\x1b]0;pwned\\x07" in err
