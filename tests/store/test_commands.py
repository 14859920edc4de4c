"""`kpitui record`, `checkin`, `metrics`, and how every store command reports trouble."""

from __future__ import annotations

import json
import sqlite3

import pytest

from kpitui.cli import build_parser
from kpitui.store import open_reader
from kpitui.store.sqlite import writer
from tests.store.conftest import count_points

T0 = 1_767_225_600


def test_record_one_point_with_labels(db, cli):
    code, out, err = cli(
        "record", "mrr", "12500.5", "--label", "plan=pro", "--at", "2026-01-01", "--db", str(db)
    )
    assert (code, err) == (0, "")
    assert out == f"recorded mrr{{plan=pro}} = 12500.5 at 2026-01-01T00:00:00Z in {db}\n"
    reader = open_reader(db)
    assert reader.last("mrr", {"plan": "pro"}, T0).value == 12500.5
    reader.close()


@pytest.mark.parametrize(
    ("command", "text", "shown"),
    [
        ("record", "12345678", "12345678"),
        ("record", "0.1234567", "0.1234567"),
        ("record", "1e-05", "0.00001"),
        ("record", "2.5e16", "25000000000000000"),
        ("record", "1e300", "1e+300"),
        ("checkin", "0.1234567", "0.1234567"),
        ("checkin", "12345678.9", "12345678.9"),
    ],
)
def test_the_confirmation_shows_the_value_as_stored(db, cli, command, text, shown):
    # Given a value with more than six significant digits (or a tiny or huge one)
    # When it is recorded
    code, out, _ = cli(command, "x", text, "--at", str(T0), "--db", str(db))
    # Then the line echoes it exactly, in full for everyday magnitudes, never rounded
    assert code == 0 and f" = {shown} at " in out, out


ESC = "\x1b]0;pwned\x07\x1b[31m"  # sets the terminal's title, then turns text red
SHOWN = "\\x1b]0;pwned\\x07\\x1b[31m"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("record", "m", "1", "--label", f"r={ESC}"), f"recorded m{{r={SHOWN}}} = 1"),
        (("checkin", f"kr{ESC}", "1"), f"checked in kr{SHOWN} = 1"),
        (("import", f"in{ESC}.csv"), f"from in{SHOWN}.csv"),
        (("import", "in\udcff.csv"), "from in\\xff.csv"),  # a file name that is not UTF-8
    ],
)
def test_success_lines_show_user_text_literally(tmp_path, cli, monkeypatch, args, expected):
    # Given a label, KR id, file name and store path holding escape codes (or a non-UTF-8 byte)
    monkeypatch.chdir(tmp_path)
    if args[0] == "import":
        (tmp_path / args[1]).write_text(f"metric,time,value\nm,{T0},1\n")
    # When the command succeeds
    at = () if args[0] == "import" else ("--at", str(T0))
    code, out, _ = cli(*args, *at, "--db", f"s{ESC}.db")
    # Then its line shows them escaped: nothing reaches the terminal raw
    assert code == 0
    assert expected in out
    assert args[0] == "import" or out.endswith(f" in s{SHOWN}.db\n")
    assert "\x1b" not in out and "\x07" not in out


def test_record_defaults_to_now(db, cli, monkeypatch):
    monkeypatch.setattr("kpitui.timeutil.SystemClock.now", lambda self: T0 + 42)
    assert cli("record", "signups", "-3", "--db", str(db))[0] == 0
    reader = open_reader(db)
    assert reader.last("signups", None, T0 + 100).ts == T0 + 42
    assert reader.last("signups", None, T0 + 100).value == -3.0
    reader.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sign ups", "1"), "'sign ups' is not a metric name"),
        (("signups", "many"), "VALUE 'many' is not a number"),
        (("signups", "nan"), "VALUE 'nan' is not a finite number"),
        (("signups", "1", "--label", "plan"), "--label 'plan' is not KEY=VALUE"),
        (("signups", "1", "--label", "a=1", "--label", "a=2"), "--label 'a' is given twice"),
    ],
)
def test_record_bad_input_exits_2(db, cli, args, message):
    code, out, err = cli("record", *args, "--db", str(db))
    assert code == 2 and out == ""
    assert err.startswith(f"kpitui: {message}"), err
    assert not db.exists()


@pytest.mark.parametrize(
    ("command", "text", "stored"),
    [
        ("record", "-1e-05", -1e-05),
        ("record", "-1E3", -1000.0),
        ("record", "-.5", -0.5),
        ("checkin", "-1e3", -1000.0),
        ("checkin", "-2.5e+2", -250.0),
    ],
)
def test_any_negative_number_is_a_value_not_an_option(db, cli, command, text, stored):
    # Given a negative value written with an exponent or a bare decimal point
    name = "temp" if command == "record" else "kr"
    # When it is recorded
    code, _, err = cli(command, name, text, "--at", str(T0), "--db", str(db))
    # Then it is read as VALUE (argparse alone took it for an unknown option)
    assert (code, err) == (0, "")
    reader = open_reader(db)
    got = (
        reader.last(name, None, T0).value if command == "record" else reader.checkins(name)[0].value
    )
    reader.close()
    assert got == stored


@pytest.mark.parametrize("command", ["record", "checkin"])
@pytest.mark.parametrize("text", ["-inf", "-nan", "-Infinity"])
def test_negative_infinity_and_nan_reach_the_finite_number_message(db, cli, command, text):
    # Given -inf or -nan as VALUE, When recorded
    code, _, err = cli(command, "x", text, "--db", str(db))
    # Then VALUE itself is refused as not finite, not reported missing
    assert code == 2 and err.startswith(f"kpitui: VALUE {text!r} is not a finite number"), err
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("record", "x", "1", "--label", "plan=\udcff"), "--label 'plan=\\xff' is not UTF-8 text"),
        (("record", "m\udcff", "1"), "METRIC 'm\\xff' is not UTF-8 text"),
        (("checkin", "kr", "1", "--note", "caf\udce9"), "--note 'caf\\xe9' is not UTF-8 text"),
        (("checkin", "k\udcffr", "1"), "KR_ID 'k\\xffr' is not UTF-8 text"),
        (("import", "x.csv", "--metric", "m\udcff"), "--metric 'm\\xff' is not UTF-8 text"),
    ],
)
def test_arguments_that_are_not_utf8_are_named_and_write_nothing(
    tmp_path, db, cli, monkeypatch, args, message
):
    # Given an argument holding a byte that is not UTF-8 (Python keeps it as a surrogate)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text(f"time,value\n{T0},1\n")
    # When the command runs
    code, out, err = cli(*args, "--db", str(db))
    # Then one line names the argument with its byte shown, and says how to fix it
    assert (code, out) == (2, "")
    assert err.startswith(f"kpitui: {message} (") and "write it in UTF-8" in err, err
    assert err.count("\n") == 1
    assert not db.exists()


def test_record_bad_time_is_an_argument_error(db, cli, capsys):
    with pytest.raises(SystemExit) as caught:
        cli("record", "signups", "1", "--at", "next tuesday", "--db", str(db))
    assert caught.value.code == 2
    assert "is not a time" in capsys.readouterr().err


def test_checkin(db, cli):
    code, out, _ = cli(
        "checkin",
        "launch-mobile-app",
        "0.4",
        "--confidence",
        "at_risk",
        "--note",
        "beta slipped",
        "--at",
        "2026-01-05T10:00:00Z",
        "--db",
        str(db),
    )
    assert code == 0
    assert out == f"checked in launch-mobile-app = 0.4 (at_risk) at 2026-01-05T10:00:00Z in {db}\n"
    reader = open_reader(db)
    [checkin] = reader.checkins("launch-mobile-app")
    assert (checkin.value, checkin.confidence, checkin.note) == (0.4, "at_risk", "beta slipped")
    reader.close()


def test_checkin_bad_value(db, cli):
    code, _, err = cli("checkin", "launch", "soon", "--db", str(db))
    assert code == 2 and "VALUE 'soon' is not a number" in err


def test_metrics_table_and_json(db, cli, write):
    write(
        [
            ("mrr", {"plan": "pro"}, T0, 1.0),
            ("mrr", {"plan": "starter"}, T0 + 86400, 2.0),
            ("mrr", {"plan": "starter"}, T0 + 2 * 86400, 3.0),
            ("signups", {"region": "eu", "source": "ads"}, T0, 1.0),
            ("dau", {}, T0, 1.0),
        ]
    )
    code, out, _ = cli("metrics", "--db", str(db))
    assert code == 0
    assert out.splitlines() == [
        "METRIC   POINTS  SERIES  FIRST                 LAST                  LABELS",
        "dau           1       1  2026-01-01T00:00:00Z  2026-01-01T00:00:00Z  -",
        "mrr           3       2  2026-01-01T00:00:00Z  2026-01-03T00:00:00Z  plan=pro|starter",
        "signups       1       1  2026-01-01T00:00:00Z  2026-01-01T00:00:00Z  region=eu source=ads",
    ]
    code, out, _ = cli("metrics", "--json", "--db", str(db))
    rows = json.loads(out)
    assert rows[1] == {
        "metric": "mrr",
        "points": 3,
        "series": 2,
        "first": "2026-01-01T00:00:00Z",
        "last": "2026-01-03T00:00:00Z",
        "labels": {"plan": ["pro", "starter"]},
    }


def test_metrics_shows_store_text_literally(db, cli, write):
    write([("m", {"k": "\x1b[31mred"}, T0, 1.0)])
    out = cli("metrics", "--db", str(db))[1]
    assert "\x1b" not in out and "k=\\x1b[31mred" in out


def test_metrics_on_an_empty_or_missing_store(db, cli, write):
    code, _, err = cli("metrics", "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {db}: no store here")
    assert not db.exists()
    write([])
    code, out, _ = cli("metrics", "--db", str(db))
    assert code == 0 and out.startswith(f"no metrics in {db} yet")
    assert json.loads(cli("metrics", "--json", "--db", str(db))[1]) == []


@pytest.mark.parametrize(
    "args",
    [
        ("record", "signups", "1"),
        ("checkin", "launch", "0.5"),
        ("import", "points.csv"),
    ],
)
def test_a_locked_store_exits_1_saying_so(tmp_path, db, cli, write, monkeypatch, args):
    # Given a store whose write lock another program holds
    write([("signups", {}, T0, 1.0)])
    (tmp_path / "points.csv").write_text(f"metric,time,value\nsignups,{T0 + 1},2\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(writer, "BUSY_TIMEOUT", 0.05)  # the real wait is 5 s
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # When a writing command runs
        code, out, err = cli(*args, "--db", str(db))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Then exit 1, one line, "store is locked", nothing written
    assert code == 1 and out == ""
    assert (
        err
        == f"kpitui: {db}: store is locked by another writer (waited 0.05 s) (try again when the other import or script has finished)\n"
    )
    assert count_points(db) == 1


def test_not_sqlite_exits_1(tmp_path, cli):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 200)
    for args in (("record", "m", "1"), ("metrics",)):
        code, _, err = cli(*args, "--db", str(path))
        assert code == 1 and "not a SQLite database" in err


def test_the_default_store_comes_from_dashboard_yaml(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text("title: x\nstore: data/kpi.db\n")
    (tmp_path / "data").mkdir()
    assert cli("record", "m", "1", "--at", str(T0))[0] == 0
    assert (tmp_path / "data" / "kpi.db").exists()
    (tmp_path / "dashboard.yaml").unlink()
    assert cli("record", "m", "1", "--at", str(T0))[0] == 0
    assert (tmp_path / "metrics.db").exists()


@pytest.mark.parametrize("command", ["record", "import", "checkin", "metrics"])
def test_every_command_has_help_with_examples(command, capsys):
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args([command, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "examples:\n  kpitui " + command in out
    assert "--db STORE" in out
