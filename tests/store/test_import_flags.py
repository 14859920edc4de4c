"""`kpitui import`'s CSV flags: the time column, the separator, label columns of a wide
file, European numbers — and the numbers no flag in force reads, refused with the flag
or the edit that does, at file:line, with nothing written."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys

import pytest

from tests.store.conftest import count_points

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86400


def values(db, metric, labels=None):
    """[(time, value)] of the series of `metric` with exactly `labels`, by time."""
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT s.labels, p.ts, p.value FROM series s JOIN points p ON p.series_id = s.id"
            " WHERE s.metric = ? ORDER BY p.ts",
            (metric,),
        ).fetchall()
    con.close()
    return [(ts, value) for found, ts, value in rows if json.loads(found) == (labels or {})]


def imported(cli, db, tmp_path, name, text, *flags):
    src = tmp_path / name
    src.write_text(text)
    return cli("import", str(src), "--db", str(db), *flags)


# -- the time column ---------------------------------------------------------------------


def test_a_time_column_of_another_name_is_refused_listing_the_names_read(tmp_path, db, cli):
    # Given a CSV whose time column is called created_at
    code, _, err = imported(
        cli, db, tmp_path, "s.csv", f"metric,created_at,value\nsignups,{T0},3\n"
    )
    # Then it is refused, naming the recognised names and the flag
    assert code == 2
    assert "s.csv:1: the header has no time column" in err
    assert "time, timestamp, date, datetime or ts" in err and "--time-column NAME" in err
    assert count_points(db) == 0


def test_time_column_names_the_time_and_the_other_time_like_columns_are_labels(tmp_path, db, cli):
    # Given a CSV with created_at and a `date` column that is not the point's time
    text = f"metric,created_at,value,date\nsignups,{T0},3,monday\n"
    code, _out, err = imported(cli, db, tmp_path, "s.csv", text, "--time-column", "Created_At")
    # Then created_at is the time (any case), and date a label
    assert (code, err) == (0, "")
    assert values(db, "signups", {"date": "monday"}) == [(T0, 3.0)]


def test_two_recognised_time_columns_are_refused_naming_the_flag(tmp_path, db, cli):
    code, _, err = imported(
        cli, db, tmp_path, "s.csv", f"metric,date,timestamp,value\nx,2026-01-01,{T0},1\n"
    )
    assert code == 2
    assert ":1: the header has two time columns, 'date' and 'timestamp'" in err
    assert "--time-column date" in err
    assert count_points(db) == 0


def test_a_time_column_the_header_lacks_is_refused_listing_the_columns(tmp_path, db, cli):
    code, _, err = imported(
        cli, db, tmp_path, "s.csv", f"metric,time,value\nx,{T0},1\n", "--time-column", "when"
    )
    assert code == 2
    assert ":1: --time-column 'when': no such column in the header" in err
    assert "'metric', 'time', 'value'" in err


# -- the separator -----------------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", "\t"], ids=["semicolon", "tab"])
def test_the_separator_is_read_off_the_header(tmp_path, db, cli, sep):
    # Given a file separated by ; (or tabs), values with a decimal point
    rows = [["metric", "time", "value", "plan"], ["mrr", str(T0), "12.5", "pro"]]
    text = "".join(sep.join(r) + "\n" for r in rows)
    # When importing it with no flag
    code, _, err = imported(cli, db, tmp_path, "s.csv", text)
    # Then its columns are found
    assert (code, err) == (0, "")
    assert values(db, "mrr", {"plan": "pro"}) == [(T0, 12.5)]


def test_sep_names_the_separator_of_a_header_holding_two(tmp_path, db, cli):
    # Given a ;-separated file whose header holds a comma in a column name
    text = f"metric;time;value;plan,tier\nmrr;{T0};5;pro\n"
    # When importing it without --sep: refused, naming the flag
    code, _, err = imported(cli, db, tmp_path, "s.csv", text)
    assert code == 2
    assert "s.csv:1: the header holds both ',' and ';'" in err and "--sep ;" in err
    assert count_points(db) == 0
    # With --sep ; it is read
    code, _, err = imported(cli, db, tmp_path, "s.csv", text, "--sep", ";")
    assert (code, err) == (0, "")
    assert values(db, "mrr", {"plan,tier": "pro"}) == [(T0, 5.0)]


def test_sep_tab_and_a_bad_sep(tmp_path, db, cli):
    text = f"metric\ttime\tvalue\nx\t{T0}\t1\n"
    assert imported(cli, db, tmp_path, "s.csv", text, "--sep", "tab")[0] == 0
    with pytest.raises(SystemExit) as stopped:
        imported(cli, db, tmp_path, "s.csv", text, "--sep", "::")
    assert stopped.value.code == 2


def test_a_quoted_cell_holding_the_separator_stays_one_cell(tmp_path, db, cli):
    text = f'metric;time;value;note\nx;{T0};1;"a;b"\n'
    code, _, err = imported(cli, db, tmp_path, "s.csv", text)
    assert (code, err) == (0, "")
    assert values(db, "x", {"note": "a;b"}) == [(T0, 1.0)]


# -- label columns of a wide file -----------------------------------------------------------


def test_label_column_keeps_a_wide_files_label_column(tmp_path, db, cli):
    # Given a wide export with a plan column beside the metrics
    text = "date,plan,mrr,seats\n2026-01-01,pro,100,4\n2026-01-01,free,0,10\n2026-01-02,pro,110,\n"
    # When importing it with --label-column plan
    code, out, err = imported(cli, db, tmp_path, "w.csv", text, "--wide", "--label-column", "plan")
    # Then each metric has a series per plan; the empty cell is no point
    assert (code, err) == (0, "")
    assert "imported 5 points into 4 series" in out
    assert values(db, "mrr", {"plan": "pro"}) == [(T0, 100.0), (T0 + DAY, 110.0)]
    assert values(db, "seats", {"plan": "free"}) == [(T0, 10.0)]


def test_a_wide_files_label_column_without_the_flag_is_refused_naming_it(tmp_path, db, cli):
    text = "date,plan name,mrr\n2026-01-01,pro,100\n"
    code, _, err = imported(cli, db, tmp_path, "w.csv", text, "--wide")
    assert code == 2
    assert "w.csv:1: column 'plan name' is not a metric name" in err
    assert "--label-column plan name" in err
    assert count_points(db) == 0


def test_a_wide_files_label_values_are_refused_as_numbers_naming_the_flag(tmp_path, db, cli):
    # A label column that looks like a metric name: its cells are not numbers
    text = "date,plan,mrr\n2026-01-01,pro,100\n"
    code, _, err = imported(cli, db, tmp_path, "w.csv", text, "--wide")
    assert code == 2
    assert "w.csv:2: 'pro' is not a number (is plan a column of labels?" in err
    assert "pass --label-column plan)" in err
    assert count_points(db) == 0


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--label-column", "plan"], "--label-column is for --wide files"),
        (["--wide", "--label-column", "tier"], ":1: --label-column 'tier': no such column"),
        (["--wide", "--label-column", "date"], ":1: --label-column 'date' is the time column"),
    ],
    ids=["long", "missing", "time"],
)
def test_label_column_mistakes(tmp_path, db, cli, flags, said):
    text = "date,plan,mrr\n2026-01-01,pro,100\n"
    code, _, err = imported(cli, db, tmp_path, "w.csv", text, *flags)
    assert code == 2 and said in err
    assert count_points(db) == 0


# -- European numbers ----------------------------------------------------------------------


def test_decimal_comma_and_thousands_dot_read_european_numbers(tmp_path, db, cli):
    # Given a ;-separated export written with 1.234,5
    text = f"metric;time;value\nrevenue;{T0};1.234,5\nrevenue;{T0 + 1};-12,25\nrevenue;{T0 + 2};7\n"
    code, _, err = imported(cli, db, tmp_path, "eu.csv", text, "--decimal", ",", "--thousands", ".")
    assert (code, err) == (0, "")
    assert values(db, "revenue") == [(T0, 1234.5), (T0 + 1, -12.25), (T0 + 2, 7.0)]


def test_decimal_comma_alone_reads_a_wide_file(tmp_path, db, cli):
    text = "date;mrr;churn\n2026-01-01;1500,75;0,021\n"
    code, _, err = imported(cli, db, tmp_path, "w.csv", text, "--wide", "--decimal", ",")
    assert (code, err) == (0, "")
    assert values(db, "churn") == [(T0, 0.021)]
    assert values(db, "mrr") == [(T0, 1500.75)]


def test_thousands_comma_reads_quoted_grouped_numbers(tmp_path, db, cli):
    text = f'metric,time,value\nvisits,{T0},"1,234,567"\nvisits,{T0 + 1},"12.5"\n'
    code, _, err = imported(cli, db, tmp_path, "s.csv", text, "--thousands", ",")
    assert (code, err) == (0, "")
    assert values(db, "visits") == [(T0, 1234567.0), (T0 + 1, 12.5)]


REFUSED = [
    # (value cell, flags, what the line must say)
    ('"$1,234"', [], "'$1,234' is not a number (drop the $: 1,234"),
    ('"$1,234"', [], "--thousands , reads it as 1234, --decimal , as 1.234: say which"),
    ("12%", [], "'12%' is not a number (a percentage: write the fraction 0.12"),
    ("1,5", ["--sep", ";"], "'1,5' is not a number (--decimal , reads it as 1.5)"),
    ("1.234,5", ["--sep", ";"], "(--decimal , --thousands . reads it as 1234.5)"),
    ('"1,234,567.5"', [], "(--thousands , reads it as 1234567.5)"),
    ("12ms", [], "(drop the unit: 12"),
    (
        "1.5",
        ["--sep", ";", "--decimal", ","],
        "with --decimal , the decimal mark is a comma: write 1,5",
    ),
    ("12.34", ["--sep", ";", "--decimal", ",", "--thousands", "."], "'12.34' is not a number"),
]


@pytest.mark.parametrize(("cell", "flags", "said"), REFUSED)
def test_a_number_no_flag_in_force_reads_is_refused_with_the_flag_or_edit(
    tmp_path, db, cli, cell, flags, said
):
    # Given a value the flags in force do not read, after a good line
    sep = ";" if ";" in flags else ","
    text = f"metric{sep}time{sep}value\nx{sep}{T0}{sep}1\nx{sep}{T0 + 1}{sep}{cell}\n"
    # When importing it
    code, out, err = imported(cli, db, tmp_path, "n.csv", text, *flags)
    # Then one line at file:3 says what reads it, exit 2, and nothing is written
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "n.csv:3: " in err and said in err
    assert count_points(db) == 0


def test_a_json_value_like_12_percent_is_refused_with_the_edit(tmp_path, db, cli):
    text = f'{{"metric": "x", "time": {T0}, "value": "$1,234.50"}}\n'
    code, _, err = imported(cli, db, tmp_path, "p.jsonl", text)
    assert code == 2
    assert "p.jsonl:1: '$1,234.50' is not a number (drop the $: 1,234.50" in err
    assert "write it as 1234.50" in err


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--decimal", ",", "--thousands", ","], "--thousands and --decimal are both ','"),
        (["--decimal", ";"], "--decimal ';' is not a decimal mark"),
        (["--thousands", "x"], "--thousands 'x' is not a thousands separator"),
    ],
    ids=["same", "decimal", "thousands"],
)
def test_contradicting_number_flags_are_refused_before_reading(tmp_path, db, cli, flags, said):
    code, _, err = imported(cli, db, tmp_path, "s.csv", f"metric,time,value\nx,{T0},1\n", *flags)
    assert code == 2 and said in err
    assert not db.exists()


def test_csv_flags_on_a_json_file_are_refused(tmp_path, db, cli):
    text = f'{{"metric": "x", "time": {T0}, "value": 1}}\n'
    code, _, err = imported(cli, db, tmp_path, "p.jsonl", text, "--decimal", ",")
    assert code == 2 and "--decimal is for CSV files" in err
    assert not db.exists()


# -- the progress bar ------------------------------------------------------------------------


def big_csv(path, rows=260_000):
    with open(path, "w") as f:
        f.write("metric,time,value\n")
        f.writelines(f"m,{T0 + i},{i}\n" for i in range(rows))
    assert path.stat().st_size > 4 << 20


def run_import(args, stderr):
    return subprocess.run(
        [sys.executable, "-m", "kpitui", "import", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=120,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"},
    )


def test_a_large_import_shows_a_progress_bar_on_a_terminal(tmp_path):
    # Given a CSV of more than 4 MB, and stderr a terminal
    src, db = tmp_path / "big.csv", tmp_path / "m.db"
    big_csv(src)
    leader, follower = pty.openpty()
    try:
        done = run_import([str(src), "--db", str(db)], follower)
        os.close(follower)
        follower = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    # Then a bar was drawn on the terminal, and stdout has only the line saying so
    assert done.returncode == 0
    assert b"importing big.csv" in drawn
    assert done.stdout.decode().startswith("imported 260,000 points")


def test_a_large_import_into_a_pipe_prints_no_bar(tmp_path):
    src, db = tmp_path / "big.csv", tmp_path / "m.db"
    big_csv(src)
    done = run_import([str(src), "--db", str(db)], subprocess.PIPE)
    assert done.returncode == 0
    assert "importing" not in done.stderr.decode()
    assert done.stdout.decode().startswith("imported 260,000 points")
