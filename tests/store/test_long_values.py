"""Error lines stay short whatever the input: an offending value is quoted to ~80
characters, then "…" and its length; a CSV field past the csv module's limit is one line
and exit 2; the hint names the real cause."""

from __future__ import annotations

import csv
import json

import pytest

from kpitui.cli import main
from kpitui.literal import QUOTE_LIMIT, quoted
from tests.store.conftest import count_points

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
BIG = 300_000  # past csv's field limit (131,072)
LIMIT = csv.field_size_limit()


def test_a_short_value_is_quoted_whole_and_a_long_one_cut_with_its_length():
    assert quoted("mrr") == "'mrr'"
    assert quoted("x" * QUOTE_LIMIT) == repr("x" * QUOTE_LIMIT)
    long = quoted("é" * 5_000_000)
    assert long == repr("é" * QUOTE_LIMIT + "…") + " (5,000,000 characters)"


def test_a_huge_integer_is_described_not_converted():
    # Python refuses to print an int of more than 4,300 digits: the helper must not.
    assert quoted(10**5000) == "a number of 5,001 digits"
    assert quoted(-(10**100)) == "-1" + "0" * 78 + "… (101 digits)"


def one_short_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err[:500]
    assert len(lines[0]) < 400, lines[0][:500]
    return lines[0]


CASES = [
    # (file name, content, what the line must say)
    (
        "value.csv",
        f"metric,time,value\nm,{T0},{'x' * BIG}\n",
        "(300,000 characters) is not a number",
    ),
    (
        "quoted.csv",
        f'metric,time,value\nm,{T0},"{"x" * BIG}"\n',
        f"2: a cell is longer than {LIMIT:,} characters",
    ),
    (
        "header.csv",
        f'metric,time,value,"{"p" * BIG}"\nm,{T0},1,a\n',
        f"1: a column name is longer than {LIMIT:,} characters",
    ),
    (
        "header_unquoted.csv",
        f"metric,time,value,{'p' * BIG}\nm,{T0},1,a\n",
        f"1: a column name is longer than {LIMIT:,} characters",
    ),
    (
        "label.csv",
        f'metric,time,value,plan\nm,{T0},1,"a"\nm,{T0},1,"{"p" * BIG}"\n',
        f"3: a cell is longer than {LIMIT:,} characters",
    ),
    (
        "time.csv",
        f"metric,time,value\nm,{'9' * 2_000_000},1\n",
        "(2,000,000 characters) is out of range",
    ),
    (
        "time_text.csv",
        f"metric,time,value\nm,2026-01-01 {'z' * BIG},1\n",
        "(300,011 characters) is not a time",
    ),
    (
        "name.csv",
        f"metric,time,value\n{'!' * BIG},{T0},1\n",
        "(300,000 characters) is not a metric name",
    ),
    (
        "time.jsonl",
        json.dumps({"metric": "m", "time": "9" * 2_000_000, "value": 1}) + "\n",
        "(2,000,000 characters) is out of range",
    ),
    (
        "name.jsonl",
        json.dumps({"metric": "!" * BIG, "time": T0, "value": 1}) + "\n",
        "(300,000 characters) is not a metric name",
    ),
    (
        "value.jsonl",
        json.dumps({"metric": "m", "time": T0, "value": "v" * BIG}) + "\n",
        "(300,000 characters) is not a number",
    ),
    (
        "label.jsonl",
        json.dumps({"metric": "m", "time": T0, "value": 1, "labels": {"k" * BIG: 5.5}}) + "\n",
        "(300,000 characters) must be text, not 5.5",
    ),
    (
        "key.jsonl",
        json.dumps({"metric": "m", "time": T0, "value": 1, "k" * BIG: 1}) + "\n",
        "unknown key 'kkkk",
    ),
    (
        "wide.csv",
        f"time,{'m' * 1000}!\n{T0},1\n",
        "(1,001 characters) is not a metric name",
    ),
]


@pytest.mark.parametrize(("name", "content", "said"), CASES, ids=[c[0] for c in CASES])
def test_an_import_refusing_a_huge_value_says_so_in_one_short_line(
    tmp_path, db, cli, name, content, said
):
    # Given a file with one huge offending cell, name or key
    src = tmp_path / name
    src.write_text(content)
    wide = ["--wide"] if name.startswith("wide") else []
    # When importing it
    code, out, err = cli("import", str(src), "--db", str(db), *wide)
    # Then one short line says what is wrong at its line, exit 2, nothing written
    line = one_short_line(err)
    assert code == 2 and out == ""
    assert said in line
    assert count_points(db) == 0


def test_a_long_quoted_cell_is_not_called_a_quote_never_closed(tmp_path, db, cli):
    src = tmp_path / "quoted.csv"
    src.write_text(f'metric,time,value,note\nm,{T0},1,"{"x" * BIG}"\nm,{T0 + 1},2,b\n')
    code, _, err = cli("import", str(src), "--db", str(db))
    line = one_short_line(err)
    assert code == 2
    assert "never closed" not in line
    assert "the cell on line 2 holds 300,000" in line


def test_a_quote_never_closed_in_a_big_file_is_said_so(tmp_path, db, cli):
    # Given a quote opened on line 3 and never closed, with enough after it to pass the
    # field limit
    rows = "".join(f"m,{T0 + i},{i}\n" for i in range(20_000))
    src = tmp_path / "open.csv"
    src.write_text(f'metric,time,value\nm,{T0},1\nm,{T0},"1\n{rows}')
    code, _, err = cli("import", str(src), "--db", str(db))
    line = one_short_line(err)
    assert code == 2
    assert ":3: " in line and "a quote opened on line 3 is never closed" in line


def kpitui(*args: str) -> tuple[int, str]:
    """Exit code and stderr of `kpitui ARGS`, an argparse refusal included."""
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code
    return code, err.getvalue()


def test_a_two_million_digit_time_is_out_of_range_not_infinite(db):
    code, err = kpitui("record", "m", "1", "--at", "9" * 2_000_000, "--db", str(db))
    line = one_short_line(err)
    assert code == 2
    assert "inf" not in line and "out of range" in line


@pytest.mark.parametrize(
    "args",
    [
        ("record", "m", "1", "--label", "p" * BIG),
        ("record", "!" * BIG, "1"),
        ("record", "m", "x" * BIG),
        ("record", "m", "1", "--at", "z" * BIG),
        ("checkin", "k" * BIG, "1", "--confidence", "sure" * BIG),
    ],
    ids=["label", "metric", "value", "at", "confidence"],
)
def test_a_command_refusing_a_huge_argument_says_so_in_one_short_line(db, args):
    code, err = kpitui(*args, "--db", str(db))
    line = one_short_line(err)
    assert code == 2
    assert "characters)" in line
