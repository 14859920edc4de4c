"""`kpitui import`: every format, every bad line with its line number, all or nothing."""

from __future__ import annotations

import io
import json
import sqlite3
import sys

import pytest

from kpitui.literal import quoted
from kpitui.store import import_csv, open_reader
from tests.store.conftest import count_points

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def series_points(db, metric):
    """{labels: sum of values} of each series of `metric` (exactly that series)."""
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT s.labels, sum(p.value) FROM series s JOIN points p ON p.series_id = s.id"
            " WHERE s.metric = ? GROUP BY s.id",
            (metric,),
        ).fetchall()
    return {tuple(sorted(json.loads(labels).items())): total for labels, total in rows}


def test_long_csv_with_labels_and_mixed_times(tmp_path, db, cli):
    # Given a long CSV with a label column, an empty label cell and three time styles
    src = tmp_path / "signups.csv"
    src.write_text(
        "metric,time,value,region\n"
        f"signups,{T0},3,eu\n"
        "signups,2026-01-01T01:00:00Z,4,us\n"
        "signups,2026-01-02,5,\n"
        "visits,2026-01-01T02:00:00+01:00,100.5,eu\n"
    )
    # When importing it
    code, out, err = cli("import", str(src), "--db", str(db))
    # Then every point lands in its series; the empty cell means no label
    assert (code, err) == (0, "")
    assert out.startswith(f"imported 4 points into 4 series from {src} (")
    assert series_points(db, "signups") == {
        (("region", "eu"),): 3.0,
        (("region", "us"),): 4.0,
        (): 5.0,
    }
    reader = open_reader(db)
    assert reader.last("visits", None, T0 * 2).ts == T0 + 3600  # 02:00+01:00 is 01:00Z
    assert reader.last("signups", {}, T0 * 2).ts == T0 + 86400
    reader.close()


def test_label_cells_are_read_without_the_spaces_around_them(tmp_path, db, cli):
    # Given a CSV written with ", " between cells, one label cell only spaces
    src = tmp_path / "spaced.csv"
    src.write_text(f"metric,time,value,region\nx,{T0}, 5, eu\nx,{T0 + 1},6,eu\nx,{T0 + 2},7,  \n")
    assert cli("import", str(src), "--db", str(db))[0] == 0
    # Then " eu" and "eu" are one series, and the blank cell means no label
    assert series_points(db, "x") == {(("region", "eu"),): 11.0, (): 7.0}


def test_every_writer_strips_names_and_labels_the_same_way(tmp_path, db, cli):
    # Given one series written by record, a ", " CSV, JSON Lines and --metric, each
    # with spaces around the metric name, label names or label values
    assert (
        cli("record", " lat ", "1", "--label", " region= eu ", "--at", str(T0), "--db", str(db))[0]
        == 0
    )
    spaced = tmp_path / "spaced.csv"
    spaced.write_text(f"time, metric, value, region\n{T0 + 1}, lat, 2, eu\n")
    lines = tmp_path / "points.jsonl"
    point = {"metric": " lat", "time": T0 + 2, "value": 4, "labels": {" region ": "eu "}}
    lines.write_text(json.dumps(point) + "\n")
    bare = tmp_path / "bare.csv"
    bare.write_text(f"time,value,region\n{T0 + 3},8,eu\n")
    for args in ((spaced,), (lines,), (bare, "--metric", " lat")):
        code, _, err = cli("import", str(args[0]), *args[1:], "--db", str(db))
        assert (code, err) == (0, ""), err
    # Then all four points are in one series lat{region=eu}
    assert series_points(db, "lat") == {(("region", "eu"),): 15.0}


def test_a_json_label_named_twice_once_spaces_are_gone_is_refused(tmp_path, db, cli):
    # Given a point with labels " region" and "region "
    src = tmp_path / "twice.jsonl"
    point = {"metric": "x", "time": T0, "value": 1, "labels": {" region": "eu", "region ": "us"}}
    src.write_text(json.dumps(point) + "\n")
    # When importing it, Then it is refused at its line rather than one silently kept
    code, _, err = cli("import", str(src), "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {src}:1: label 'region' is given twice"), err
    assert count_points(db) == 0


@pytest.mark.parametrize("wide", [False, True])
def test_a_second_time_column_is_refused_not_read_as_a_label(tmp_path, db, cli, wide):
    src = tmp_path / "two.csv"
    header = "date,timestamp,signups" if wide else "metric,date,timestamp,value"
    row = f"2026-01-01,{T0},5" if wide else f"signups,2026-01-01,{T0},5"
    src.write_text(f"{header}\n{row}\n")
    code, _, err = cli("import", str(src), *(["--wide"] if wide else []), "--db", str(db))
    assert code == 2
    assert err.startswith(f"kpitui: {src}:1: the header has two time columns, 'date' and ")


def test_metric_option_when_the_file_has_no_metric_column(tmp_path, db, cli):
    src = tmp_path / "latency.csv"
    src.write_text(f"time,value,region\n{T0},180,eu\n{T0 + 1},220,us\n")
    assert cli("import", str(src), "--metric", "page_latency_ms", "--db", str(db))[0] == 0
    assert series_points(db, "page_latency_ms") == {
        (("region", "eu"),): 180.0,
        (("region", "us"),): 220.0,
    }


def test_metric_option_fills_json_points_without_one_and_refuses_a_second_name(tmp_path, db, cli):
    # Given JSON lines without a metric: --metric names them
    src = tmp_path / "points.jsonl"
    src.write_text(json.dumps({"time": T0, "value": 3}) + "\n")
    assert cli("import", str(src), "--metric", "dau", "--db", str(db))[0] == 0
    assert series_points(db, "dau") == {(): 3.0}
    # And a point that names its own metric is refused, as a CSV metric column is
    src.write_text(json.dumps({"metric": "mrr", "time": T0, "value": 4}) + "\n")
    code, _, err = cli("import", str(src), "--metric", "dau", "--db", str(db))
    assert code == 2
    assert err.startswith(f'kpitui: {src}:1: the point has a "metric" and --metric was given')
    assert series_points(db, "mrr") == {}


def test_yyyymmdd_times_are_dates_not_seconds_of_1970(tmp_path, db, cli):
    # Given a CSV whose times are written 20260101 (as many exports do)
    src = tmp_path / "days.csv"
    src.write_text("metric,time,value\nx,20260101,1\nx,20260102,2\n")
    assert cli("import", str(src), "--db", str(db))[0] == 0
    # Then they are midnight UTC of those days
    reader = open_reader(db)
    assert reader.last("x", {}, 2_000_000_000).ts == 1_767_312_000  # 2026-01-02
    reader.close()
    # And an impossible one names its line
    src.write_text("metric,time,value\nx,20261301,1\n")
    code, _, err = cli("import", str(src), "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {src}:2: '20261301' is not a date"), err


RANGE = "use a time from 1971 to 9998; epoch milliseconds? divide by 1000"


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("2026", "'2026' is a year, not a time", "write a date such as 2026-01-01"),
        ("1960-01-01", "time '1960-01-01' is out of range", RANGE),
        ("0001-01-01", "time '0001-01-01' is out of range", RANGE),
        ("1970-12-31T23:59:59Z", "is out of range", RANGE),
        ("-1", "is out of range", RANGE),
        ("1971-01-01", None, None),
        ("9998-12-31T23:59:59Z", None, None),
        ("9999-01-01", "is out of range", RANGE),
        ("253402300799", "is out of range", RANGE),  # 9999-12-31T23:59:59Z
    ],
)
def test_record_checkin_and_every_import_agree_on_what_a_time_is(
    tmp_path, db, cli, capsys, text, message, hint
):
    # Given one time written through each writing path
    csv_src, jsonl_src = tmp_path / "p.csv", tmp_path / "p.jsonl"
    csv_src.write_text(f"metric,time,value\nx,{T0},1\nx,{text},2\n")
    raw = int(text) if text.lstrip("-").isdigit() else text  # a JSON number when it is one
    jsonl_src.write_text(json.dumps({"metric": "x", "time": raw, "value": 2}) + "\n")
    # When each path writes it
    answers = []
    for args in (("import", str(csv_src)), ("import", str(jsonl_src))):
        answers.append(cli(*args, "--db", str(db))[::2])
    for args in (("record", "x", "2"), ("checkin", "kr", "2")):
        try:
            answers.append(cli(*args, "--at", text, "--db", str(db))[::2])
        except SystemExit as exited:  # --at is checked by argparse
            answers.append((exited.code, capsys.readouterr().err))
    # Then all accept it, or all refuse it with the same message and hint
    if message is None:
        assert answers == [(0, "")] * 4
    else:
        for code, err in answers:
            assert code == 2 and message in err and hint in err, err
        assert count_points(db) == 0


def test_missing_metric_column_without_metric_option(tmp_path, db, cli):
    src = tmp_path / "x.csv"
    src.write_text(f"time,value\n{T0},1\n")
    code, _, err = cli("import", str(src), "--db", str(db))
    assert code == 2
    assert (
        err
        == f"kpitui: {src}:1: the header has no metric column (add a metric column, or name the metric with --metric NAME)\n"
    )


def test_wide_csv(tmp_path, db, cli):
    # Given a spreadsheet export: a date column and one column per metric, a gap in mau
    src = tmp_path / "export.csv"
    src.write_text("date,mrr,mau\n2026-01-01,100,10\n2026-01-02,110,\n2026-01-03,120,12\n")
    code, out, _ = cli("import", str(src), "--wide", "--db", str(db))
    assert code == 0 and "imported 5 points into 2 series" in out
    assert series_points(db, "mrr") == {(): 330.0}
    assert series_points(db, "mau") == {(): 22.0}


def test_wide_csv_bad_cell_names_its_line(tmp_path, db, cli):
    src = tmp_path / "export.csv"
    src.write_text("time,mrr,mau\n2026-01-01,100,10\n2026-01-02,oops,11\n")
    code, _, err = cli("import", str(src), "--wide", "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {src}:3: 'oops' is not a number (")
    assert count_points(db) == 0


def test_wide_csv_bad_metric_column(tmp_path, db, cli):
    src = tmp_path / "export.csv"
    src.write_text("time,monthly revenue\n2026-01-01,100\n")
    code, _, err = cli("import", str(src), "--wide", "--db", str(db))
    assert code == 2 and f"{src}:1: column 'monthly revenue' is not a metric name" in err


def test_json_lines(tmp_path, db, cli):
    src = tmp_path / "events.ndjson"
    src.write_text(
        json.dumps({"metric": "signups", "time": T0, "value": 2, "labels": {"region": "eu"}})
        + "\n\n"
        + json.dumps({"metric": "signups", "time": "2026-01-01T00:00:05Z", "value": "3.5"})
        + "\n"
    )
    code, out, _ = cli("import", str(src), "--db", str(db))
    assert code == 0 and "imported 2 points into 2 series" in out
    assert series_points(db, "signups") == {(("region", "eu"),): 2.0, (): 3.5}


def test_json_array_with_line_numbers(tmp_path, db, cli):
    src = tmp_path / "points.json"
    src.write_text(
        "[\n"
        f'  {{"metric": "mrr", "time": {T0}, "value": 1}},\n'
        "  {\n"
        '    "metric": "mrr", "time": "2026-01-02", "value": NaN\n'
        "  }\n"
        "]\n"
    )
    code, _, err = cli("import", str(src), "--db", str(db))
    # The bad object starts on line 3
    assert code == 2 and err.startswith(f"kpitui: {src}:3: nan is not a finite number")
    assert count_points(db) == 0
    src.write_text(
        f'[{{"metric": "mrr", "time": {T0}, "value": 1}}, {{"metric": "mrr", "time": {T0 + 1}, "value": 2}}]'
    )
    assert cli("import", str(src), "--db", str(db))[0] == 0
    assert count_points(db) == 2


@pytest.mark.parametrize(
    ("after", "place"),
    [
        (f'\n[{{"metric": "c2", "time": {T0}, "value": 2}}]\n', "2:1"),
        (" trailing\n", "1:{end}"),
        ("\n\n  ,\n", "3:3"),
    ],
)
def test_anything_after_the_json_array_is_refused(tmp_path, db, cli, after, place):
    # Given a .json file whose array is followed by a second array, or by stray text
    first = f'[{{"metric": "c1", "time": {T0}, "value": 1}}]'
    src = tmp_path / "points.json"
    src.write_text(first + after)
    # When importing it
    code, out, err = cli("import", str(src), "--db", str(db))
    # Then exit 2 at the line and column where the extra text starts; nothing written
    place = place.format(end=len(first) + 2)
    assert (code, out) == (2, "")
    assert err.startswith(f"kpitui: {src}:{place}: not valid JSON: more after the array"), err
    assert count_points(db) == 0


def test_stdin_is_csv_unless_format(db, cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"metric,time,value\nsignups,{T0},7\n"))
    code, out, _ = cli("import", "-", "--db", str(db))
    assert code == 0 and "from <stdin>" in out
    monkeypatch.setattr(
        sys, "stdin", io.StringIO(json.dumps({"metric": "dau", "time": T0, "value": 9}) + "\n")
    )
    assert cli("import", "-", "--format", "jsonl", "--db", str(db))[0] == 0
    assert series_points(db, "dau") == {(): 9.0}


def test_quoted_crlf_bom_and_blank_lines_take_the_csv_module_path(tmp_path, db, cli):
    # Given an Excel-style export: BOM, CRLF, quoted label with a comma, a blank line
    src = tmp_path / "excel.csv"
    src.write_bytes(
        "\ufeffmetric,time,value,team\r\n"
        f'signups,{T0},1,"growth, emea"\r\n'
        "\r\n"
        f"signups,{T0 + 1},2,core\r\n".encode()
    )
    assert cli("import", str(src), "--db", str(db))[0] == 0
    assert series_points(db, "signups") == {
        (("team", "core"),): 2.0,
        (("team", "growth, emea"),): 1.0,
    }


@pytest.mark.parametrize("quoted", [False, True])  # the fast path, then the csv module's
@pytest.mark.parametrize("blank", [",,,", " , ,\t, ", "   ", ""])
def test_blank_spreadsheet_rows_are_skipped_and_lines_stay_physical(
    tmp_path, db, cli, quoted, blank
):
    # Given blank rows (empty cells, spaces, or nothing) between and after two good rows
    label = '"eu"' if quoted else "eu"
    rows = [f"s,{T0},1,{label}", blank, blank, f"s,{T0 + 1},2,{label}", blank, blank]
    src = tmp_path / "sheet.csv"
    src.write_text("metric,time,value,region\n" + "\n".join(rows))  # no final newline
    # When importing it, Then the blank rows are skipped like blank lines
    code, _, err = cli("import", str(src), "--db", str(db))
    assert (code, err) == (0, ""), err
    assert series_points(db, "s") == {(("region", "eu"),): 3.0}
    # And a bad row after blank ones is still named by its physical line
    rows[3] = f"s,{T0 + 1},oops,{label}"
    src.write_text("metric,time,value,region\n" + "\n".join(rows) + "\n")
    code, _, err = cli("import", str(src), "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {src}:5: 'oops' is not a number"), err


def test_blank_rows_of_a_wide_csv_are_skipped(tmp_path, db, cli):
    # Given a spreadsheet export with empty rows in the middle and at the end
    src = tmp_path / "export.csv"
    src.write_text("date,mrr,mau\n2026-01-01,100,10\n,,\n2026-01-02,110,11\n,,\n  , ,\n")
    # When importing it, Then only the filled rows become points
    code, out, err = cli("import", str(src), "--wide", "--db", str(db))
    assert (code, err) == (0, ""), err
    assert "imported 4 points" in out


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (f"signups,{T0},abc\n", 3, "'abc' is not a number"),
        (f"signups,{T0},\n", 3, "the value is empty"),
        (
            f"signups,{T0},nan\n",
            3,
            "'nan' is not a finite number (values must be finite numbers: no NaN or infinity)",
        ),
        (f"signups,{T0},inf\n", 3, "'inf' is not a finite number"),
        (f"signups,{T0},-Infinity\n", 3, "'-Infinity' is not a finite number"),
        ("signups,yesterday,1\n", 3, "'yesterday' is not a time"),
        ("signups,2026-13-01,1\n", 3, "'2026-13-01' is not a time"),
        (f"signups,{T0 * 1000},1\n", 3, f"time '{T0 * 1000}' is out of range"),
        (f"sign ups,{T0},1\n", 3, "'sign ups' is not a metric name"),
        (f"9lives,{T0},1\n", 3, "'9lives' is not a metric name"),
        (f"signups,{T0}\n", 3, "expected 3 columns, found 2"),
        (f"signups,{T0},1,extra\n", 3, "expected 3 columns, found 4"),
        (f'signups,{T0},"1\n', 3, "bad CSV"),
    ],
)
def test_each_bad_line_kind_names_its_line_and_writes_nothing(
    tmp_path, db, cli, body, line, message
):
    # Given a good first row (line 2) and a bad one (line 3)
    src = tmp_path / "bad.csv"
    src.write_text(f"metric,time,value\nsignups,{T0},1\n" + body + f"signups,{T0 + 9},1\n")
    # When importing it
    code, out, err = cli("import", str(src), "--db", str(db))
    # Then exit 2, one line naming file:line, and nothing of the file is written
    assert code == 2 and out == ""
    assert err.startswith(f"kpitui: {src}:{line}: {message}"), err
    assert err.count("\n") == 1
    assert count_points(db) == 0


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        (
            "abc.csv",
            f"metric,time,value\nx,{T0},1\nx,{T0},abc\n",
            "3: 'abc' is not a number (write a plain number like 1234.5",
        ),
        (
            "empty.csv",
            f"metric,time,value\nx,{T0},1\nx,{T0},\n",
            "3: the value is empty (fill it in, or delete the row)",
        ),
        (
            "w4.csv",
            "date,a\n2026-01-01,1\n,2\n",
            "3: empty time (every point needs one: a date like 2026-11-24",
        ),
        (
            "ragged.csv",
            f"metric,time,value\nx,{T0},1\nx,{T0},1,5\n",
            '3: expected 3 columns, found 4 (quote a cell that holds a comma: "1,5")',
        ),
        (
            "short.csv",
            f"metric,time,value\nx,{T0},1\nx,{T0}\n",
            "3: expected 3 columns, found 2 (give every column a cell",
        ),
        (
            "unt.csv",
            f'metric,time,value\nx,{T0},1\nx,"{T0},1\n',
            "3: bad CSV: unexpected end of data (a quote opened on this line is never closed",
        ),
        (
            "q.csv",
            f'metric,time,value\nx,{T0},"a"b\n',
            "2: bad CSV: ',' expected after '\"' (a quote inside a quoted cell is written twice",
        ),
        (
            "obj.json",
            json.dumps({"metric": "x", "time": T0, "value": 1}) + "\n",
            "1: expected a JSON array of points (for one object per line, pass --format jsonl",
        ),
        (
            "str.json",
            '"x"\n',
            '1: expected a JSON array of points (a .json file holds one array: [{"metric"',
        ),
        (
            "lines.csv",
            json.dumps({"metric": "x", "time": T0, "value": 1}) + "\n",
            "1: this is JSON Lines, not CSV (pass --format jsonl)",
        ),
        (
            "array.csv",
            "[\n" + json.dumps({"metric": "x", "time": T0, "value": 1}) + "\n]\n",
            "1: this is a JSON array, not CSV (pass --format json)",
        ),
    ],
)
def test_each_error_line_says_how_to_fix_it(tmp_path, db, cli, name, text, error):
    # Given a file with one mistake
    src = tmp_path / name
    src.write_text(text)
    wide = ["--wide"] if name == "w4.csv" else []
    # When importing it
    code, out, err = cli("import", str(src), *wide, "--db", str(db))
    # Then its one line names file:line, the problem and, in parentheses, the fix
    assert (code, out) == (2, "")
    assert err.startswith(f"kpitui: {src}:{error}"), err
    assert err.endswith(")\n") and err.count("\n") == 1
    assert count_points(db) == 0


def test_json_lines_piped_without_format_is_named_as_such(db, cli, monkeypatch):
    # Given JSON Lines on stdin and no --format (stdin is CSV by default)
    line = json.dumps({"metric": "dau", "time": T0, "value": 9})
    monkeypatch.setattr(sys, "stdin", io.StringIO(line + "\n"))
    # When importing it, Then the error says what the input is and which option reads it
    code, _, err = cli("import", "-", "--db", str(db))
    assert code == 2
    assert err == "kpitui: <stdin>:1: this is JSON Lines, not CSV (pass --format jsonl)\n"


def test_a_directory_to_import_says_to_name_a_file(tmp_path, db, cli, monkeypatch):
    # Given the current directory passed as the file to import
    monkeypatch.chdir(tmp_path)
    # When importing it, Then one line says it is a directory and what to pass instead
    code, _, err = cli("import", ".", "--format", "csv", "--db", str(db))
    assert (code, err) == (
        2,
        "kpitui: .: is a directory, not a file (name the file to import in it)\n",
    )


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"metric": "x", "time": T0, "value": "abc"}, "'abc' is not a number"),
        ({"metric": "x", "time": T0, "value": True}, "True is not a number"),
        ({"metric": "x", "time": T0, "value": 1e999}, "inf is not a finite number"),
        ({"metric": "x", "time": "soon", "value": 1}, "'soon' is not a time"),
        ({"metric": "x y", "time": T0, "value": 1}, "'x y' is not a metric name"),
        ({"time": T0, "value": 1}, 'no "metric"'),
        ({"metric": "x", "value": 1}, 'no "time"'),
        ({"metric": "x", "time": T0}, 'no "value"'),
        ({"metric": "x", "time": T0, "value": 1, "region": "eu"}, "unknown key 'region'"),
        ({"metric": "x", "time": T0, "value": 1, "labels": ["eu"]}, '"labels" must be an object'),
        ([1, 2], "expected an object"),
    ],
)
def test_bad_json_lines(tmp_path, db, cli, record, message):
    src = tmp_path / "bad.jsonl"
    src.write_text(
        json.dumps({"metric": "x", "time": T0, "value": 1}) + "\n" + json.dumps(record) + "\n"
    )
    code, _, err = cli("import", str(src), "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {src}:2: {message}"), err
    assert count_points(db) == 0


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ('{"plan": "\\ud800"}', "label 'plan': '\\ud800' is not Unicode text"),
        ('{"\\udfff": "pro"}', "label name '\\udfff' is not Unicode text"),
    ],
)
@pytest.mark.parametrize(("name", "line"), [("s.jsonl", 2), ("s.json", 3)])
def test_a_lone_surrogate_escape_in_json_names_its_line(
    tmp_path, db, cli, labels, message, name, line
):
    # Given a point whose label is a lone \ud800-\udfff escape (valid JSON, not text)
    first = json.dumps({"metric": "x", "time": T0, "value": 1})
    bad = f'{{"metric": "x", "time": {T0 + 1}, "value": 2, "labels": {labels}}}'
    text = f"{first}\n{bad}\n" if name.endswith("jsonl") else f"[\n{first},\n{bad}\n]\n"
    src = tmp_path / name
    src.write_text(text)
    # When importing it
    code, _, err = cli("import", str(src), "--db", str(db))
    # Then one line names its line and how to fix it, not a traceback; nothing written
    assert code == 2 and err.startswith(f"kpitui: {src}:{line}: {message} ("), err
    assert "both halves" in err and err.count("\n") == 1
    assert count_points(db) == 0


def test_json_integers_too_big_for_a_float_are_input_errors(tmp_path, db, cli):
    # Given JSON Lines whose time, then value, is an integer beyond any float
    huge = 10**400
    cases = [
        ({"metric": "x", "time": huge, "value": 1}, f"time {quoted(huge)} is out of range"),
        ({"metric": "x", "time": T0, "value": huge}, f"{quoted(huge)} is not a finite number"),
    ]
    for record, message in cases:
        src = tmp_path / "big.jsonl"
        src.write_text(
            json.dumps({"metric": "x", "time": T0, "value": 1}) + "\n" + json.dumps(record)
        )
        # When importing it
        code, _, err = cli("import", str(src), "--db", str(db))
        # Then exit 2 naming the line, one line, nothing written
        assert code == 2 and err.startswith(f"kpitui: {src}:2: {message}"), err
        assert err.count("\n") == 1
        assert count_points(db) == 0


@pytest.mark.parametrize(("name", "line"), [("big.jsonl", 2), ("big.json", 3)])
def test_json_integers_too_long_to_read_name_their_line(tmp_path, db, cli, name, line):
    # Given a record whose time has more digits than Python turns into an int (4,300)
    first = json.dumps({"metric": "x", "time": T0, "value": 1})
    bad = '{"metric": "x", "time": ' + "1" * 5000 + ', "value": 1}'
    text = f"{first}\n{bad}\n" if name.endswith("jsonl") else f"[\n{first},\n{bad}\n]\n"
    src = tmp_path / name
    src.write_text(text)
    # When importing it
    code, _, err = cli("import", str(src), "--db", str(db))
    # Then exit 2 at the record's line, not a traceback
    assert code == 2 and err.startswith(f"kpitui: {src}:{line}: a number has too many digits"), err
    assert count_points(db) == 0


@pytest.mark.parametrize(("name", "line"), [("deep.jsonl", 2), ("deep.json", 3)])
def test_json_nested_too_deeply_names_its_line(tmp_path, db, cli, name, line):
    # Given a record that is 100,000 lists one inside another
    first = json.dumps({"metric": "x", "time": T0, "value": 1})
    bad = "[" * 100_000 + "]" * 100_000
    text = f"{first}\n{bad}\n" if name.endswith("jsonl") else f"[\n{first},\n{bad}\n]\n"
    src = tmp_path / name
    src.write_text(text)
    # When importing it
    code, _, err = cli("import", str(src), "--db", str(db))
    # Then exit 2 at its line, one line, not a RecursionError traceback; nothing written
    assert code == 2 and err.startswith(f"kpitui: {src}:{line}: nested too deeply"), err
    assert err.count("\n") == 1
    assert count_points(db) == 0


def test_invalid_json_syntax_names_line_and_column(tmp_path, db, cli):
    src = tmp_path / "bad.jsonl"
    src.write_text(f'{{"metric": "x", "time": {T0}, "value": 1}}\n{{"metric": "x",, }}\n')
    code, _, err = cli("import", str(src), "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {src}:2:16: not valid JSON")


def test_a_bad_line_far_into_a_big_file_rolls_back_every_chunk(tmp_path, db, cli, monkeypatch):
    # Given chunks smaller than the file, so earlier chunks are already inserted
    monkeypatch.setattr(import_csv, "_BLOCK", 256)
    monkeypatch.setattr(import_csv, "_CHUNK", 10)
    rows = [f"signups,{T0 + i},{i},{'eu' if i % 2 else 'us'}" for i in range(500)]
    rows[437] = f"signups,{T0 + 437},oops,eu"
    src = tmp_path / "big.csv"
    src.write_text("metric,time,value,region\n" + "\n".join(rows) + "\n")
    code, _, err = cli("import", str(src), "--db", str(db))
    # Then the line is exact (header + 437 rows before it) and nothing was kept
    assert code == 2 and err.startswith(f"kpitui: {src}:439: 'oops' is not a number")
    assert count_points(db) == 0
    # And once fixed, the same small blocks import everything
    rows[437] = f"signups,{T0 + 437},437,eu"
    src.write_text("metric,time,value,region\n" + "\n".join(rows))  # no final newline
    assert cli("import", str(src), "--db", str(db))[0] == 0
    assert count_points(db) == 500
    assert sum(series_points(db, "signups").values()) == sum(range(500))


def test_line_numbers_after_a_multi_line_quoted_field(tmp_path, db, cli):
    src = tmp_path / "notes.csv"
    src.write_text(f'metric,time,value,note\nx,{T0},1,"two\nlines"\nx,{T0 + 1},bad,ok\n')
    code, _, err = cli("import", str(src), "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {src}:4: 'bad' is not a number")


def test_reimport_writes_nothing_new(tmp_path, db, cli):
    src = tmp_path / "s.csv"
    src.write_text(
        "metric,time,value,region\n" + "".join(f"s,{T0 + i * 60},{i},eu\n" for i in range(100))
    )
    assert cli("import", str(src), "--db", str(db))[0] == 0
    reader = open_reader(db)
    version = reader.data_version()
    # When importing the same file again
    code, out, _ = cli("import", str(src), "--db", str(db))
    # Then counts are unchanged, the message says so, and not even a page was written
    assert code == 0 and "100 already stored" in out
    assert count_points(db) == 100
    assert reader.data_version() == version
    assert reader.aggregate("s", None, "sum", T0, T0 + 86400) == sum(range(100))
    reader.close()


def test_a_changed_value_replaces_the_old_one(tmp_path, db, cli):
    src = tmp_path / "s.csv"
    src.write_text(f"metric,time,value\ns,{T0},1\ns,{T0 + 1},2\n")
    cli("import", str(src), "--db", str(db))
    src.write_text(f"metric,time,value\ns,{T0},10\n")
    code, out, _ = cli("import", str(src), "--db", str(db))
    assert code == 0 and "already stored" not in out
    assert count_points(db) == 2
    assert series_points(db, "s") == {(): 12.0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope.csv",), "nope.csv: no such file (check the path)"),
        (("data.txt",), "data.txt: cannot tell the format from the file name"),
        (("x.jsonl", "--wide"), "x.jsonl: --wide is for CSV files"),
        (("x.csv", "--metric", "bad name"), "--metric 'bad name' is not a metric name"),
        (("x.csv", "--wide", "--metric", "dau"), "x.csv: --metric names the metric of a long"),
    ],
)
def test_bad_arguments_exit_2_and_create_no_store(tmp_path, db, cli, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    for name in ("data.txt", "x.jsonl", "x.csv"):
        (tmp_path / name).write_text("metric,time,value\n")
    code, _, err = cli("import", *args, "--db", str(db))
    assert code == 2 and err.startswith(f"kpitui: {message}"), err
    assert not db.exists()


def test_header_problems(tmp_path, db, cli):
    src = tmp_path / "h.csv"
    for text, message in [
        ("", "the file is empty"),
        ("metric,time\n", "the header has no value column"),
        ("metric,time,value,,x\n", "column 4 of the header has no name"),
        ("metric,time,value,Region,region\n", "column 'region' appears twice"),
        ("metric,time,value\n", None),
    ]:
        src.write_text(text)
        code, out, err = cli("import", str(src), "--db", str(db))
        if message is None:
            assert code == 0 and "imported 0 points" in out
        else:
            assert code == 2 and err.startswith(f"kpitui: {src}:1: {message}"), err


def test_non_utf8_file(tmp_path, db, cli):
    src = tmp_path / "latin1.csv"
    src.write_bytes("metric,time,value,city\nx,1,1,Zürich\n".encode("latin-1"))
    code, _, err = cli("import", str(src), "--db", str(db))
    assert code == 2 and "not UTF-8" in err


@pytest.mark.parametrize("block", [37, 64, 100, 1000])
def test_switching_to_the_csv_module_mid_file_loses_no_row(tmp_path, db, cli, monkeypatch, block):
    # Given plain rows, then (row 30 on) quoted labels, read in blocks that end mid-line
    monkeypatch.setattr(import_csv, "_BLOCK", block)
    rows = [
        f"s,{T0 + i},{i},{'plain' if i < 30 else chr(34) + 'a, b' + chr(34)}" for i in range(60)
    ]
    src = tmp_path / "mixed.csv"
    src.write_text("metric,time,value,label\n" + "\n".join(rows) + "\n")
    # When importing: every row arrives, once, with its label
    assert cli("import", str(src), "--db", str(db))[0] == 0
    assert series_points(db, "s") == {
        (("label", "plain"),): float(sum(range(30))),
        (("label", "a, b"),): float(sum(range(30, 60))),
    }


@pytest.mark.parametrize("still_open", [True, False])
def test_a_failed_import_keeps_a_new_store_another_writer_used(
    tmp_path, db, cli, monkeypatch, still_open
):
    # Given no store yet, and another writer that creates it and commits a point just
    # after the import looked (two cron jobs started at the same moment)
    from kpitui.cli import import_cmd as store_cmds
    from kpitui.store import open_writer

    others = []

    def open_after_another_writer(path):
        other = open_writer(path)
        other.write_points([("signups", {}, T0, 7.0)])
        others.append(other)
        if not still_open:
            other.close()
        return open_writer(path)

    monkeypatch.setattr(store_cmds, "open_writer", open_after_another_writer)
    src = tmp_path / "bad.csv"
    src.write_text(f"metric,time,value\nsignups,{T0 + 1},lots\n")
    try:
        # When the import fails on a bad line
        code, _, err = cli("import", str(src), "--db", str(db))
        # Then it says so, and the other writer's store and point are kept
        assert code == 2 and f"{src}:2:" in err
        assert count_points(db) == 1
    finally:
        others[0].close()


def test_an_interrupted_import_into_a_new_store_leaves_no_store(tmp_path, db, cli, monkeypatch):
    # Given a CSV whose import is interrupted (Ctrl-C) while its rows are read
    src = tmp_path / "points.csv"
    src.write_text("metric,time,value\nx,1700000000,1\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(import_csv, "read_long_csv", interrupted)
    monkeypatch.setattr("kpitui.store.importers.read_long_csv", interrupted)
    # When the import runs into a store that did not exist
    code, _, _ = cli("import", str(src), "--db", str(db))
    # Then it stops (130, as for SIGINT), and no empty store is left behind
    assert code == 130
    assert not db.exists()
