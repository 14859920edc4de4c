"""`snapshot --format json`: each chart line with its comparison line, and the marks in
the board's windows, on a store made in the test with numbers worked by hand."""

from __future__ import annotations

import json
from pathlib import Path

from kpitui.cli import main
from kpitui.store import open_writer
from kpitui.timeutil import parse_time

AS_OF = "2026-11-24T12:00:00Z"
DAY = 86400

SPEC = """\
title: compare
store: metrics.db
timezone: UTC
kpis:
  - id: signups
    metric: signups
    agg: sum
    window: 7d
    compare: 7d
charts:
  - id: own            # its own compare: 14 days earlier
    metrics: [signups]
    labels: {plan: pro}
    agg: sum
    window: 3d
    bucket: 1d
    compare: 14d
  - id: by-plan        # none of its own: its KPI's, a week earlier
    metrics: [signups]
    split_by: plan
    agg: sum
    window: 3d
    bucket: 1d
  - id: flat
    metrics: [signups]
    agg: sum
    window: 3d
    bucket: 1d
    compare: none
"""


def make_board(tmp_path: Path) -> Path:
    # Given signups of plan pro on Nov 1..24, as many as the day of the month, and of
    # plan free on Nov 20..24 only (100 + the day); a launch on Nov 23, one in October
    (tmp_path / "dashboard.yaml").write_text(SPEC, encoding="utf-8")
    points = [
        ("signups", {"plan": "pro"}, parse_time(f"2026-11-{day:02d}T06:00:00Z"), float(day))
        for day in range(1, 25)
    ]
    points += [
        ("signups", {"plan": "free"}, parse_time(f"2026-11-{day:02d}T06:00:00Z"), 100.0 + day)
        for day in range(20, 25)
    ]
    with open_writer(tmp_path / "metrics.db") as writer:
        writer.write_points(points)
        writer.write_annotation(parse_time("2026-11-23T08:00:00Z"), "launch [b]x[/b]", ("signups",))
        writer.write_annotation(parse_time("2026-10-01T00:00:00Z"), "old news", ())
    return tmp_path / "dashboard.yaml"


def snapshot(spec: Path, capsys) -> dict:
    assert main(["snapshot", str(spec), "--format", "json", "--as-of", AS_OF]) == 0
    return json.loads(capsys.readouterr().out)


def buckets(values: list[float]) -> list[dict]:
    days = ("2026-11-22", "2026-11-23", "2026-11-24")
    return [{"start": f"{d}T00:00:00Z", "value": v} for d, v in zip(days, values, strict=True)]


def test_each_chart_line_carries_its_comparison_line(tmp_path: Path, capsys):
    charts = {c["id"]: c for c in snapshot(make_board(tmp_path), capsys)["charts"]}
    # Then the pro line of Nov 22..24 is compared with Nov 8..10 (its own 14d), bucket by
    # bucket against the day it is drawn on
    [own] = charts["own"]["series"]
    assert own["buckets"] == buckets([22.0, 23.0, 24.0])
    assert own["compare"] == {
        "label": "14d earlier",
        "offset": 14 * DAY,
        "buckets": buckets([8.0, 9.0, 10.0]),
    }
    # And the split chart follows its KPI's compare (7d): pro against Nov 15..17; free had
    # nothing a week earlier, so it compares with nothing
    by_plan = {s["name"]: s for s in charts["by-plan"]["series"]}
    assert by_plan["pro"]["compare"] == {
        "label": "last week",
        "offset": 7 * DAY,
        "buckets": buckets([15.0, 16.0, 17.0]),
    }
    assert by_plan["free"]["buckets"] == buckets([122.0, 123.0, 124.0])
    assert by_plan["free"]["compare"] is None
    # And compare: none is null, the key still there
    [flat] = charts["flat"]["series"]
    assert flat["buckets"] == buckets([144.0, 146.0, 148.0]) and flat["compare"] is None


def test_the_marks_in_the_boards_windows_are_listed_as_written(tmp_path: Path, capsys):
    marks = snapshot(make_board(tmp_path), capsys)["annotations"]
    # Then the launch (inside the KPI's 7 days) is there, its text as written; October's
    # mark is before every window and left out
    [launch] = marks
    assert set(launch) == {"id", "time", "text", "metrics"}
    assert launch["time"] == "2026-11-23T08:00:00Z" and launch["text"] == "launch [b]x[/b]"
    assert launch["metrics"] == ["signups"] and isinstance(launch["id"], int)


def test_the_new_keys_are_documented_next_to_the_others():
    doc = (Path(__file__).parent.parent / "docs" / "spec.md").read_text(encoding="utf-8")
    row = next(line for line in doc.splitlines() if line.startswith("| `charts` | every chart"))
    assert '"compare"' in row and '"offset"' in row and '"label"' in row
